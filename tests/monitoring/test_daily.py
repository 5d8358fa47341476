"""The daily job the monitor DAG runs: capture in S3 -> report in S3, earlier-day baseline, SNS alert."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pytest

from scones.monitoring.checks import Thresholds
from scones.monitoring.daily import alert_message, monitor_window, publish_alert
from scones.monitoring.window import Window

from .conftest import CAPTURE_PREFIX, TEST_BUCKET, TEST_ENDPOINT, capture_line, partition_key, put_lines

CLASSES = ["bicycle", "motorcycle"]


def put_day(s3, day: str, confident: int, unsure: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(confident + unsure):
        top = rng.uniform(0.95, 1.0) if i < confident else rng.uniform(0.5, 0.8)
        probs = [top, 1 - top] if i % 2 else [1 - top, top]
        lines.append(capture_line(probs, f"{day}T{10 + i % 3:02d}:{i % 60:02d}:00Z"))
    for hour in (10, 11, 12):
        hour_lines = [line for line in lines if f"T{hour}:" in line]
        put_lines(s3, f"{CAPTURE_PREFIX}/{partition_key(f'{day}T{hour}:00:00Z')}", hour_lines)


def run(s3, day: str, **kw):
    kw.setdefault("thresholds", Thresholds())
    return monitor_window(
        s3,
        bucket=TEST_BUCKET,
        capture_uri=f"s3://{TEST_BUCKET}/{CAPTURE_PREFIX}",
        endpoint=TEST_ENDPOINT,
        classes=CLASSES,
        window=Window.for_day(day),
        **kw,
    )


def test_a_calm_day_writes_its_report_and_no_violation(s3):
    put_day(s3, "2026-11-21", confident=200, unsure=0)
    summary = run(s3, "2026-11-21")
    assert summary["status"] == "ok" and summary["records"] == 200 and summary["violations"] == []
    assert summary["baseline"] is None  # nothing earlier to compare with
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=TEST_BUCKET, Prefix="monitoring/")["Contents"]}
    folder = f"monitoring/{TEST_ENDPOINT}/2026-11-21/"
    assert {folder + n for n in ("report.json", "statistics.json", "constraint_violations.json", "report.html")} <= keys
    assert any(k.endswith(".png") for k in keys)
    report = json.loads(s3.get_object(Bucket=TEST_BUCKET, Key=folder + "report.json")["Body"].read())
    assert report["records"] == 200 and report["low_confidence_rate"] == 0


def test_a_bad_day_is_flagged_and_compared_with_the_day_before(s3):
    put_day(s3, "2026-11-21", confident=200, unsure=0)
    run(s3, "2026-11-21")
    put_day(s3, "2026-11-22", confident=100, unsure=100, seed=1)
    summary = run(s3, "2026-11-22")
    assert summary["status"] != "ok"
    assert "low_confidence_rate" in {v["check"] for v in summary["violations"]}
    assert summary["baseline"].endswith("2026-11-21/statistics.json")
    assert "confidence_drift_psi" in {v["check"] for v in summary["violations"]}


def test_rerunning_a_day_rewrites_the_same_report(s3):
    put_day(s3, "2026-11-21", confident=50, unsure=0)
    first = run(s3, "2026-11-21")
    keys_before = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=TEST_BUCKET, Prefix="monitoring/")["Contents"])
    second = run(s3, "2026-11-21")
    keys_after = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=TEST_BUCKET, Prefix="monitoring/")["Contents"])
    assert keys_before == keys_after and first["records"] == second["records"]


def test_an_empty_day_is_a_report_and_a_violation(s3):
    summary = run(s3, "2026-11-20", thresholds=Thresholds(min_records=1))
    assert summary["records"] == 0 and [v["check"] for v in summary["violations"]] == ["record_count"]
    assert s3.get_object(Bucket=TEST_BUCKET, Key=f"monitoring/{TEST_ENDPOINT}/2026-11-20/report.html")


def test_alert_reaches_subscribers(s3):
    put_day(s3, "2026-11-22", confident=10, unsure=190)
    summary = run(s3, "2026-11-22")
    sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="scones-monitor-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    publish_alert(sns, "scones-monitor-alerts", summary, TEST_ENDPOINT)
    body = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert "low_confidence_rate" in body["Subject"] and "2026-11-22" in body["Subject"]
    assert summary["report_uri"] in body["Message"]


def test_alert_subject_fits_sns_limit():
    summary = {
        "day": "2026-11-22",
        "violations": [{"check": "x" * 200}],
        "report_uri": "s3://b/k",
        "records": 1,
        "summary": "VIOLATIONS",
    }
    subject, _ = alert_message(summary, "scones-endpoint")
    assert len(subject) <= 100


@pytest.mark.parametrize("bad", [f"s3://{TEST_BUCKET}/missing.json"])
def test_an_unreadable_baseline_is_an_error_that_names_it(s3, bad):
    from scones.monitoring.errors import BaselineError

    with pytest.raises(BaselineError, match="missing.json"):
        run(s3, "2026-11-21", baseline_uri=bad)


def test_the_report_names_the_dataset_version_the_serving_model_trained_on(s3):
    put_day(s3, "2026-11-22", confident=20, unsure=0)
    lineage = {
        "model": "scones-train-20261122T020000-model",
        "training_job": "scones-train-20261122T020000",
        "dataset_version": "20261121T230000.000000Z-0123abcd",
    }
    summary = run(s3, "2026-11-22", lineage=lineage)
    folder = f"monitoring/{TEST_ENDPOINT}/2026-11-22/"
    report = json.loads(s3.get_object(Bucket=TEST_BUCKET, Key=folder + "report.json")["Body"].read())
    assert report["model"] == lineage and summary["dataset_version"] == lineage["dataset_version"]
    page = s3.get_object(Bucket=TEST_BUCKET, Key=folder + "report.html")["Body"].read().decode()
    assert "trained on dataset version 20261121T230000.000000Z-0123abcd" in page
