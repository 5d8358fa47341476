"""Training jobs train for real: status, metrics, artifact, CloudWatch log, and the failure paths."""

from __future__ import annotations

import asyncio
import io
import json
import re
import tarfile
import time

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.emulator_sagemaker.conftest import (
    TRAIN_PER_CLASS,
    finished_job,
    training_request,
    unique,
)

LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def log_messages(logs, job: str) -> tuple[str, list[str]]:
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job}/")["logStreams"]
    assert len(streams) == 1, streams
    stream = streams[0]["logStreamName"]
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)["events"]
    return stream, [e["message"] for e in events]


def test_a_job_is_in_progress_then_completed(sm, small_dataset) -> None:
    name = unique("bikes-status")
    sm.create_training_job(**training_request(name, small_dataset))
    first = sm.describe_training_job(TrainingJobName=name)
    assert first["TrainingJobStatus"] == "InProgress"  # trains in the background, not at once
    assert first["SecondaryStatus"] in {"Starting", "Downloading", "Training"}
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=name, WaiterConfig={"Delay": 1})
    done = sm.describe_training_job(TrainingJobName=name)
    assert done["TrainingJobStatus"] == "Completed"
    assert [t["Status"] for t in done["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert all(t["StartTime"] <= t["EndTime"] for t in done["SecondaryStatusTransitions"])
    assert done["TrainingStartTime"] <= done["TrainingEndTime"]
    assert done["BillableTimeInSeconds"] >= 1
    assert "FailureReason" not in done


def test_a_job_can_be_stopped(sm, sagemaker_session, small_dataset) -> None:
    name = unique("bikes-stop")
    request = training_request(name, small_dataset)
    request["HyperParameters"]["epochs"] = "500"  # minutes: it is stopped long before
    sm.create_training_job(**request)
    wait = {"Delay": 0.2, "MaxAttempts": 600}
    while sm.describe_training_job(TrainingJobName=name)["SecondaryStatus"] != "Training":
        time.sleep(0.1)
    sm.stop_training_job(TrainingJobName=name)
    assert sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] in ("Stopping", "Stopped")
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=name, WaiterConfig=wait)
    done = sm.describe_training_job(TrainingJobName=name)
    assert done["TrainingJobStatus"] == "Stopped" and "FailureReason" not in done
    assert [t["Status"] for t in done["SecondaryStatusTransitions"]][-3:] == ["Training", "Stopping", "Stopped"]
    _, messages = log_messages(sagemaker_session.client("logs"), name)
    assert "Training stopped on request" in messages[-1]
    assert sum("Train-accuracy" in m for m in messages) < 500
    # Only a job in progress can be stopped; an unknown one is not found.
    with pytest.raises(ClientError, match="in status Stopped") as again:
        sm.stop_training_job(TrainingJobName=name)
    assert again.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError, match="Could not find training job") as unknown:
        sm.stop_training_job(TrainingJobName=unique("no-such-job"))
    assert unknown.value.response["Error"]["Code"] == "ValidationException"


def test_final_metrics_artifact_and_log(sm, s3, sagemaker_session, trained_job) -> None:
    metrics = {m["MetricName"]: m["Value"] for m in trained_job["FinalMetricDataList"]}
    assert set(metrics) == {"train:accuracy", "validation:accuracy"}
    assert metrics["train:accuracy"] >= 0.9  # 120 images, 5 epochs: the model fits them
    assert metrics["validation:accuracy"] >= 0.7  # and generalises well beyond chance

    artifact = trained_job["ModelArtifacts"]["S3ModelArtifacts"]
    assert (
        artifact
        == f"s3://{trained_job['OutputDataConfig']['S3OutputPath'].split('//')[1].rstrip('/')}/{trained_job['TrainingJobName']}/output/model.tar.gz"
    )
    bucket, key = artifact[len("s3://") :].split("/", 1)
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        assert tar.getnames() == ["model.npz"]

    stream, messages = log_messages(sagemaker_session.client("logs"), trained_job["TrainingJobName"])
    assert re.fullmatch(rf"{trained_job['TrainingJobName']}/algo-1-\d{{10}}", stream)
    text = "\n".join(messages)
    assert f"Read {2 * TRAIN_PER_CLASS} training" in text
    assert "Epoch[4] Validation-accuracy=" in text and "Saved the model to " + artifact in text
    # The job's MetricDefinitions find the final metrics in its own log, as SageMaker's do.
    for definition in trained_job["AlgorithmSpecification"]["MetricDefinitions"]:
        values = re.findall(definition["Regex"], text)
        assert float(values[-1]) == pytest.approx(metrics[definition["Name"]], abs=1e-6)


def test_duplicate_job_name_is_refused(sm, trained_job, small_dataset) -> None:
    with pytest.raises(ClientError) as error:
        sm.create_training_job(**training_request(trained_job["TrainingJobName"], small_dataset))
    assert "already exists" in error.value.response["Error"]["Message"]


