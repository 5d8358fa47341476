"""What a DAG file imports at parse time must not pull in heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "matplotlib", "msgspec", "polars")


@pytest.mark.parametrize(
    "module",
    [
        "scones.monitoring",
        "scones.monitoring.window",
        "scones.monitoring.checks",
        "scones.monitoring.cli",
        "scones.monitoring.sinks",
    ],
)
def test_light_modules_import_nothing_heavy(module: str):
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"{module} imports {loaded} at import time"


def test_public_names_resolve_lazily():
    import scones.monitoring as monitoring

    assert monitoring.analyze_capture.__module__ == "scones.monitoring.analyze"
    assert set(monitoring.__all__) >= {"Window", "Thresholds", "analyze_capture", "write_report", "S3Sink"}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        monitoring.nope  # noqa: B018 - the access itself must raise
