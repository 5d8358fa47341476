"""The nightly DAG end to end on the emulator: train, gate, deploy, update, and the failure paths."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import assert_ok, list_keys, published_root

DAG = "scones_train_deploy"
FAST = {"epochs": 3}  # the emulator's learner honours epochs; keep end-to-end runs short


@pytest.fixture(scope="module")
def dataset(local_airflow, emulator_session_module, settings):
    """The shared subset published by the ETL DAG (run here if no test did yet): its version's root."""
    s3 = emulator_session_module.client("s3")
    if published_root(s3, settings) is None:
        assert_ok(local_airflow.test_dag("scones_cifar_etl"))
    return published_root(s3, settings)


def endpoint(sm, settings) -> dict:
    return sm.describe_endpoint(EndpointName=settings.endpoint_name)


def serving_config(sm, settings) -> str | None:
    """The endpoint's config, or None when no endpoint exists (a test run on its own)."""
    endpoints = sm.list_endpoints(NameContains=settings.endpoint_name)["Endpoints"]
    return endpoint(sm, settings)["EndpointConfigName"] if endpoints else None


def capture_keys(s3, settings) -> list[str]:
    prefix = f"{settings.data_capture_prefix}/{settings.endpoint_name}/AllTraffic/"
    return [k for k in list_keys(s3, settings.bucket, prefix) if k.endswith(".jsonl")]


def test_first_night_deploys_and_captures_then_second_night_updates(
    local_airflow, dataset, emulator_session_module, settings
):
    sm, s3 = emulator_session_module.client("sagemaker"), emulator_session_module.client("s3")
    first = local_airflow.test_dag(DAG, conf=FAST)
    assert_ok(first)
    log = first.log_path.read_text()
    assert "validation:accuracy" in log or "quality gate" in log
    serving = endpoint(sm, settings)
    assert serving["EndpointStatus"] == "InService"
    record = json.loads(
        s3.get_object(Bucket=settings.bucket, Key=f"{settings.models_prefix}/deployments/current.json")["Body"].read()
    )
    assert record["endpoint_config"] == serving["EndpointConfigName"] and record["validation_accuracy"] >= 0.8
    # Lineage: the record and the training job name the dataset version the model trained on.
    version = dataset.rsplit("/", 1)[-1]
    assert record["dataset_version"] == version and record["dataset_uri"].endswith(dataset)
    job = sm.describe_training_job(TrainingJobName=record["training_job"])
    assert all(
        c["DataSource"]["S3DataSource"]["S3Uri"].startswith(f"s3://{settings.bucket}/{dataset}/")
        for c in job["InputDataConfig"]
    )
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]}
    assert tags["scones:dataset-version"] == version

    # A prediction through the runtime comes back and is captured in SageMaker's format.
    image = s3.get_object(
        Bucket=settings.bucket,
        Key=next(k for k in list_keys(s3, settings.bucket, f"{dataset}/validation/") if k.endswith(".png")),
    )["Body"].read()
    answer = json.loads(
        emulator_session_module.client("sagemaker-runtime")
        .invoke_endpoint(EndpointName=settings.endpoint_name, ContentType="image/png", Body=image)["Body"]
        .read()
    )
    assert len(answer) == 2 and abs(sum(answer) - 1) < 1e-3
    deadline = time.monotonic() + 60
    while not capture_keys(s3, settings) and time.monotonic() < deadline:
        time.sleep(0.2)
    keys = capture_keys(s3, settings)
    assert keys, "data capture wrote nothing"
    line = s3.get_object(Bucket=settings.bucket, Key=keys[0])["Body"].read().decode().splitlines()[0]
    record_line = json.loads(line)
    assert record_line["captureData"]["endpointInput"]["encoding"] == "BASE64"
    assert "inferenceTime" in record_line["eventMetadata"]

    # The next night updates the same endpoint in place with a new config.
    second = local_airflow.test_dag(DAG, conf=FAST)
    assert_ok(second)
    updated = endpoint(sm, settings)
    assert updated["EndpointName"] == serving["EndpointName"]
    assert updated["EndpointConfigName"] != serving["EndpointConfigName"] and updated["EndpointStatus"] == "InService"


def test_missing_the_gate_skips_deployment_and_keeps_the_endpoint(
    local_airflow, dataset, emulator_session_module, settings
):
    sm = emulator_session_module.client("sagemaker")
    before = endpoint(sm, settings)["EndpointConfigName"]
    run = local_airflow.test_dag(DAG, conf={**FAST, "min_validation_accuracy": 1.0})
    states = run.task_states
    assert states["train_model"] == "success" and states["evaluate_model"] == "success"
    for task in (
        "configure_deployment",
        "deploy_endpoint",
        "verify_deployment",
        "smoke_test_endpoint",
        "record_deployment",
    ):
        assert states[task] == "skipped", (task, states)
    assert "SKIP: validation accuracy" in run.log_path.read_text()
    assert endpoint(sm, settings)["EndpointConfigName"] == before


def test_failed_training_fails_the_run_and_keeps_the_endpoint(
    local_airflow, dataset, emulator_session_module, settings
):
    sm, s3 = emulator_session_module.client("sagemaker"), emulator_session_module.client("s3")
    before = serving_config(sm, settings)
    # Break the dataset as a half-deleted bucket would: an image the manifest names is gone.
    lst = s3.get_object(Bucket=settings.bucket, Key=f"{dataset}/train_lst/train.lst")["Body"].read().decode()
    victim = f"{dataset}/train/{lst.splitlines()[0].split(chr(9))[2]}"
    body = s3.get_object(Bucket=settings.bucket, Key=victim)["Body"].read()
    s3.delete_object(Bucket=settings.bucket, Key=victim)
    try:
        run = local_airflow.test_dag(DAG, conf=FAST)
    finally:
        s3.put_object(Bucket=settings.bucket, Key=victim, Body=body)
    assert run.task_states["train_model"] == "failed"
    assert local_airflow.try_numbers(DAG)["train_model"] == 1, "a failed job is not retried"
    assert run.task_states["deploy_endpoint"] != "success"
    log = run.log_path.read_text()
    # The job's FailureReason reaches the task log (non-deferred wording; deferred says "failed because").
    assert "Failed Reason: ClientError" in log and "does not exist" in log
    assert "TrainingJobFailed" in log
    assert serving_config(sm, settings) == before
