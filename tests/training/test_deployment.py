from __future__ import annotations

import io
import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scones.deployment.cleanup import cleanup, stale_versions
from scones.deployment.endpoint_config import deployment_config
from scones.deployment.endpoint_smoke import check_probabilities, model_failed, smoke_test
from scones.deployment.record import Deployment, read_current, write_current
from scones.deployment.sagemaker_role import ensure_sagemaker_role
from scones.deployment.verify import verify_serving
from scones.errors import DatasetNotFound, DeploymentRolledBack, SmokeTestFailed
from scones.settings import load_settings
from scones.training.dataset import describe_dataset

from .test_training_configs import TEST_IMAGE, TEST_ROLE

BUCKET = "scones-test-bucket"


def config_for(job: str) -> dict:
    return deployment_config(
        job_name=job,
        image=TEST_IMAGE,
        model_data_url=f"s3://{BUCKET}/models/{job}/output/model.tar.gz",
        role_arn=TEST_ROLE,
        endpoint_name="scones-endpoint",
        instance_type="ml.m5.large",
        capture_uri=f"s3://{BUCKET}/data_capture",
        sampling_percentage=50,
        kms_key_id="alias/capture",
    )


def test_deployment_config_names_capture_and_links():
    config = config_for("scones-train-20261123T020000")
    model, endpoint_config, endpoint = config["Model"], config["EndpointConfig"], config["Endpoint"]
    assert endpoint_config["ProductionVariants"][0]["ModelName"] == model["ModelName"]
    assert endpoint["EndpointConfigName"] == endpoint_config["EndpointConfigName"] != model["ModelName"]
    assert endpoint["EndpointName"] == "scones-endpoint"
    capture = endpoint_config["DataCaptureConfig"]
    assert capture["EnableCapture"] and capture["InitialSamplingPercentage"] == 50
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    assert capture["DestinationS3Uri"] == f"s3://{BUCKET}/data_capture" and capture["KmsKeyId"] == "alias/capture"
    assert len(endpoint_config["EndpointConfigName"]) <= 63


@mock_aws
def test_deployment_config_is_accepted_by_sagemaker_api():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    config = config_for("scones-train-1")
    sm.create_model(**config["Model"])
    sm.create_endpoint_config(**config["EndpointConfig"])
    sm.create_endpoint(**config["Endpoint"])
    assert sm.describe_endpoint(EndpointName="scones-endpoint")["EndpointConfigName"] == "scones-train-1-config"


@mock_aws
def test_record_round_trip_and_history():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    assert read_current(s3, BUCKET, "models") is None
    first = Deployment(
        "scones-endpoint",
        "job-1",
        "job-1",
        "job-1-config",
        "s3://b/m.tar.gz",
        0.91,
        ["bicycle", "motorcycle"],
        "2026-11-23T02:10:00+00:00",
    )
    second = Deployment(
        **{
            **first.__dict__,
            "training_job": "job-2",
            "validation_accuracy": 0.93,
            "deployed_at": "2026-11-24T02:10:00+00:00",
        }
    )
    write_current(s3, BUCKET, "models", first)
    write_current(s3, BUCKET, "models", second)
    assert read_current(s3, BUCKET, "models") == second
    history = s3.list_objects_v2(Bucket=BUCKET, Prefix="models/deployments/history/")["Contents"]
    assert len(history) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"[0.2, 0.7]", "sum to"), (b"[1.0]", "list of 2"), (b"not json", "not JSON"), (b"[1.5, -0.5]", "outside")],
)
def test_smoke_check_rejects_bad_answers(body, message):
    with pytest.raises(SmokeTestFailed, match=message):
        check_probabilities(body, 2)


def test_smoke_check_accepts_probabilities():
    assert check_probabilities(json.dumps([0.25, 0.75]).encode(), 2) == [0.25, 0.75]


def test_only_a_wrong_answer_or_a_model_error_means_the_model_failed():
    def error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "..."}}, "InvokeEndpoint")

    assert model_failed(SmokeTestFailed("probabilities sum to 0.7"))
    assert model_failed(error("ModelError"))
    for transient in (
        error("ThrottlingException"),
        error("ModelNotReadyException"),
        error("ServiceUnavailable"),
        TimeoutError("read timed out"),
    ):
        assert not model_failed(transient)


class FlakyRuntime:
    """InvokeEndpoint answers a ModelError ``errors`` times, then probabilities."""

    def __init__(self, errors: int) -> None:
        self.errors, self.calls = errors, 0

    def invoke_endpoint(self, **_: object) -> dict:
        self.calls += 1
        if self.calls <= self.errors:
            raise ClientError({"Error": {"Code": "ModelError", "Message": "invocation timed out"}}, "InvokeEndpoint")
        return {"Body": io.BytesIO(b"[0.25, 0.75]")}


