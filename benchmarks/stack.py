"""Stack benchmark: the pipeline's wall time on the native Celery stack next to `scones demo`.

On this machine, with the same training epochs (``--epochs``, default 3) and the shared
CIFAR-100 subset, it runs:

- ``scones demo``: the four DAGs one after another under ``airflow dags test`` (in one warm
  Airflow process, SQLite, the emulator); demo_seconds is its whole wall time, emulator start
  included;
- ``scones up --stack celery`` (PostgreSQL, Redis, api-server, scheduler, dag-processor,
  triggerer, two Celery workers, the emulator): celery_start_seconds until every component is
  up, then the pipeline driven through the REST API as a user would (unpause the DAGs, trigger
  the ETL, whose Asset starts training, then the workflow and the monitor):
  celery_pipeline_seconds from the ETL's trigger to the monitor's end, and each DAG's run time
  (its start to end date, as Airflow recorded it).

Run: ``.venv/bin/python benchmarks/stack.py`` (about five minutes on two cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scones.localrun.celery_stack import start_celery_stack
from scones.localrun.rest import AirflowClient
from scones.localrun.servers import free_port

PIPELINE = ("scones_cifar_etl", "scones_train_deploy", "scones_deploy_workflow", "scones_model_monitor")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_seconds(client: AirflowClient, dag_id: str, run_id: str) -> float:
    run = client.call(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
    start, end = (datetime.fromisoformat(run[k].replace("Z", "+00:00")) for k in ("start_date", "end_date"))
    return (end - start).total_seconds()


def bench_demo(epochs: str) -> float:
    log("scones demo ...")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("scones")), "demo"],
        env={**os.environ, "SCONES_EPOCHS": epochs},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"scones demo failed:\n{proc.stdout[-3000:]}")
    return seconds


def bench_celery(epochs: str) -> tuple[float, float, dict[str, float]]:
    home = Path(tempfile.mkdtemp(prefix="scones-bench-stack-"))
    home.chmod(0o711)  # PostgreSQL runs as 'nobody' when this runs as root
    os.environ.setdefault("_AIRFLOW_WWW_USER_PASSWORD", "benchmark-only-password")
    log("scones up --stack celery ...")
    t0 = time.perf_counter()
    stack = start_celery_stack(home, free_port(), extra_env={"SCONES_EPOCHS": epochs})
    start_seconds = time.perf_counter() - t0
    try:
        client = AirflowClient(stack.url, stack.username, stack.password)
        for dag_id in PIPELINE:
            client.unpause(dag_id)
        per_dag: dict[str, float] = {}
        t0 = time.perf_counter()
        etl = client.trigger("scones_cifar_etl")
        assert client.wait_for_run("scones_cifar_etl", etl) == "success", "the ETL failed"
        per_dag["scones_cifar_etl"] = run_seconds(client, "scones_cifar_etl", etl)
        train = client.wait_for_new_run("scones_train_deploy", set())
        assert client.wait_for_run("scones_train_deploy", train) == "success", "training failed"
        per_dag["scones_train_deploy"] = run_seconds(client, "scones_train_deploy", train)
        workflow = client.trigger("scones_deploy_workflow")
        assert client.wait_for_run("scones_deploy_workflow", workflow) == "success", "the workflow failed"
        per_dag["scones_deploy_workflow"] = run_seconds(client, "scones_deploy_workflow", workflow)
        monitor = client.trigger(
            "scones_model_monitor", {"day": datetime.now(UTC).date().isoformat(), "fail_on_violation": False}
        )
        assert client.wait_for_run("scones_model_monitor", monitor) == "success", "the monitor failed"
        per_dag["scones_model_monitor"] = run_seconds(client, "scones_model_monitor", monitor)
        return start_seconds, time.perf_counter() - t0, per_dag
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", default="3")
    args = parser.parse_args()
    demo = bench_demo(args.epochs)
    start, pipeline, per_dag = bench_celery(args.epochs)
    print(f"epochs: {args.epochs}")
    print(f"demo_seconds: {demo:.1f}")
    print(f"celery_start_seconds: {start:.1f}")
    print(f"celery_pipeline_seconds: {pipeline:.1f}")
    for dag_id, seconds in per_dag.items():
        print(f"  {dag_id}: {seconds:.1f}")
    print(f"celery_start_and_pipeline_seconds: {start + pipeline:.1f}")


if __name__ == "__main__":
    main()
