"""The test tiers come from the directories (the root conftest.py), and ``-m`` selects by them."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT, TIERS, deselects_tier, tier_of


@pytest.mark.parametrize(
    ("path", "tier"),
    [
        ("tests/e2e/test_stack.py", "e2e"),
        ("tests/emulator_sagemaker/test_training.py", "emulator"),
        ("tests/emulator_persistence/test_restart.py", "emulator"),  # any emulator_* folder, new ones too
        ("tests/test_settings.py", "unit"),
        ("tests/workflow/test_deploy.py", "unit"),
        ("tests/emulator_process/test_process.py", "emulator"),
        ("tests/test_emulator_process.py", "unit"),  # a file at the top of tests/, whatever its name
        ("lambdas/filter_inferences/test_filter_inferences.py", "unit"),
    ],
)
def test_a_test_files_directory_names_its_tier(path: str, tier: str):
    assert tier_of(ROOT / path) == tier


def test_this_test_carries_its_tier_and_no_other(request: pytest.FixtureRequest):
    assert [t for t in TIERS if request.node.get_closest_marker(t)] == ["unit"]


def test_no_test_file_marks_its_own_tier():
    """A tier mark in a file would contradict its directory (an emulator test marked e2e ran in both)."""
    mark = re.compile(rf"\bmark\.({'|'.join(TIERS)})\b")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("tests", "lambdas")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if mark.search(line)
    ]
    assert not found, f"the directory gives the tier (see conftest.py); remove these marks: {found}"


def test_selecting_the_unit_tier_collects_no_emulator_or_e2e_test():
    files = [
        "tests/e2e/test_etl_dag.py",
        "tests/emulator_s3/test_seams.py",
        "tests/test_settings.py",
        "lambdas/filter_inferences/test_filter_inferences.py",
    ]
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", "unit", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    collected = {line.split("::")[0] for line in out.stdout.splitlines() if "::" in line}
    assert collected == {"tests/test_settings.py", "lambdas/filter_inferences/test_filter_inferences.py"}, out.stdout


@pytest.mark.parametrize(
    ("markexpr", "tier", "deselected"),
    [
        ("unit", "e2e", True),
        ("unit", "unit", False),
        ("not e2e", "emulator", False),
        ("not e2e", "e2e", True),
        ("unit or emulator", "e2e", True),
        ("e2e and slow", "e2e", False),  # a mark of the test's own may still select it
        ("e2e and slow", "unit", True),
        ("not slow", "e2e", False),
        ("e2e(", "unit", False),  # malformed: pytest's own deselection says so
    ],
)
def test_a_tier_is_left_uncollected_only_when_the_mark_expression_deselects_all_of_it(
    markexpr: str, tier: str, deselected: bool
):
    assert deselects_tier(markexpr, tier) is deselected


def test_a_test_run_leaves_no_airflow_home_behind(tmp_path):
    """tests/conftest.py gives a run its own AIRFLOW_HOME in the temporary folder; every run left
    one there per process (a thousand on a machine that runs the suite all day)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_HOME"}
    env["TMPDIR"] = str(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests/test_names.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert not list(tmp_path.glob("scones-test-airflow-*"))
