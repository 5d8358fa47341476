"""``scones demo``: the whole pipeline on the local emulator, one DAG after another.

Starts the emulator, creates the bucket, runs each DAG of :data:`PIPELINE` that exists with
``airflow dags test`` (all in one warm Airflow process) in a throwaway AIRFLOW_HOME on SQLite,
prints what each produced, and returns non-zero if any task failed. The AIRFLOW_HOME (logs included) is kept on failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scones.emulator.process import EmulatorProcess
from scones.localrun.airflow_home import DAGS_FOLDER, LOCAL_POLLING, PROJECT_ROOT, DagRun, LocalAirflow
from scones.settings import Settings, load_settings

SHARED_SUBSET = PROJECT_ROOT.parent / "shared" / "data" / "cifar-100-python-bikes.tar.gz"
#: The demo shows the pipeline, not the best model: 5 epochs pass the quality gate on the
#: emulator in a fraction of the default 30's time (SCONES_EPOCHS in the environment wins).
DEMO_EPOCHS = "5"


@dataclass(frozen=True)
class Step:
    dag_id: str
    summarize: Callable[[Any, Settings], list[str]]  # (boto3 session, settings) -> lines
    conf: Callable[[], dict[str, Any]] = dict  # the run's conf, made when it starts


def _summarize_etl(session: Any, settings: Settings) -> list[str]:
    from scones.datasets import resolve_dataset
    from scones.layout import DatasetLayout

    pinned = resolve_dataset(session.client("s3"), DatasetLayout.of(settings))
    labels = pinned.labels
    lines = [f"dataset {pinned.uri} (version {pinned.version}) classes {labels['classes']}"]
    lines += [f"  {channel}: {sum(c.values())} images {c}" for channel, c in labels["counts"].items()]
    return lines


def _summarize_train_deploy(session: Any, settings: Settings) -> list[str]:
    from scones.deployment.record import read_current

    record = read_current(session.client("s3"), settings.bucket, settings.models_prefix)
    if record is None:
        return ["no deployment recorded (the quality gate skipped it?)"]
    endpoint = session.client("sagemaker").describe_endpoint(EndpointName=record.endpoint_name)
    return [
        f"endpoint {record.endpoint_name}: {endpoint['EndpointStatus']} on {endpoint['EndpointConfigName']}",
        f"  model {record.model_name} from {record.training_job}, validation accuracy {record.validation_accuracy:.4f}",
        f"  data capture to {record.data_capture_uri}",
    ]


def _summarize_workflow(session: Any, settings: Settings) -> list[str]:
    machines = session.client("stepfunctions").list_state_machines()["stateMachines"]
    functions = session.client("lambda").list_functions()["Functions"]
    return [
        f"state machines: {', '.join(m['name'] for m in machines)}",
        f"  Lambda functions: {', '.join(f['FunctionName'] for f in functions)}",
        "  smoke executions passed (success, threshold failure, batch); send more with `scones traffic`",
    ]


def _summarize_monitor(session: Any, settings: Settings) -> list[str]:
    from scones.monitoring.sinks import list_report_days, read_report

    s3 = session.client("s3")
    days = list_report_days(s3, settings.bucket, settings.endpoint_name)
    if not days:
        return ["no report written"]
    report = read_report(s3, settings.bucket, settings.endpoint_name, days[0]) or {}
    checks = ", ".join(v["check"] for v in report.get("violations", [])) or "none"
    return [
        f"report s3://{settings.bucket}/monitoring/{settings.endpoint_name}/{days[0]}/report.html",
        f"  {report.get('records')} inferences, low-confidence share {report.get('low_confidence_rate')}, violations: {checks}",
    ]


def _today() -> dict[str, Any]:
    # The demo's traffic is today's; a scheduled run analyses the day before.
    return {"day": datetime.now(UTC).date().isoformat(), "fail_on_violation": False}


#: The pipeline, in order. A DAG whose file is not in dags/ yet is skipped.
PIPELINE: list[Step] = [
    Step("scones_cifar_etl", _summarize_etl),
    Step("scones_train_deploy", _summarize_train_deploy),
    Step("scones_deploy_workflow", _summarize_workflow),
    Step("scones_model_monitor", _summarize_monitor, _today),
]


def default_source() -> str | None:
    """Offline machines have the shared subset beside the repo; prefer it when present."""
    return str(SHARED_SUBSET) if SHARED_SUBSET.exists() else None


def run_demo(keep: bool = False, source: str | None = None, only: list[str] | None = None) -> int:
    settings = load_settings({"source_url": source or default_source()})
    steps = [s for s in PIPELINE if (DAGS_FOLDER / f"{s.dag_id}.py").exists() and (not only or s.dag_id in only)]
    home = Path(tempfile.mkdtemp(prefix="scones-demo-"))
    print(f"scones demo: AIRFLOW_HOME={home}\n  source: {settings.source_url}", flush=True)
    failed: list[DagRun] = []
    with EmulatorProcess() as emu:
        print(f"  local AWS: {emu.endpoint_url}", flush=True)
        session = emu.session(settings.region)
        session.client("s3").create_bucket(Bucket=settings.bucket)
        with LocalAirflow(
            home,
            emu.endpoint_url,
            {
                "SCONES_SOURCE_URL": settings.source_url,
                **LOCAL_POLLING,
                "SCONES_EPOCHS": os.environ.get("SCONES_EPOCHS", DEMO_EPOCHS),
            },
        ) as airflow:
            airflow.migrate()
            for step in steps:
                print(f"\n== {step.dag_id}", flush=True)
                run = airflow.test_dag(step.dag_id, conf=step.conf() or None)
                states = ", ".join(f"{t}={s}" for t, s in run.task_states.items())
                print(f"  {'OK' if run.ok else 'FAILED'} in {run.seconds:.0f}s: {states or 'no task ran'}")
                print(f"  log: {run.log_path}")
                if not run.ok:
                    failed.append(run)
                    break  # later DAGs consume this one's output
                for line in step.summarize(session, settings):
                    print(f"  {line}")
    if failed:
        print(f"\nscones demo: {failed[0].dag_id} failed; AIRFLOW_HOME kept at {home}")
        return 1
    if not keep:
        shutil.rmtree(home, ignore_errors=True)
    print(f"\nscones demo: {len(steps)} DAG(s) succeeded")
    return 0
