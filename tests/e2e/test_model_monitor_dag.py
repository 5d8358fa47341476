"""The daily monitor DAG on the emulator: capture in S3 -> report, plots, an SNS alert, a failed task."""

from __future__ import annotations

import json

import pytest

from scones.deployment.record import Deployment, current_key, write_current
from tests.support.capture_records import capture_line

from .conftest import list_keys

DAY = "2026-11-22"


@pytest.fixture
def deployed(emulator_session_module, settings):
    """A deployment record naming a monitored endpoint; removed afterwards (other tests deploy for real)."""
    s3 = emulator_session_module.client("s3")
    # Captured somewhere else than the settings' data_capture_prefix: the record says where.
    record = Deployment(
        "scones-monitor-e2e",
        "job",
        "model",
        "config",
        "s3://x/model.tar.gz",
        0.9,
        ["bicycle", "motorcycle"],
        f"{DAY}T00:00:00+00:00",
        data_capture_uri=f"s3://{settings.bucket}/capture-before-a-settings-change",
    )
    write_current(s3, settings.bucket, settings.models_prefix, record)
    yield record
    s3.delete_object(Bucket=settings.bucket, Key=current_key(settings.models_prefix))


def test_a_bad_day_is_reported_alerted_and_fails(local_airflow, emulator_session_module, settings, deployed):
    s3, sns, sqs = (emulator_session_module.client(s) for s in ("s3", "sns", "sqs"))
    lines = [
        capture_line([0.6, 0.4] if i % 2 else [0.02, 0.98], f"{DAY}T{9 + i % 4:02d}:{i % 60:02d}:00Z")
        for i in range(240)
    ]
    for hour in range(9, 13):
        body = "".join(line + "\n" for line in lines if f"T{hour:02d}:" in line)
        s3.put_object(
            Bucket=settings.bucket,
            Key=f"capture-before-a-settings-change/{deployed.endpoint_name}/AllTraffic/"
            f"{DAY.replace('-', '/')}/{hour:02d}/capture-{hour}.jsonl",
            Body=body.encode(),
        )
    topic = sns.create_topic(Name=settings.names.monitor_alerts_topic)["TopicArn"]
    queue = sqs.create_queue(QueueName="monitor-alerts-e2e")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

    run = local_airflow.test_dag("scones_model_monitor", conf={"day": DAY})

    assert run.task_states["analyze_window"] == "success"
    assert run.task_states["alert_on_violations"] == "failed", "a violation must show as a failed task"
    assert local_airflow.try_numbers("scones_model_monitor")["alert_on_violations"] == 1, "and not be retried"
    folder = f"monitoring/{deployed.endpoint_name}/{DAY}/"
    keys = list_keys(s3, settings.bucket, folder)
    assert folder + "report.json" in keys and folder + "report.html" in keys and any(k.endswith(".png") for k in keys)
    report = json.loads(s3.get_object(Bucket=settings.bucket, Key=folder + "report.json")["Body"].read())
    assert report["records"] == 240 and report["low_confidence_rate"] == pytest.approx(0.5)
    message = json.loads(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"][0]["Body"])
    assert "low_confidence_rate" in message["Subject"] and DAY in message["Subject"]
    assert "VIOLATIONS" in run.log_path.read_text()

    # With fail_on_violation off the same day is only flagged (and the report rewritten in place).
    again = local_airflow.test_dag("scones_model_monitor", conf={"day": DAY, "fail_on_violation": False})
    assert again.ok, again.task_states
    assert set(list_keys(s3, settings.bucket, folder)) == set(keys)


def test_nothing_deployed_skips_the_run(local_airflow, emulator_session_module, settings):
    s3 = emulator_session_module.client("s3")
    key = current_key(settings.models_prefix)
    # Whatever ran before on this worker may have deployed: set its record aside for this test.
    record = (
        s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read() if list_keys(s3, settings.bucket, key) else None
    )
    if record is not None:
        s3.delete_object(Bucket=settings.bucket, Key=key)
    try:
        run = local_airflow.test_dag("scones_model_monitor", conf={"day": DAY})
    finally:
        if record is not None:
            s3.put_object(Bucket=settings.bucket, Key=key, Body=record)
    assert run.task_states["read_deployment"] == "skipped"
    assert run.task_states["analyze_window"] == "skipped"


def test_a_day_without_captured_inferences_is_alerted(local_airflow, emulator_session_module, settings, deployed):
    quiet_day = "2026-10-04"  # nothing was captured: no traffic, or data capture off
    run = local_airflow.test_dag("scones_model_monitor", conf={"day": quiet_day})
    assert run.task_states["analyze_window"] == "success"
    assert run.task_states["alert_on_violations"] == "failed"
    log = run.log_path.read_text()
    assert "record_count" in log and "0 inferences captured (minimum 1)" in log
    # Where no traffic is expected, the check is off with 0.
    assert local_airflow.test_dag("scones_model_monitor", conf={"day": quiet_day, "min_daily_records": 0}).ok
