"""The provider's Step Functions operators, sensor and deferrable trigger, against the emulator."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from airflow.exceptions import TaskDeferred
from airflow.providers.amazon.aws.operators.step_function import (
    StepFunctionGetExecutionOutputOperator,
    StepFunctionStartExecutionOperator,
)
from airflow.providers.amazon.aws.sensors.step_function import StepFunctionExecutionSensor
from airflow.providers.common.compat.sdk import AirflowException

from tests.emulator_lambda.functions import RecordingTaskInstance, first_event
from tests.emulator_stepfunctions.conftest import wait_for_execution

pytestmark = pytest.mark.usefixtures("airflow_aws_connection")


@pytest.fixture
def classify_machine(create_state_machine, resources) -> str:
    return create_state_machine(
        {
            "Comment": "One Lambda task",
            "StartAt": "Classify",
            "States": {
                "Classify": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": resources.function_arn, "Payload.$": "$"},
                    "OutputPath": "$.Payload",
                    "End": True,
                }
            },
        }
    )


def test_start_sensor_and_get_output_as_in_the_provider_example(sfn, classify_machine):
    context = {"ti": RecordingTaskInstance()}
    start = StepFunctionStartExecutionOperator(
        task_id="start_execution",
        state_machine_arn=classify_machine,
        state_machine_input={"key": "airflow", "value": 4},
    )

    execution_arn = start.execute(context)  # no name given: the emulator names it, as AWS does
    wait_for_execution(sfn, execution_arn)
    sensor = StepFunctionExecutionSensor(task_id="wait_for_execution", execution_arn=execution_arn)
    finished = sensor.poke(context)
    output = StepFunctionGetExecutionOutputOperator(
        task_id="get_execution_output", execution_arn=execution_arn
    ).execute(context)

    assert finished
    assert context["ti"].xcom["output"] == output == {"key": "airflow", "doubled": 8, "attempts": 1}


def test_sensor_fails_the_task_on_a_failed_execution(sfn, classify_machine):
    execution_input = json.dumps({"confidence": 0.2})
    execution_arn = sfn.start_execution(stateMachineArn=classify_machine, input=execution_input)["executionArn"]
    described = wait_for_execution(sfn, execution_arn)

    assert (described["status"], described["error"]) == ("FAILED", "ThresholdConfidenceNotMet")
    with pytest.raises(AirflowException, match="Step Function sensor failed"):
        StepFunctionExecutionSensor(task_id="wait_for_execution", execution_arn=execution_arn).poke({})
    get_output = StepFunctionGetExecutionOutputOperator(task_id="get_execution_output", execution_arn=execution_arn)
    output = get_output.execute({"ti": RecordingTaskInstance()})
    assert output == "ThresholdConfidenceNotMet"  # the operator returns the error when there is no output


@pytest.mark.parametrize(("execution_input", "status"), [({"value": 1}, "success"), ({"confidence": 0.2}, "error")])
def test_deferrable_start_completes_through_the_trigger(classify_machine, execution_input, status):
    start = StepFunctionStartExecutionOperator(
        task_id="start_execution",
        state_machine_arn=classify_machine,
        state_machine_input={"key": uuid.uuid4().hex, **execution_input},
        deferrable=True,
        waiter_delay=1,
        waiter_max_attempts=30,
    )
    context = {"ti": RecordingTaskInstance()}

    with pytest.raises(TaskDeferred) as deferred:
        start.execute(context)
    event = asyncio.run(first_event(deferred.value.trigger))  # aiobotocore's DescribeExecution waiter

    assert event.payload["status"] == status
    if status == "success":
        assert start.execute_complete(context, event.payload) == event.payload["execution_arn"]
    else:
        assert "ThresholdConfidenceNotMet" in event.payload["message"]  # status_queries: status, error, cause
        with pytest.raises(AirflowException, match="Trigger error"):
            start.execute_complete(context, event.payload)
