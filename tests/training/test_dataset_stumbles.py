"""Issue 16's stumbles: a scheduled train run before any dataset, and sources that cannot be read."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from airflow.sdk.definitions.retry_policy import RetryAction
from airflow.sdk.exceptions import AirflowSkipException
from moto import mock_aws

from scones.airflow_glue import RETRY_POLICY
from scones.errors import DatasetNotFound, SourceUnreachable
from scones.etl import extract
from scones.settings import load_settings

DAGS = Path(__file__).resolve().parents[2] / "dags"


def load_dag_module(name: str):
    spec = importlib.util.spec_from_file_location(f"test_{name}", DAGS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def check_dataset(monkeypatch: pytest.MonkeyPatch):
    """The DAG's check_dataset task as a plain function, against an empty moto bucket."""
    settings = load_settings(environ={})
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=settings.bucket)
        monkeypatch.setattr("scones.airflow_glue.task_settings", lambda params=None: settings)
        monkeypatch.setattr("scones.airflow_glue.aws_client", lambda service, s, **kw: s3)
        yield load_dag_module("scones_train_deploy").check_dataset.function


def test_a_scheduled_run_with_no_dataset_yet_ends_skipped_with_the_message(check_dataset):
    with pytest.raises(AirflowSkipException, match="run the scones_cifar_etl DAG first"):
        check_dataset(params={}, dag_run=SimpleNamespace(run_type="scheduled"))


def test_a_manual_run_with_no_dataset_still_fails(check_dataset):
    with pytest.raises(DatasetNotFound, match="run the scones_cifar_etl DAG first"):
        check_dataset(params={}, dag_run=SimpleNamespace(run_type="manual"))


def test_a_source_that_cannot_be_read_is_not_retried_by_the_task():
    """The download already retried; five task tries on top made 13 minutes of it."""
    decision = RETRY_POLICY.evaluate(SourceUnreachable("gone"), try_number=1, max_tries=5)
    assert decision.action == RetryAction.FAIL


def test_a_missing_file_fails_at_once_naming_the_source_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    slept: list[float] = []
    monkeypatch.setattr(extract.time, "sleep", slept.append)
    with pytest.raises(SourceUnreachable, match='"Source" field') as raised:
        extract.fetch_archive(str(tmp_path / "nowhere.tar.gz"), tmp_path)
    assert slept == [] and "--source" in str(raised.value)


def test_an_unreachable_url_gives_up_within_two_minutes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each attempt may wait DOWNLOAD_TIMEOUT for a silent host; plus the backoff between them."""
    slept: list[float] = []
    attempts: list[float] = []
    monkeypatch.setattr(extract.time, "sleep", slept.append)

    def unreachable(request, timeout):
        attempts.append(timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(extract.urllib.request, "urlopen", unreachable)
    t0 = time.monotonic()
    with pytest.raises(SourceUnreachable, match='"Source" field'):
        extract.fetch_archive("http://192.0.2.1/cifar-100-python.tar.gz", tmp_path)
    worst_case = sum(attempts) + sum(slept) + (time.monotonic() - t0)
    assert len(attempts) >= 2, "a transient error is still retried"
    assert worst_case <= 120, f"an unreachable source would take {worst_case:.0f} s to fail"


@pytest.fixture
def empty_bucket():
    settings = load_settings(environ={})
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=settings.bucket)
        yield s3, settings


@pytest.mark.parametrize("run_type", ["manual", "backfill", "asset_triggered", None])
def test_only_a_scheduled_run_is_skipped_when_nothing_is_published(empty_bucket, run_type):
    from scones.errors import NothingToDoYet
    from scones.training.dataset import dataset_for_run

    s3, settings = empty_bucket
    with pytest.raises(NothingToDoYet, match="run the scones_cifar_etl DAG first.*nothing to train on yet"):
        dataset_for_run(s3, settings, refresh=False, run_type="scheduled")
    with pytest.raises(DatasetNotFound, match="run the scones_cifar_etl DAG first") as raised:
        dataset_for_run(s3, settings, refresh=False, run_type=run_type)
    assert not isinstance(raised.value, NothingToDoYet)


@pytest.mark.parametrize("refresh", [True, False])
def test_a_refresh_trains_on_the_version_the_etl_just_wrote(empty_bucket, monkeypatch, refresh):
    from scones.training import dataset

    s3, settings = empty_bucket
    pinned = []
    monkeypatch.setattr(dataset, "refresh_dataset", lambda s3, settings: "20261129T020000-new")
    monkeypatch.setattr(
        dataset, "describe_dataset", lambda s3, settings, version: pinned.append(version) or {"v": version}
    )
    assert dataset.dataset_for_run(s3, settings, refresh=refresh, run_type="manual") == {"v": pinned[0]}
    assert pinned == ["20261129T020000-new" if refresh else None], "no refresh: the published version (resolved)"


def test_nothing_to_do_yet_ends_the_task_skipped_with_its_message():
    from scones.airflow_glue import skipped_when_nothing_to_do
    from scones.errors import NothingToDoYet

    with pytest.raises(AirflowSkipException, match="no dataset yet"):
        with skipped_when_nothing_to_do():
            raise NothingToDoYet("no dataset yet")
    with pytest.raises(DatasetNotFound), skipped_when_nothing_to_do():
        raise DatasetNotFound("other errors pass through")
