"""TrainingJobOperator: a job that failed is not retried; a failed request still is."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator
from airflow.sdk.definitions.retry_policy import RetryAction

from scones.airflow_glue import RETRY_POLICY
from scones.errors import TrainingJobFailed
from scones.training.job_operator import TrainingJobOperator


class StubHook:
    def __init__(self, description: dict[str, Any] | Exception) -> None:
        self.description = description
        self.asked: list[str] = []
        self.conn = self
        self.jobs: list[dict[str, Any]] = []  # what ListTrainingJobs answers: no earlier try's job

    def get_paginator(self, operation: str) -> StubHook:
        assert operation == "list_training_jobs"
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return [{"TrainingJobSummaries": self.jobs}]

    def describe_training_job(self, name: str) -> dict[str, Any]:
        self.asked.append(name)
        if isinstance(self.description, Exception):
            raise self.description
        return self.description


def operator_whose_job(
    description: dict[str, Any] | Exception, monkeypatch: pytest.MonkeyPatch
) -> tuple[TrainingJobOperator, StubHook]:
    op = TrainingJobOperator(task_id="train_model", config={"TrainingJobName": "scones-train-1"})
    hook = StubHook(description)
    monkeypatch.setattr(TrainingJobOperator, "hook", hook)

    def provider_fails(self: SageMakerTrainingOperator, context: Any) -> dict:
        raise RuntimeError("Error training scones-train-1: Failed Reason: ...")  # what the provider raises, roughly

    monkeypatch.setattr(SageMakerTrainingOperator, "execute", provider_fails)
    return op, hook


def test_a_failed_job_fails_without_retry_naming_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "ClientError: s3://bucket/train/bicycle/1.png does not exist"
    op, hook = operator_whose_job({"TrainingJobStatus": "Failed", "FailureReason": reason}, monkeypatch)

    with pytest.raises(TrainingJobFailed, match="scones-train-1 failed: ClientError: s3://bucket") as raised:
        op.execute({})

    assert hook.asked == ["scones-train-1"]
    decision = RETRY_POLICY.evaluate(raised.value, try_number=1, max_tries=3)
    assert decision.action == RetryAction.FAIL


def test_a_stopped_job_is_not_retried_either(monkeypatch: pytest.MonkeyPatch) -> None:
    op, _ = operator_whose_job({"TrainingJobStatus": "Stopped"}, monkeypatch)
    with pytest.raises(TrainingJobFailed, match="stopped: \\(no reason given\\)"):
        op.execute({})


@pytest.mark.parametrize(
    "description",
    [
        {
            "TrainingJobStatus": "Failed",
            "FailureReason": "CapacityError: Unable to provision requested ML compute capacity",
        },
        {"TrainingJobStatus": "InProgress"},  # e.g. the operator's own time limit: the job lives on
        ConnectionError("SageMaker unreachable"),
    ],
)
def test_other_failures_stay_retryable(description: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    op, _ = operator_whose_job(description, monkeypatch)
    with pytest.raises(RuntimeError) as raised:
        op.execute({})
    assert RETRY_POLICY.evaluate(raised.value, try_number=1, max_tries=3).action != RetryAction.FAIL


def test_a_resumed_task_checks_the_job_its_trigger_watched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow renders the config again on resume: it names the first try's job, not this try's."""
    op, hook = operator_whose_job(
        {"TrainingJobStatus": "Failed", "FailureReason": "AlgorithmError: bad image_shape"}, monkeypatch
    )

    def provider_reports(self: SageMakerTrainingOperator, context: Any, event: dict | None = None) -> dict:
        raise RuntimeError(f"Error while running job: {event}")

    monkeypatch.setattr(SageMakerTrainingOperator, "execute_complete", provider_reports)
    with pytest.raises(TrainingJobFailed, match="scones-train-1-20261123 failed: AlgorithmError"):
        op.execute_complete({}, {"status": "error", "job_name": "scones-train-1-20261123"})
    assert hook.asked == ["scones-train-1-20261123"]


def test_sagemakers_own_internal_errors_stay_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    op, _ = operator_whose_job(
        {
            "TrainingJobStatus": "Failed",
            "FailureReason": "InternalServerError: We encountered an internal error. Please try again.",
        },
        monkeypatch,
    )
    with pytest.raises(RuntimeError):
        op.execute({})


