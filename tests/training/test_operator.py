"""TrainingJobOperator: a job that failed is not retried; a failed request still is."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator
from airflow.sdk.definitions.retry_policy import RetryAction

from scones.airflow_glue import NO_RETRY_ON_BAD_INPUT
from scones.errors import TrainingJobFailed
from scones.training.operator import TrainingJobOperator


class StubHook:
    def __init__(self, description: dict[str, Any] | Exception) -> None:
        self.description = description
        self.asked: list[str] = []

    def describe_training_job(self, name: str) -> dict[str, Any]:
        self.asked.append(name)
        if isinstance(self.description, Exception):
            raise self.description
        return self.description


def operator_whose_job(description: dict[str, Any] | Exception, monkeypatch: pytest.MonkeyPatch) -> tuple[TrainingJobOperator, StubHook]:
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
    decision = NO_RETRY_ON_BAD_INPUT.evaluate(raised.value, try_number=1, max_tries=3)
    assert decision.action == RetryAction.FAIL


def test_a_stopped_job_is_not_retried_either(monkeypatch: pytest.MonkeyPatch) -> None:
    op, _ = operator_whose_job({"TrainingJobStatus": "Stopped"}, monkeypatch)
    with pytest.raises(TrainingJobFailed, match="stopped: \\(no reason given\\)"):
        op.execute({})


@pytest.mark.parametrize(
    "description",
    [
        {"TrainingJobStatus": "Failed", "FailureReason": "CapacityError: Unable to provision requested ML compute capacity"},
        {"TrainingJobStatus": "InProgress"},  # e.g. the operator's own time limit: the job lives on
        ConnectionError("SageMaker unreachable"),
    ],
)
def test_other_failures_stay_retryable(description: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    op, _ = operator_whose_job(description, monkeypatch)
    with pytest.raises(RuntimeError) as raised:
        op.execute({})
    assert NO_RETRY_ON_BAD_INPUT.evaluate(raised.value, try_number=1, max_tries=3).action != RetryAction.FAIL
