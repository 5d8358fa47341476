"""The test tiers, by directory (docs/testing.md says how to run each).

- ``e2e``: ``tests/e2e``, the DAGs and the ``scones up`` stacks run end to end on the emulator,
  and the stacks' own processes started for real (PostgreSQL, Redis, log servers, a kill -9);
- ``emulator``: ``tests/emulator_*``, the emulator in its own process: its services (real
  training, real Lambda workers), its start and stop, S3 shared by several processes;
- ``unit``: everything else, ``lambdas/`` included: moto in-process, no server started (short
  subprocesses only where a process is the point: what a fresh interpreter imports, a signal's
  effect on a process group, podman-compose reading docker-compose.yaml).

The directory is the only source of a test's tier: this hook marks every collected test, so
``-m unit`` can never pick up a test that trains a model. A tier mark written in a test file
would contradict it; ``tests/test_tiers.py`` fails on one.

The run's order is set here too, for ``./run test`` (xdist ``--dist loadfile
--no-loadscope-reorder``: each file, or group of files, goes to one worker, in the order of the
items): the longest files first, so the two Airflow stacks start at once on different workers and
the short unit files fill in at the end; and one group for the files that share a worker's
trained endpoint.

A ``-m`` that no test of a tier can match (``-m unit``: the emulator and e2e tiers) skips that
tier's files before they are imported (:func:`pytest_ignore_collect`): the directory gives the
tier, so their tests would all be deselected anyway, after seconds of importing moto's Step
Functions parser, the emulator and the stacks.
"""

from __future__ import annotations

import gc
import itertools
from pathlib import Path

import pytest

from scones.botocore_loader import share_data_loader

ROOT = Path(__file__).resolve().parent
TIERS = ("unit", "emulator", "e2e")
#: Started first, in this order (they take minutes: each is a tail if it starts last).
LONGEST_FIRST = (
    "tests/e2e/test_celery_stack.py",
    "tests/e2e/test_stack.py",
    "tests/e2e/test_train_deploy_dag.py",
    "tests/e2e/test_deploy_workflow_dag.py",
    "tests/e2e/test_model_monitor_dag.py",
    "tests/e2e/test_etl_dag.py",
)
#: Files that run on one worker, one after the other, in :data:`LONGEST_FIRST` order: the
#: train-and-deploy tests leave the endpoint that the deploy-workflow tests serve from (each
#: would otherwise train its own); the monitor and ETL tests come after them on the same warm
#: Airflow runner (the session's ``local_airflow``), which a worker of their own would start
#: again (its imports, ``db migrate`` and the in-process Execution API: about 10 s of CPU each).
GROUPS = dict.fromkeys(
    (
        "tests/e2e/test_train_deploy_dag.py",
        "tests/e2e/test_deploy_workflow_dag.py",
        "tests/e2e/test_model_monitor_dag.py",
        "tests/e2e/test_etl_dag.py",
    ),
    "e2e-airflow",
)


def tier_of(path: Path) -> str:
    """The tier of the test file at ``path``."""
    parts = Path(path).resolve().relative_to(ROOT).parts
    if parts[:2] == ("tests", "e2e"):
        return "e2e"
    if len(parts) > 2 and parts[0] == "tests" and parts[1].startswith("emulator_"):
        return "emulator"
    return "unit"


def _marks_of(carried: dict[str, bool]):
    return lambda name, /, **_: carried[name]


def deselects_tier(markexpr: str, tier: str) -> bool:
    """Whether ``-m markexpr`` deselects every test of ``tier``, whatever other marks a test has."""
    from _pytest.mark.expression import Expression

    try:
        expression = Expression.compile(markexpr)
    except SyntaxError:
        return False  # pytest says so itself when it deselects
    others = sorted(expression.idents() - set(TIERS))
    if len(others) > 6:
        return False
    for values in itertools.product((False, True), repeat=len(others)):  # each mix of the other marks
        carried = {**dict(zip(others, values, strict=True)), **{t: t == tier for t in TIERS}}
        if expression.evaluate(_marks_of(carried)):
            return False
    return True


