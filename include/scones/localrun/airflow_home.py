"""A throwaway Airflow installation on SQLite that talks to a given AWS endpoint.

Used by ``scones demo`` and the end-to-end tests: the same DAG files, with only
configuration pointing at the local emulator (connection ``aws_default`` with its
``endpoint_url``, and ``AWS_ENDPOINT_URL`` for plain boto3 clients and Lambda code).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scones.emulator.process import LOCAL_CREDENTIALS

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DAGS_FOLDER = PROJECT_ROOT / "dags"
PLUGINS_FOLDER = PROJECT_ROOT / "plugins"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
#: The emulator answers in milliseconds: poll it every second, not SageMaker's usual 30 (each
#: wait on a job or an endpoint ends at most a second after it does).
LOCAL_POLLING = {"SCONES_POLL_SECONDS": "1"}


def airflow_env(
    home: Path, endpoint_url: str, region: str = "us-east-1", extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment for ``airflow`` subprocesses: SQLite under ``home``, AWS at ``endpoint_url``."""
    connection = {
        "conn_type": "aws",
        "extra": {"endpoint_url": endpoint_url, "region_name": region},
    }
    env = {
        **os.environ,
        **LOCAL_CREDENTIALS,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "SCONES_REGION": region,
        "SCONES_CACHE_DIR": str(home / "cache"),
        "PYTHONUNBUFFERED": "1",
        # `airflow standalone` starts its parts as `airflow ...` from PATH: use this venv's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("AWS_PROFILE", None)
    env.update(extra or {})
    return env


@dataclass
class DagRun:
    dag_id: str
    returncode: int
    log_path: Path
    seconds: float
    task_states: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.returncode == 0
            and bool(self.task_states)
            and all(s in ("success", "skipped") for s in self.task_states.values())
        )


class LocalAirflow:
    """``airflow db migrate`` once, then ``airflow dags test`` per DAG, logs kept in ``home``."""

    def __init__(self, home: Path, endpoint_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = airflow_env(home, endpoint_url, extra=extra_env)

    def migrate(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        log = self.home / "db-migrate.log"
        with log.open("w") as out:
            proc = subprocess.run([AIRFLOW, "db", "migrate"], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode:
            raise RuntimeError(f"airflow db migrate failed; see {log}:\n{log.read_text()[-3000:]}")

    def test_dag(self, dag_id: str, conf: dict | None = None, logical_date: str | None = None) -> DagRun:
        import time

        cmd = [AIRFLOW, "dags", "test", dag_id]
        if (DAGS_FOLDER / f"{dag_id}.py").exists():  # parse (and store) this DAG only, not the whole folder
            cmd += ["--dagfile-path", str(DAGS_FOLDER / f"{dag_id}.py")]
        if logical_date:
            cmd.append(logical_date)
        if conf:
            cmd += ["--conf", json.dumps(conf)]
        log = self.home / "runs" / f"{dag_id}-{int(time.time())}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with log.open("w") as out:
            proc = subprocess.run(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        run = DagRun(dag_id, proc.returncode, log, time.perf_counter() - t0)
        run.task_states = self.task_states(dag_id)
        return run

    def _latest_task_instances(self, dag_id: str) -> list[tuple[str, str, int]]:
        """``(task id, state, try number)`` of the latest run, from the metadata database."""
        import sqlite3

        with sqlite3.connect(self.home / "airflow.db") as db:
            row = db.execute(
                "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
            ).fetchone()
            if row is None:
                return []
            rows = db.execute(
                "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?",
                (dag_id, row[0]),
            ).fetchall()
        return [(t if m < 0 else f"{t}[{m}]", s or "none", n) for t, m, s, n in rows]

    def task_states(self, dag_id: str) -> dict[str, str]:
        return {task: state for task, state, _ in self._latest_task_instances(dag_id)}

    def try_numbers(self, dag_id: str) -> dict[str, int]:
        return {task: tries for task, _, tries in self._latest_task_instances(dag_id)}
