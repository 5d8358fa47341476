"""The emulator's rule for every Lambda operation moto serves: computed, bookkeeping or refused at once.

The operations are read from moto's Lambda response class, so a moto upgrade that serves a new
one fails here until ``scones.emulator.awslambda.operations`` classifies it.
"""

from __future__ import annotations

import concurrent.futures
import json

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.awslambda.responses import LambdaResponse
from moto.core.responses import method_names_from_class
from moto.core.utils import camelcase_to_underscores

from scones.emulator.awslambda import operations
from scones.emulator.awslambda.responses import LocalLambdaResponse
from tests.emulator_lambda.functions import payload, zip_source

LAMBDA = botocore.session.get_session().get_service_model("lambda")


def served_by(response_class: type) -> set[str]:
    methods = set(method_names_from_class(response_class))
    return {op for op in LAMBDA.operation_names if camelcase_to_underscores(op) in methods}


def test_every_operation_moto_serves_is_classified_once() -> None:
    served = served_by(LocalLambdaResponse)
    assert served == served_by(LambdaResponse) and len(served) > 40
    tables = [set(operations.COMPUTED), set(operations.REFUSED), set(operations.BOOKKEEPING)]
    assert sum(map(len, tables)) == len(set().union(*tables))  # no operation in two classes
    assert set().union(*tables) == served, (
        f"classify in scones.emulator.awslambda.operations: {sorted(served - set().union(*tables))}; "
        f"stale: {sorted(set().union(*tables) - served)}"
    )


def test_a_refused_operation_is_a_400_naming_why(deploy_function, lambda_client) -> None:
    name = deploy_function("def handler(event, context):\n    return 1\n")
    with pytest.raises(ClientError) as refused:
        lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "PutFunctionEventInvokeConfig" in refused.value.response["Error"]["Message"]


def test_a_function_with_layers_is_refused_rather_than_run_without_them(deploy_function, lambda_client) -> None:
    layer = lambda_client.publish_layer_version(
        LayerName="helpers", Content={"ZipFile": zip_source({"python/h.py": "X = 1\n"})}
    )
    name = deploy_function(
        "import h\ndef handler(event, context):\n    return h.X\n", Layers=[layer["LayerVersionArn"]]
    )
    with pytest.raises(ClientError, match="does not mount layers") as refused:
        lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert refused.value.response["Error"]["Code"] == "InvalidRuntimeException"


def test_reserved_concurrency_throttles(deploy_function, emulator_session) -> None:
    # No client retries: botocore retries a throttle, which would hide it.
    lambda_client = emulator_session.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    name = deploy_function(
        "import time\ndef handler(event, context):\n    time.sleep(event['sleep'])\n    return 'done'\n"
    )
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as throttled:
        lambda_client.invoke(FunctionName=name, Payload=json.dumps({"sleep": 0}))
    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429

    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    lambda_client.invoke(FunctionName=name, Payload=json.dumps({"sleep": 0}))  # warm the one environment

    def invoke(_: int) -> str:
        try:
            return payload(lambda_client.invoke(FunctionName=name, Payload=json.dumps({"sleep": 1.5})))
        except ClientError as exc:
            return exc.response["Error"]["Code"]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(invoke, range(2)))
    assert outcomes == ["TooManyRequestsException", "done"]
    lambda_client.delete_function_concurrency(FunctionName=name)
    assert payload(lambda_client.invoke(FunctionName=name, Payload=json.dumps({"sleep": 0}))) == "done"


def test_an_operation_moto_has_no_route_for_is_a_json_400_and_not_found_stays_404(
    lambda_client, emulator_session
) -> None:
    with pytest.raises(ClientError) as unrouted:
        lambda_client.get_function_recursion_config(FunctionName="anything")
    assert unrouted.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert unrouted.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "/recursion-config" in unrouted.value.response["Error"]["Message"]
    # moto's own 404s are untouched: a missing function, a missing S3 key.
    with pytest.raises(ClientError) as missing:
        lambda_client.get_function(FunctionName="no-such-function")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    s3 = emulator_session.client("s3")
    s3.create_bucket(Bucket="scones-test-unrouted")
    with pytest.raises(ClientError) as no_key:
        s3.get_object(Bucket="scones-test-unrouted", Key="nothing")
    assert no_key.value.response["Error"]["Code"] == "NoSuchKey"


def test_an_sqs_event_source_runs_the_function(deploy_function, emulator_session) -> None:
    import time

    sqs, s3 = emulator_session.client("sqs"), emulator_session.client("s3")
    s3.create_bucket(Bucket="scones-test-esm")
    name = deploy_function(
        "import boto3\n"
        "def handler(event, context):\n"
        "    for record in event['Records']:\n"
        "        boto3.client('s3').put_object(Bucket='scones-test-esm', Key=record['body'], Body=b'seen')\n"
    )
    queue = sqs.create_queue(QueueName=f"esm-{name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    emulator_session.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    sqs.send_message(QueueUrl=queue, MessageBody=f"from-{name}")
    deadline = time.monotonic() + 30
    while s3.list_objects_v2(Bucket="scones-test-esm", Prefix=f"from-{name}")["KeyCount"] == 0:
        assert time.monotonic() < deadline, "the function never ran for the queued message"
        time.sleep(0.2)