#: The unit tier's longest files (10-25 s each on two busy cores, --durations), started first
#: within the tier: started last, one is a tail while the other process has nothing left to do.
UNIT_LONGEST_FIRST = (
    "tests/test_dag_integrity.py",
    "tests/monitoring/test_daily.py",
    "tests/test_compose.py",
    "tests/workflow/test_workflow_in_moto.py",
    "tests/ui/test_monitor_page.py",
    "tests/monitoring/test_cli.py",
    "tests/test_docs.py",
    "tests/monitoring/test_report.py",
)


def run_order(relative: str, tier: str) -> tuple[int, int, int]:
    """Where a file's tests go in the run: :data:`LONGEST_FIRST`, then e2e, emulator, unit (its
    :data:`UNIT_LONGEST_FIRST` first)."""
    if relative in LONGEST_FIRST:
        return (LONGEST_FIRST.index(relative), 0, 0)
    within = UNIT_LONGEST_FIRST.index(relative) if relative in UNIT_LONGEST_FIRST else len(UNIT_LONGEST_FIRST)
    return (len(LONGEST_FIRST), ("e2e", "emulator", "unit").index(tier), within)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip a file, or an e2e or emulator_* folder, whose tier the ``-m`` expression deselects."""
    markexpr = config.getoption("markexpr")
    if not markexpr:
        return None
    path = Path(collection_path)
    try:
        # a folder is one tier only below tests/ (tests/e2e, tests/emulator_*): ask for a file in it
        tier = tier_of(path / "_.py" if path.is_dir() else path)
    except ValueError:  # outside the repository
        return None
    if path.is_dir() and tier == "unit":
        return None  # tests/ and lambdas/ hold every tier
    if path.is_file() and path.suffix != ".py":
        return None
    return True if deselects_tier(markexpr, tier) else None


#: Python's default is (700, 10, 10): with Airflow, moto and botocore loaded, a full collection
#: scans millions of objects (0.3-1 s each) and ran every few tests. Measured with gc.callbacks on
#: tests/ui, tests/monitoring, test_traffic.py and lambdas/ (one process, load ~5): full
#: collections 49 taking 41 s of 146 s wall; with these thresholds and the freeze below 6 taking
#: 2.8 s, 59 s wall; peak memory 510 -> 690 MB. Less often, not never: cycles are still freed.
GC_THRESHOLDS = (5000, 20, 20)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported lives to the end: frozen, no collection scans it again."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def pytest_itemcollected(item: pytest.Item) -> None:
    """The tier mark, as the test is collected: before -m deselects (in pytest_collection_modifyitems)."""
    item.add_marker(tier_of(item.path))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def key(indexed: tuple[int, pytest.Item]) -> tuple[int, int, int, int]:
        index, item = indexed
        relative = Path(item.path).resolve().relative_to(ROOT).as_posix()
        return (*run_order(relative, tier_of(item.path)), index)  # a file's tests stay together, in order

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``--dist loadfile`` with :data:`GROUPS`: a group's files are one unit of work. (Not
    ``--dist loadgroup``: xdist 3.8 names a test's group by rewriting its node id, which pytest 9
    no longer reads, so every test went its own way.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class GroupedFileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = super()._split_scope(nodeid)
            return GROUPS.get(file, file)

    return GroupedFileScheduling(config, log)


share_data_loader()  # for every session of the test process


#: The bucket the in-process ``s3`` fixture creates.
TEST_BUCKET = "scones-test-bucket"
TEST_REGION = "us-east-1"


@pytest.fixture
def s3():
    """S3 in-process (moto), with :data:`TEST_BUCKET`: the unit tests' S3, in tests/ and lambdas/."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name=TEST_REGION)
        client.create_bucket(Bucket=TEST_BUCKET)
        yield client
