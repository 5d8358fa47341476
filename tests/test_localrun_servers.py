"""PostgreSQL and Redis of `scones up`, and its faults: one line saying what to do, nothing left running.

The servers started for real, and a `scones up` killed -9, are in tests/e2e/test_stack_processes.py.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from scones.localrun.servers import PostgresServer, ServerError, free_port
from scones.localrun.stack import client_exports, run_up


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def our_children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


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
    (home / "postgres.password").write_text("the superuser's")  # an earlier scones: airflow was the superuser
    with pytest.raises(ServerError, match="no postgres.airflow-password .*: remove the folder"):
        PostgresServer(junk).start()
    assert (junk / "notes.txt").read_text() == "mine", "nothing of the user's is deleted"


def test_a_port_in_use_is_one_line_and_nothing_starts(home, busy_port, capsys):
    before = our_children()
    assert run_up(home, busy_port, aws_port=0) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err
        == f"scones up: port {busy_port} (the Airflow UI) is in use: stop what listens there, or choose another with --port"
    )
    assert our_children() <= before

    assert run_up(home, free_port(), aws_port=busy_port) == 1
    assert f"port {busy_port} (the local AWS emulator) is in use" in capsys.readouterr().err
    assert our_children() <= before


def test_the_celery_stack_without_the_admin_password_says_so_before_starting(home, monkeypatch, capsys):
    monkeypatch.delenv("_AIRFLOW_WWW_USER_PASSWORD", raising=False)
    before = our_children()
    assert run_up(home, free_port(), kind="celery", aws_port=0) == 1
    assert "set _AIRFLOW_WWW_USER_PASSWORD" in capsys.readouterr().err
    assert our_children() <= before and not (home / "postgres").exists()


def test_the_printed_exports_point_at_the_emulator():
    line = client_exports("http://127.0.0.1:5000", "eu-west-1")
    assert line == (
        "export AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=testing "
        "AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing AWS_DEFAULT_REGION=eu-west-1"
    )


def test_stopping_a_component_stops_its_whole_process_group(tmp_path):
    """airflow standalone exited on SIGTERM and its scheduler, in the same group, ran on."""
    import subprocess

    from scones.localrun.stack import Stack

    stubborn = "(trap '' TERM; exec sleep 300) & trap 'exit 0' TERM; while true; do sleep 0.1; done"
    leader = subprocess.Popen(["bash", "-c", stubborn], start_new_session=True)
    deadline = time.monotonic() + 10
    while not (
        sleeping := [p for p in psutil.Process(leader.pid).children() if p.name() == "sleep" and "300" in p.cmdline()]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)  # both traps set
    stack = Stack("http://127.0.0.1:0", "admin", "", tmp_path, emulator=None)
    stack.processes["standalone"] = leader
    try:
        stack.stop_process("standalone", timeout=0.5)  # the sleep outlives it: killed
        assert leader.returncode is not None
        sleeping[0].wait(5)  # raises TimeoutExpired while it runs on
    finally:
        for proc in sleeping:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def sticky_tmp(home):
    """A temp folder like /tmp (sticky, everyone writes), that 'nobody' can reach."""
    home.chmod(0o1777)
    return home


@pytest.fixture
def postgres_copy(sticky_tmp, monkeypatch):
    """Where a root stack copies PostgreSQL's binaries for 'nobody'."""
    from scones.localrun import servers

    if os.geteuid() != 0:
        pytest.skip("the copy is made only when the stack runs as root")
    monkeypatch.setattr(tempfile, "tempdir", str(sticky_tmp))
    monkeypatch.setattr(servers, "_blocked_parent", lambda path, uid: path)  # as if the venv were under /root
    import subprocess

    version = subprocess.run([str(servers.postgres_bin() / "postgres"), "--version"], capture_output=True, text=True)
    return sticky_tmp / f"scones-postgres-{version.stdout.split()[-1]}"


def test_a_symlink_planted_as_the_postgres_copy_is_refused(postgres_copy, sticky_tmp):
    """A local user's symlink to a root-owned folder passed a symlink-following check; then they
    could point it at their own binaries, which root ran."""
    from scones.localrun.servers import _unprivileged_postgres_bin

    rootsdir = sticky_tmp / "roots"
    rootsdir.mkdir(mode=0o755)
    postgres_copy.symlink_to(rootsdir)
    with pytest.raises(
        ServerError, match=f"{postgres_copy} is not a folder of root's own .*: remove it and start again"
    ):
        _unprivileged_postgres_bin()
    assert postgres_copy.is_symlink() and not list(rootsdir.iterdir()), "nothing was copied through the link"


def test_another_users_folder_as_the_postgres_copy_is_refused(postgres_copy):
    from scones.localrun.servers import _unprivileged_postgres_bin

    postgres_copy.mkdir(mode=0o755)
    os.chown(postgres_copy, 65534, 65534)
    with pytest.raises(ServerError, match="is not a folder of root's own"):
        _unprivileged_postgres_bin()
    postgres_copy.chmod(0o777)
    os.chown(postgres_copy, 0, 0)
    with pytest.raises(ServerError, match=r"mode 777, owner 0\): remove it"):
        _unprivileged_postgres_bin()


