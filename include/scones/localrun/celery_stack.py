"""``scones up --stack celery``: docker-compose.yaml's layout as processes on this machine.

PostgreSQL and Redis (from wheels the lock file installs, see :mod:`scones.localrun.servers`),
then the init step (``airflow db migrate``, the FAB admin from ``_AIRFLOW_WWW_USER_*``), then the
API server, scheduler, DAG processor, triggerer and two Celery workers, each its own process
with its own log in ``<home>/processes``, plus the emulator. The Airflow settings are
docker-compose.yaml's (:mod:`scones.localrun.airflow_settings`); the secrets the compose file
takes from .env (Fernet key, JWT secret, database and broker passwords) are made once per home
and kept there, mode 600, except the admin's password, which only the environment holds.

Logs are where production has them without remote logging: each worker and the triggerer
write task logs to a folder of their own (``<home>/component-logs/<name>``) and serve it with
Airflow's log server on a loopback address of their own, which is also their hostname
(:mod:`scones.localrun.log_server`); the API server reads ``<home>/logs`` and asks the worker
that ran a task for its log, as across machines.
"""

from __future__ import annotations

import errno
import signal
import socket
import sys
import time
from pathlib import Path

from scones.localrun.airflow_home import AIRFLOW, airflow_env
from scones.localrun.airflow_settings import CELERY_STACK_SETTINGS
from scones.localrun.fab_admin import PASSWORD_VARIABLE, USERNAME_VARIABLE, MissingAdminPassword, admin_login
from scones.localrun.log_server import ADDRESS_VARIABLE
from scones.localrun.servers import PostgresServer, RedisServer, ServerError, _secret, free_port, require_free_port
from scones.localrun.stack import DEFAULT_HOST, Stack, client_address, start_emulator, wait_healthy

WORKERS = ("worker-1", "worker-2")
#: The components that write task logs, each on its own loopback address (its hostname in
#: Airflow, where its log server listens): as two machines, the workers share one port.
LOG_ADDRESSES = {"worker-1": "127.0.0.2", "worker-2": "127.0.0.3", "triggerer": "127.0.0.4"}
#: Each one's log server, a process of its own (a worker killed -9 leaves its logs readable).
LOG_SERVERS = {f"{name}-log-server": name for name in LOG_ADDRESSES}
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", *WORKERS, *LOG_SERVERS)
#: Task slots per worker: the pipeline's widest step fits in one worker, so a killed worker
#: leaves enough for the retry.
WORKER_CONCURRENCY = 4


def _fernet_key(path: Path) -> str:
    from cryptography.fernet import Fernet

    return _secret(path, lambda: Fernet.generate_key().decode())


