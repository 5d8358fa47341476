"""``scones up``: Airflow on this machine, against the local emulator, no Docker.

Two shapes, both in a home that persists across runs (``.local/airflow`` by default):

- ``embedded`` (the default): what ``airflow standalone`` runs (api-server, scheduler,
  dag-processor, triggerer; LocalExecutor), each as a process of ours, on a PostgreSQL server of
  its own, with the simple auth manager's login made once and kept in the home. Not
  ``airflow standalone`` itself: its scheduler and triggerer start Airflow's log servers, which
  listen on every interface. PostgreSQL, not SQLite: under load SQLite's single
  writer made the API server give up on a trigger after 5 s with an HTTP 500.
- ``celery``: the production layout of docker-compose.yaml as processes (see
  :mod:`scones.localrun.celery_stack`).

Both print the URL and the login, and stop everything they started on Ctrl-C or SIGTERM, or
when any part fails to start (:class:`~scones.localrun.servers.ServerError`, one line).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from scones.emulator.process import LOCAL_CREDENTIALS, EmulatorFailedToStart, EmulatorProcess
from scones.localrun.airflow_home import AIRFLOW, LOCAL_POLLING, PROJECT_ROOT, airflow_env
from scones.localrun.demo import default_source
from scones.localrun.guard import Guard
from scones.localrun.servers import (
    PostgresServer,
    ServerError,
    _secret,
    _Server,
    dying_with_parent,
    free_port,
    require_free_port,
)
from scones.settings import load_settings

ServerT = TypeVar("ServerT", bound=_Server)

DEFAULT_HOME = PROJECT_ROOT / ".local" / "airflow"
USERNAME = "admin"
#: Airflow's API server listens on every interface by default; ours only on this machine's.
DEFAULT_HOST = "127.0.0.1"
#: The emulator's port under ``scones up``: fixed, so other shells find it (``scones local-aws``'s too).
DEFAULT_AWS_PORT = 5000


@dataclass
class Stack:
    """What ``scones up`` started, in start order; :meth:`stop` ends it in reverse."""

    url: str
    username: str
    password: str
    home: Path
    emulator: EmulatorProcess
    servers: list = field(default_factory=list)  # PostgresServer, RedisServer
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # Airflow's, by name
    env: dict[str, str] = field(default_factory=dict)  # what the Airflow processes run with
    #: Ends each group a few seconds after this process dies, if its death signal did not.
    guard: Guard = field(default_factory=Guard, repr=False)

    def log(self, name: str) -> Path:
        return self.home / "processes" / f"{name}.log"

    def start_process(
        self, name: str, cmd: list[str], env: dict[str, str], death_signal: int = signal.SIGTERM
    ) -> subprocess.Popen[bytes]:
        """Start an Airflow component in its own session (it and its children stop together), sent
        ``death_signal`` if this process dies."""
        log = self.log(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        cmd, _ = dying_with_parent(cmd, death_signal)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.processes[name] = proc
        self.guard.watch(proc.pid, death_signal)
        return proc

    def start_server(self, server: ServerT) -> ServerT:
        """Start a server (PostgreSQL, Redis), which :meth:`stop` stops even if its start fails."""
        self.servers.append(server)
        server.start()
        self.guard.watch(server.proc.pid, server.stop_signal)
        return server

    def run_step(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        """Run a one-off step (``airflow db migrate``...) to its end, its output in its log."""
        log = self.log(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:  # killed -9 mid-migration, this process takes the step with it
            proc = subprocess.run(
                dying_with_parent(cmd)[0], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        if proc.returncode:
            raise ServerError(f"the init step `{' '.join(cmd[1:])}` failed ({proc.returncode}); see {log}")

    def exited(self) -> list[str]:
        """Names of the Airflow components that are no longer running."""
        return [name for name, proc in self.processes.items() if proc.poll() is not None]

    def stop_process(self, name: str, timeout: float = 30.0) -> None:
        """SIGTERM to the component's process group; SIGKILL to what is left of it after ``timeout``.

        The group, not the process: a component's children (``airflow standalone``'s scheduler,
        a worker's task processes) outlived it when only it was waited for.
        """
        proc = self.processes[name]
        _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            proc.poll()  # reap the leader; its pid stays the group's while members live
            time.sleep(0.2)
        if _group_alive(proc.pid):
            _signal_group(proc, signal.SIGKILL)
        proc.wait()
        self.guard.forget(proc.pid)

    def stop(self, timeout: float = 30.0) -> None:
        for name in reversed(list(self.processes)):
            _signal_group(self.processes[name], signal.SIGTERM)  # all at once, then wait for each
        for name in reversed(list(self.processes)):
            self.stop_process(name, timeout)
        for server in reversed(self.servers):
            server.stop()
        self.guard.close()
        self.emulator.stop()

    def token(self) -> str:
        """A JWT for the REST API, as a REST client gets one (POST /auth/token)."""
        from scones.localrun.rest import AirflowClient

        return AirflowClient(self.url, self.username, self.password).token()


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies aside), from /proc."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        if int(group) == pgid and state != "Z":
            return True
    return False


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # its own session: the process group is its pid
    except ProcessLookupError:
        pass


def _password(home: Path) -> str:
    """The embedded stack's login password, made once per home (no secret lives in the repository)."""
    logins = _secret(
        home / "simple_auth_manager_passwords.json", lambda: json.dumps({USERNAME: secrets.token_urlsafe(12)})
    )
    return json.loads(logins)[USERNAME]


