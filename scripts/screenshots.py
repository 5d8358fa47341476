"""Regenerate the README's screenshots of the Airflow UI with headless Chromium.

Starts the local stack (``scones up``'s) in a throwaway home with the login switched off,
runs the ETL DAG through the REST API as the UI's trigger button does, and captures:
docs/screenshots/dag-run.png (the ETL run: its tasks, states and durations) and docs/screenshots/monitor.png
(the "Model monitor" page). Needs Debian's chromium (``apt-get install chromium``).

Run: ``.venv/bin/python scripts/screenshots.py``
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from scones.localrun.stack import start_stack

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# The flags that keep Chromium quiet on a machine with no internet (no update, sync or QUIC traffic).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1440,900", "--virtual-time-budget=20000"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(url: str, method: str = "GET", body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as response:
        return json.loads(response.read())


def screenshot(chromium: str, url: str, target: Path) -> None:
    profile = tempfile.mkdtemp(prefix="chromium-")
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={target}", url],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)
    print(f"wrote {target}")


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("screenshots: chromium not found; install it with: apt-get install chromium", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="scones-shots-"))
    stack = start_stack(home, free_port(), extra_env={"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"})
    try:
        token = stack.token()
        run = api(f"{stack.url}/api/v2/dags/scones_cifar_etl/dagRuns", "POST", {"logical_date": None}, token)
        run_id = run["dag_run_id"]
        for _ in range(120):
            state = api(f"{stack.url}/api/v2/dags/scones_cifar_etl/dagRuns/{run_id}", token=token)["state"]
            if state in ("success", "failed"):
                break
            time.sleep(2)
        print(f"scones_cifar_etl run {run_id}: {state}")
        quoted = urllib.request.quote(run_id, safe="")
        screenshot(chromium, f"{stack.url}/dags/scones_cifar_etl/runs/{quoted}", OUT / "dag-run.png")
        screenshot(chromium, f"{stack.url}/plugin/scones-monitor", OUT / "monitor.png")
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
