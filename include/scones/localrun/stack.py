"""``scones up``: the Airflow UI on this machine, against the local emulator, no Docker.

Starts the emulator, then ``airflow standalone`` (api-server, scheduler, dag-processor,
triggerer; LocalExecutor on SQLite) in a home that persists across runs, with a login made
once and kept there. Prints the URL and the login, and stops both on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from scones.emulator.process import EmulatorProcess
from scones.localrun.airflow_home import AIRFLOW, LOCAL_POLLING, PROJECT_ROOT, airflow_env
from scones.localrun.demo import default_source
from scones.settings import load_settings

DEFAULT_HOME = PROJECT_ROOT / ".local" / "airflow"
USERNAME = "admin"
#: Airflow's API server listens on every interface by default; ours only on this machine's.
DEFAULT_HOST = "127.0.0.1"


@dataclass
class Stack:
    url: str
    username: str
    password: str
    home: Path
    emulator: EmulatorProcess
    airflow: subprocess.Popen[bytes]

    def stop(self, timeout: float = 30.0) -> None:
        if self.airflow.poll() is None:
            os.killpg(self.airflow.pid, signal.SIGTERM)  # standalone and every component it started
            try:
                self.airflow.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.airflow.pid, signal.SIGKILL)
                self.airflow.wait()
        self.emulator.stop()

    def token(self) -> str:
        """A JWT for the REST API, as the UI gets one."""
        request = urllib.request.Request(
            f"{self.url}/auth/token", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"username": self.username, "password": self.password}).encode(),
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access_token"]


def _password(home: Path) -> str:
    """The login's password, made once per home (no secret lives in the repository)."""
    path = home / "simple_auth_manager_passwords.json"
    if path.exists():
        return json.loads(path.read_text())[USERNAME]
    password = secrets.token_urlsafe(12)
    path.write_text(json.dumps({USERNAME: password}))
    path.chmod(0o600)
    return password


def _client_address(host: str) -> str:
    """Where this machine reaches a server listening on ``host``."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"airflow standalone exited ({proc.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as response:
                health = json.loads(response.read())
            if health.get("scheduler", {}).get("status") == "healthy":
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(2)
    raise RuntimeError(f"Airflow was not healthy after {timeout:.0f}s; see {log}")


def start_stack(home: Path = DEFAULT_HOME, port: int = 8080, timeout: float = 300.0,
                extra_env: dict[str, str] | None = None, host: str = DEFAULT_HOST) -> Stack:  # fmt: skip
    """Start the emulator and Airflow; return once the API answers and the scheduler is healthy.

    The API server listens on ``host`` only: loopback unless the caller widens it.
    """
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://{_client_address(host)}:{port}"
    settings = load_settings({"source_url": default_source()})
    emulator = EmulatorProcess().start()
    try:
        emulator.session(settings.region).client("s3").create_bucket(Bucket=settings.bucket)
        password = _password(home)
        env = airflow_env(home, emulator.endpoint_url, extra={
            "SCONES_SOURCE_URL": settings.source_url,
            **LOCAL_POLLING,
            "AIRFLOW__API__HOST": host,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Deferred, the provider prints the training log only before deferring; on one
            # machine a blocked worker slot costs nothing and the whole log lands in the task.
            "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "False",
            **(extra_env or {}),
        })  # fmt: skip
        log = home / "standalone.log"
        with log.open("ab") as out:
            proc = subprocess.Popen([AIRFLOW, "standalone"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # fmt: skip
        stack = Stack(url, USERNAME, password, home, emulator, proc)
        try:
            _wait_healthy(stack.url, proc, log, timeout)
        except BaseException:
            stack.stop()
            raise
        return stack
    except BaseException:
        emulator.stop()
        raise


def run_up(home: Path, port: int, host: str = DEFAULT_HOST) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"starting the local AWS emulator and Airflow in {home} (first start takes a minute)...", flush=True)
    stack = start_stack(home, port, host=host)
    print(f"\nAirflow UI:  {stack.url}\nlogin:       {stack.username} / {stack.password}\n"
          f"local AWS:   {stack.emulator.endpoint_url}\nlogs:        {home / 'standalone.log'}\n"
          "Ctrl-C stops both.", flush=True)  # fmt: skip
    while not stop.wait(1):
        if stack.airflow.poll() is not None:
            print(f"airflow standalone exited ({stack.airflow.returncode}); see {home / 'standalone.log'}")
            stack.emulator.stop()
            return 1
    stack.stop()
    print("stopped")
    return 0
