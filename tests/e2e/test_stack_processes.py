"""The local stacks' processes started for real: PostgreSQL and Redis of `scones up`, a `scones up`
killed -9, the Celery stack's emulator and one of its log servers. Their faults and configuration,
where nothing starts, are unit tests: tests/test_localrun_servers.py, tests/test_celery_stack_config.py.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil
import pytest

from scones.localrun.servers import UNPRIVILEGED_USER, PostgresServer, RedisServer, ServerError


def test_postgres_and_redis_listen_on_loopback_and_want_their_passwords(home, monkeypatch):
    import psycopg2
    import psycopg2.extensions
    import redis

    sent: list[bytes] = []

    class Recording(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            sent.append(self.mogrify(query, vars))
            return super().execute(query, vars)

    connect = psycopg2.connect
    monkeypatch.setattr(psycopg2, "connect", lambda *a, **kw: connect(*a, cursor_factory=Recording, **kw))
    postgres = PostgresServer(home / "postgres").start()
    monkeypatch.undo()
    # Never the role's password in a statement: PostgreSQL logs the statements that fail.
    assert any(b"ROLE airflow" in q for q in sent) and not any(postgres.password.encode() in q for q in sent)
    broker = RedisServer(home / "redis").start()
    try:
        with psycopg2.connect(postgres.sqlalchemy_url.replace("+psycopg2", "")) as db, db.cursor() as cur:
            cur.execute("SELECT current_database(), current_setting('listen_addresses')")
            assert cur.fetchone() == ("airflow", "127.0.0.1")
            # Airflow's role owns its database and is nothing more (it was the superuser).
            cur.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
            assert cur.fetchone() == (False, False, False, False, False)
            cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
            assert cur.fetchone() == ("airflow",)
            cur.execute("CREATE TABLE what_a_migration_does (id int)")
        db = psycopg2.connect(postgres.sqlalchemy_url.replace("+psycopg2", ""))
        try:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), db.cursor() as cur:
                cur.execute("COPY (SELECT 1) TO PROGRAM 'true'")  # a superuser's way to run programs
        finally:
            db.close()
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(host="127.0.0.1", port=postgres.port, user="airflow", password="wrong", dbname="airflow")
        assert redis.Redis.from_url(broker.broker_url).ping()
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=broker.port, password="wrong").ping()
        assert (home / "postgres.password").stat().st_mode & 0o777 == 0o600
        assert (home / "postgres.airflow-password").stat().st_mode & 0o777 == 0o600

        with pytest.raises(ServerError, match=f"already runs on {home / 'postgres'}: stop the stack"):
            PostgresServer(home / "postgres").start()
    finally:
        postgres.stop()
        broker.stop()
    again = PostgresServer(home / "postgres").start()  # the same cluster and password, started again
    again.stop()


STACK_PARENT = """
import os, signal, sys, threading, time
from pathlib import Path
from scones.localrun.servers import PostgresServer, RedisServer
from scones.localrun.stack import Stack, start_emulator