def test_unsupported_image_fails_with_a_clear_reason(sm, small_dataset) -> None:
    name = unique("xgb")
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    sm.create_training_job(**training_request(name, small_dataset, image=image))
    with pytest.raises(WaiterError):  # the waiter treats Failed as failure, as against AWS
        sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=name, WaiterConfig={"Delay": 1})
    failed = sm.describe_training_job(TrainingJobName=name)
    assert failed["TrainingJobStatus"] == "Failed"
    assert failed["SecondaryStatus"] == "Failed"
    assert failed["FailureReason"].startswith("ClientError: ")
    assert "image-classification" in failed["FailureReason"] and image in failed["FailureReason"]
    assert "FinalMetricDataList" not in failed or not failed["FinalMetricDataList"]


def test_missing_channel_fails_naming_it(sm, small_dataset) -> None:
    name = unique("no-lst")
    sm.create_training_job(
        **training_request(name, small_dataset, channel_names=("train", "validation", "validation_lst"))
    )
    failed = finished_job(sm, name)
    assert failed["TrainingJobStatus"] == "Failed"
    assert "lacks train_lst" in failed["FailureReason"]


@pytest.mark.parametrize(
    ("hyperparameters", "reason"),
    [
        ({"num_training_samples": "120"}, "requires the hyperparameter 'num_classes'"),
        ({"num_classes": "2", "num_training_samples": "120", "epochs": "ten"}, "'epochs' is 'ten'"),
        ({"num_classes": "2", "num_training_samples": "120", "learning_rate": "0"}, "'learning_rate'"),
        ({"num_classes": "2", "num_training_samples": "120", "optimizer": "lbfgs"}, "'optimizer' is 'lbfgs'"),
        ({"num_classes": "1", "num_training_samples": "120"}, "'num_classes' is 1"),
    ],
)
def test_bad_hyperparameters_fail_naming_them(sm, small_dataset, hyperparameters, reason) -> None:
    name = unique("bad-hp")
    sm.create_training_job(**training_request(name, small_dataset, hyperparameters=hyperparameters))
    failed = finished_job(sm, name)
    assert failed["TrainingJobStatus"] == "Failed"
    assert reason in failed["FailureReason"]


def test_manifest_naming_a_missing_image_fails_naming_it(sm, s3, small_dataset) -> None:
    prefix = f"datasets/{unique('broken')}"
    for channel, body in (
        ("train_lst", "0\t0\tbicycle/nowhere.png\n"),
        ("validation_lst", "0\t0\tbicycle/nowhere.png\n"),
    ):
        s3.put_object(Bucket=small_dataset.bucket, Key=f"{prefix}/{channel}/{channel[:-4]}.lst", Body=body)
    request = training_request(unique("broken"), small_dataset)
    for channel in request["InputDataConfig"]:
        source = channel["DataSource"]["S3DataSource"]
        source["S3Uri"] = source["S3Uri"].replace(small_dataset.prefix, prefix)
    sm.create_training_job(**request)
    failed = finished_job(sm, request["TrainingJobName"])
    assert failed["TrainingJobStatus"] == "Failed"
    assert f"s3://{small_dataset.bucket}/{prefix}/train/bicycle/nowhere.png does not exist" in failed["FailureReason"]


# --- the Amazon provider, as the train-and-deploy DAG uses it ---------------------------


@pytest.fixture
def aws_connection(emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Airflow connection ``aws_default`` pointing at the emulator, as ``scones up`` sets it."""
    extra = {"endpoint_url": emulator.endpoint_url, "region_name": "us-east-1"}
    uri = json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra})
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", uri)
    return "aws_default"


def test_provider_hook_prints_the_training_log(aws_connection, trained_job, capfd) -> None:
    from airflow.providers.amazon.aws.hooks.sagemaker import LogState, SageMakerHook

    hook = SageMakerHook(aws_conn_id=aws_connection)
    state, description, positions, streams = LogState.TAILING, None, {}, []
    capfd.readouterr()
    for _ in range(5):  # TAILING -> JOB_COMPLETE -> COMPLETE; last_describe_job_call=0 skips its 30 s pause
        state, description, _ = hook.describe_training_job_with_log(
            trained_job["TrainingJobName"], positions, streams, 1, state, description, 0
        )
        streams = list(positions)
        if state == LogState.COMPLETE:
            break
    printed = "".join(capfd.readouterr())  # Airflow's task logger writes to the console here
    assert state == LogState.COMPLETE
    assert "Epoch[0] Train-accuracy=" in printed and "Saved the model to" in printed
    assert printed.count("Epoch[4] Train-accuracy=") == 1  # positions advance: no line printed twice
    assert "Completed - Training job completed" in printed  # the secondary status transitions


def test_provider_deferrable_trigger_sees_the_outcome(aws_connection, trained_job) -> None:
    """The trigger the deferrable training operator defers to (a waiter run through aiobotocore).

    The pinned provider's operator never calls ``describe_training_job_with_log_async``: its
    ``get_log_events_async`` keeps tailing a finished stream forever, so it is not exercised here.
    """
    from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger

    async def first_event() -> object:
        trigger = SageMakerTrigger(
            job_name=trained_job["TrainingJobName"],
            job_type="Training",
            waiter_delay=1,
            waiter_max_attempts=5,
            aws_conn_id=aws_connection,
        )
        async for event in trigger.run():
            return event
        raise AssertionError("the trigger yielded no event")

    event = asyncio.run(asyncio.wait_for(first_event(), timeout=60))
    assert event.payload["status"] == "success"
    assert event.payload["job_name"] == trained_job["TrainingJobName"]