def client_address(host: str) -> str:
    """Where this machine reaches a server listening on ``host``."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


#: How long the Execution API's first request may take: it builds the API's routes for every
#: version first (Cadwyn), seconds on two busy cores.
EXECUTION_API_FIRST_ANSWER_SECONDS = 60


def wait_healthy(stack: Stack, timeout: float, components: tuple[str, ...] = ("scheduler",)) -> None:
    """Until the API server answers and reports ``components`` healthy, and its Execution API
    answers; a component that exits fails at once.

    The Execution API (what tasks call) builds its routes on its first request. Left to the
    first task, that request timed out on two busy cores (httpx ReadTimeout in ``ti.start``):
    the task failed before it started and waited for its retry, 30 s later.
    """
    deadline = time.monotonic() + timeout
    healthy = False
    while time.monotonic() < deadline:
        if exited := stack.exited():
            name = exited[0]
            raise ServerError(
                f"airflow {name} exited at start ({stack.processes[name].returncode}); see {stack.log(name)}"
            )
        try:
            if not healthy:
                with urllib.request.urlopen(f"{stack.url}/api/v2/monitor/health", timeout=5) as response:
                    health = json.loads(response.read())
                healthy = all((health.get(c) or {}).get("status") == "healthy" for c in components)
            if healthy:
                with urllib.request.urlopen(
                    f"{stack.url}/execution/health", timeout=EXECUTION_API_FIRST_ANSWER_SECONDS
                ) as response:
                    if json.loads(response.read()).get("status") == "healthy":
                        return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.5)
    what = f"{', '.join(components)} healthy" if not healthy else "its Execution API (/execution/health) answering"
    raise ServerError(f"Airflow did not report {what} in {timeout:.0f}s; see the logs in {stack.home / 'processes'}")


def client_exports(endpoint_url: str, region: str) -> str:
    """The shell line that points boto3, the aws CLI and ``scones traffic`` at the emulator."""
    keys = " ".join(f"{k}={v}" for k, v in LOCAL_CREDENTIALS.items())
    return f"export AWS_ENDPOINT_URL={endpoint_url} {keys} AWS_DEFAULT_REGION={region}"


def start_emulator(
    home: Path, aws_port: int = 0, state_dir: Path | None = None
) -> tuple[EmulatorProcess, dict[str, str]]:
    """The emulator (on ``aws_port``, 0: a free one; its state kept in ``state_dir``, None: in
    memory only), with the project's bucket; and the SCONES_* settings that point at it."""
    settings = load_settings({"source_url": default_source()})
    if aws_port:
        require_free_port(aws_port, "the local AWS emulator", "--aws-port")
    emulator = EmulatorProcess(port=aws_port, state_dir=state_dir, die_with_parent=True).start()
    s3 = emulator.session(settings.region).client("s3")
    try:
        s3.create_bucket(Bucket=settings.bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass  # kept in the state folder from the last start
    except BaseException:
        emulator.stop()
        raise
    return emulator, {"SCONES_SOURCE_URL": settings.source_url or "", **LOCAL_POLLING}


EMBEDDED_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def embedded_command(name: str) -> list[str]:
    """--skip-serve-logs: Airflow's log servers bind every interface, and on one machine there is
    nothing to serve: the API server reads <home>/logs, where every component writes."""
    return [AIRFLOW, name, *(["--skip-serve-logs"] if name in ("scheduler", "triggerer") else [])]


def start_stack(
    home: Path = DEFAULT_HOME,
    port: int = 8080,
    timeout: float = 300.0,
    extra_env: dict[str, str] | None = None,
    host: str = DEFAULT_HOST,
    aws_port: int = 0,
    state_dir: Path | None = None,
) -> Stack:
    """The embedded stack; returns once the API answers and the scheduler is healthy.

    The API server listens on ``host`` only: loopback unless the caller widens it.
    """
    home.mkdir(parents=True, exist_ok=True)
    require_free_port(port, "the Airflow UI", "--port")
    url = f"http://{client_address(host)}:{port}"
    emulator, scones_env = start_emulator(home, aws_port, state_dir)
    stack = Stack(url, USERNAME, "", home, emulator)
    try:
        stack.password = _password(home)
        postgres = stack.start_server(PostgresServer(home / "postgres"))
        env = airflow_env(
            home,
            emulator.endpoint_url,
            extra={
                **scones_env,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.sqlalchemy_url,
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__API__HOST": host,
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__BASE_URL": url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json"),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                # Two stacks on one machine (the tests, another worktree) each need their own.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                # Deferred, the provider prints the training log only before deferring; on one
                # machine a blocked worker slot costs nothing and the whole log lands in the task.
                "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "False",
                **(extra_env or {}),
            },
        )
        stack.env = env
        stack.run_step("db-migrate", [AIRFLOW, "db", "migrate"], env)
        for name in EMBEDDED_COMPONENTS:
            stack.start_process(name, embedded_command(name), env)
        wait_healthy(stack, timeout, ("metadatabase", "scheduler", "triggerer", "dag_processor"))
        return stack
    except BaseException:
        stack.stop()
        raise


