"""How soon the log-tailing wait (what train_model runs when it prints the training log) notices
that a job has ended: within two of the operator's polls, never sooner than the provider asks."""

from __future__ import annotations

import types
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from scones.training.hook import TrainingHook

JOB = "scones-train-test"


class FakeClock:
    """The provider module's ``time``: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def seconds_to_notice(hook, monkeypatch: pytest.MonkeyPatch, *, ends_at: float, poll: int) -> tuple[float, int]:
    """Run the provider's wait on a job that completes ``ends_at`` seconds in: how long after that
    it returned, and how many times it described the job."""
    clock = FakeClock()
    monkeypatch.setattr(
        "airflow.providers.amazon.aws.hooks.sagemaker.time",
        types.SimpleNamespace(sleep=clock.sleep, monotonic=clock.monotonic),
    )
    when = datetime(2026, 11, 23, tzinfo=UTC)

    calls = []

    def describe(name: str) -> dict:
        calls.append(clock.now)
        status = "Completed" if clock.now >= ends_at else "InProgress"
        return {
            "TrainingJobName": name,
            "TrainingJobStatus": status,
            "SecondaryStatus": status,
            "ResourceConfig": {"InstanceCount": 1},
            "TrainingStartTime": when,
            "TrainingEndTime": when,
        }

    monkeypatch.setattr(hook, "describe_training_job", describe)
    with mock_aws():  # the hook looks for the job's log streams: there are none
        hook.check_training_status_with_log(
            JOB, hook.non_terminal_states, hook.training_failed_states, wait_for_completion=True, check_interval=poll
        )
    return clock.now - ends_at, len(calls)


def test_the_wait_ends_within_two_polls_of_the_job(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = TrainingHook(aws_conn_id=None, region_name="us-east-1", describe_every=2)
    lag, _ = seconds_to_notice(hook, monkeypatch, ends_at=101, poll=2)
    assert lag <= 4  # the provider's hook: up to 30 + 2


def test_real_aws_is_not_polled_more_often_than_the_provider_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    ours = seconds_to_notice(
        TrainingHook(aws_conn_id=None, region_name="us-east-1", describe_every=30), monkeypatch, ends_at=300, poll=30
    )
    provider = seconds_to_notice(
        SageMakerHook(aws_conn_id=None, region_name="us-east-1"), monkeypatch, ends_at=300, poll=30
    )
    assert ours == provider
    assert TrainingHook(aws_conn_id=None, describe_every=600).describe_every == 30, "never less often either"


def test_the_operator_polls_its_job_as_often_as_it_checks() -> None:
    from scones.training.job_operator import TrainingJobOperator

    operator = TrainingJobOperator(
        task_id="train_model",
        config={"TrainingJobName": JOB},
        check_interval=2,
        aws_conn_id=None,
        region_name="us-east-1",
    )
    assert isinstance(operator.hook, TrainingHook) and operator.hook.describe_every == 2
