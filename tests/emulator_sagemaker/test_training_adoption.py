"""A retried training task waits for the job an earlier try started instead of starting another."""

from __future__ import annotations

import json

import pytest

from scones.errors import TrainingJobFailed
from scones.training.job_operator import TrainingJobOperator
from tests.emulator_sagemaker.conftest import finished_job, training_request, unique


@pytest.fixture
def airflow_connection(emulator, monkeypatch) -> None:
    extra = {"endpoint_url": emulator.endpoint_url, "region_name": "us-east-1"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}),
    )


def retried_task(config: dict) -> TrainingJobOperator:
    """The DAG's train_model as a retry sees it: the run's config, the same job name."""
    return TrainingJobOperator(
        task_id="train_model",
        config=dict(config),
        aws_conn_id="aws_default",
        print_log=False,
        check_interval=1,
        max_ingestion_time=600,
        action_if_job_exists="timestamp",
    )


def jobs_named(sm, name: str) -> list[str]:
    return sorted(
        j["TrainingJobName"] for j in sm.list_training_jobs(NameContains=name, MaxResults=100)["TrainingJobSummaries"]
    )


def test_a_running_job_of_an_earlier_try_is_adopted(airflow_connection, sm, small_dataset) -> None:
    name = unique("bikes-retry")
    config = training_request(name, small_dataset)
    sm.create_training_job(**config)  # the first try started it, then its worker died
    assert sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] == "InProgress"

    result = retried_task(config).execute({})

    assert result["Training"]["TrainingJobName"] == name and result["Training"]["TrainingJobStatus"] == "Completed"
    assert jobs_named(sm, name) == [name], "no second job was started"


def test_a_completed_job_of_an_earlier_try_is_taken_as_is(airflow_connection, sm, small_dataset) -> None:
    name = unique("bikes-done")
    config = training_request(name, small_dataset)
    sm.create_training_job(**config)
    finished_job(sm, name)

    result = retried_task(config).execute({})

    assert result["Training"]["TrainingJobName"] == name
    assert jobs_named(sm, name) == [name]


def test_after_a_failed_job_a_retry_starts_a_new_one(airflow_connection, sm, small_dataset) -> None:
    name = unique("bikes-failed")
    config = training_request(name, small_dataset, channel_names=("train", "validation", "train_lst"))  # one missing
    sm.create_training_job(**config)
    assert finished_job(sm, name)["TrainingJobStatus"] == "Failed"

    with pytest.raises(TrainingJobFailed, match=f"training job {name}-[0-9-]+ failed: .*validation_lst") as error:
        retried_task(config).execute({})

    assert jobs_named(sm, name) == sorted([name, str(error.value).split()[2]]), "a new job, under a timestamped name"


def test_after_a_stopped_job_a_retry_starts_a_new_one(airflow_connection, sm, small_dataset) -> None:
    name = unique("bikes-stopped")
    config = training_request(name, small_dataset)
    sm.create_training_job(**config)
    sm.stop_training_job(TrainingJobName=name)  # by someone, in the console
    assert finished_job(sm, name)["TrainingJobStatus"] == "Stopped"

    result = retried_task(config).execute({})

    renamed = result["Training"]["TrainingJobName"]
    assert renamed.startswith(f"{name}-") and result["Training"]["TrainingJobStatus"] == "Completed"
    assert jobs_named(sm, name) == sorted([name, renamed])
