"""Work finished in the background is kept before a client can see it finished: polled
SUCCEEDED or Completed, then a kill -9 right away, it is still so after the restart."""

from __future__ import annotations

import json
import time
import uuid

from tests.emulator_persistence.conftest import Restartable
from tests.emulator_persistence.test_restart import _hyperparameters, _tiny_dataset
from tests.emulator_sagemaker.conftest import training_request

WAIT_ONE_SECOND = json.dumps(
    {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": {"ok": 1}, "End": True},
        },
    }
)


def _poll(describe, running: tuple[str, ...], timeout: float = 180) -> str:
    """Poll as a client does (tightly) until the status leaves ``running``; return it."""
    deadline = time.monotonic() + timeout
    while (status := describe()) in running:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return status


def test_an_execution_seen_succeeded_stays_succeeded_after_kill_9(restartable: Restartable) -> None:
    session = restartable.session()
    sfn = session.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/scones-test-sfn"
    machine = sfn.create_state_machine(name=f"wait-{uuid.uuid4().hex[:8]}", roleArn=role, definition=WAIT_ONE_SECOND)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert _poll(lambda: sfn.describe_execution(executionArn=execution)["status"], ("RUNNING",)) == "SUCCEEDED"
    restartable.crash()  # at once: well within the 2 s background snapshot
    sfn = restartable.session().client("stepfunctions")
    kept = sfn.describe_execution(executionArn=execution)
    assert (kept["status"], kept.get("output")) == ("SUCCEEDED", '{"ok":1}'), kept.get("cause")


def test_a_training_job_seen_completed_stays_completed_after_kill_9(restartable: Restartable) -> None:
    sm = restartable.session().client("sagemaker")
    dataset = _tiny_dataset(restartable.session().client("s3"))
    job = f"tiny-{uuid.uuid4().hex[:8]}"
    sm.create_training_job(**training_request(job, dataset, hyperparameters=_hyperparameters(1)))
    status = _poll(lambda: sm.describe_training_job(TrainingJobName=job)["TrainingJobStatus"], ("InProgress",))
    assert status == "Completed"
    restartable.crash()
    sm = restartable.session().client("sagemaker")
    kept = sm.describe_training_job(TrainingJobName=job)
    assert kept["TrainingJobStatus"] == "Completed", kept.get("FailureReason")
    assert kept["ModelArtifacts"]["S3ModelArtifacts"].startswith(f"s3://{dataset.bucket}/models/{job}/")


def test_an_execution_running_at_a_crash_fails_with_a_history_that_says_so(restartable: Restartable) -> None:
    sfn = restartable.session().client("stepfunctions")
    waits = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}})
    machine = sfn.create_state_machine(
        name=f"long-{uuid.uuid4().hex[:8]}", roleArn="arn:aws:iam::123456789012:role/scones-test-sfn", definition=waits
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert _poll(lambda: len(sfn.get_execution_history(executionArn=execution)["events"]), (0, 1)) >= 2
    time.sleep(2.5)  # the history's WaitStateEntered written by the background snapshot
    restartable.crash()
    sfn = restartable.session().client("stepfunctions")
    assert sfn.describe_execution(executionArn=execution)["status"] == "FAILED"
    last = max(sfn.get_execution_history(executionArn=execution)["events"], key=lambda event: event["id"])
    assert last["type"] == "ExecutionFailed"
    assert last["executionFailedEventDetails"]["error"] == "Scones.EmulatorRestarted"
