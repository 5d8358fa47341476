"""The daily monitor job: one window of one endpoint's capture to a report in S3, and alerts.

What the ``scones_model_monitor`` DAG's tasks call. Idempotent per window: a rerun rewrites the
same keys under ``monitoring/<endpoint>/<day>/``.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from scones.monitoring.checks import Thresholds
from scones.monitoring.drift import Baseline, load_baseline
from scones.monitoring.errors import BaselineError
from scones.monitoring.report import STATISTICS_FILE
from scones.monitoring.sinks import S3Sink, report_prefix
from scones.monitoring.window import Window

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)


def day_of(window: Window) -> str:
    return window.start.date().isoformat()


def earlier_window_baseline(
    s3: S3Client, bucket: str, endpoint: str, window: Window, classes: list[str], look_back_days: int = 7
) -> Baseline | None:
    """The most recent earlier day's ``statistics.json`` within ``look_back_days``, if any."""
    day = window.start.date()
    for back in range(1, look_back_days + 1):
        earlier = (day - timedelta(days=back)).isoformat()
        uri = f"s3://{bucket}/{report_prefix(endpoint, earlier)}{STATISTICS_FILE}"
        try:
            baseline = load_baseline(uri, classes, s3=s3)
        except BaselineError:
            continue
        if baseline.records:
            return baseline
    return None


def monitor_window(
    s3: S3Client,
    *,
    bucket: str,
    capture_uri: str,
    endpoint: str,
    classes: list[str],
    window: Window,
    thresholds: Thresholds,
    baseline_uri: str = "",
    lineage: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Analyse ``window``, write its report to S3 (report.json last), return a summary.

    :param capture_uri: where the endpoint's data capture goes (its DestinationS3Uri):
        ``s3://<bucket>/<prefix>``, above ``<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/``.

    :param baseline_uri: a baseline to measure drift against; empty: the latest earlier day's
        statistics (within a week), or none.
    :param lineage: the serving model, its training job and dataset version, named in the report.
    """
    import dataclasses

    from scones.monitoring.analyze import analyze_capture
    from scones.monitoring.report import build_report, format_summary, write_report  # plots: matplotlib

    baseline = (
        load_baseline(baseline_uri, classes, s3=s3)
        if baseline_uri
        else earlier_window_baseline(s3, bucket, endpoint, window, classes)
    )
    analysis = analyze_capture(
        f"{capture_uri.rstrip('/')}/{endpoint}",
        window,
        classes=classes,
        thresholds=thresholds,
        baseline=baseline,
        s3=s3,
        endpoint=endpoint,
    )
    analysis = dataclasses.replace(analysis, lineage=dict(lineage or {}))
    prefix = report_prefix(endpoint, day_of(window))
    write_report(analysis, S3Sink(s3, bucket, prefix))
    report = build_report(analysis)
    log.info("%s", format_summary(report))
    return {
        "day": day_of(window),
        "report_uri": f"s3://{bucket}/{prefix}report.json",
        "status": report["status"],
        "records": analysis.statistics.records,
        "violations": report["violations"],
        "baseline": baseline.source if baseline else None,
        "dataset_version": (lineage or {}).get("dataset_version", ""),
        "summary": format_summary(report),
    }


def serving_deployment(s3: Any, settings: Any) -> dict[str, Any] | None:
    """What the monitor reports on: the recorded deployment's endpoint, classes, lineage and where
    it captures to (as recorded: settings changed since do not move it); None before the first."""
    from scones.deployment.record import read_current

    deployment = read_current(s3, settings.bucket, settings.models_prefix)
    if deployment is None:
        return None
    return {
        "endpoint_name": deployment.endpoint_name,
        "classes": deployment.classes,
        "model": deployment.model_name,
        "data_capture_uri": deployment.data_capture_uri or settings.data_capture_uri,
        "training_job": deployment.training_job,
        "dataset_version": deployment.dataset_version,
    }


def alert_message(summary: dict[str, Any], endpoint: str) -> tuple[str, str]:
    """SNS subject (<= 100 characters) and body for a window with violations."""
    checks = ", ".join(sorted({v["check"] for v in summary["violations"]}))
    subject = f"[scones] model monitor {endpoint} {summary['day']}: {checks}"[:100]
    body = json.dumps(
        {"endpoint": endpoint, **{k: summary[k] for k in ("day", "report_uri", "records", "violations")}}, indent=2
    )
    return subject, summary["summary"] + "\n\n" + body


def publish_alert(sns: Any, topic_name: str, summary: dict[str, Any], endpoint: str) -> str:
    """Publish to the topic (created if missing: CreateTopic is idempotent); return the message id."""
    topic_arn = sns.create_topic(Name=topic_name)["TopicArn"]
    subject, message = alert_message(summary, endpoint)
    return sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)["MessageId"]


def alert_on_violations(
    sns: Any, topic_name: str, summary: dict[str, Any], endpoint: str, fail: bool = True
) -> str | None:
    """Publish the day's violations (if any) to the topic; then raise, unless ``fail`` is off.

    :return: the message id, or ``None`` when the day has no violation.
    :raises ViolationsFound: there were violations and ``fail`` is on (the run fails, not retried:
        the data will not change; the report is written already).
    """
    from scones.monitoring.errors import ViolationsFound

    if not summary["violations"]:
        log.info("%s: no violation (%s inferences)", summary["day"], summary["records"])
        return None
    message_id = publish_alert(sns, topic_name, summary, endpoint)
    checks = ", ".join(v["check"] for v in summary["violations"])
    log.info("alert %s published to %s: %s", message_id, topic_name, checks)
    if fail:
        raise ViolationsFound(
            f"{summary['day']}: {len(summary['violations'])} violation(s): {checks}; see {summary['report_uri']}"
        )
    return message_id
