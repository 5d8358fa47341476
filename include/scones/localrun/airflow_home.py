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

from scones import pdeathsig
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
    """``airflow db migrate`` once, then ``airflow dags test`` per DAG, logs kept in ``home``.

    The commands run in one warm Airflow process (:mod:`scones.localrun.airflow_runner`),
    started by the first and ended by :meth:`close` (or the ``with`` block): one at a time.
    """

    def __init__(self, home: Path, endpoint_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = airflow_env(home, endpoint_url, extra=extra_env)
        self._runner: subprocess.Popen[str] | None = None

    def __enter__(self) -> LocalAirflow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the runner process (at the end of its stdin; killed if it does not)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        runner.stdin.close()
        try:
            runner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait()
        runner.stdout.close()

    def _start_runner(self) -> subprocess.Popen[str]:
        self.home.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "scones.localrun.airflow_runner", str(self.home / "airflow-runner.log")]
        if pdeathsig.supported():  # ends with this process, even on kill -9
            cmd = pdeathsig.wrap(cmd)
        return subprocess.Popen(cmd, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, argv: list[str], log: Path) -> int:
        """``airflow *argv``, its output in ``log``; its exit status (a signal's as negative)."""
        log.parent.mkdir(parents=True, exist_ok=True)
        log.touch()
        if self._runner is None or self._runner.poll() is not None:
            self._runner = self._start_runner()
        try:
            self._runner.stdin.write(json.dumps({"argv": argv, "log": str(log)}) + "\n")
            self._runner.stdin.flush()
            answer = self._runner.stdout.readline()
        except BrokenPipeError:
            answer = ""
        if answer:
            return json.loads(answer)["returncode"]
        code = self._runner.wait()  # it died in the command: say so where the command's output is
        with log.open("a") as out:
            out.write(f"\n[scones] the Airflow runner process ended with status {code} during this command\n")
        self._runner = None
        return code or 1

    def migrate(self) -> None:
        log = self.home / "db-migrate.log"
        if self.run(["db", "migrate"], log):
            raise RuntimeError(f"airflow db migrate failed; see {log}:\n{log.read_text()[-3000:]}")

    def test_dag(self, dag_id: str, conf: dict | None = None, logical_date: str | None = None) -> DagRun:
        import time

        argv = ["dags", "test", dag_id]
        if (DAGS_FOLDER / f"{dag_id}.py").exists():  # parse (and store) this DAG only, not the whole folder
            argv += ["--dagfile-path", str(DAGS_FOLDER / f"{dag_id}.py")]
        if logical_date:
            argv.append(logical_date)
        if conf:
            argv += ["--conf", json.dumps(conf)]
        log = self.home / "runs" / f"{dag_id}-{time.time_ns()}.log"
        t0 = time.perf_counter()
        code = self.run(argv, log)
        run = DagRun(dag_id, code, log, time.perf_counter() - t0)
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