def test_the_dag_waits_for_a_job_as_long_as_it_may_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deferred, the provider's default gave up after 60 polls (30 minutes) and a retry started a second job."""
    from airflow.dag_processing.dagbag import DagBag

    from scones.localrun.airflow_home import DAGS_FOLDER
    from scones.settings import load_settings

    dag = DagBag(dag_folder=DAGS_FOLDER).dags["scones_train_deploy"]
    train = dag.get_task("train_model")
    settings = load_settings()
    assert train.max_ingestion_time > settings.max_training_seconds
    assert train.max_attempts * settings.poll_seconds >= train.max_ingestion_time


def test_a_deferred_retry_watches_the_earlier_tries_job(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from airflow.sdk.exceptions import TaskDeferred

    hook = StubHook({})
    hook.jobs = [
        {"TrainingJobName": name, "TrainingJobStatus": status, "CreationTime": datetime(2026, 11, 23, hour, tzinfo=UTC)}
        for name, status, hour in (
            ("scones-train-1", "Failed", 2),
            ("scones-train-1-1763870400", "InProgress", 3),
            ("scones-train-10", "InProgress", 4),
        )
    ]  # another run's job
    op = TrainingJobOperator(
        task_id="train_model",
        config={"TrainingJobName": "scones-train-1"},
        deferrable=True,
        check_interval=30,
        max_ingestion_time=7200,
        max_attempts=241,
    )
    monkeypatch.setattr(TrainingJobOperator, "hook", hook)
    monkeypatch.setattr(
        SageMakerTrainingOperator, "execute", lambda *_: pytest.fail("the provider would start a second job")
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    _, watched = deferred.value.trigger.serialize()
    assert watched["job_name"] == "scones-train-1-1763870400" and watched["waiter_max_attempts"] == 241
    assert deferred.value.method_name == "execute_complete" and deferred.value.timeout.total_seconds() == 7200


def test_without_permission_to_list_jobs_the_task_still_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    class Refused(StubHook):
        def paginate(self, **_: Any) -> list[dict[str, Any]]:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "ListTrainingJobs"
            )

    op = TrainingJobOperator(task_id="train_model", config={"TrainingJobName": "scones-train-1"})
    monkeypatch.setattr(TrainingJobOperator, "hook", Refused({}))
    monkeypatch.setattr(
        SageMakerTrainingOperator, "execute", lambda *_: {"Training": {"TrainingJobName": "scones-train-1"}}
    )
    assert op.execute({}) == {"Training": {"TrainingJobName": "scones-train-1"}}


def test_a_long_job_names_retry_is_found_under_the_providers_shortened_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    long_name = "a-project-with-a-long-name-for-its-sagemaker-jobs-train-20261123T020000"  # 72 characters
    retry_name = f"{long_name[:52]}-1763870400"  # what the provider made of it on a try before
    hook = StubHook({})
    hook.jobs = [{"TrainingJobName": retry_name, "TrainingJobStatus": "Completed", "CreationTime": datetime.now(UTC)}]
    op = TrainingJobOperator(task_id="train_model", config={"TrainingJobName": long_name})
    monkeypatch.setattr(TrainingJobOperator, "hook", hook)
    monkeypatch.setattr(
        TrainingJobOperator, "serialize_result", lambda self, name: {"Training": {"TrainingJobName": name}}
    )
    monkeypatch.setattr(
        SageMakerTrainingOperator, "execute", lambda *_: pytest.fail("the provider would start a second job")
    )
    assert op.execute({}) == {"Training": {"TrainingJobName": retry_name}}


def test_a_resumed_task_logs_the_whole_job_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deferred, the provider logged the job only up to the deferral: the epochs never reached the task log."""
    printed: list[tuple[str, bool]] = []

    class LoggingHook(StubHook):
        non_terminal_states = {"InProgress"}
        training_failed_states = {"Failed"}

        def check_training_status_with_log(
            self, name: str, non_terminal: set, failed: set, wait_for_completion: bool, check_interval: int
        ) -> None:
            printed.append((name, wait_for_completion))

    op = TrainingJobOperator(task_id="train_model", config={"TrainingJobName": "scones-train-1"}, print_log=True)
    monkeypatch.setattr(TrainingJobOperator, "hook", LoggingHook({"TrainingJobStatus": "Completed"}))
    monkeypatch.setattr(
        TrainingJobOperator, "serialize_result", lambda self, name: {"Training": {"TrainingJobName": name}}
    )
    assert op.execute_complete({}, {"status": "success", "job_name": "scones-train-1-20261123"}) == {
        "Training": {"TrainingJobName": "scones-train-1-20261123"}
    }
    assert printed == [("scones-train-1-20261123", False)]  # read once, the job being over
