"""The native Celery stack's configuration: docker-compose.yaml's settings, its own secrets, loopback.

Its emulator and a log server started for real are in tests/e2e/test_stack_processes.py.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from scones.localrun.airflow_settings import CELERY_STACK_SETTINGS, PER_DEPLOYMENT
from scones.localrun.celery_stack import celery_env
from scones.localrun.fab_admin import MissingAdminPassword, admin_login
from scones.localrun.servers import PostgresServer, RedisServer


def test_it_has_every_shared_setting_and_fills_in_every_per_deployment_one(env):
    assert {k: env[k] for k in CELERY_STACK_SETTINGS} == CELERY_STACK_SETTINGS
    assert all(env.get(k) for k in PER_DEPLOYMENT), sorted(k for k in PER_DEPLOYMENT if not env.get(k))


def test_it_sets_nothing_compose_lacks_without_a_reason(env):
    """The other direction: a setting only the native stack has must be named, with why compose needs none."""
    from scones.localrun.airflow_settings import NATIVE_ONLY

    airflow = {k for k in env if k.startswith("AIRFLOW__")}
    unexplained = airflow - set(CELERY_STACK_SETTINGS) - PER_DEPLOYMENT - set(NATIVE_ONLY)
    assert not unexplained, sorted(unexplained)
    assert not set(NATIVE_ONLY) & (set(CELERY_STACK_SETTINGS) | PER_DEPLOYMENT)
    assert not set(NATIVE_ONLY) - airflow, "a reason for a setting the stack no longer has"


def test_servers_are_on_loopback_with_passwords(env, tmp_path):
    redis_password = (tmp_path / "redis" / "redis.password").read_text()
    assert (
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://airflow:pg-secret@127.0.0.1:5999/airflow"
    )
    assert env["AIRFLOW__CELERY__BROKER_URL"] == f"redis://:{redis_password}@127.0.0.1:6999/0"
    assert len(redis_password) >= 24
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"] == "127.0.0.1"


def test_secrets_are_made_once_per_home_and_private(env, tmp_path):
    from cryptography.fernet import Fernet

    Fernet(env["AIRFLOW__CORE__FERNET_KEY"].encode())  # a valid key
    for name in ("fernet-key", "jwt-secret", "api-secret-key"):
        assert (tmp_path / "secrets" / name).stat().st_mode & 0o777 == 0o600, name
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):  # HS512 keys: 64 bytes at least
        assert len(env[key].encode()) >= 64, key
    postgres = PostgresServer(tmp_path / "postgres", port=5999)
    postgres.password = "pg-secret"
    again = celery_env(
        tmp_path,
        "http://127.0.0.1:5000",
        postgres,
        RedisServer(tmp_path / "redis", port=6999),
        "http://127.0.0.1:8080",
        "127.0.0.1",
        8080,
    )
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CELERY__BROKER_URL"):
        assert again[key] == env[key], key


def test_the_admin_password_must_come_from_the_environment():
    with pytest.raises(MissingAdminPassword, match="_AIRFLOW_WWW_USER_PASSWORD"):
        admin_login({"_AIRFLOW_WWW_USER_USERNAME": "ops"})
    assert admin_login({"_AIRFLOW_WWW_USER_PASSWORD": "s3cret"}) == ("admin", "s3cret")
    assert admin_login({"_AIRFLOW_WWW_USER_USERNAME": "ops", "_AIRFLOW_WWW_USER_PASSWORD": "s3cret"}) == (
        "ops",
        "s3cret",
    )


def test_no_airflow_process_but_the_init_step_sees_the_admin_password(tmp_path, monkeypatch):
    """Tasks run with the components' environment: the admin's password stays out of it."""
    import subprocess

    from scones.localrun import celery_stack

    seen: dict[str, dict[str, str]] = {}
    monkeypatch.setenv("_AIRFLOW_WWW_USER_PASSWORD", "s3cret")
    monkeypatch.setattr(celery_stack, "start_emulator", lambda home, port, state_dir=None: (FakeEmulator(), {}))
    monkeypatch.setattr(PostgresServer, "start", lambda self: setattr(self, "password", "pg") or self)
    monkeypatch.setattr(RedisServer, "start", lambda self: self)
    monkeypatch.setattr(celery_stack.Stack, "start_server", lambda self, server: server.start())
    monkeypatch.setattr(subprocess, "run", lambda cmd, env, **_: seen.setdefault(cmd[-1], env) and Done())
    monkeypatch.setattr(
        celery_stack.Stack, "start_process", lambda self, name, cmd, env, *_: seen.setdefault(name, env)
    )
    monkeypatch.setattr(celery_stack, "wait_healthy", lambda *_: None)
    monkeypatch.setattr(celery_stack, "_wait_workers_ready", lambda *_: None)
    monkeypatch.setattr(celery_stack, "_wait_log_servers", lambda *_: None)
    monkeypatch.setattr(celery_stack.Stack, "stop", lambda self: None)
    celery_stack.start_celery_stack(tmp_path, 0)
    assert seen["scones.localrun.fab_admin"]["_AIRFLOW_WWW_USER_PASSWORD"] == "s3cret"
    components = {name: env for name, env in seen.items() if name in celery_stack.COMPONENTS}
    assert set(components) == set(celery_stack.COMPONENTS)
    assert not [
        name
        for name, env in seen.items()
        if name != "scones.localrun.fab_admin" and "_AIRFLOW_WWW_USER_PASSWORD" in env
    ]


class FakeEmulator:
    endpoint_url = "http://127.0.0.1:5000"

    def stop(self) -> None:
        pass


class Done:
    returncode = 0


def _started(env, tmp_path, monkeypatch) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The command line and environment each component of the stack is started with (nothing runs)."""
    import subprocess

    from scones.localrun import stack as stack_module
    from scones.localrun.celery_stack import COMPONENTS, start_component
    from scones.localrun.stack import Stack

    started = {}
    real_popen = subprocess.Popen

    def popen(cmd, env=None, **kwargs):
        if not hasattr(kwargs.get("stdout"), "name"):  # not a component (which logs to a file): the guard
            return real_popen(cmd, env=env, **kwargs)
        started[Path(kwargs["stdout"].name).stem] = (cmd, env)
        return real_popen(["true"])

    monkeypatch.setattr(stack_module.subprocess, "Popen", popen)
    stack = Stack("http://127.0.0.1:8080", "admin", "", tmp_path, FakeEmulator(), env=env)
    for name in COMPONENTS:
        start_component(stack, name)
    for proc in stack.processes.values():
        proc.wait()
    stack.guard.close()
    return started


