"""The monitor's last decision: publish a day's violations, then fail the run (not retried) or only warn."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from scones.errors import NonRetryableError
from scones.monitoring.daily import alert_on_violations
from scones.monitoring.errors import ViolationsFound

TOPIC = "scones-monitor-alerts"
BAD_DAY = {
    "day": "2026-11-22",
    "violations": [{"check": "min_records"}],
    "report_uri": "s3://b/report.json",
    "records": 0,
    "summary": "0 inferences",
}


@pytest.fixture
def sns():
    with mock_aws():
        yield boto3.client("sns", region_name="us-east-1")


@pytest.fixture
def inbox(sns) -> str:
    """An SQS queue subscribed to the alerts topic: what a subscriber would receive."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="monitor-alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=sns.create_topic(Name=TOPIC)["TopicArn"], Protocol="sqs", Endpoint=queue_arn)
    return url


def published(inbox: str) -> list[dict]:
    """The SNS notifications delivered to the inbox (each with its Subject and Message)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_calm_day_publishes_nothing(sns, inbox):
    assert alert_on_violations(sns, TOPIC, {**BAD_DAY, "violations": [], "records": 40}, "scones-endpoint") is None
    assert published(inbox) == []


def test_a_bad_day_is_published_then_fails_the_run_without_retries(sns, inbox):
    with pytest.raises(ViolationsFound, match="2026-11-22: 1 violation.*min_records; see s3://b/report.json") as raised:
        alert_on_violations(sns, TOPIC, BAD_DAY, "scones-endpoint")
    assert isinstance(raised.value, NonRetryableError)
    [alert] = published(inbox)  # the alert goes out before the run fails
    assert "scones-endpoint" in alert["Subject"] and "2026-11-22" in alert["Subject"]
    assert "min_records" in alert["Message"] and "s3://b/report.json" in alert["Message"]


def test_with_fail_off_a_bad_day_only_warns(sns, inbox):
    message_id = alert_on_violations(sns, TOPIC, BAD_DAY, "scones-endpoint", fail=False)
    [alert] = published(inbox)
    assert alert["MessageId"] == message_id and "min_records" in alert["Message"]


def test_the_monitor_reports_on_the_recorded_deployment_where_it_captures():
    from scones.deployment.record import Deployment, write_current
    from scones.monitoring.checks import Thresholds
    from scones.monitoring.daily import serving_deployment
    from scones.settings import load_settings

    settings = load_settings(
        {"bucket": "monitor-test", "confidence_threshold": 0.8, "min_daily_records": 5}, environ={}
    )
    assert Thresholds.of(settings).confidence_threshold == 0.8 and Thresholds.of(settings).min_records == 5
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=settings.bucket)
        assert serving_deployment(s3, settings) is None, "nothing deployed yet: the DAG skips"
        record = Deployment(
            endpoint_name="scones-endpoint",
            training_job="j",
            model_name="m",
            endpoint_config="c",
            model_data_url="s3://b/m",
            validation_accuracy=0.9,
            classes=["bus", "tank"],
            deployed_at="2026-11-22T02:00:00+00:00",
            data_capture_uri="s3://elsewhere/capture",
            dataset_version="v1",
        )
        write_current(s3, settings.bucket, settings.models_prefix, record)
        deployment = serving_deployment(s3, settings)
    assert deployment["data_capture_uri"] == "s3://elsewhere/capture", "as recorded, not the settings' current one"
    assert (deployment["classes"], deployment["dataset_version"]) == (["bus", "tank"], "v1")
