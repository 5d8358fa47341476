"""Everything the pipeline creates is back after a kill -9 and after a clean stop, and it works.

One module-scoped emulator holds what the pipeline makes (a dataset in S3, IAM roles, a
trained model, an endpoint capturing data, a Lambda, a state machine with an execution, SNS
to SQS, CloudWatch logs); each test crashes or stops it, starts it on the same folder, and
checks all of it: the endpoint answers with the same predictions, the function runs, the
machine executes. A training job running at the crash comes back Failed, saying why.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.emulator_lambda.functions import deploy, lambda_role, payload
from tests.emulator_persistence.conftest import Restartable
from tests.emulator_sagemaker.cifar_subset import png, read_split, write_channel
from tests.emulator_sagemaker.conftest import (
    TEST_IMAGE,
    TEST_ROLE,
    SmallDataset,
    endpoint_config,
    finished_job,
    in_service,
    training_request,
)

BUCKET = "scones-persistence-tests"
FUNCTION = """
def handler(event, context):
    print("classifying", event)
    return {"label": "bicycle" if event.get("x", 0) < 1 else "motorcycle", "x": event.get("x")}
"""


@dataclass
class Created:
    dataset: SmallDataset
    objects: dict[str, bytes]
    training_job: str
    artifact: str
    running_job: str
    endpoint: str
    image: bytes
    prediction: list[float]
    capture_prefix: str
    function: str
    machine_arn: str
    execution_arn: str
    topic_arn: str
    queue_url: str
    extra: dict[str, Any] = field(default_factory=dict)


def _tiny_dataset(s3) -> SmallDataset:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.exists():
        pytest.skip(f"shared CIFAR-100 subset not found at {SHARED_DATA}")
    train, validation = read_split(SHARED_DATA, "train").take(10), read_split(SHARED_DATA, "test").take(5)
    s3.create_bucket(Bucket=BUCKET)
    write_channel(s3, BUCKET, "datasets/tiny", "train", train)
    write_channel(s3, BUCKET, "datasets/tiny", "validation", validation)
    return SmallDataset(BUCKET, "datasets/tiny", train, validation)


def _hyperparameters(epochs: int) -> dict[str, str]:
    return {
        "num_classes": "2",
        "num_training_samples": "20",
        "image_shape": "3,32,32",
        "epochs": str(epochs),
        "learning_rate": "0.001",
        "mini_batch_size": "10",
    }


def _objects(s3, prefix: str) -> dict[str, bytes]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def _create_everything(world: Restartable) -> Created:
    session = world.session()
    s3, sm, runtime = session.client("s3"), session.client("sagemaker"), session.client("sagemaker-runtime")
    dataset = _tiny_dataset(s3)

    job = f"tiny-{uuid.uuid4().hex[:8]}"
    sm.create_training_job(**training_request(job, dataset, hyperparameters=_hyperparameters(2)))
    described = finished_job(sm, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    artifact = described["ModelArtifacts"]["S3ModelArtifacts"]
    model = f"tiny-model-{uuid.uuid4().hex[:8]}"
    sm.create_model(
        ModelName=model, PrimaryContainer={"Image": TEST_IMAGE, "ModelDataUrl": artifact}, ExecutionRoleArn=TEST_ROLE
    )
    capture_prefix = "capture"
    config = endpoint_config(
        sm,
        model,
        capture={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{BUCKET}/{capture_prefix}",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    endpoint = f"tiny-{uuid.uuid4().hex[:8]}"
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    in_service(sm, endpoint)
    image = png(dataset.validation.images[0])
    prediction = json.loads(
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=image)["Body"].read()
    )

    function = deploy(session, FUNCTION)
    assert payload(session.client("lambda").invoke(FunctionName=function, Payload=b'{"x": 0}'))["label"] == "bicycle"
    sfn = session.client("stepfunctions")
    function_arn = session.client("lambda").get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    machine_arn = sfn.create_state_machine(
        name=f"classify-{uuid.uuid4().hex[:8]}",
        roleArn=lambda_role(session),
        definition=json.dumps(
            {"StartAt": "Classify", "States": {"Classify": {"Type": "Task", "Resource": function_arn, "End": True}}}
        ),
    )["stateMachineArn"]
    execution_arn = sfn.start_execution(stateMachineArn=machine_arn, input='{"x": 2}')["executionArn"]
    _wait(lambda: sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING")

    sns, sqs = session.client("sns"), session.client("sqs")
    topic_arn = sns.create_topic(Name="scones-persistence-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="scones-persistence-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic_arn, Message="endpoint drifted")

    # Last, so that it is still running at the crash: a job the restart must not pretend finished.
    # 100,000 epochs: 500 (1,000 steps of 10 images) ended before the crash on a quiet machine.
    running = f"running-{uuid.uuid4().hex[:8]}"
    sm.create_training_job(**training_request(running, dataset, hyperparameters=_hyperparameters(100_000)))
    return Created(
        dataset,
        _objects(s3, "datasets/"),
        job,
        artifact,
        running,
        endpoint,
        image,
        prediction,
        capture_prefix,
        function,
        machine_arn,
        execution_arn,
        topic_arn,
        queue_url,
    )


def _wait(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Restartable, Created]]:
    restartable = Restartable(tmp_path_factory.mktemp("aws-state"))
    try:
        yield restartable, _create_everything(restartable)
    finally:
        restartable.stop()


def _assert_all_back(world: Restartable, created: Created) -> None:
    session = world.session()
    s3, sm, runtime = session.client("s3"), session.client("sagemaker"), session.client("sagemaker-runtime")
    assert _objects(s3, "datasets/") == created.objects  # every object, byte for byte
    assert session.client("iam").get_role(RoleName="scones-test-lambda")["Role"]["Arn"]

    job = sm.describe_training_job(TrainingJobName=created.training_job)
    assert job["TrainingJobStatus"] == "Completed"
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == created.artifact
    logs = session.client("logs")
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=created.training_job
    )["logStreams"]
    events = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=streams[0]["logStreamName"])
    assert events["events"], "the training job's log is gone"

    running = sm.describe_training_job(TrainingJobName=created.running_job)
    assert running["TrainingJobStatus"] == "Failed"
    assert "emulator restarted" in running["FailureReason"]

    endpoint = sm.describe_endpoint(EndpointName=created.endpoint)
    assert endpoint["EndpointStatus"] == "InService"
    answer = runtime.invoke_endpoint(EndpointName=created.endpoint, ContentType="image/png", Body=created.image)
    assert json.loads(answer["Body"].read()) == created.prediction
    flushed = requests.post(f"{world.emulator.endpoint_url}/moto-api/sagemaker/capture/flush", timeout=30).json()
    assert flushed, "the relaunched endpoint captures nothing"
    captured = s3.list_objects_v2(Bucket=BUCKET, Prefix=created.capture_prefix).get("Contents", [])
    assert captured, "no data capture after the restart"

    lam = session.client("lambda")
    assert payload(lam.invoke(FunctionName=created.function, Payload=b'{"x": 3}')) == {"label": "motorcycle", "x": 3}
    sfn = session.client("stepfunctions")
    old = sfn.describe_execution(executionArn=created.execution_arn)
    assert old["status"] == "SUCCEEDED" and json.loads(old["output"]) == {"label": "motorcycle", "x": 2}
    assert sfn.get_execution_history(executionArn=created.execution_arn)["events"]
    new = sfn.start_execution(stateMachineArn=created.machine_arn, input='{"x": 0}')["executionArn"]
    _wait(lambda: sfn.describe_execution(executionArn=new)["status"] != "RUNNING")
    assert json.loads(sfn.describe_execution(executionArn=new)["output"]) == {"label": "bicycle", "x": 0}

    sns, sqs = session.client("sns"), session.client("sqs")
    assert [s["TopicArn"] for s in sns.list_subscriptions()["Subscriptions"]] == [created.topic_arn]
    messages = sqs.receive_message(QueueUrl=created.queue_url, VisibilityTimeout=0, WaitTimeSeconds=1).get(
        "Messages", []
    )
    assert [json.loads(m["Body"])["Message"] for m in messages] == ["endpoint drifted"]
    groups = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]]
    assert f"/aws/lambda/{created.function}" in groups


def test_everything_back_and_working_after_kill_9(world: tuple[Restartable, Created]) -> None:
    restartable, created = world
    restartable.crash()
    _assert_all_back(restartable, created)


def test_everything_back_and_working_after_a_clean_stop(world: tuple[Restartable, Created]) -> None:
    restartable, created = world
    restartable.restart()
    _assert_all_back(restartable, created)