def celery_env(
    home: Path,
    endpoint_url: str,
    postgres: PostgresServer,
    redis: RedisServer,
    url: str,
    host: str,
    port: int,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of every Airflow process of the stack."""
    secrets = home / "secrets"
    return airflow_env(
        home,
        endpoint_url,
        extra={
            **CELERY_STACK_SETTINGS,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.sqlalchemy_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": postgres.celery_result_backend,
            "AIRFLOW__CELERY__BROKER_URL": redis.broker_url,
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(secrets / "fernet-key"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(secrets / "jwt-secret"),
            "AIRFLOW__API__SECRET_KEY": _secret(secrets / "api-secret-key"),  # FAB's session cookies
            "AIRFLOW__API__HOST": host,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": url,
            # Each server of Airflow's own on a port of its own, on loopback: the log servers on
            # their components' addresses (see LOG_ADDRESSES), free there (another stack may run).
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "scones.localrun.log_server.hostname",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port_on(*(LOG_ADDRESSES[w] for w in WORKERS))),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port_on(LOG_ADDRESSES["triggerer"])),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            **(extra or {}),
        },
    )


def _run_init(stack: Stack, env: dict[str, str]) -> None:
    """docker-compose.yaml's airflow-init: the database schema, then the admin login (the only
    process that sees the admin's password, as in the compose file)."""
    admin_env = {**env, USERNAME_VARIABLE: stack.username, PASSWORD_VARIABLE: stack.password}
    stack.run_step("db-migrate", [AIRFLOW, "db", "migrate"], env)
    stack.run_step("admin", [sys.executable, "-m", "scones.localrun.fab_admin"], admin_env)


def free_port_on(*addresses: str) -> int:
    """A port free on every one of ``addresses`` (one log server port for all the workers)."""
    for _ in range(20):
        port = free_port()
        try:
            for address in addresses:
                with socket.socket() as sock:
                    sock.bind((address, port))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:  # macOS: lo0 has 127.0.0.1 only
                raise ServerError(
                    f"{address} is no address of this machine: the Celery stack needs Linux's whole "
                    f"127.0.0.0/8 loopback (on macOS, `sudo ifconfig lo0 alias {address}` for each of "
                    f"{', '.join(LOG_ADDRESSES.values())}, or run `scones up` or docker compose)"
                ) from None
            continue
        return port
    raise ServerError(f"no port free on {', '.join(addresses)}: is 127.0.0.0/8 loopback here (Linux)?")


def component_command(name: str) -> list[str]:
    # --skip-serve-logs: Airflow's own log server binds every interface; the stack runs it on
    # the component's address instead (LOG_SERVERS).
    if name in WORKERS:
        return [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
    if name == "triggerer":
        return [AIRFLOW, name, "--skip-serve-logs"]
    if name in LOG_SERVERS:
        return [
            sys.executable,
            "-m",
            "scones.localrun.log_server",
            "trigger" if name.startswith("triggerer") else "worker",
        ]
    return [AIRFLOW, name]


def log_folder(home: Path, name: str) -> Path:
    """Where ``name`` (a worker, the triggerer) writes task logs; the API server's is <home>/logs."""
    return home / "component-logs" / name


#: What a log server's process gets of the stack's environment: it serves files to holders of a
#: token signed with [api] secret_key, so neither the Fernet key nor the database's or broker's
#: passwords (nor the user's own environment beyond running Python) are its business.
LOG_SERVER_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "AIRFLOW_HOME",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__HOSTNAME_CALLABLE",
    "AIRFLOW__CORE__UNIT_TEST_MODE",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW__WEBSERVER__LOG_REQUEST_CLOCK_GRACE",
)


def component_env(env: dict[str, str], name: str) -> dict[str, str]:
    """The stack's environment, with a log-writing component's own log folder and address; a log
    server's: only what it needs (:data:`LOG_SERVER_ENV`, the [logging] settings)."""
    writer = LOG_SERVERS.get(name, name)
    if writer not in LOG_ADDRESSES:
        return env
    own = {
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(log_folder(Path(env["AIRFLOW_HOME"]), writer)),
        ADDRESS_VARIABLE: LOG_ADDRESSES[writer],
    }
    if name in LOG_SERVERS:
        kept = {k: v for k, v in env.items() if k in LOG_SERVER_ENV or k.startswith("AIRFLOW__LOGGING__")}
        return {**kept, **own}
    return {**env, **own}


def start_component(stack: Stack, name: str, env: dict[str, str] | None = None) -> None:
    """Start (or start again, after a crash or a stop) one component with the stack's environment."""
    # A worker killed with the stack's process gets SIGQUIT (Celery's cold shutdown): SIGTERM, its
    # warm shutdown, would let it run its tasks to their end, orphaned.
    death_signal = signal.SIGQUIT if name in WORKERS else signal.SIGTERM
    stack.start_process(name, component_command(name), component_env(env or stack.env, name), death_signal)


def log_server_url(env: dict[str, str], name: str) -> str:
    """Where the log server of ``name`` (a worker or the triggerer) listens."""
    kind = "TRIGGER" if name == "triggerer" else "WORKER"
    return f"http://{LOG_ADDRESSES[name]}:{env[f'AIRFLOW__LOGGING__{kind}_LOG_SERVER_PORT']}"


def _wait_log_servers(stack: Stack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for server, name in LOG_SERVERS.items():
        address, port = log_server_url(stack.env, name).removeprefix("http://").split(":")
        while True:
            if stack.processes[server].poll() is not None:
                raise ServerError(f"the log server of {name} exited at start; see {stack.log(server)}")
            try:
                socket.create_connection((address, int(port)), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"the log server of {name} did not come up in {timeout:.0f}s; see {stack.log(server)}"
                    ) from None
                time.sleep(0.3)


def _wait_workers_ready(stack: Stack, offsets: dict[str, int], timeout: float) -> None:
    """Celery prints ``celery@<name> ready.`` once it consumes tasks."""
    deadline = time.monotonic() + timeout
    waiting = set(WORKERS)
    while waiting and time.monotonic() < deadline:
        for name in list(waiting):
            if stack.processes[name].poll() is not None:
                raise ServerError(f"the Celery worker {name} exited at start; see {stack.log(name)}")
            with stack.log(name).open("rb") as log:
                log.seek(offsets[name])
                if b" ready." in log.read():
                    waiting.discard(name)
        time.sleep(1)
    if waiting:
        raise ServerError(
            f"the Celery worker(s) {', '.join(sorted(waiting))} did not come up in {timeout:.0f}s; "
            f"see {stack.home / 'processes'}"
        )


def start_celery_stack(
    home: Path,
    port: int = 8080,
    timeout: float = 420.0,
    host: str = DEFAULT_HOST,
    extra_env: dict[str, str] | None = None,
    aws_port: int = 0,
    state_dir: Path | None = None,
) -> Stack:
    """Start the whole stack; return once every component is up. Anything fails: all is stopped."""
    try:
        username, password = admin_login()  # a missing secret fails before anything starts
    except MissingAdminPassword as exc:
        raise ServerError(str(exc)) from None
    home.mkdir(parents=True, exist_ok=True)
    require_free_port(port, "the Airflow UI", "--port")
    url = f"http://{client_address(host)}:{port}"
    emulator, scones_env = start_emulator(home, aws_port, state_dir)
    stack = Stack(url, username, password, home, emulator)
    try:
        postgres = stack.start_server(PostgresServer(home / "postgres"))
        redis = stack.start_server(RedisServer(home / "redis"))
        env = stack.env = celery_env(
            home, emulator.endpoint_url, postgres, redis, url, host, port, {**scones_env, **(extra_env or {})}
        )
        env.pop(PASSWORD_VARIABLE, None)  # no task can read the admin's password
        _run_init(stack, env)
        offsets = {}
        for name in COMPONENTS:
            if name in WORKERS:
                offsets[name] = stack.log(name).stat().st_size if stack.log(name).exists() else 0
            start_component(stack, name, env)
        wait_healthy(stack, timeout, ("metadatabase", "scheduler", "triggerer", "dag_processor"))
        _wait_workers_ready(stack, offsets, timeout)
        _wait_log_servers(stack, timeout)
        return stack
    except BaseException:
        stack.stop()
        raise
