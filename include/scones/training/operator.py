"""The provider's training operator, with a failed job told apart from a failed request.

``SageMakerTrainingOperator`` raises the same ``AirflowException`` whether the job itself
failed (bad data, a bad hyperparameter: rerunning fails the same way, after another GPU
bill) or a request to SageMaker did (worth retrying). This subclass asks SageMaker which it
was and raises :class:`~scones.errors.TrainingJobFailed`, which the DAGs' retry policy
does not retry, for a job that ended Failed or Stopped. A capacity shortage
(``CapacityError``) stays retryable: capacity may be there on the next try.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator

from scones.errors import TrainingJobFailed

#: FailureReason prefixes of failures that a later try may not run into.
RETRYABLE_REASONS = ("CapacityError", "InternalServerError")


class TrainingJobOperator(SageMakerTrainingOperator):
    """``SageMakerTrainingOperator`` whose failed jobs fail the task without retries."""

    def execute(self, context: Any) -> dict:
        try:
            return super().execute(context)
        except Exception as exc:
            self._raise_if_the_job_failed(exc)
            raise

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict:
        try:
            return super().execute_complete(context, event)
        except Exception as exc:
            # The trigger's job, not self.config's: Airflow renders the templates again when a
            # deferred task resumes, so the config names the first try's job, not a retry's.
            self._raise_if_the_job_failed(exc, (event or {}).get("job_name"))
            raise

    def _raise_if_the_job_failed(self, error: Exception, name: str | None = None) -> None:
        name = name or self.config.get("TrainingJobName")  # the operator's final name (timestamped on a retry)
        try:
            job = self.hook.describe_training_job(name)
        except Exception:  # SageMaker unreachable: the original error stands, and is retried
            return
        status, reason = job.get("TrainingJobStatus"), job.get("FailureReason", "(no reason given)")
        if status in ("Failed", "Stopped") and not reason.startswith(RETRYABLE_REASONS):
            raise TrainingJobFailed(f"training job {name} {status.lower()}: {reason}") from error
