"""After a restart, work that was running at the stop comes back as what it honestly is.

- An endpoint InService (or Updating: the update is lost, as SageMaker rolls back a failed
  one) serves again: its models are loaded from the artifacts its config names, before the
  emulator answers; one that cannot be loaded is Failed, saying why. An endpoint Creating is
  deployed again, as its CreateEndpoint was acknowledged.
- A training, transform or tuning job that was running is Failed, its FailureReason saying
  the emulator restarted: its run (a thread of the old process) is gone, and running it again
  unasked would spend the time and write output nobody asked twice for.
- A Step Functions execution that was running is FAILED with error ``Scones.EmulatorRestarted``,
  its history ending with an ExecutionFailed event saying so; one whose history already ended
  (saved between its terminal event and its status) keeps that end.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

RESTARTED = (
    "the local AWS emulator restarted while this job was running; its run was lost. "
    "Start the job again (under a new name)."
)


def _backends(backend_dict: Any) -> list[Any]:
    return [backend for _, regions in list(backend_dict.items()) for backend in list(regions.values())]


def recover_sagemaker() -> dict[str, int]:
    from moto.core.utils import utcnow
    from moto.sagemaker.models import sagemaker_backends

    from scones.emulator.sagemaker.hosting import load_deployment

    counts = {"endpoints_serving": 0, "endpoints_failed": 0, "jobs_failed": 0}
    for backend in _backends(sagemaker_backends):
        for job in list(backend.training_jobs.values()):
            if getattr(job, "training_job_status", None) in ("InProgress", "Stopping") and hasattr(job, "fail"):
                job.fail(RESTARTED)
                counts["jobs_failed"] += 1
        for job in list(backend.transform_jobs.values()):
            if getattr(job, "transform_job_status", None) in ("InProgress", "Stopping") and hasattr(job, "finish"):
                job._stop_requested.clear()
                job.finish("Failed", RESTARTED)
                counts["jobs_failed"] += 1
        for job in list(backend.hyper_parameter_tuning_jobs.values()):
            if getattr(job, "hyper_parameter_tuning_job_status", None) in ("InProgress", "Stopping") and hasattr(
                job, "finish"
            ):
                job._stop_requested.clear()
                job.finish("Failed", RESTARTED)
                counts["jobs_failed"] += 1
        for endpoint in list(backend.endpoints.values()):
            status = getattr(endpoint, "endpoint_status", None)
            config = getattr(endpoint, "config_summary", None)
            if config is None:
                continue
            if status == "Creating":
                backend._deploy(endpoint, config, backend._models_of(config), on_failure="Failed")
                continue
            if status not in ("InService", "Updating"):
                continue
            try:
                endpoint.deployment = load_deployment(
                    backend.account_id, backend.region_name, endpoint.endpoint_name, config, backend._models_of(config)
                )
            except Exception as exc:
                endpoint.endpoint_status = "Failed"
                endpoint.failure_reason = (
                    f"the local AWS emulator restarted and could not load this endpoint's models: {exc}"
                )
                counts["endpoints_failed"] += 1
                log.warning("endpoint %s: %s", endpoint.endpoint_name, exc)
            else:
                if status == "Updating":
                    endpoint.failure_reason = (
                        "the local AWS emulator restarted during this update; the endpoint serves its previous config"
                    )
                endpoint.endpoint_status = "InService"
                counts["endpoints_serving"] += 1
            endpoint.pending = None
            endpoint.last_modified_time = utcnow()
    return counts


def recover_stepfunctions() -> int:
    """Executions RUNNING in the state: FAILED by the restart, unless their history already ends
    (return how many were failed).

    An execution's end is two steps in moto's interpreter: the terminal history event
    (ExecutionSucceeded...) is added, then the status is set. A snapshot between the two holds
    a RUNNING execution whose history says it ended, and which a client may have read: it keeps
    the end its history gives, not a restart failure after it.
    """
    from moto.core.utils import utcnow
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    failed = 0
    for backend in _backends(stepfunctions_parser_backends):
        for machine in list(backend.state_machines):
            for execution in list(getattr(machine, "executions", None) or []):
                if getattr(execution, "exec_status", None) != ExecutionStatus.RUNNING:
                    continue
                if _ended_by_its_history(execution):
                    continue
                execution.exec_status = ExecutionStatus.FAILED
                execution.error = "Scones.EmulatorRestarted"
                execution.cause = "the local AWS emulator restarted while this execution was running"
                execution.stop_date = utcnow()
                _history_says_failed(execution)
                failed += 1
    return failed


def _ended_by_its_history(execution: Any) -> bool:
    """Give a RUNNING execution whose history ends with a terminal event that end (status, output or
    error and cause, stop date: what moto sets right after that event); False if it has none."""
    from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType

    env = getattr(getattr(execution, "exec_worker", None), "env", None)
    events = env.event_manager.get_event_history() if env is not None else []
    last = max(events, key=lambda event: event["id"]) if events else None
    ends = {
        HistoryEventType.ExecutionSucceeded: ExecutionStatus.SUCCEEDED,
        HistoryEventType.ExecutionFailed: ExecutionStatus.FAILED,
        HistoryEventType.ExecutionAborted: ExecutionStatus.ABORTED,
        HistoryEventType.ExecutionTimedOut: ExecutionStatus.TIMED_OUT,
    }
    if last is None or last["type"] not in ends:
        return False
    execution.exec_status = ends[last["type"]]
    execution.stop_date = last["timestamp"]
    if last["type"] == HistoryEventType.ExecutionSucceeded:
        execution.output = env.states.get_input()  # as moto's _reflect_execution_status sets it
    details = last.get("executionFailedEventDetails") or last.get("executionAbortedEventDetails") or {}
    if details:
        execution.error, execution.cause = details.get("error"), details.get("cause")
    return True


def _history_says_failed(execution: Any) -> None:
    """GetExecutionHistory ends with ExecutionFailed, as for any failed execution (not mid-state)."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    env = getattr(getattr(execution, "exec_worker", None), "env", None)
    if env is None:  # not started: no history to end
        return
    env.event_history_context.source_event_id = 0
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionFailed,
        event_details=EventDetails(
            executionFailedEventDetails=ExecutionFailedEventDetails(error=execution.error, cause=execution.cause)
        ),
    )
