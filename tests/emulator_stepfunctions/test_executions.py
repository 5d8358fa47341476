"""StartExecution runs the real definition; DescribeExecution and the history tell what happened."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.emulator_lambda.functions import deploy
from tests.emulator_stepfunctions.conftest import event_types, history, wait_for_execution


def classify_then_alert(resources) -> dict:
    """One Lambda task: retry a busy endpoint, catch a low confidence into an SNS alert, then fail."""
    return {
        "Comment": "Classify, retry EndpointBusy, alert and fail on ThresholdConfidenceNotMet",
        "StartAt": "Classify",
        "States": {
            "Classify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": resources.function_arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "Retry": [
                    {"ErrorEquals": ["EndpointBusy"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.0}
                ],
                "Catch": [{"ErrorEquals": ["ThresholdConfidenceNotMet"], "ResultPath": "$.error", "Next": "Alert"}],
                "Next": "Classified",
            },
            "Alert": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {
                    "TopicArn": resources.topic_arn,
                    "Subject": "Low confidence",
                    "Message.$": "States.JsonToString($)",
                },
                "ResultPath": "$.notification",
                "Next": "LowConfidence",
            },
            "LowConfidence": {"Type": "Fail", "Error": "LowConfidence", "Cause": "confidence below the threshold"},
            "Classified": {"Type": "Succeed"},
        },
    }


def test_task_calls_the_lambda_and_retries_a_named_error(sfn, resources, create_state_machine, emulator_session):
    machine = create_state_machine(classify_then_alert(resources))
    key = uuid.uuid4().hex

    execution_input = json.dumps({"key": key, "value": 21, "busy_once": True})
    arn = sfn.start_execution(stateMachineArn=machine, input=execution_input)["executionArn"]
    described = wait_for_execution(sfn, arn)

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"key": key, "doubled": 42, "attempts": 2}
    events = history(sfn, arn)
    assert described["output"] == events[-1]["executionSucceededEventDetails"]["output"]  # compact, as AWS
    assert event_types(events) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",  # EndpointBusy...
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",  # ...retried
        "TaskStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    failed = events[4]["taskFailedEventDetails"]
    assert failed["error"] == "EndpointBusy"
    assert json.loads(failed["cause"])["errorMessage"] == "the endpoint is busy, try again"
    # Both attempts ran the function's code in this emulator: its port, not moto's default 5000.
    logs = emulator_session.client("logs")
    group = f"/aws/lambda/{resources.function_name}"
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert sum(m.startswith("START RequestId") for m in messages) >= 2


def test_catch_publishes_an_alert_to_sns_and_the_execution_fails(
    sfn, resources, create_state_machine, emulator_session
):
    machine = create_state_machine(classify_then_alert(resources))
    key = uuid.uuid4().hex

    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"key": key, "confidence": 0.5}))[
        "executionArn"
    ]
    described = wait_for_execution(sfn, arn)

    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("LowConfidence", "confidence below the threshold")
    assert "output" not in described and "stopDate" in described
    events = history(sfn, arn)
    caught = next(e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed")
    assert caught["error"] == "ThresholdConfidenceNotMet"
    published = [
        e for e in events if e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resourceType"] == "sns"
    ]
    assert len(published) == 1
    assert event_types(events)[-2:] == ["FailStateEntered", "ExecutionFailed"]
    assert events[-1]["executionFailedEventDetails"] == {
        "error": "LowConfidence",
        "cause": "confidence below the threshold",
    }
    # The alert reached SNS: its SQS subscriber got the state, error included.
    notification = _receive_notification(emulator_session.client("sqs"), resources.queue_url, key)
    alert = json.loads(notification["Message"])
    assert notification["Subject"] == "Low confidence"
    assert alert["error"]["Error"] == "ThresholdConfidenceNotMet"
    assert json.loads(alert["error"]["Cause"])["errorMessage"] == "confidence 0.5 is below 0.93"


def test_map_fans_out_over_a_list_concurrently(sfn, resources, create_state_machine):
    machine = create_state_machine(
        {
            "Comment": "Double every item with the Lambda, four at a time",
            "StartAt": "EachItem",
            "States": {
                "EachItem": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "MaxConcurrency": 4,
                    "End": True,
                    # A plain function ARN as Resource (the older Lambda integration) goes the same way.
                    "Iterator": {
                        "StartAt": "Double",
                        "States": {"Double": {"Type": "Task", "Resource": resources.function_arn, "End": True}},
                    },
                }
            },
        }
    )
    items = [{"key": f"map-{uuid.uuid4().hex}", "value": i, "sleep": 1} for i in range(4)]

    started = time.monotonic()
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"items": items}))["executionArn"]
    described = wait_for_execution(sfn, arn)
    elapsed = time.monotonic() - started

    assert described["status"] == "SUCCEEDED"
    assert [r["doubled"] for r in json.loads(described["output"])] == [0, 2, 4, 6]  # in input order
    assert elapsed < 3.5, f"four 1 s iterations at MaxConcurrency 4 must overlap (took {elapsed:.1f} s)"
    types = event_types(history(sfn, arn))
    assert types.count("MapIterationStarted") == types.count("MapIterationSucceeded") == 4
    assert types.count("LambdaFunctionSucceeded") == 4
    assert types[-2:] == ["MapStateExited", "ExecutionSucceeded"]


def test_unnamed_executions_get_unique_names(sfn, resources, create_state_machine):
    machine = create_state_machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})

    first = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine)["executionArn"]

    assert first != second
    assert all(uuid.UUID(arn.rsplit(":", 1)[-1]) for arn in (first, second))
    assert {wait_for_execution(sfn, a)["status"] for a in (first, second)} == {"SUCCEEDED"}
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=machine, name="not a valid name?")


def _receive_notification(sqs, queue_url: str, key: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in received.get("Messages", []):
            body = json.loads(message["Body"])
            if key in body["Message"]:
                return body
    raise AssertionError(f"no SNS notification for {key} reached the queue")


def call_and_catch(function: str, error: str) -> dict:
    """A definition whose one Task invokes ``function`` and catches ``error`` into ``$.error``."""
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload.$": "$"},
                "Catch": [{"ErrorEquals": [error], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def test_a_missing_function_fails_the_task_with_lambda_s_api_error(sfn, resources, create_state_machine):
    """The interpreter's Lambda calls skip HTTP; an API error still reaches Catch as ``Lambda.<Code>``."""
    missing = resources.function_arn.rsplit(":", 1)[0] + ":no-such-function"
    machine = create_state_machine(call_and_catch(missing, "Lambda.ResourceNotFoundException"))
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"n": 1}))["executionArn"]
    described = wait_for_execution(sfn, arn)

    assert described["status"] == "SUCCEEDED"
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "Lambda.ResourceNotFoundException"
    assert "no-such-function" in error["Cause"] and "Status Code: 404" in error["Cause"]