home = Path(sys.argv[1])
# Started as a script's background job (`scones up &`) starts it: SIGINT and SIGQUIT ignored, and
# passed on through exec to what the stack starts unless it restores them.
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGQUIT, signal.SIG_IGN)
emulator, _ = start_emulator(home)  # its output reader thread runs from here on
stack = Stack("http://127.0.0.1:1", "admin", "", home, emulator)
stack.start_server(PostgresServer(home / "postgres"))
stack.start_server(RedisServer(home / "redis"))
sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
stack.start_process("component", sleeper, dict(os.environ))
# A Celery worker's signal: SIGTERM (its warm shutdown) would let it finish its tasks, orphaned.
worker = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"]
stack.start_process("worker", worker, dict(os.environ), signal.SIGQUIT)
# One that takes its death signal and does not end (a Celery worker's cold shutdown hung once).
hung = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, lambda *_: None); time.sleep(600)"]
stack.start_process("hung", hung, dict(os.environ))
print("up", flush=True)
stack.run_step("step", sleeper, dict(os.environ))  # a one-off step (db migrate) under way
"""


def _children_of(pid: int, expected: int, timeout: float = 60) -> list[psutil.Process]:
    """The processes under ``pid`` once it has ``expected`` children, each past the death signal shim
    (a wait, not a time limit: three test processes on two busy cores start a shim slowly)."""
    deadline = time.monotonic() + timeout
    while True:
        children = psutil.Process(pid).children(recursive=True)
        direct = [c for c in children if c.ppid() == pid]
        shimmed = any("scones.pdeathsig" in " ".join(c.cmdline()) for c in direct)
        if (len(direct) >= expected and not shimmed) or time.monotonic() > deadline:
            return children
        time.sleep(0.1)


def _signal_state(pid: int) -> str:
    """What /proc says of a survivor's parent and signals (one whose death signal is ignored
    outlives the stack: SigIgn)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as exc:
        return str(exc)
    return "; ".join(line for line in status if line.startswith(("State", "PPid", "Sig", "Shd")))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_stacks_children_die_with_its_process_even_by_kill_9(home):
    """The servers run in sessions of their own: a `scones up` killed -9 left them all running.
    Each gets a death signal; the guard kills, after its grace, one that ignores its signal."""
    import subprocess

    parent = subprocess.Popen([sys.executable, "-c", STACK_PARENT, str(home)], stdout=subprocess.PIPE, text=True)
    children: list[psutil.Process] = []
    try:
        assert parent.stdout.readline().strip() == "up"
        # emulator, postgres, redis, component, worker, hung, step, and the guard
        children = _children_of(parent.pid, expected=8)
        names = [" ".join(c.cmdline()) for c in children]
        for part in ("local-aws", "bin/postgres", "redis-server", "SIG_IGN", "lambda", "scones.localrun.guard"):
            assert any(part in n for n in names), (part, names)
        assert sum("time.sleep(600)" in n for n in names) == 4, names  # component, worker, hung, step
        assert all("scones.pdeathsig" not in n for n in names), names  # the shim exec'd its command
        postgres = next(c for c in children if "bin/postgres" in " ".join(c.cmdline()))
        assert postgres.uids().real == (
            UNPRIVILEGED_USER if os.geteuid() == 0 else os.geteuid()
        )  # as root: 'nobody', signal kept
        parent.kill()
        parent.wait()
        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, [(" ".join(p.cmdline()), _signal_state(p.pid)) for p in alive]
    finally:
        parent.kill()
        for child in children:  # what the test failed to see die
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


def test_the_emulator_does_not_see_the_admin_password(monkeypatch):
    """It runs the project's Lambda code: the Airflow admin's password stays out of its environment."""
    from pathlib import Path

    from scones.emulator.process import EmulatorProcess

    monkeypatch.setenv("_AIRFLOW_WWW_USER_PASSWORD", "s3cret")
    emulator = EmulatorProcess().start()
    try:
        environ = Path(f"/proc/{emulator._proc.pid}/environ").read_bytes().split(b"\0")
    finally:
        emulator.stop()
    assert b"AWS_ACCESS_KEY_ID=testing" in environ  # the right process
    assert not [v for v in environ if v.startswith(b"_AIRFLOW_WWW_USER_PASSWORD=")]


def test_a_log_server_with_that_environment_serves_a_log_to_its_token_only(env, tmp_path):
    """Started as the stack starts it: a token for the file gets it; one for another file (Airflow
    ties a token to one log file), or signed with another key, gets 403."""
    import subprocess
    import time
    import urllib.error
    import urllib.request

    import jwt

    from scones.localrun.celery_stack import component_command, component_env, log_folder, log_server_url

    server_env = component_env(env, "worker-1-log-server")
    folder = log_folder(tmp_path, "worker-1")
    (folder / "dag_id=d").mkdir(parents=True)
    (folder / "dag_id=d" / "attempt=1.log").write_text("the task's log\n")
    (folder / "dag_id=d" / "attempt=2.log").write_text("another\n")
    proc = subprocess.Popen(
        component_command("worker-1-log-server"), env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )

    def get(path: str, secret: str, filename: str) -> tuple[int, bytes]:
        now = int(time.time())
        token = jwt.encode(
            {"filename": filename, "aud": "task-instance-logs", "iat": now, "nbf": now, "exp": now + 30},
            secret,
            algorithm="HS512",
        )
        request = urllib.request.Request(
            f"{log_server_url(env, 'worker-1')}/log/{path}", headers={"Authorization": token}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, b""

    secret = env["AIRFLOW__API__SECRET_KEY"]
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                answer = get("dag_id=d/attempt=1.log", secret, "dag_id=d/attempt=1.log")
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "the log server did not come up"
                time.sleep(0.3)
        assert answer == (200, b"the task's log\n")
        assert get("dag_id=d/attempt=2.log", secret, "dag_id=d/attempt=1.log")[0] == 403
        assert get("dag_id=d/attempt=1.log", "another-key-" * 8, "dag_id=d/attempt=1.log")[0] == 403
    finally:
        proc.terminate()
        proc.wait(10)
