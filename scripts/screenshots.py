"""Regenerate the README's screenshots of the Airflow UI with headless Chromium.

Starts the local stack (``scones up``'s) in a throwaway home with the login switched off,
runs the ETL DAG through the REST API as the UI's trigger button does, writes two weeks of
captured inferences to the emulator's S3 and runs the monitor's own daily analysis on each day
(confidence sliding in the last days, so the trends have something to show), and captures:
docs/screenshots/dag-run.png (the ETL run: its tasks, states and durations),
docs/screenshots/monitor.png (the "Model monitor" page in the UI: trends and days) and
docs/screenshots/monitor-day.png (one day's page). Needs Debian's chromium (``apt-get install chromium``).

Run: ``.venv/bin/python scripts/screenshots.py``
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' capture-record builder (tests/support, not part of the package)

from scones.localrun.stack import start_stack  # noqa: E402 - after the sys.path line above
from tests.support.capture_records import capture_line  # noqa: E402 - after the sys.path line above
from tests.support.images import solid_png  # noqa: E402 - after the sys.path line above

OUT = ROOT / "docs" / "screenshots"
# The flags that keep Chromium quiet on a machine with no internet (no update, sync or QUIC traffic).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=20000",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(url: str, method: str = "GET", body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as response:
        return json.loads(response.read())


def screenshot(chromium: str, url: str, target: Path, height: int = 900) -> None:
    profile = tempfile.mkdtemp(prefix="chromium-")
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--window-size=1440,{height}",
            f"--user-data-dir={profile}",
            f"--screenshot={target}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    print(f"wrote {target}")


def capture_day(rng: np.random.Generator, day: date, records: int, slide: float) -> dict[str, list[str]]:
    """A day of capture records, as SageMaker writes them, by hourly partition; ``slide`` in [0, 1]
    moves confidence down and the class mix towards motorcycles."""
    png = base64.b64encode(solid_png(32, 32, (128, 128, 128))).decode()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    # More traffic in the day than at night: an hour's weight follows a smooth daily curve.
    weights = 1.2 + np.sin((np.arange(24) - 9) / 24 * 2 * np.pi)
    hours = rng.choice(24, size=records, p=weights / weights.sum())
    by_partition: dict[str, list[str]] = {}
    for hour in hours:
        when = start + timedelta(hours=int(hour), seconds=int(rng.integers(0, 3600)))
        top = 1.0 - rng.beta(1.2, 14 - 8 * slide) * 0.5  # top-class confidence, lower as the model drifts
        first = rng.random() < 0.55 - 0.3 * slide
        probabilities = [top, 1 - top] if first else [1 - top, top]
        record = capture_line(
            [round(p, 6) for p in probabilities],
            when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            event_id=f"{int(when.timestamp())}-{rng.integers(1 << 30)}",
            input_b64=png,
        )
        by_partition.setdefault(when.strftime("%Y/%m/%d/%H"), []).append(record)
    return by_partition


def seed_monitor_history(emulator, days: int = 14, last_day: date | None = None) -> str:
    """Capture for ``days`` days in the emulator and the monitor's report of each; returns the last day."""
    from scones.monitoring.checks import Thresholds
    from scones.monitoring.daily import monitor_window
    from scones.monitoring.window import Window
    from scones.settings import load_settings

    settings = load_settings()
    s3 = emulator.session(settings.region).client("s3")
    rng = np.random.default_rng(11)
    last_day = last_day or datetime.now(UTC).date() - timedelta(days=1)
    for back in range(days - 1, -1, -1):
        day = last_day - timedelta(days=back)
        slide = max(0.0, 1 - back / 4)  # the last four days drift
        for partition, lines in capture_day(rng, day, int(rng.integers(350, 500)), slide).items():
            key = f"{settings.data_capture_prefix}/{settings.endpoint_name}/AllTraffic/{partition}/capture.jsonl"
            s3.put_object(Bucket=settings.bucket, Key=key, Body="\n".join(lines).encode() + b"\n")
        summary = monitor_window(
            s3,
            bucket=settings.bucket,
            capture_uri=settings.data_capture_uri,
            endpoint=settings.endpoint_name,
            classes=list(settings.classes),
            window=Window.for_day(day),
            thresholds=Thresholds(min_records=1),
        )
        print(f"monitor report {day}: {summary['status']} ({summary['records']} inferences)")
    return last_day.isoformat()


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("screenshots: chromium not found; install it with: apt-get install chromium", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="scones-shots-"))
    home.chmod(0o711)  # run as root, the stack's PostgreSQL runs as 'nobody', who must enter the home
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
        last_day = seed_monitor_history(stack.emulator)
        screenshot(chromium, f"{stack.url}/plugin/scones-monitor", OUT / "monitor.png", height=1400)
        # The page itself, logged in as the UI would be (the all-admins login sets its cookie).
        day_page = urllib.request.quote(f"/scones-monitor/reports/{last_day}", safe="/")
        screenshot(chromium, f"{stack.url}/auth/token/login?next={day_page}", OUT / "monitor-day.png", height=1900)
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
