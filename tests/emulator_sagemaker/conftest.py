"""Fixtures for the SageMaker plug-in, against the session's emulator process.

Most tests share one small dataset (60 + 60 training, 20 + 20 validation images from the
shared tarball) and one job trained on it, so the module stays fast; the full-size
measurement is ``benchmarks/accuracy.py``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.emulator_sagemaker.cifar_subset import Split, channels, read_split, write_channel

TEST_IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
TEST_ROLE = "arn:aws:iam::123456789012:role/scones-sagemaker"
TEST_BUCKET = "scones-emulator-sagemaker-tests"
TEST_PREFIX = "datasets/bikes-small"
TRAIN_PER_CLASS = 60
VALIDATION_PER_CLASS = 20


@dataclass(frozen=True)
class SmallDataset:
    bucket: str
    prefix: str
    train: Split
    validation: Split

    def channels(self, names: tuple[str, ...] = ("train", "validation", "train_lst", "validation_lst")) -> list[dict]:
        return channels(self.bucket, self.prefix, names)


def unique(name: str) -> str:
    """A SageMaker-valid name unique to this test run."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def training_request(
    name: str,
    dataset: SmallDataset,
    *,
    image: str = TEST_IMAGE,
    hyperparameters: dict[str, str] | None = None,
    channel_names: tuple[str, ...] = ("train", "validation", "train_lst", "validation_lst"),
) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": TEST_ROLE,
        "InputDataConfig": dataset.channels(channel_names),
        "OutputDataConfig": {"S3OutputPath": f"s3://{dataset.bucket}/models/"},
        "ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "HyperParameters": hyperparameters
        or {
            "num_classes": "2",
            "num_training_samples": str(2 * TRAIN_PER_CLASS),
            "image_shape": "3,32,32",
            "epochs": "5",
            "learning_rate": "0.001",
            "mini_batch_size": "32",
        },
    }


def wait_for(predicate: Callable[[], Any], timeout: float = 120, interval: float = 0.25) -> Any:
    """Poll until ``predicate()`` is truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


def finished_job(sm, name: str, timeout: float = 180) -> dict[str, Any]:
    """DescribeTrainingJob once the job has ended (Completed, Failed or Stopped)."""
    return wait_for(
        lambda: (
            (d := sm.describe_training_job(TrainingJobName=name))["TrainingJobStatus"] not in ("InProgress", "Stopping")
            and d
        ),
        timeout,
    )


@pytest.fixture(scope="session")
def sagemaker_session(emulator):
    return emulator.session()


@pytest.fixture(scope="session")
def sm(sagemaker_session):
    return sagemaker_session.client("sagemaker")


@pytest.fixture(scope="session")
def runtime(sagemaker_session):
    return sagemaker_session.client("sagemaker-runtime")


@pytest.fixture(scope="session")
def s3(sagemaker_session):
    return sagemaker_session.client("s3")


@pytest.fixture(scope="session")
def small_dataset(s3, tmp_path_factory) -> SmallDataset:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.exists():
        pytest.skip(f"shared CIFAR-100 subset not found at {SHARED_DATA}")
    train = read_split(SHARED_DATA, "train").take(TRAIN_PER_CLASS)
    validation = read_split(SHARED_DATA, "test").take(VALIDATION_PER_CLASS)
    s3.create_bucket(Bucket=TEST_BUCKET)
    write_channel(s3, TEST_BUCKET, TEST_PREFIX, "train", train)
    write_channel(s3, TEST_BUCKET, TEST_PREFIX, "validation", validation)
    return SmallDataset(TEST_BUCKET, TEST_PREFIX, train, validation)


@pytest.fixture(scope="session")
def trained_job(sm, small_dataset) -> dict[str, Any]:
    """One job trained on the small dataset, described once Completed."""
    name = unique("bikes-small")
    sm.create_training_job(**training_request(name, small_dataset))
    description = finished_job(sm, name)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    return description


@pytest.fixture(scope="session")
def model_name(sm, trained_job) -> str:
    """A SageMaker model of the trained job's artifact."""
    name = unique("bikes-model")
    sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": TEST_IMAGE, "ModelDataUrl": trained_job["ModelArtifacts"]["S3ModelArtifacts"]},
        ExecutionRoleArn=TEST_ROLE,
    )
    return name


def endpoint_config(
    sm,
    model: str,
    *,
    variant: str = "AllTraffic",
    instance_type: str = "ml.m5.large",
    capture: dict[str, Any] | None = None,
) -> str:
    name = unique("bikes-config")
    request: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": variant,
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
    }
    if capture is not None:
        request["DataCaptureConfig"] = capture
    sm.create_endpoint_config(**request)
    return name


def in_service(sm, endpoint: str) -> dict[str, Any]:
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return sm.describe_endpoint(EndpointName=endpoint)


@pytest.fixture(scope="session")
def endpoint(sm, model_name) -> str:
    """An InService endpoint serving the trained model, no capture."""
    name = unique("bikes")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=endpoint_config(sm, model_name))
    in_service(sm, name)
    return name
