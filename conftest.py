"""The test tiers, by directory (docs/testing.md says how to run each).

- ``e2e``: ``tests/e2e``, the DAGs and the ``scones up`` stacks run end to end on the emulator;
- ``emulator``: ``tests/emulator_*``, the emulator's services in its own process (real training,
  real Lambda workers);
- ``unit``: everything else (moto in-process), ``lambdas/`` included.

The directory is the only source of a test's tier: this hook marks every collected test, so
``-m unit`` can never pick up a test that trains a model. A tier mark written in a test file
would contradict it; ``tests/test_tiers.py`` fails on one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
TIERS = ("unit", "emulator", "e2e")


def tier_of(path: Path) -> str:
    """The tier of the test file at ``path``."""
    parts = Path(path).resolve().relative_to(ROOT).parts
    if parts[:2] == ("tests", "e2e"):
        return "e2e"
    if len(parts) > 2 and parts[0] == "tests" and parts[1].startswith("emulator_"):
        return "emulator"
    return "unit"


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(tier_of(item.path))


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
