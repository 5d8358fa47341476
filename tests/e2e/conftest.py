"""End to end: the real DAG files under ``airflow dags test`` against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.localrun.airflow_home import LOCAL_POLLING, LocalAirflow
from scones.localrun.demo import SHARED_SUBSET as SHARED_DATA
from scones.settings import load_settings


@pytest.fixture(scope="session")
def settings():
    return load_settings(environ={})


@pytest.fixture(scope="session")
def local_airflow(emulator, settings, tmp_path_factory) -> LocalAirflow:
    """One migrated Airflow home for the session, its bucket created in the emulator."""
    if not SHARED_DATA.exists():
        pytest.skip(f"shared CIFAR-100 subset not found at {SHARED_DATA}")
    import boto3

    boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name=settings.region).create_bucket(
        Bucket=settings.bucket
    )
    airflow = LocalAirflow(
        tmp_path_factory.mktemp("airflow"),
        emulator.endpoint_url,
        {"SCONES_SOURCE_URL": str(SHARED_DATA), **LOCAL_POLLING},
    )
    airflow.migrate()
    yield airflow
    airflow.close()


def list_keys(s3, bucket: str, prefix: str) -> dict[str, object]:
    """``{key: LastModified}`` under a prefix."""
    return {
        o["Key"]: o["LastModified"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
    }


def published_root(s3, settings, prefix: str | None = None) -> str | None:
    """The key prefix of the published dataset version (``<prefix>/versions/<v>``), or None."""
    from scones.datasets import resolve_dataset
    from scones.errors import DatasetNotFound
    from scones.layout import DatasetLayout

    try:
        pinned = resolve_dataset(s3, DatasetLayout(settings.bucket, prefix or settings.dataset_prefix))
    except DatasetNotFound:
        return None
    return pinned.layout.root(pinned.version)


def assert_ok(run) -> None:
    assert run.ok, f"{run.dag_id} failed: {run.task_states}\n--- log tail ---\n{Path(run.log_path).read_text()[-4000:]}"


@pytest.fixture(scope="module")
def emulator_session_module(emulator):
    """Module-scoped twin of ``emulator_session``, for module fixtures."""
    return emulator.session()
