"""A small client of Airflow's REST API, as the UI and ``curl`` use it: a token from
``POST /auth/token``, then ``Authorization: Bearer``. The stack tests and the stack benchmark
drive the pipeline with it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

#: How often the waits ask the API server: a run's end is seen within a second of it.
POLL_SECONDS = 1.0


class AirflowClient:
    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.username = username
        self.password = password
        self._token = ""

    def token(self) -> str:
        request = urllib.request.Request(
            f"{self.url}/auth/token",
            method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"username": self.username, "password": self.password}).encode(),
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["access_token"]

    def call(self, path: str, method: str = "GET", body: dict | None = None) -> Any:
        if not self._token:
            self._token = self.token()
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def unpause(self, dag_id: str) -> None:
        self.call(f"/api/v2/dags/{dag_id}", "PATCH", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        run = self.call(f"/api/v2/dags/{dag_id}/dagRuns", "POST", {"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.call(f"/api/v2/dags/{dag_id}/dagRuns?order_by=-start_date&limit=50")["dag_runs"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900, during: Any = None) -> str:
        """The run's final state; ``during()`` is called at each poll (to inject faults)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.call(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            if during is not None:
                during()
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"{dag_id} {run_id} did not finish in {timeout:.0f}s")

    def wait_for_new_run(
        self, dag_id: str, known: set[str], run_type: str = "asset_triggered", timeout: float = 300
    ) -> str:
        """The id of a run of ``dag_id`` of ``run_type`` not in ``known`` (by default, one an Asset event started)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for run in self.runs(dag_id):
                if run["dag_run_id"] not in known and run["run_type"] == run_type:
                    return run["dag_run_id"]
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"no new run of {dag_id} in {timeout:.0f}s")

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict]:
        instances = self.call(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
        return {t["task_id"] if t["map_index"] < 0 else f"{t['task_id']}[{t['map_index']}]": t for t in instances}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        log = self.call(
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}?full_content=true"
        )
        return json.dumps(log)


def status_of(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: dict | None = None) -> int:
    """The HTTP status of one request (no exception for 4xx/5xx)."""
    request = urllib.request.Request(
        url,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
        data=json.dumps(body).encode() if body is not None else None,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
