"""PostgreSQL and Redis of `scones up`, and its faults: one line saying what to do, nothing left running."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

import psutil
import pytest

from scones.localrun.servers import PostgresServer, RedisServer, ServerError
from scones.localrun.stack import client_exports, run_up


@pytest.fixture
def home():
    """A folder PostgreSQL can use when the tests run as root (it then runs as 'nobody')."""
    path = Path(tempfile.mkdtemp(prefix="scones-servers-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def our_children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_postgres_and_redis_listen_on_loopback_and_want_their_passwords(home):
    import psycopg2
    import redis

    postgres = PostgresServer(home / "postgres").start()
    broker = RedisServer(home / "redis").start()
    try:
        with psycopg2.connect(postgres.sqlalchemy_url.replace("+psycopg2", "")) as db, db.cursor() as cur:
            cur.execute("SELECT current_database(), current_setting('listen_addresses')")
            assert cur.fetchone() == ("airflow", "127.0.0.1")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(host="127.0.0.1", port=postgres.port, user="airflow", password="wrong", dbname="airflow")
        assert redis.Redis.from_url(broker.broker_url).ping()
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=broker.port, password="wrong").ping()
        assert (home / "postgres.password").stat().st_mode & 0o777 == 0o600

        with pytest.raises(ServerError, match=f"already runs on {home / 'postgres'}: stop the stack"):
            PostgresServer(home / "postgres").start()
    finally:
        postgres.stop()
        broker.stop()
    again = PostgresServer(home / "postgres").start()  # the same cluster and password, started again
    again.stop()


def test_a_stale_or_foreign_data_folder_is_refused_and_kept(home):
    junk = home / "postgres"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(ServerError, match="is not a PostgreSQL data folder .*: remove it and start again"):
        PostgresServer(junk).start()
    (junk / "PG_VERSION").write_text("9\n")
    with pytest.raises(ServerError, match="was made by PostgreSQL 9, this is 18: remove the folder"):
        PostgresServer(junk).start()
    (junk / "PG_VERSION").write_text("18\n")
    with pytest.raises(ServerError, match="password file .* is gone: remove the folder"):
        PostgresServer(junk).start()
    assert (junk / "notes.txt").read_text() == "mine", "nothing of the user's is deleted"


def test_a_port_in_use_is_one_line_and_nothing_starts(home, busy_port, capsys):
    before = our_children()
    assert run_up(home, busy_port, aws_port=0) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"scones up: port {busy_port} (the Airflow UI) is in use: stop what listens there, or choose another with --port"
    assert our_children() <= before

    assert run_up(home, _free_port(), aws_port=busy_port) == 1
    assert f"port {busy_port} (the local AWS emulator) is in use" in capsys.readouterr().err
    assert our_children() <= before


def test_the_celery_stack_without_the_admin_password_says_so_before_starting(home, monkeypatch, capsys):
    monkeypatch.delenv("_AIRFLOW_WWW_USER_PASSWORD", raising=False)
    before = our_children()
    assert run_up(home, _free_port(), kind="celery", aws_port=0) == 1
    assert "set _AIRFLOW_WWW_USER_PASSWORD" in capsys.readouterr().err
    assert our_children() <= before and not (home / "postgres").exists()


def test_the_printed_exports_point_at_the_emulator():
    line = client_exports("http://127.0.0.1:5000", "eu-west-1")
    assert line == ("export AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=testing "
                    "AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing AWS_DEFAULT_REGION=eu-west-1")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_stopping_a_component_stops_its_whole_process_group(tmp_path):
    """airflow standalone exited on SIGTERM and its scheduler, in the same group, ran on."""
    import subprocess
    import time

    from scones.localrun.stack import Stack

    stubborn = "(trap '' TERM; exec sleep 300) & trap 'exit 0' TERM; while true; do sleep 0.1; done"
    leader = subprocess.Popen(["bash", "-c", stubborn], start_new_session=True)
    deadline = time.monotonic() + 10
    while not (sleeping := [p for p in psutil.Process(leader.pid).children() if p.name() == "sleep" and "300" in p.cmdline()]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)  # both traps set
    stack = Stack("http://127.0.0.1:0", "admin", "", tmp_path, emulator=None)
    stack.processes["standalone"] = leader
    try:
        stack.stop_process("standalone", timeout=2)
        assert leader.returncode is not None
        sleeping[0].wait(5)  # raises TimeoutExpired while it runs on
    finally:
        for proc in sleeping:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