def test_a_lambda_reply_over_6_mb_fails_the_task(sfn, create_state_machine, emulator_session):
    """Lambda refuses a response over 6 MB; the interpreter's in-process calls must too (moto's
    HTTP server checks, the backend does not), rather than carry 7 MB from state to state."""
    name = deploy(
        emulator_session, 'def handler(event, context):\n    return "x" * (7 * 1024 * 1024)\n', MemorySize=512
    )
    machine = create_state_machine(call_and_catch(name, "States.ALL"))
    try:
        arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        error = json.loads(wait_for_execution(sfn, arn)["output"])["error"]
    finally:
        emulator_session.client("lambda").delete_function(FunctionName=name)
    assert error["Error"] == "Function.ResponseSizeTooLarge"
    assert "exceeded maximum allowed payload size (6291556 bytes)" in error["Cause"]


def _publish(topic_arn: str | None, **parameters) -> dict:
    """A state machine whose one Task publishes to ``topic_arn``, catching a task's error into the output."""
    return {
        "StartAt": "Publish",
        "States": {
            "Publish": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {**({"TopicArn": topic_arn} if topic_arn else {}), **parameters},
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def test_sns_publish_delivers_the_message_and_its_attributes(sfn, resources, create_state_machine, emulator_session):
    """The interpreter's Publish skips HTTP; subscribers still get SNS's envelope, attributes converted."""
    key = uuid.uuid4().hex
    machine = create_state_machine(
        _publish(
            resources.topic_arn,
            Subject="Attributes",
            **{
                "Message.$": "$",
                "MessageAttributes": {
                    "error": {"DataType": "String", "StringValue.$": "$.error_name"},
                    "attempt": {"DataType": "Number", "StringValue": "2"},
                    "raw": {"DataType": "Binary", "BinaryValue": "bytes"},
                },
            },
        )
    )
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"key": key, "error_name": "Boom"}))[
        "executionArn"
    ]
    described = wait_for_execution(sfn, arn)

    assert described["status"] == "SUCCEEDED"
    assert "MessageId" in json.loads(described["output"])  # the task's result: Publish's answer
    notification = _receive_notification(emulator_session.client("sqs"), resources.queue_url, key)
    assert json.loads(notification["Message"]) == {"key": key, "error_name": "Boom"}  # sent as JSON text
    assert notification["MessageAttributes"] == {
        "error": {"Type": "String", "Value": "Boom"},
        "attempt": {"Type": "Number", "Value": "2"},
        "raw": {"Type": "Binary", "Value": "Ynl0ZXM="},
    }


@pytest.mark.parametrize(
    ("topic", "parameters", "error", "status"),
    [
        ("missing", {"Message": "hi"}, "SNS.NotFoundException", 404),
        (None, {"Message": "hi"}, "SNS.InvalidParameterException", 400),  # AWS's answer (moto's server: a 500)
        (
            "ours",
            {"Message": "hi", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "many"}}},
            "SNS.InvalidParameterException",
            400,
        ),
    ],
    ids=["missing-topic", "no-topic", "bad-attribute"],
)
def test_sns_publish_errors_reach_catch_with_sns_s_names(
    sfn, resources, create_state_machine, topic, parameters, error, status
):
    topic_arn = {"ours": resources.topic_arn, "missing": resources.topic_arn + "-no-such-topic"}.get(topic)
    machine = create_state_machine(_publish(topic_arn, **parameters))
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    described = wait_for_execution(sfn, arn)

    assert described["status"] == "SUCCEEDED"
    caught = json.loads(described["output"])["error"]
    assert caught["Error"] == error
    assert f"Status Code: {status}" in caught["Cause"]
