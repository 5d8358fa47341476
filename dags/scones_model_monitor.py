"""
Daily: analyse the endpoint's captured inferences for the day, write confidence statistics, drift, plots and a report to S3, and alert on violations.

### What it does
1. **read_deployment**: what serves (`models/deployments/current.json`): the endpoint, its
   classes, where its data capture goes, and the dataset version the model trained on (named
   in the report). Nothing deployed yet: the run is skipped.
2. **analyze_window**: reads the capture of one UTC day, the one the run's data interval starts
   in (the 01:00 run covers the whole day before, midnight to midnight; its hourly partitions), computes the statistics (volume, class shares, confidence quantiles,
   low-confidence share, hourly figures) and drift (PSI, KS) against the latest earlier day
   (or `baseline_uri`), and writes `report.json`, `statistics.json`, `constraint_violations.json`, the
   plots and `report.html` to `s3://<bucket>/monitoring/<endpoint>/<day>/`. Rerunning a day
   rewrites the same files. The summary is in this task's log.
3. **alert_on_violations**: when a check is violated (a day with fewer than `min_daily_records`
   inferences is one: no traffic, or data capture is off), publishes the summary to the SNS topic
   `<project>-monitor-alerts` (`scones-monitor-alerts` by default; setting `alerts_topic` names
   another) and fails (or only warns, with `fail_on_violation` off).

Backfill a missed day: `airflow backfill create --dag-id scones_model_monitor --from-date 2026-11-20 --to-date 2026-11-21`.
The reports are also on the **Model monitor** page (Browse menu).
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, chain, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from scones.airflow_glue import default_args, task_settings
from scones.settings import load_settings

DAG_ID = Path(__file__).stem
DEFAULTS = load_settings()


@task
def read_deployment(params: dict | None = None) -> dict:
    """The serving endpoint and its classes; skip the run before the first deployment."""
    from airflow.sdk.exceptions import AirflowSkipException

    from scones.airflow_glue import aws_client
    from scones.monitoring.daily import serving_deployment

    settings = task_settings(params)
    deployment = serving_deployment(aws_client("s3", settings), settings)
    if deployment is None:
        raise AirflowSkipException("no model has been deployed yet: nothing to monitor")
    return deployment


@task
def analyze_window(deployment: dict, data_interval_start=None, params: dict | None = None) -> dict:
    """Statistics, drift, plots and report for this run's window, written to S3."""
    from scones.airflow_glue import aws_client
    from scones.monitoring.checks import Thresholds
    from scones.monitoring.daily import monitor_window
    from scones.monitoring.window import Window

    settings = task_settings(params)
    window = Window.of_run(data_interval_start, (params or {}).get("day"))
    summary = monitor_window(
        aws_client("s3", settings),
        bucket=settings.bucket,
        capture_uri=deployment["data_capture_uri"],
        endpoint=deployment["endpoint_name"],
        classes=deployment["classes"],
        window=window,
        thresholds=Thresholds.of(settings),
        baseline_uri=(params or {}).get("baseline_uri") or "",
        lineage={k: deployment.get(k) or "" for k in ("model", "training_job", "dataset_version")},
    )
    print(summary["summary"])
    print(f"report: {summary['report_uri']}")
    return summary


@task
def alert_on_violations(summary: dict, deployment: dict, params: dict | None = None) -> dict:
    """Publish violations to SNS; fail the task on them unless fail_on_violation is off."""
    from scones.airflow_glue import aws_client
    from scones.monitoring.daily import alert_on_violations as alert

    settings = task_settings(params)
    # Airflow fills every declared param: the default lives in the Param below, not here.
    message_id = alert(
        aws_client("sns", settings),
        settings.names.monitor_alerts_topic,
        summary,
        deployment["endpoint_name"],
        fail=params["fail_on_violation"],
    )
    return {"alerted": True, "message_id": message_id} if message_id else {"alerted": False}


@dag(
    dag_id=DAG_ID,
    description=__doc__.strip().splitlines()[0],
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 1 * * *", timezone="UTC"),  # yesterday's window, at 01:00
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,  # backfill a missed day on demand (see the docs above)
    max_active_runs=1,  # a backfilled day's drift baseline is the day before's statistics: in order
    default_args=default_args(DEFAULTS),
    tags=["scones", "monitoring"],
    params={
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Day (UTC)",
            description="Analyse this day instead of the run's data interval",
        ),
        "confidence_threshold": Param(
            DEFAULTS.confidence_threshold, type="number", minimum=0, maximum=1, title="Confidence threshold"
        ),
        "max_low_confidence_rate": Param(
            DEFAULTS.max_low_confidence_rate,
            type="number",
            minimum=0,
            maximum=1,
            title="Alert above this low-confidence share",
        ),
        "min_daily_records": Param(
            DEFAULTS.min_daily_records,
            type="integer",
            minimum=0,
            title="Alert below this many inferences",
            description="A day with fewer captured inferences is a violation (no traffic, or capture off); 0: never",
        ),
        # Nullable: the trigger form turns an empty field into null and requires any param that refuses it.
        "baseline_uri": Param(
            None,
            type=["null", "string"],
            pattern=r"^s3://[^/]+/.+",
            title="Baseline (s3:// URI)",
            description="Validation probabilities or a statistics.json; empty: the latest earlier day",
        ),
        "fail_on_violation": Param(True, type="boolean", title="Fail the run on a violation"),
    },
)
def scones_model_monitor():
    # BODY
    deployment = read_deployment()
    summary = analyze_window(deployment)
    alerted = alert_on_violations(summary, deployment)
    chain(deployment, summary, alerted)


scones_model_monitor()
