from __future__ import annotations

import re

import boto3
import pytest
from moto import mock_aws

from scones.names import ResourceNames
from scones.training.gate import MissingMetric, decide, final_metric
from scones.training.job_config import CHANNELS, hyperparameters, image_uri, training_config

TEST_ROLE = "arn:aws:iam::123456789012:role/scones-sagemaker-execution"
TEST_IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's name pattern


def test_job_names_are_valid_and_unique_per_stamp():
    names = ResourceNames("scones")
    a, b = names.training_job("20261123T020000"), names.training_job("20261124T020000")
    assert a == "scones-train-20261123T020000" and a != b
    assert NAME_RE.match(ResourceNames("x" * 80).training_job("2026-11-23T02:00:00+00:00"))


def test_hyperparameters_are_strings_sagemaker_accepts():
    hp = hyperparameters(num_classes=2, num_training_samples=1000, epochs=30, learning_rate=0.001, mini_batch_size=32)
    assert all(isinstance(v, str) for v in hp.values())
    assert hp["num_classes"] == "2" and hp["num_training_samples"] == "1000" and hp["image_shape"] == "3,32,32"
    with pytest.raises(ValueError):
        hyperparameters(num_classes=1, num_training_samples=10, epochs=1, learning_rate=0.1, mini_batch_size=1)


def test_image_uri_is_the_regional_algorithm_image():
    assert image_uri("us-east-1") == TEST_IMAGE
    assert image_uri("eu-west-1").startswith("685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification")


@mock_aws
def test_training_config_is_a_valid_create_training_job_request():
    config = training_config(
        job_name="scones-train-1",
        image=TEST_IMAGE,
        role_arn=TEST_ROLE,
        dataset_uri="s3://bucket/datasets/vehicles/",
        output_uri="s3://bucket/models/training",
        instance_type="ml.p3.2xlarge",
        hyperparameters=hyperparameters(
            num_classes=2, num_training_samples=1000, epochs=1, learning_rate=0.01, mini_batch_size=32
        ),
    )
    sm = boto3.client("sagemaker", region_name="us-east-1")
    sm.create_training_job(**config)  # botocore validates the request's shape
    described = sm.describe_training_job(TrainingJobName="scones-train-1")
    uris = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in described["InputDataConfig"]}
    assert uris == {name: f"s3://bucket/datasets/vehicles/{name}/" for name in CHANNELS}
    assert {c["ContentType"] for c in described["InputDataConfig"]} == {"application/x-image"}
    assert described["ResourceConfig"]["InstanceType"] == "ml.p3.2xlarge"


def describe(*metrics: tuple[str, float]) -> dict:
    return {"TrainingJobName": "j", "FinalMetricDataList": [{"MetricName": n, "Value": v} for n, v in metrics]}


def test_final_metric_reads_validation_accuracy():
    assert final_metric(describe(("train:accuracy", 0.99), ("validation:accuracy", 0.91))) == 0.91
    with pytest.raises(MissingMetric, match="validation:accuracy"):
        final_metric(describe(("train:accuracy", 0.99)))


@pytest.mark.parametrize(
    ("accuracy", "serving", "deploy", "why"),
    [
        (0.90, None, True, "no comparable model serving"),
        (0.79, None, False, "below the minimum"),
        (0.90, 0.905, True, "passes"),  # within tolerance 0.01
        (0.88, 0.90, False, "worse than the serving model"),
        (0.95, 0.90, True, "passes"),
    ],
)
def test_gate(accuracy, serving, deploy, why):
    decision = decide(accuracy, minimum=0.80, serving_accuracy=serving, tolerance=0.01)
    assert decision.deploy is deploy and why in decision.reason


def test_a_serving_model_over_other_classes_is_not_compared():
    """After refresh_dataset with a new class list, its accuracy was on another task."""
    from types import SimpleNamespace

    from scones.training.gate import comparable_accuracy

    serving = SimpleNamespace(classes=["bicycle", "motorcycle"], validation_accuracy=0.95)
    assert comparable_accuracy(serving, ["bicycle", "motorcycle"]) == 0.95
    assert comparable_accuracy(serving, ["bicycle", "motorcycle", "bus"]) is None
    assert comparable_accuracy(None, ["bicycle"]) is None


SAGEMAKER_TAG_VALUE = re.compile(
    r"^[\w\s.:/=+\-@]{0,256}\Z"
)  # ~ [\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256} for these ASCII cases


@pytest.mark.parametrize("prefix", ["datasets/cifar~v2", "datasets/(old)!", "datasets/" + "x" * 260])
def test_a_dataset_uri_sagemaker_would_refuse_as_a_tag_is_not_tagged(prefix: str):
    """Real CreateTrainingJob refuses such a tag value (the emulator does not check): tag the version only."""
    uri = f"s3://bucket/{prefix}/versions/20261129T172000.123456Z-1a2b3c4d"
    config = training_config(
        job_name="j",
        image="i",
        role_arn="r",
        dataset_uri=uri,
        output_uri="s3://o",
        instance_type="ml.m5.large",
        hyperparameters={},
        dataset_version="20261129T172000.123456Z-1a2b3c4d",
    )
    assert all(SAGEMAKER_TAG_VALUE.match(tag["Value"]) for tag in config["Tags"]), config["Tags"]
    assert config["Tags"] == [{"Key": "scones:dataset-version", "Value": "20261129T172000.123456Z-1a2b3c4d"}]
    assert config["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == f"{uri}/train/", "still traceable"


def test_an_ordinary_dataset_uri_is_tagged_and_unicode_letters_are_allowed():
    for uri in ("s3://bucket/datasets/cifar100-vehicles/versions/v", "s3://bucket/données/véhicules"):
        config = training_config(
            job_name="j",
            image="i",
            role_arn="r",
            dataset_uri=uri,
            output_uri="s3://o",
            instance_type="ml.m5.large",
            hyperparameters={},
        )
        assert config["Tags"] == [{"Key": "scones:dataset-uri", "Value": uri}]
