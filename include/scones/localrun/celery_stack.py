"""``scones up --stack celery``: docker-compose.yaml's layout as processes on this machine.

PostgreSQL and Redis (from wheels the lock file installs, see :mod:`scones.localrun.servers`),
then the init step (``airflow db migrate``, the FAB admin from ``_AIRFLOW_WWW_USER_*``), then the
API server, scheduler, DAG processor, triggerer and two Celery workers, each its own process
with its own log in ``<home>/processes``, plus the emulator. The Airflow settings are
docker-compose.yaml's (:mod:`scones.localrun.airflow_settings`); the secrets the compose file
takes from .env (Fernet key, JWT secret, database and broker passwords) are made once per home
and kept there, mode 600, except the admin's password, which only the environment holds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from scones.localrun.airflow_home import AIRFLOW, airflow_env
from scones.localrun.airflow_settings import CELERY_STACK_SETTINGS
from scones.localrun.fab_admin import PASSWORD_VARIABLE, USERNAME_VARIABLE, MissingAdminPassword, admin_login
from scones.localrun.servers import PostgresServer, RedisServer, ServerError, _secret, free_port, require_free_port
from scones.localrun.stack import DEFAULT_HOST, Stack, client_address, start_emulator, wait_healthy

WORKERS = ("worker-1", "worker-2")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", *WORKERS)
#: Task slots per worker: the pipeline's widest step fits in one worker, so a killed worker
#: leaves enough for the retry.
WORKER_CONCURRENCY = 4


def _fernet_key(path: Path) -> str:
    from cryptography.fernet import Fernet

    return _secret(path, lambda: Fernet.generate_key().decode())


def celery_env(home: Path, endpoint_url: str, postgres: PostgresServer, redis: RedisServer, url: str, host: str,
               port: int, extra: dict[str, str] | None = None) -> dict[str, str]:  # fmt: skip
    """The environment of every Airflow process of the stack."""
    secrets = home / "secrets"
    return airflow_env(home, endpoint_url, extra={
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
        "AIRFLOW__API__WORKERS": "2",
        # Each server of Airflow's own on a port of its own, on loopback. Airflow's log servers
        # would listen on every interface: the workers and the triggerer start without them
        # (component_command); these ports only keep the API server from asking another
        # stack's log server on the default ones.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        **(extra or {}),
    })  # fmt: skip


def _run_init(stack: Stack, env: dict[str, str]) -> None:
    """docker-compose.yaml's airflow-init: the database schema, then the admin login (the only
    process that sees the admin's password, as in the compose file)."""
    admin_env = {**env, USERNAME_VARIABLE: stack.username, PASSWORD_VARIABLE: stack.password}
    stack.run_step("db-migrate", [AIRFLOW, "db", "migrate"], env)
    stack.run_step("admin", [sys.executable, "-m", "scones.localrun.fab_admin"], admin_env)


def component_command(name: str) -> list[str]:
    # --skip-serve-logs: Airflow's log server binds every interface, and on one machine it has
    # nothing to serve: every component writes and the API server reads <home>/logs.
    if name in WORKERS:
        return [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
    if name == "triggerer":
        return [AIRFLOW, name, "--skip-serve-logs"]
    return [AIRFLOW, name]


def start_component(stack: Stack, name: str, env: dict[str, str] | None = None) -> None:
    """Start (or start again, after a crash or a stop) one component with the stack's environment."""
    stack.start_process(name, component_command(name), env or stack.env)


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
        raise ServerError(f"the Celery worker(s) {', '.join(sorted(waiting))} did not come up in {timeout:.0f}s; "
                          f"see {stack.home / 'processes'}")  # fmt: skip


def start_celery_stack(home: Path, port: int = 8080, timeout: float = 420.0, host: str = DEFAULT_HOST,
                       extra_env: dict[str, str] | None = None, aws_port: int = 0,
                       state_dir: Path | None = None) -> Stack:  # fmt: skip
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
        postgres = PostgresServer(home / "postgres")
        stack.servers.append(postgres)
        postgres.start()
        redis = RedisServer(home / "redis")
        stack.servers.append(redis)
        redis.start()
        env = stack.env = celery_env(home, emulator.endpoint_url, postgres, redis, url, host, port,
                                     {**scones_env, **(extra_env or {})})  # fmt: skip
        env.pop(PASSWORD_VARIABLE, None)  # no task can read the admin's password
        _run_init(stack, env)
        offsets = {}
        for name in COMPONENTS:
            if name in WORKERS:
                offsets[name] = stack.log(name).stat().st_size if stack.log(name).exists() else 0
            start_component(stack, name, env)
        wait_healthy(stack, timeout, ("metadatabase", "scheduler", "triggerer", "dag_processor"))
        _wait_workers_ready(stack, offsets, timeout)
        return stack
    except BaseException:
        stack.stop()
        raise
