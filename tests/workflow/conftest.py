"""Fixtures for the workflow's unit tests: moto in-process, with the three handlers as the Lambdas.

moto's Step Functions interpreter runs our real definitions; ``LambdaSimpleBackend.invoke`` is
replaced by a plain function that runs the function's handler from ``lambdas/`` with the
function's configured environment, reporting an exception as Lambda does
(``x-amz-function-error`` and ``{"errorType", "errorMessage"}``). moto's sagemaker-runtime
cannot take a binary body, so the classify handler's endpoint call is the one thing faked: it
answers from :data:`ENDPOINT_ANSWERS`, keyed by the image's bytes.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scones.settings import WorkflowSettings, load_settings
from scones.workflow.components import FUNCTIONS
from tests.support.images import solid_png

TEST_REGION = "us-east-1"
TEST_SETTINGS = load_settings({"bucket": "scones-workflow-test"}, environ={})
DATASET = TEST_SETTINGS.dataset_prefix
#: image key -> the endpoint's probabilities for it ([bicycle, motorcycle])
IMAGES: dict[str, list[float]] = {
    f"{DATASET}/validation/bicycle/bicycle_s_000001.png": [0.99, 0.01],
    f"{DATASET}/validation/motorcycle/motorcycle_s_000001.png": [0.03, 0.97],
    f"{DATASET}/validation/bicycle/bicycle_s_000002.png": [0.55, 0.45],
    f"{DATASET}/validation/motorcycle/motorcycle_s_000002.png": [0.2, 0.8],
}
CONFIDENT_KEY, UNSURE_KEY = list(IMAGES)[0], list(IMAGES)[2]


def png(seed: int) -> bytes:
    """A distinct image per seed."""
    return solid_png(32, 32, (seed * 40 % 256, 120, 200))


def run_handlers_as_lambdas(monkeypatch: pytest.MonkeyPatch, answers: dict[bytes, list[float]]) -> list[str]:
    """moto's Lambda runs our handlers; returns the list of invoked function names (a log)."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from lambdas.classify_image import handler as classify

    folders = {TEST_SETTINGS.names.function(folder): folder for folder in FUNCTIONS}
    invoked: list[str] = []

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: dict
    ) -> bytes:
        function = self.get_function(function_name, qualifier)
        invoked.append(function.function_name)
        os.environ.update(function.environment_vars)  # names differ per function: no clash between threads
        handler = importlib.import_module(f"lambdas.{folders[function.function_name]}.handler")
        try:
            return json.dumps(handler.lambda_handler(json.loads(body), None)).encode()
        except Exception as exc:  # what Lambda reports for an unhandled exception
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()

    def endpoint(name: str, image: bytes, content_type: str) -> bytes:
        if name != TEST_SETTINGS.endpoint_name or image not in answers:
            raise classify.EndpointError(f"endpoint {name!r} failed: no answer for this image")
        return json.dumps(answers[image]).encode()

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    monkeypatch.setattr(classify, "invoke_endpoint", endpoint)
    for name in ("ENDPOINT_NAME", "CLASS_NAMES", "CONFIDENCE_THRESHOLD", "MAX_IMAGE_BYTES"):
        monkeypatch.delenv(name, raising=False)  # restored, whatever the handlers set
    return invoked


@contextmanager
def in_process_aws() -> Iterator[Callable[[str], Any]]:
    """moto with Step Functions executing definitions; yields ``client(service)``."""
    from lambdas.classify_image import handler as classify
    from lambdas.serialize_image_data import handler as serialize

    serialize.s3_client.cache_clear()
    classify.runtime_client.cache_clear()
    with mock_aws(config={"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}):
        yield lambda service: boto3.client(service, region_name=TEST_REGION)


@pytest.fixture
def moto_aws() -> Iterator[Callable[[str], Any]]:
    """:func:`in_process_aws` for one test."""
    with in_process_aws() as client:
        yield client


@pytest.fixture
def dataset(moto_aws) -> dict[bytes, list[float]]:
    """The test images in the bucket; returns the endpoint's answers by image bytes."""
    return put_dataset(moto_aws)


def put_dataset(client: Callable[[str], Any]) -> dict[bytes, list[float]]:
    """Puts the test images in the bucket; returns the endpoint's answers by image bytes."""
    s3 = client("s3")
    s3.create_bucket(Bucket=TEST_SETTINGS.bucket)
    answers = {}
    for i, (key, probabilities) in enumerate(IMAGES.items()):
        image = png(i)
        s3.put_object(Bucket=TEST_SETTINGS.bucket, Key=key, Body=image)
        answers[image] = probabilities
    # A dataset in the layout from before versions (read as the version "legacy").
    labels = {
        "classes": ["bicycle", "motorcycle"],
        "counts": {"train": {}, "validation": {"bicycle": 2, "motorcycle": 2}},
    }
    s3.put_object(Bucket=TEST_SETTINGS.bucket, Key=f"{DATASET}/labels.json", Body=json.dumps(labels).encode())
    return answers


@pytest.fixture
def source_dir(tmp_path):
    """A copy of lambdas/ and statemachine/ that a test may edit."""
    import shutil

    from scones.settings import PROJECT_ROOT

    for name in ("lambdas", "statemachine"):
        shutil.copytree(PROJECT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "test_*"))
    return tmp_path


def subscribe_queue(client: Callable[[str], Any], topic_arn: str, name: str = "alerts-test") -> str:
    """An SQS queue subscribed to the topic (how a test reads what SNS delivered)."""
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def received_alerts(client: Callable[[str], Any], queue_url: str) -> list[dict[str, Any]]:
    messages = (
        client("sqs")
        .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        .get("Messages", [])
    )
    return [json.loads(m["Body"]) for m in messages]


TEST_CONFIG = WorkflowSettings(max_concurrency=4)