def test_workers_and_the_triggerer_start_without_airflows_log_server(env, tmp_path, monkeypatch):
    """Airflow's binds every interface: the stack runs the same app on each one's own address."""
    from scones.localrun.airflow_home import AIRFLOW
    from scones.localrun.celery_stack import LOG_ADDRESSES, WORKERS
    from scones.localrun.log_server import ADDRESS_VARIABLE

    started = _started(env, tmp_path, monkeypatch)
    for name in (*WORKERS, "triggerer"):
        cmd, _ = started[name]
        shim, component = cmd[: cmd.index("--")], cmd[cmd.index("--") + 1 :]
        assert component[0] == AIRFLOW and component[1:3] == (
            ["celery", "worker"] if name in WORKERS else ["triggerer", "--skip-serve-logs"]
        )
        assert "--skip-serve-logs" in component, name
        # Orphaned by a killed stack, a worker gets SIGQUIT (cold shutdown), not SIGTERM (it would finish its tasks).
        assert shim[:3] == [sys.executable, "-m", "scones.pdeathsig"], cmd
        assert int(shim[4]) == (signal.SIGQUIT if name in WORKERS else signal.SIGTERM), name
    servers = {
        env_[ADDRESS_VARIABLE]: cmd[cmd.index("--") + 1 :]
        for cmd, env_ in started.values()
        if "scones.localrun.log_server" in cmd
    }
    assert servers == {
        LOG_ADDRESSES[w]: [sys.executable, "-m", "scones.localrun.log_server", "worker"] for w in WORKERS
    } | {LOG_ADDRESSES["triggerer"]: [sys.executable, "-m", "scones.localrun.log_server", "trigger"]}


