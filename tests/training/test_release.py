"""The nightly DAG's decisions after training, tested without Airflow: the gate, the deployment
config, smoke-test-or-roll-back, the deployment record."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

import scones.deployment.release as release
import scones.training.dataset
from scones.deployment.endpoint_config import deployment_config_for
from scones.deployment.record import Deployment
from scones.deployment.rollback import Rollback
from scones.errors import DeploymentRolledBack, MissingMetric, SmokeTestFailed
from scones.settings import load_settings
from scones.training.gate import evaluate

SETTINGS = load_settings({"poll_seconds": 1}, environ={})
JOB = {
    "TrainingJobName": "scones-train-20261123T020000-1763870400",
    "FinalMetricDataList": [{"MetricName": "validation:accuracy", "Value": 0.9}],
    "ModelArtifacts": {"S3ModelArtifacts": "s3://b/models/m.tar.gz"},
}
PREPARED = {"image": "image:1", "role_arn": "arn:aws:iam::123456789012:role/r"}
DATASET = {"classes": ["bicycle", "motorcycle"], "dataset_uri": "s3://b/d/versions/v1", "dataset_version": "v1"}
SERVING = {"endpoint_name": "scones-endpoint", "endpoint_config": "scones-train-2-config"}


def serving_model(accuracy: float, classes=("bicycle", "motorcycle")) -> Deployment:
    return Deployment(
        endpoint_name="scones-endpoint",
        training_job="scones-train-1",
        model_name="scones-train-1",
        endpoint_config="scones-train-1-config",
        model_data_url="s3://b/m",
        validation_accuracy=accuracy,
        classes=list(classes),
        deployed_at="2026-11-22T02:00:00+00:00",
    )


@pytest.mark.parametrize(
    ("serving", "deploy"),
    [
        (None, True),
        (serving_model(0.905), True),
        (serving_model(0.95), False),
        (serving_model(0.99, ("bus", "tank")), True),
    ],
    ids=["first model", "within the tolerance", "worse than serving", "serving model of other classes"],
)
def test_the_gate_compares_only_a_comparable_serving_model(serving, deploy):
    decision = evaluate(JOB, serving, SETTINGS)
    assert decision.deploy is deploy and decision.accuracy == 0.9


def test_the_gate_refuses_a_job_without_its_metric():
    with pytest.raises(MissingMetric, match="reported no 'validation:accuracy'"):
        evaluate({**JOB, "FinalMetricDataList": []}, None, SETTINGS)


def test_the_deployment_config_is_named_after_the_jobs_final_name():
    config = deployment_config_for(SETTINGS, JOB, PREPARED)
    assert config["Model"]["ModelName"] == JOB["TrainingJobName"]
    assert config["Endpoint"] == {
        "EndpointName": SETTINGS.endpoint_name,
        "EndpointConfigName": f"{JOB['TrainingJobName'][:56]}-config",
    }
    capture = config["EndpointConfig"]["DataCaptureConfig"]
    assert capture["DestinationS3Uri"] == SETTINGS.data_capture_uri and "KmsKeyId" not in capture


def test_the_record_is_assembled_from_the_runs_results():
    config = deployment_config_for(SETTINGS, JOB, PREPARED)
    at = datetime(2026, 11, 23, 2, 40, tzinfo=UTC)
    record = release.deployment_of_run(
        training={"Training": JOB},
        gate={"accuracy": 0.9},
        serving=SERVING,
        config=config,
        prepared=PREPARED,
        dataset=DATASET,
        settings=SETTINGS,
        deployed_at=at,
    )
    assert record == Deployment(
        endpoint_name="scones-endpoint",
        training_job=JOB["TrainingJobName"],
        model_name=JOB["TrainingJobName"],
        endpoint_config="scones-train-2-config",
        model_data_url="s3://b/models/m.tar.gz",
        validation_accuracy=0.9,
        classes=["bicycle", "motorcycle"],
        deployed_at="2026-11-23T02:40:00+00:00",
        image="image:1",
        dataset_uri="s3://b/d/versions/v1",
        data_capture_uri=SETTINGS.data_capture_uri,
        dataset_version="v1",
    )


class FakeSageMaker:
    def __init__(self, serving_config: str) -> None:
        self.serving_config = serving_config

    def describe_endpoint(self, EndpointName: str) -> dict:
        return {"EndpointName": EndpointName, "EndpointConfigName": self.serving_config, "EndpointStatus": "InService"}


class FakeRuntime:
    def __init__(self, answer: bytes | Exception) -> None:
        self.answer, self.calls = answer, 0

    def invoke_endpoint(self, **_: object) -> dict:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"Body": io.BytesIO(self.answer)}


@pytest.fixture
def rollbacks(monkeypatch) -> list:
    calls: list = []
    previous = serving_model(0.9)

    def roll_back(sagemaker, endpoint, failed_config, recorded, delay):
        calls.append((endpoint, failed_config, recorded))
        return Rollback(True, f"endpoint {endpoint} serves the recorded {recorded.endpoint_config} again")

    monkeypatch.setattr(release, "roll_back", roll_back)
    monkeypatch.setattr(release, "read_current", lambda *_: previous)
    monkeypatch.setattr(scones.training.dataset, "first_validation_image", lambda s3, dataset: ("held-out.png", b"png"))
    return calls


def smoke(runtime: FakeRuntime, serving_config: str = SERVING["endpoint_config"]) -> list[float]:
    return release.smoke_test_or_roll_back(None, FakeSageMaker(serving_config), runtime, SETTINGS, SERVING, DATASET)


def test_a_good_answer_passes_without_rolling_back(rollbacks):
    assert smoke(FakeRuntime(json.dumps([0.25, 0.75]).encode())) == [0.25, 0.75]
    assert rollbacks == []


@pytest.mark.parametrize(
    "answer",
    [
        json.dumps([0.5]).encode(),
        ClientError({"Error": {"Code": "ModelError", "Message": "500 from primary"}}, "InvokeEndpoint"),
    ],
    ids=["wrong answer", "model error"],
)
def test_a_failing_model_is_rolled_back_and_the_run_fails_without_retries(rollbacks, answer):
    with pytest.raises(SmokeTestFailed, match="failed its smoke test.*serves the recorded scones-train-1-config again"):
        smoke(FakeRuntime(answer))
    assert [(endpoint, failed) for endpoint, failed, _ in rollbacks] == [("scones-endpoint", "scones-train-2-config")]


def test_throttling_is_raised_for_the_retries_without_rolling_back(rollbacks):
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "InvokeEndpoint")
    with pytest.raises(ClientError, match="Rate exceeded"):
        smoke(FakeRuntime(throttled))
    assert rollbacks == []


def test_an_endpoint_rolled_back_by_an_earlier_try_is_not_tested_again(rollbacks):
    runtime = FakeRuntime(json.dumps([0.25, 0.75]).encode())
    with pytest.raises(
        DeploymentRolledBack, match="serves scones-train-1-config, not this run's scones-train-2-config"
    ):
        smoke(runtime, serving_config="scones-train-1-config")
    assert runtime.calls == 0 and rollbacks == []


def test_a_rolled_back_deployment_is_never_recorded():
    assembled = []
    with pytest.raises(DeploymentRolledBack):
        release.record_deployment(
            None, FakeSageMaker("scones-train-1-config"), SETTINGS, SERVING, lambda: assembled.append(1)
        )
    assert assembled == []
