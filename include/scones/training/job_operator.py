"""The provider's training operator, with a failed job told apart from a failed request.

``SageMakerTrainingOperator`` raises the same ``AirflowException`` whether the job itself
failed (bad data, a bad hyperparameter: rerunning fails the same way, after another GPU
bill) or a request to SageMaker did (worth retrying). This subclass asks SageMaker which it
was and raises :class:`~scones.errors.TrainingJobFailed`, which the DAGs' retry policy
does not retry, for a job that ended Failed or Stopped. A capacity shortage
(``CapacityError``) stays retryable: capacity may be there on the next try.

A retry also adopts the job of an earlier try of the same run when it is still running or
has completed (the worker died, or the task was killed, while it waited): the provider would
start another GPU job beside it under a timestamped name, and bill both.
"""

from __future__ import annotations

import datetime
from typing import Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator
from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger
from botocore.exceptions import ClientError

from scones.errors import TrainingJobFailed
from scones.training.hook import TrainingHook

#: FailureReason prefixes of failures that a later try may not run into.
RETRYABLE_REASONS = ("CapacityError", "InternalServerError")


class TrainingJobOperator(SageMakerTrainingOperator):
    """``SageMakerTrainingOperator`` whose failed jobs fail the task without retries."""

    aws_hook_class = TrainingHook

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        return {**super()._hook_parameters, "describe_every": self.check_interval}

    def execute(self, context: Any) -> dict:
        earlier = self._earlier_job()
        try:
            if earlier is not None:
                return self._adopt(earlier)
            return super().execute(context)
        except Exception as exc:
            self._raise_if_the_job_failed(exc)
            raise

    def _earlier_job(self) -> dict[str, Any] | None:
        """The newest job an earlier try of this run started (its configured name, or that name
        timestamped) that is running or has completed; None if there is none."""
        # The provider names a retry's job name[:52]-<timestamp>. Every page, and the status
        # filtered here: with StatusEquals, SageMaker filters only the first MaxResults jobs.
        name = self.config["TrainingJobName"]
        stem = name[:52]
        try:
            pages = self.hook.conn.get_paginator("list_training_jobs").paginate(NameContains=stem, MaxResults=100)
            jobs = [
                job
                for page in pages
                for job in page["TrainingJobSummaries"]
                if job["TrainingJobStatus"] in ("InProgress", "Completed")
                and (job["TrainingJobName"] == name or job["TrainingJobName"].startswith(f"{stem}-"))
            ]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("AccessDenied", "AccessDeniedException"):
                raise
            self.log.warning(
                "cannot list training jobs (%s): a retry may start a second job; grant "
                "sagemaker:ListTrainingJobs to avoid that",
                exc,
            )
            return None
        return max(jobs, key=lambda job: job["CreationTime"], default=None)

    def _adopt(self, job: dict[str, Any]) -> dict:
        """Wait for ``job`` (an earlier try's) as if this try had started it."""
        name = self.config["TrainingJobName"] = job["TrainingJobName"]
        self.log.warning(
            "training job %s, started by an earlier try of this run, is %s: waiting for it instead of starting another",
            name,
            job["TrainingJobStatus"],
        )
        if job["TrainingJobStatus"] != "Completed":
            if self.deferrable:
                self.defer(
                    timeout=datetime.timedelta(seconds=self.max_ingestion_time)
                    if self.max_ingestion_time
                    else self.execution_timeout,
                    trigger=SageMakerTrigger(
                        job_name=name,
                        job_type="Training",
                        waiter_delay=self.check_interval,
                        waiter_max_attempts=self.max_attempts,
                        aws_conn_id=self.aws_conn_id,
                        region_name=self.region_name,
                        verify=self.verify,
                        botocore_config=self.botocore_config,
                    ),
                    method_name="execute_complete",
                )
            if self.print_log:  # as the provider waits for a job it started
                self.hook.check_training_status_with_log(
                    name,
                    self.hook.non_terminal_states,
                    self.hook.training_failed_states,
                    wait_for_completion=True,
                    check_interval=self.check_interval,
                    max_ingestion_time=self.max_ingestion_time,
                )
            else:
                self.hook.check_status(
                    name,
                    "TrainingJobStatus",
                    self.hook.describe_training_job,
                    self.check_interval,
                    self.max_ingestion_time,
                )
        return self.serialize_result(name)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict:
        name = (event or {}).get("job_name")
        if self.print_log and name:
            # Deferred, the provider printed the job's log only up to the deferral: the task's
            # log gets the job's whole log (the epochs) once it ends, as when it waits on a worker.
            try:
                self.hook.check_training_status_with_log(
                    name,
                    self.hook.non_terminal_states,
                    self.hook.training_failed_states,
                    wait_for_completion=False,
                    check_interval=self.check_interval,
                )
            except Exception as exc:  # the job's outcome is the event's; a log that cannot be read is no failure
                self.log.warning("could not read the log of training job %s: %s", name, exc)
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
