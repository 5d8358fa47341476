"""The emulator's rule for Step Functions: every operation moto serves classified; AWS's limits and timeouts."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto.core.responses import method_names_from_class
from moto.core.utils import camelcase_to_underscores
from moto.stepfunctions.responses import StepFunctionResponse

from scones.emulator.stepfunctions import operations
from tests.emulator_stepfunctions.conftest import history, wait_for_execution

STATES = botocore.session.get_session().get_service_model("stepfunctions")


def test_every_operation_moto_serves_is_classified_once() -> None:
    methods = set(method_names_from_class(StepFunctionResponse))
    served = {op for op in STATES.operation_names if camelcase_to_underscores(op) in methods}
    assert "StartExecution" in served and len(served) > 20
    tables = [set(operations.COMPUTED), set(operations.REFUSED), set(operations.BOOKKEEPING)]
    assert sum(map(len, tables)) == len(set().union(*tables))
    assert set().union(*tables) == served, (
        f"classify in scones.emulator.stepfunctions.operations: {sorted(served - set().union(*tables))}; "
        f"stale: {sorted(set().union(*tables) - served)}"
    )


def test_activities_are_refused_and_unserved_operations_are_a_400(sfn) -> None:
    with pytest.raises(ClientError, match="GetActivityTask") as refused:
        sfn.create_activity(name="workers")
    assert refused.value.response["Error"]["Code"] == "UnsupportedOperation"
    with pytest.raises(ClientError) as unserved:
        sfn.redrive_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:x:y")
    assert unserved.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "RedriveExecution" in unserved.value.response["Error"]["Message"]


def test_an_input_over_256_kib_is_refused(sfn, create_state_machine) -> None:
    arn = create_state_machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    limit = 256 * 1024
    with pytest.raises(ClientError, match="less than or equal to 262144") as refused:
        sfn.start_execution(stateMachineArn=arn, input=json.dumps({"a": "x" * limit}))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    fits = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"a": "x" * (limit - 100)}))["executionArn"]
    assert wait_for_execution(sfn, fits)["status"] == "SUCCEEDED"


def test_data_of_exactly_256_kib_is_accepted_by_start_execution_and_by_the_states(sfn, create_state_machine) -> None:
    arn = create_state_machine({"StartAt": "Same", "States": {"Same": {"Type": "Pass", "End": True}}})
    exactly = json.dumps({"a": "x" * (256 * 1024 - 9)})
    assert len(exactly.encode()) == 262144  # SensitiveData's max in Step Functions' model: allowed

    done = wait_for_execution(sfn, sfn.start_execution(stateMachineArn=arn, input=exactly)["executionArn"])

    assert done["status"] == "SUCCEEDED", (done.get("error"), (done.get("cause") or "")[:200])


def test_a_task_output_over_256_kib_is_refused_by_send_task_success(sfn) -> None:
    with pytest.raises(ClientError, match="less than or equal to 262144") as refused:
        sfn.send_task_success(taskToken="any-token", output=json.dumps({"a": "x" * 256 * 1024}))
    assert refused.value.response["Error"]["Code"] == "ValidationException"  # checked before the token
    with pytest.raises(ClientError) as unknown:  # within the quota: on to the token, which is unknown
        sfn.send_task_success(taskToken="any-token", output=json.dumps({"a": "x" * (256 * 1024 - 9)}))
    assert unknown.value.response["Error"]["Code"] != "ValidationException"


def test_a_state_whose_data_outgrows_256_kib_fails_the_execution(sfn, create_state_machine) -> None:
    arn = create_state_machine(
        {
            "StartAt": "Double",
            "States": {"Double": {"Type": "Pass", "Parameters": {"a.$": "$.a", "b.$": "$.a"}, "End": True}},
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"a": "x" * 150_000}))["executionArn"]
    failed = wait_for_execution(sfn, execution)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert "Double" in failed["cause"]


def test_a_timed_out_task_names_its_state(sfn, create_state_machine, resources) -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "TimeoutSeconds": 1,
        "Parameters": {"FunctionName": resources.function_arn, "Payload": {"sleep": 3}},
    }
    arn = create_state_machine(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "MaxConcurrency": 2,
                    "Iterator": {"StartAt": "Classify", "States": {"Classify": {**task, "End": True}}},
                    "End": True,
                }
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": [1]}))["executionArn"]

    failed = wait_for_execution(sfn, execution)

    assert (failed["status"], failed["error"]) == ("FAILED", "States.Timeout"), failed.get("cause")
    assert failed["cause"] == "The state 'Classify' timed out after 1 seconds (TimeoutSeconds)."
    timed_out = [e for e in history(sfn, execution) if e["type"] == "TaskTimedOut"]
    assert timed_out and timed_out[0]["taskTimedOutEventDetails"]["cause"] == failed["cause"]

    # A Catch on the Map matches States.Timeout (the iteration's error keeps its name) and reads the cause.
    caught = create_state_machine(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "Iterator": {"StartAt": "Classify", "States": {"Classify": {**task, "End": True}}},
                    "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}],
                    "End": True,
                },
                "Late": {"Type": "Pass", "End": True},
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=caught, input=json.dumps({"items": [1]}))["executionArn"]
    done = wait_for_execution(sfn, execution)
    assert done["status"] == "SUCCEEDED", done.get("cause")
    assert json.loads(done["output"]) == {"Error": "States.Timeout", "Cause": failed["cause"]}