def test_the_postgres_copy_is_roots_and_runs(postgres_copy):
    import subprocess

    from scones.localrun.servers import _unprivileged_postgres_bin

    bin_dir = _unprivileged_postgres_bin()
    st = os.lstat(postgres_copy)
    assert st.st_uid == 0 and st.st_mode & 0o777 == 0o755
    assert [p.name for p in postgres_copy.parent.iterdir() if p.name.startswith("scones-postgres-")] == [
        postgres_copy.name
    ]
    assert _unprivileged_postgres_bin() == bin_dir  # made once
    out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, user=65534)
    assert out.stdout.startswith("postgres (PostgreSQL)"), out.stderr


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_a_stop_signal_during_the_start_stops_what_was_started(sig, tmp_path, monkeypatch, capsys):
    """Its servers run in sessions of their own: a SIGTERM or a closed terminal during the
    minutes of start-up orphaned them."""
    import signal
    import subprocess

    from scones.localrun import stack as stack_module

    started: list[subprocess.Popen[bytes]] = []

    def start_stack(home, port, host, aws_port, state_dir=None):
        stack = stack_module.Stack("http://127.0.0.1:0", "admin", "", home, emulator=FakeEmulator())
        try:
            started.append(stack.start_process("scheduler", ["sleep", "300"], {}))
            os.kill(os.getpid(), getattr(signal, sig))
            time.sleep(5)
            raise AssertionError(f"{sig} did not interrupt the start")
        except BaseException:
            stack.stop(timeout=5)
            raise

    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    monkeypatch.setattr(stack_module, "start_stack", start_stack)
    # On the old code the signal's default action would end pytest: catch it here instead.
    signal.signal(getattr(signal, sig), lambda *_: None)
    try:
        assert run_up(tmp_path, 0, aws_port=0) == 130
    finally:
        signal.signal(getattr(signal, sig), before[getattr(signal, sig)])
    assert "interrupted; everything started was stopped" in capsys.readouterr().err
    assert started[0].poll() is not None, "the component was stopped"
    assert {s: signal.getsignal(s) for s in before if s != getattr(signal, sig)} == {
        s: h for s, h in before.items() if s != getattr(signal, sig)
    }, "run_up restores the handlers it replaced"


def test_a_stale_postmaster_pid_of_another_process_is_not_a_running_server(home):
    """After a crash the pid in postmaster.pid may belong to any process by now."""
    from scones.localrun.servers import _postgres_version

    data = home / "postgres"
    data.mkdir()
    (data / "PG_VERSION").write_text(_postgres_version().split(".")[0] + "\n")
    (home / "postgres.password").write_text("pw")
    (home / "postgres.airflow-password").write_text("pw")
    (data / "postmaster.pid").write_text(f"{os.getpid()}\n{data}\n")  # this pytest process: alive, not postgres
    PostgresServer(data)._check_stale()  # no error: PostgreSQL recovers from the crash by itself


class FakeEmulator:
    def stop(self) -> None:
        pass


def test_a_secret_made_meanwhile_by_another_stack_is_kept(tmp_path):
    """Between "does it exist" and "create it" another stack made it: that was an uncaught FileExistsError."""
    from scones.localrun.servers import _secret

    path = tmp_path / "secrets" / "jwt-secret"

    def make_while_another_stack_does() -> str:
        path.write_text("the other stack's")
        return "mine"

    assert _secret(path, make_while_another_stack_does) == "the other stack's"
    assert _secret(path) == "the other stack's"


def test_a_secret_is_private_and_never_read_or_written_through_a_symlink(tmp_path):
    from scones.localrun.servers import _secret

    fresh = tmp_path / "fresh"
    assert _secret(fresh) == fresh.read_text() and fresh.stat().st_mode & 0o777 == 0o600
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not a secret of ours")
    planted = tmp_path / "planted"
    planted.symlink_to(elsewhere)
    with pytest.raises(ServerError, match=f"{planted} cannot be read as a plain file .*: remove it"):
        _secret(planted)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "created-through-the-link")
    with pytest.raises(ServerError):
        _secret(dangling)
    assert not (tmp_path / "created-through-the-link").exists()


def test_initdbs_password_file_is_private_and_not_written_through_a_planted_symlink(home, monkeypatch):
    import subprocess

    from scones.localrun import servers

    victim = home / "victim"
    victim.write_text("untouched")
    (home / "postgres.initdb-pw").symlink_to(victim)
    seen = {}

    def initdb(cmd, **kwargs):
        pwfile = Path(next(a for a in cmd if a.startswith("--pwfile=")).split("=", 1)[1])
        seen["mode"] = os.lstat(pwfile).st_mode
        seen["password"] = pwfile.read_text()
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(servers.subprocess, "run", initdb)
    server = PostgresServer(home / "postgres")
    server.bin = Path("/nonexistent")
    server._initdb()
    assert victim.read_text() == "untouched"
    assert seen == {"mode": 0o100600, "password": (home / "postgres.password").read_text()}
    assert not os.path.lexists(home / "postgres.initdb-pw")


