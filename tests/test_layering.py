"""The emulator is a local AWS: it imports nothing from the product, so it could ship alone.

Its one exception is ``scones.pdeathsig``, a leaf launcher that imports nothing of ours.
"""

from __future__ import annotations

import ast
from pathlib import Path

import scones

PACKAGE = Path(scones.__file__).parent
LEAF_MODULES = {"scones.pdeathsig"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {n for n in names if n == "scones" or n.startswith("scones.")}


def test_the_emulator_imports_nothing_from_the_product():
    outside = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / "emulator").rglob("*.py")
        for name in _imports(path)
        if not name.startswith("scones.emulator") and name not in LEAF_MODULES and name != "scones"
    }
    assert not outside, f"the emulator imports from the product: {sorted(outside)}"


def test_leaf_modules_import_nothing_of_ours():
    for name in LEAF_MODULES:
        path = PACKAGE / f"{name.removeprefix('scones.')}.py"
        assert _imports(path) == set(), f"{name} must stay a leaf"