def test_a_model_error_gets_a_second_chance_before_the_model_is_failed():
    runtime = FlakyRuntime(errors=1)
    assert smoke_test(runtime, "scones-endpoint", b"png", 2, pause=0) == [0.25, 0.75] and runtime.calls == 2
    with pytest.raises(ClientError, match="invocation timed out"):
        smoke_test(FlakyRuntime(errors=2), "scones-endpoint", b"png", 2, pause=0)


def test_verify_serving_detects_a_rollback():
    ok = {"EndpointName": "e", "EndpointStatus": "InService", "EndpointConfigName": "new"}
    assert verify_serving(ok, "new") is ok
    rolled_back = {**ok, "EndpointConfigName": "old", "FailureReason": "model failed to load"}
    with pytest.raises(DeploymentRolledBack, match="still serves old.*model failed to load.*keeps serving"):
        verify_serving(rolled_back, "new")


def test_stale_versions_keep_newest_and_protected():
    names = ["v6", "v5", "v4", "v3", "v2", "v1"]
    assert stale_versions(names, keep=3, protected={"v2"}) == ["v3", "v1"]
    assert stale_versions(names, keep=0, protected=set()) == names


@mock_aws
def test_cleanup_never_deletes_what_serves():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    for i in range(1, 6):
        config = config_for(f"scones-train-{i}")
        sm.create_model(**config["Model"])
        sm.create_endpoint_config(**config["EndpointConfig"])
        time.sleep(0.01)  # distinct CreationTime
    sm.create_endpoint(EndpointName="scones-endpoint", EndpointConfigName="scones-train-1-config")  # the oldest serves
    deleted = cleanup(sm, "scones-train-", keep=2, endpoint_name="scones-endpoint")
    models = {m["ModelName"] for m in sm.list_models()["Models"]}
    configs = {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]}
    assert models == {"scones-train-5", "scones-train-4", "scones-train-1"}
    assert configs == {"scones-train-5-config", "scones-train-4-config", "scones-train-1-config"}
    assert sorted(deleted["models"]) == ["scones-train-2", "scones-train-3"]


@mock_aws
def test_role_is_created_once_then_reused():
    iam = boto3.client("iam", region_name="us-east-1")
    arn = ensure_sagemaker_role(iam, "scones-sagemaker-execution", BUCKET)
    assert ensure_sagemaker_role(iam, "scones-sagemaker-execution", BUCKET) == arn
    trust = iam.get_role(RoleName="scones-sagemaker-execution")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    policy = iam.get_role_policy(RoleName="scones-sagemaker-execution", PolicyName="scones-sagemaker-execution-bucket")
    resources = policy["PolicyDocument"]["Statement"][0]["Resource"]
    assert resources == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]


@mock_aws
def test_the_role_follows_a_new_bucket():
    iam = boto3.client("iam", region_name="us-east-1")
    ensure_sagemaker_role(iam, "scones-sagemaker-execution", "old-bucket")
    ensure_sagemaker_role(iam, "scones-sagemaker-execution", BUCKET)
    policy = iam.get_role_policy(RoleName="scones-sagemaker-execution", PolicyName="scones-sagemaker-execution-bucket")
    assert policy["PolicyDocument"]["Statement"][0]["Resource"] == [
        f"arn:aws:s3:::{BUCKET}",
        f"arn:aws:s3:::{BUCKET}/*",
    ]


@mock_aws
def test_the_roles_bucket_access_is_in_its_partition():
    iam = boto3.client("iam", region_name="cn-north-1")
    arn = ensure_sagemaker_role(iam, "scones-sagemaker-execution", BUCKET)
    assert arn.startswith("arn:aws-cn:iam::")
    policy = iam.get_role_policy(RoleName="scones-sagemaker-execution", PolicyName="scones-sagemaker-execution-bucket")
    assert policy["PolicyDocument"]["Statement"][0]["Resource"] == [
        f"arn:aws-cn:s3:::{BUCKET}",
        f"arn:aws-cn:s3:::{BUCKET}/*",
    ]


@mock_aws
def test_describe_dataset_checks_classes_and_presence():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    settings = load_settings({"bucket": BUCKET}, environ={})
    with pytest.raises(DatasetNotFound, match="run the scones_cifar_etl DAG"):
        describe_dataset(s3, settings)
    labels = {
        "classes": ["bicycle", "motorcycle"],
        "counts": {"train": {"bicycle": 500, "motorcycle": 500}, "validation": {"bicycle": 100, "motorcycle": 100}},
    }
    s3.put_object(Bucket=BUCKET, Key=f"{settings.dataset_prefix}/labels.json", Body=json.dumps(labels))
    assert describe_dataset(s3, settings)["num_training_samples"] == 1000
    with pytest.raises(Exception, match="refresh_dataset"):
        describe_dataset(s3, load_settings({"bucket": BUCKET, "classes": "bus,tank"}, environ={}))