def test_log_servers_get_none_of_the_stacks_other_secrets(env, tmp_path, monkeypatch):
    """A log server only checks tokens signed with [api] secret_key and serves files: the Fernet key,
    the database's and broker's passwords are not in its environment."""
    from scones.localrun.celery_stack import LOG_SERVERS

    started = _started(env, tmp_path, monkeypatch)
    secrets = [
        env["AIRFLOW__CORE__FERNET_KEY"],
        env["AIRFLOW__API_AUTH__JWT_SECRET"],
        "pg-secret",
        env["AIRFLOW__CELERY__BROKER_URL"].split(":")[2].split("@")[0],
    ]
    for server in LOG_SERVERS:
        _, server_env = started[server]
        assert server_env["AIRFLOW__API__SECRET_KEY"] == env["AIRFLOW__API__SECRET_KEY"]
        leaked = [k for k, v in server_env.items() if any(secret in v for secret in secrets)]
        assert not leaked, (server, leaked)
        assert not {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__BROKER_URL"} & set(server_env)
    worker_env = started["worker-1"][1]  # the workers keep everything (they run tasks)
    assert worker_env["AIRFLOW__CORE__FERNET_KEY"] == env["AIRFLOW__CORE__FERNET_KEY"]


def test_each_log_writer_has_its_own_folder_and_loopback_address(env, tmp_path):
    """The API server (<home>/logs) cannot read a worker's logs but through its log server, whose
    address is the worker's hostname in Airflow (what the API server builds the log's URL from)."""
    import ipaddress

    from scones.localrun.celery_stack import LOG_SERVERS, WORKERS, component_env, log_server_url
    from scones.localrun.log_server import ADDRESS_VARIABLE

    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "scones.localrun.log_server.hostname"
    assert "AIRFLOW__LOGGING__BASE_LOG_FOLDER" not in env  # the API server's: <home>/logs, Airflow's default
    folders, addresses = set(), set()
    for server, name in LOG_SERVERS.items():
        mine, its_server = component_env(env, name), component_env(env, server)
        assert mine[ADDRESS_VARIABLE] == its_server[ADDRESS_VARIABLE], (
            "the log server listens on its component's address"
        )
        assert mine["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] == its_server["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]
        folders.add(mine["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
        addresses.add(mine[ADDRESS_VARIABLE])
        assert ipaddress.ip_address(mine[ADDRESS_VARIABLE]).is_loopback
    assert len(folders) == len(addresses) == 3
    assert str(tmp_path / "logs") not in folders
    assert component_env(env, "api-server") is env
    worker_ports = {log_server_url(env, w).rsplit(":", 1)[1] for w in WORKERS}
    assert worker_ports == {env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"]}, "one port, as on two machines"


def test_hostname_is_the_components_address(monkeypatch):
    from airflow.utils.net import getfqdn

    from scones.localrun.log_server import ADDRESS_VARIABLE, hostname

    monkeypatch.setenv(ADDRESS_VARIABLE, "127.0.0.3")
    assert hostname() == "127.0.0.3"
    monkeypatch.delenv(ADDRESS_VARIABLE)
    assert hostname() == getfqdn()


def test_a_log_server_that_does_not_start_is_one_line_naming_its_log(env, tmp_path):
    """E.g. its port taken on the component's address meanwhile: the start fails, saying where to look."""
    import subprocess
    import sys

    from scones.localrun.celery_stack import LOG_SERVERS, _wait_log_servers
    from scones.localrun.servers import ServerError
    from scones.localrun.stack import Stack

    stack = Stack("http://127.0.0.1:8080", "admin", "", tmp_path, FakeEmulator(), env=env)
    for server in LOG_SERVERS:
        stack.processes[server] = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
        stack.processes[server].wait()
    with pytest.raises(ServerError, match=r"the log server of worker-1 exited at start; see .*worker-1-log-server.log"):
        _wait_log_servers(stack, timeout=5)