def serve(stack: Stack, logs: Path) -> int:
    """Print how to use the stack, then run until Ctrl-C, SIGTERM, or a component exits."""
    stop = threading.Event()
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
    region = stack.env.get("AWS_DEFAULT_REGION", "us-east-1")
    # The FAB admin's password is the user's own, from the environment: not echoed to the terminal.
    password = (
        "(the password in _AIRFLOW_WWW_USER_PASSWORD)"
        if "FabAuthManager" in stack.env.get("AIRFLOW__CORE__AUTH_MANAGER", "")
        else stack.password
    )
    print(
        f"\nAirflow UI:  {stack.url}\nlogin:       {stack.username} / {password}\n"
        f"local AWS:   {stack.emulator.endpoint_url}\nlogs:        {logs}\n"
        f"In another shell, for `scones traffic` or the aws CLI against the emulator:\n"
        f"  {client_exports(stack.emulator.endpoint_url, region)}\n"
        "Ctrl-C stops everything.",
        flush=True,
    )
    code = 0
    while not stop.wait(1):
        if exited := stack.exited():
            print(
                f"scones up: airflow {exited[0]} exited ({stack.processes[exited[0]].returncode}); "
                f"see {stack.log(exited[0])}; stopping the rest",
                file=sys.stderr,
            )
            code = 1
            break
    stack.stop()
    print("stopped")
    return code


#: What stops ``scones up``: Ctrl-C, ``kill``, and the terminal closing. The servers run in
#: sessions of their own, so none of these reaches them: the stack must stop them itself.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: object) -> None:
    """Turn a stop signal during the start into a KeyboardInterrupt, like Ctrl-C, once: a
    second signal must not cut the cleanup short."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


def run_up(
    home: Path,
    port: int,
    host: str = DEFAULT_HOST,
    kind: str = "embedded",
    aws_port: int = DEFAULT_AWS_PORT,
    state_dir: Path | None = None,
) -> int:
    previous = {sig: signal.signal(sig, _interrupt) for sig in STOP_SIGNALS}
    try:
        return _run_up(home, port, host, kind, aws_port, state_dir)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_up(home: Path, port: int, host: str, kind: str, aws_port: int, state_dir: Path | None) -> int:
    # Before anything starts, a stop signal is a KeyboardInterrupt (:func:`_interrupt`): the
    # start's cleanup stops what it started (a SIGTERM or SIGHUP used to orphan the servers).
    print(f"starting the local AWS emulator and Airflow ({kind}) in {home} (first start takes a minute)...", flush=True)
    print(f"  the local AWS's state: {state_dir or 'in memory only (--ephemeral)'}", flush=True)
    try:
        if kind == "celery":
            from scones.localrun.celery_stack import start_celery_stack

            stack = start_celery_stack(home, port, host=host, aws_port=aws_port, state_dir=state_dir)
        else:
            stack = start_stack(home, port, host=host, aws_port=aws_port, state_dir=state_dir)
    except (ServerError, EmulatorFailedToStart) as exc:  # a refused state folder says why in the latter
        print(f"scones up: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("scones up: interrupted; everything started was stopped", file=sys.stderr)
        return 130
    return serve(stack, home / "processes")
