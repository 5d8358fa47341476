"""The Amazon provider's Lambda operators, sensor and trigger get faithful answers from the emulator."""

from __future__ import annotations

import asyncio
import json

import pytest
from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.providers.amazon.aws.sensors.lambda_function import LambdaFunctionStateSensor
from airflow.providers.amazon.aws.triggers.lambda_function import LambdaCreateFunctionCompleteTrigger

from tests.emulator_lambda.functions import first_event, zip_source

pytestmark = pytest.mark.usefixtures("airflow_aws_connection")

GREETS = """
    def handler(event, context):
        print("greeting", event["name"])
        if event["name"] == "nobody":
            raise LookupError("nobody to greet")
        return {"greeting": f"hello {event['name']}"}
"""


def test_function_is_active_and_updated_for_sensor_and_waiters(deploy_function, lambda_client):
    name = deploy_function(GREETS)

    assert LambdaFunctionStateSensor(task_id="await_function", function_name=name).poke({})
    waiters = LambdaHook().conn
    waiters.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    lambda_client.update_function_code(FunctionName=name, ZipFile=zip_source({"app.py": GREETS}))
    waiters.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    assert (configuration["State"], configuration["LastUpdateStatus"]) == ("Active", "Successful")


def test_create_function_trigger_reports_success(deploy_function, lambda_client):
    name = deploy_function(GREETS)
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    trigger = LambdaCreateFunctionCompleteTrigger(
        function_name=name, function_arn=arn, waiter_delay=1, waiter_max_attempts=3, aws_conn_id="aws_default"
    )

    event = asyncio.run(first_event(trigger))  # through aiobotocore, as the triggerer runs it

    assert event.payload == {"status": "success", "function_arn": arn}


def test_invoke_operator_returns_the_result_and_logs_the_tail(deploy_function, capsys):
    name = deploy_function(GREETS)
    invoke = LambdaInvokeFunctionOperator(
        task_id="invoke_function", function_name=name, log_type="Tail", payload=json.dumps({"name": "scones"})
    )

    result = invoke.execute({})

    assert json.loads(result) == {"greeting": "hello scones"}
    logged = capsys.readouterr().out  # Airflow's structlog writes to stdout
    assert "greeting scones" in logged and "REPORT RequestId" in logged  # the function's log tail


def test_invoke_operator_fails_the_task_when_the_function_fails(deploy_function):
    name = deploy_function(GREETS)
    invoke = LambdaInvokeFunctionOperator(
        task_id="invoke_function", function_name=name, payload=json.dumps({"name": "nobody"})
    )

    with pytest.raises(ValueError, match="Lambda function execution resulted in error") as caught:
        invoke.execute({})
    assert "LookupError" in str(caught.value) and "nobody to greet" in str(caught.value)
