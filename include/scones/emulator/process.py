"""Run the emulator in a child process: how `scones demo`, the tests and benchmarks use it.

A child process keeps the emulator's moto state apart from any in-process ``mock_aws``
(which resets moto's global backends) and from the caller's signal handlers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from scones import pdeathsig

#: Credentials the emulator accepts; never real ones.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_READY = re.compile(r"local AWS ready at (http://\S+)")


class EndpointSession:
    """A boto3 session whose clients talk to one endpoint (the emulator) with its fake keys."""

    def __init__(self, endpoint_url: str, region: str = "us-east-1") -> None:
        import boto3

        self.endpoint_url = endpoint_url
        self._session = boto3.Session(
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )

    def client(self, service: str, **kwargs: object):
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        return self._session.client(service, **kwargs)  # type: ignore[call-overload]


class EmulatorFailedToStart(RuntimeError):
    """The emulator process exited or never said it was ready."""


class EmulatorProcess:
    """``scones local-aws --port PORT`` as a child (0: a free port); ``endpoint_url`` once started.

    ``state_dir``: the folder it keeps its state in; None (the default, for tests and
    ``scones demo``): ``--ephemeral``, in memory only.
    """

    def __init__(
        self,
        startup_timeout: float = 60.0,
        env: dict[str, str] | None = None,
        port: int = 0,
        state_dir: str | os.PathLike[str] | None = None,
        die_with_parent: bool = False,
    ) -> None:
        self.startup_timeout = startup_timeout
        self.die_with_parent = die_with_parent  # scones up: SIGTERM when the stack's process dies (Linux)
        self.env = env
        self.port = port
        self.state_dir = state_dir
        self.endpoint_url: str = ""
        self.output: deque[str] = deque(maxlen=2000)  # its recent log lines, for diagnosis
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> EmulatorProcess:
        env = {**os.environ, **LOCAL_CREDENTIALS, "PYTHONUNBUFFERED": "1", **(self.env or {})}
        env.pop("AWS_ENDPOINT_URL", None)  # the emulator itself talks to no other AWS
        env.pop("_AIRFLOW_WWW_USER_PASSWORD", None)  # the Airflow admin's (scones up --stack celery): not its business
        cmd = [
            sys.executable,
            "-m",
            "scones.cli",
            "local-aws",
            "--port",
            str(self.port),
            *(["--state-dir", str(self.state_dir)] if self.state_dir is not None else ["--ephemeral"]),
        ]
        if self.die_with_parent and pdeathsig.supported():
            cmd = pdeathsig.wrap(cmd)
        self._proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self._proc and self._proc.stdout
            for line in self._proc.stdout:
                self.output.append(line.rstrip("\n"))
                if not ready.is_set() and (m := _READY.search(line)):
                    self.endpoint_url = m.group(1)
                    ready.set()
            ready.set()  # EOF: the process ended

        threading.Thread(target=pump, daemon=True, name="emulator-output").start()
        if not ready.wait(self.startup_timeout) or not self.endpoint_url:
            self.stop()
            raise EmulatorFailedToStart("the local AWS emulator did not start; its output:\n" + "\n".join(self.output))
        return self

    def session(self, region: str = "us-east-1") -> EndpointSession:
        """boto3 clients for this emulator: ``emu.session().client("s3")``."""
        return EndpointSession(self.endpoint_url, region)

    def client_env(self) -> dict[str, str]:
        """Environment that points boto3 (and moto's own callbacks) at this emulator."""
        return {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        }

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def kill(self) -> None:
        """SIGKILL: a crash, as the persistence tests need one."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def stop(self, timeout: float = 15.0) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running_emulator(**kwargs: object) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(**kwargs) as emu:  # type: ignore[arg-type]
        yield emu
