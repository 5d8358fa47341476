"""The monitor's last decision: publish a day's violations, then fail the run (not retried) or only warn."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from scones.errors import NonRetryableError
from scones.monitoring.daily import alert_on_violations
from scones.monitoring.errors import ViolationsFound

TOPIC = "scones-monitor-alerts"
BAD_DAY = {"day": "2026-11-22", "violations": [{"check": "min_records"}], "report_uri": "s3://b/report.json",
           "records": 0, "summary": "0 inferences"}  # fmt: skip


@pytest.fixture
def sns():
    with mock_aws():
        yield boto3.client("sns", region_name="us-east-1")


def published(sns) -> int:
    topics = sns.list_topics()["Topics"]
    return sum(1 for t in topics if t["TopicArn"].endswith(f":{TOPIC}"))


def test_a_calm_day_publishes_nothing(sns):
    assert alert_on_violations(sns, TOPIC, {**BAD_DAY, "violations": [], "records": 40}, "scones-endpoint") is None
    assert published(sns) == 0


def test_a_bad_day_is_published_then_fails_the_run_without_retries(sns):
    with pytest.raises(ViolationsFound, match="2026-11-22: 1 violation.*min_records; see s3://b/report.json") as raised:
        alert_on_violations(sns, TOPIC, BAD_DAY, "scones-endpoint")
    assert isinstance(raised.value, NonRetryableError)
    assert published(sns) == 1, "the alert goes out before the run fails"


def test_with_fail_off_a_bad_day_only_warns(sns):
    assert alert_on_violations(sns, TOPIC, BAD_DAY, "scones-endpoint", fail=False)
