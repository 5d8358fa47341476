"""Fixtures for Step Functions executions on the session's emulator: a Lambda, a topic, a queue."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import wait_for_execution  # noqa: F401 - the tests import it from here
from tests.emulator_lambda.functions import deploy

#: The function the state machines call. Module state counts attempts per key (the worker
#: stays warm between a failure and its retry, as Lambda's environment does).
CLASSIFIER = """
    import time

    class ThresholdConfidenceNotMet(Exception):
        pass

    class EndpointBusy(Exception):
        pass

    ATTEMPTS = {}

    def handler(event, context):
        key = event.get("key", "")
        ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
        if event.get("busy_once") and ATTEMPTS[key] == 1:
            raise EndpointBusy("the endpoint is busy, try again")
        if event.get("confidence", 1.0) < 0.93:
            raise ThresholdConfidenceNotMet(f"confidence {event['confidence']} is below 0.93")
        time.sleep(event.get("sleep", 0))
        return {"key": key, "doubled": event.get("value", 0) * 2, "attempts": ATTEMPTS[key]}
"""


@dataclass(frozen=True)
class Resources:
    function_arn: str
    function_name: str
    topic_arn: str
    queue_url: str
    role_arn: str


@pytest.fixture(scope="session")
def resources(emulator) -> Resources:
    session = emulator.session()
    name = deploy(session, CLASSIFIER, Timeout=10)
    function_arn = session.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    sns, sqs = session.client("sns"), session.client("sqs")
    topic_arn = sns.create_topic(Name="scones-test-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="scones-test-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    role_arn = session.client("iam").create_role(
        RoleName="scones-test-states",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    return Resources(function_arn, name, topic_arn, queue_url, role_arn)


@pytest.fixture
def sfn(emulator_session):
    return emulator_session.client("stepfunctions")


@pytest.fixture
def create_state_machine(sfn, resources):
    """``create_state_machine(definition) -> ARN``, deleted afterwards."""
    arns: list[str] = []

    def _create(definition: dict[str, Any]) -> str:
        arns.append(
            sfn.create_state_machine(
                name=f"test-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=resources.role_arn
            )["stateMachineArn"]
        )
        return arns[-1]

    yield _create
    for arn in arns:
        sfn.delete_state_machine(stateMachineArn=arn)


def history(sfn, execution_arn: str) -> list[dict[str, Any]]:
    return sfn.get_execution_history(executionArn=execution_arn)["events"]


def event_types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]
