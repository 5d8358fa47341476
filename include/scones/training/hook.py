"""The provider's SageMaker hook, with its log-tailing wait asking for the job's status as often
as the operator polls.

``SageMakerHook.describe_training_job_with_log`` reads new log lines every ``check_interval``
but calls DescribeTrainingJob only once 30 s have passed since its last call, a literal in
the provider: a completed job is noticed up to 30 s late whatever the operator's
``check_interval``. On real AWS (``poll_seconds`` 30) nothing changes; on the emulator
(``poll_seconds`` 1) the wait ends within two polls of the job.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

#: The provider's own interval between DescribeTrainingJob calls while it tails the log.
PROVIDER_DESCRIBE_SECONDS = 30


class TrainingHook(SageMakerHook):
    """``SageMakerHook`` whose log-tailing wait describes the job every ``describe_every`` seconds."""

    def __init__(self, *args: Any, describe_every: float = PROVIDER_DESCRIBE_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.describe_every = min(describe_every, PROVIDER_DESCRIBE_SECONDS)  # never more often than asked

    def describe_training_job_with_log(
        self,
        job_name: str,
        positions: Any,
        stream_names: list,
        instance_count: int,
        state: int,
        last_description: dict,
        last_describe_job_call: float,
    ) -> tuple:
        # The provider describes once 30 s have passed since ``last_describe_job_call``: moving
        # that mark back makes it describe ``describe_every`` seconds after its last call.
        shifted = last_describe_job_call - (PROVIDER_DESCRIBE_SECONDS - self.describe_every)
        state, last_description, called = super().describe_training_job_with_log(
            job_name, positions, stream_names, instance_count, state, last_description, shifted
        )
        return state, last_description, last_describe_job_call if called == shifted else called