def test_the_embedded_stacks_login_file_is_private(tmp_path):
    from scones.localrun.stack import USERNAME, _password

    password = _password(tmp_path)
    path = tmp_path / "simple_auth_manager_passwords.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text()) == {USERNAME: password} and _password(tmp_path) == password


def test_a_free_port_is_never_one_already_promised_to_another_server(monkeypatch):
    """The API server's port was free until it listened: Redis was once handed the same one."""
    from scones.localrun import servers

    with socket.socket() as sock:  # a port the user chose (--port): never one free_port returned
        sock.bind(("127.0.0.1", 0))
        api_port = sock.getsockname()[1]
    servers.require_free_port(api_port, "the Airflow UI", "--port")
    other = servers.free_port()
    answers = iter([api_port, other, api_port, 1234])  # the kernel offers the API server's port again

    class Socket:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def bind(self, address):
            pass

        def getsockname(self):
            return ("127.0.0.1", next(answers))

    monkeypatch.setattr(servers.socket, "socket", Socket)
    assert servers.free_port() == 1234


def test_log_server_addresses_missing_from_the_loopback_say_so_in_one_line():
    """macOS's loopback is 127.0.0.1 only: the Celery stack's 127.0.0.2... cannot be bound there."""
    from scones.localrun.celery_stack import free_port_on

    with pytest.raises(ServerError, match=r"192\.0\.2\.1 is no address of this machine: .*127\.0\.0\.0/8") as exc:
        free_port_on("127.0.0.1", "192.0.2.1")  # TEST-NET-1: on no interface here
    assert "\n" not in str(exc.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_death_signal_shim_says_when_the_kernel_refuses_it():
    from scones import pdeathsig

    with pytest.raises(OSError) as exc:
        pdeathsig.ask_for_signal(1000)  # no such signal: EINVAL
    assert exc.value.errno == errno.EINVAL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_death_signal_shim_runs_nothing_for_a_parent_already_gone():
    """The parent died before the request was made: no signal will ever come, so nothing runs."""
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    proc = subprocess.run(
        [sys.executable, "-m", "scones.pdeathsig", str(gone.pid), "15", "--", "echo", "ran"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "ran" not in proc.stdout
    mine = subprocess.run(
        [sys.executable, "-m", "scones.pdeathsig", str(os.getpid()), "15", "--", "echo", "ran"],
        capture_output=True,
        text=True,
    )
    assert mine.returncode == 0 and mine.stdout == "ran\n"


#: A parent as a script's background job starts it (``scones up &``: the shell ignores SIGINT and
#: SIGQUIT there), SIGQUIT blocked too; it starts a child that wants SIGQUIT at its death.
IGNORING_PARENT = """
import signal, subprocess, sys, time
from scones import pdeathsig
signal.signal(signal.SIGQUIT, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGQUIT})
child = [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"]
subprocess.Popen(pdeathsig.wrap(child, signal.SIGQUIT))
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_death_signal_reaches_a_child_whose_parent_ignored_or_blocked_it():
    """Both are inherited through exec: a Celery worker (death signal SIGQUIT) of a stack started
    in the background outlived the stack's kill -9 until the shim restored the signal."""
    import subprocess

    import psutil

    parent = subprocess.Popen([sys.executable, "-c", IGNORING_PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline() == "ready\n"
        (child,) = psutil.Process(parent.pid).children()
        parent.kill()
        parent.wait()
        _, alive = psutil.wait_procs([child], timeout=10)
    finally:
        parent.kill()
    for proc in alive:
        proc.kill()
    assert not alive, "the child outlived its parent"


class FakeAirflowAPI:
    """An API server whose monitor says healthy at once and whose Execution API answers only
    from its third request (before, 503: still building its routes)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.paths.append(self.path)
                if self.path == "/api/v2/monitor/health":
                    status, body = 200, {c: {"status": "healthy"} for c in ("metadatabase", "scheduler")}
                elif self.path == "/execution/health" and fake.paths.count(self.path) >= 3:
                    status, body = 200, {"status": "healthy"}
                else:
                    status, body = 503, {"detail": "not yet"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_the_stack_is_ready_once_its_execution_api_answers_not_only_its_monitor(tmp_path):
    """The Execution API builds its routes on its first request: left to the first task, that
    request timed out, and the task failed before it started."""
    from scones.localrun.stack import Stack, wait_healthy

    api = FakeAirflowAPI()
    try:
        wait_healthy(Stack(api.url, "admin", "", tmp_path, emulator=None), timeout=30)
    finally:
        api.server.shutdown()
    assert api.paths.count("/execution/health") == 3, api.paths
    assert api.paths[-1] == "/execution/health"
