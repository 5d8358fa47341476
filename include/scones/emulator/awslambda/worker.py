"""One warm execution environment: a python process that imported the handler once.

The emulator's side of ``bootstrap.py``. A worker runs one invocation at a time; the pool
keeps it for the next invocation of the same function version (module-level state survives,
as in Lambda) and throws it away when it times out, exits, or its function changes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scones.emulator.awslambda.function_spec import FunctionSpec

#: The runtime the worker process runs (standard library only).
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
#: Lambda gives a function's init phase 10 s (more if its timeout is longer).
INIT_SECONDS = 10.0
#: Credentials a function sees: fake, the emulator accepts any.
FUNCTION_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
#: Variables of the emulator's own environment a function also gets (no AWS_*, no PYTHONPATH).
_INHERITED = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass
class Outcome:
    """What one invocation produced, in Lambda's terms."""

    request_id: str
    payload: bytes  # the Invoke response body: the handler's JSON result, or the error object
    error: dict[str, Any] | None  # {errorMessage, errorType, stackTrace} when the function failed
    output: str  # what the function printed or logged meanwhile (its CloudWatch lines)
    duration_ms: float
    max_memory_mb: int
    init_ms: float | None = None  # set on a cold start (REPORT's "Init Duration")
    init_output: str = ""  # what importing the handler printed (logged before START)
    status: str | None = None  # REPORT's "Status": "timeout" or "error" when the worker died

    @property
    def function_error(self) -> str | None:
        """Lambda's ``X-Amz-Function-Error``: "Unhandled" for any error of the function."""
        return "Unhandled" if self.error is not None else None


def failure(request_id: str, error_type: str, message: str, **fields: Any) -> Outcome:
    error = {"errorMessage": message, "errorType": error_type}
    return Outcome(request_id, json.dumps(error).encode(), error, "", 0.0, 0, **fields)


class Worker:
    """A started ``bootstrap.py`` for one function spec."""

    def __init__(self, spec: FunctionSpec, task_root: Path, log_path: Path, endpoint_url: str) -> None:
        self.spec = spec
        self.log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        self.last_used = time.monotonic()
        self.init_ms: float | None = None  # until the first invocation reports it
        self.init_output = ""
        self._log_path = log_path
        self._log = open(log_path, "rb")
        self._buffer = bytearray()
        self._spawned = time.monotonic()
        with open(log_path, "ab") as log_sink:  # append mode: we can empty it under the worker
            self._proc = subprocess.Popen(
                [sys.executable, "-P", str(BOOTSTRAP)],  # -P: the bootstrap's folder stays off sys.path
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_sink,
                cwd=task_root,
                env=self._environment(task_root, endpoint_url),
                start_new_session=True,  # its own process group: a timeout kills what it started too
                bufsize=0,
            )
        self._stdin: IO[bytes] = self._proc.stdin  # type: ignore[assignment]
        self._stdout_fd = self._proc.stdout.fileno()  # type: ignore[union-attr]

    def _environment(self, task_root: Path, endpoint_url: str) -> dict[str, str]:
        spec = self.spec
        env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
        env.update(
            # No endpoint in a handler: boto3 reads AWS_ENDPOINT_URL, as moto feeds its containers.
            AWS_ENDPOINT_URL=endpoint_url,
            # Never the host's ~/.aws: a function must not pick up a real profile or region.
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            PYTHONUNBUFFERED="1",  # prints reach the log even if the worker is killed
            TZ=":UTC",
        )
        env.update(spec.environment)
        env.update(  # reserved by Lambda: a function cannot override them
            FUNCTION_CREDENTIALS,
            _HANDLER=spec.handler,
            AWS_REGION=spec.region,
            AWS_DEFAULT_REGION=spec.region,
            AWS_EXECUTION_ENV=f"AWS_Lambda_{spec.runtime}",
            AWS_LAMBDA_FUNCTION_NAME=spec.function_name,
            AWS_LAMBDA_FUNCTION_VERSION=spec.version,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(spec.memory_size),
            AWS_LAMBDA_LOG_GROUP_NAME=spec.log_group,
            AWS_LAMBDA_LOG_STREAM_NAME=self.log_stream,
            LAMBDA_TASK_ROOT=str(task_root),
            LAMBDA_RUNTIME_DIR=str(BOOTSTRAP.parent),
        )
        return env

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def start(self, request_id: str) -> Outcome | None:
        """Wait for the handler to be imported; an :class:`Outcome` if that failed, else None."""
        started = self._spawned  # Lambda's Init Duration counts the runtime's start-up too
        budget = max(INIT_SECONDS, self.spec.timeout)
        try:
            message = self._read(started + budget)
        except _WorkerExited as exc:
            outcome = self._died(request_id, exc.returncode, started)
            outcome.init_output, outcome.output = outcome.output, ""
            return outcome
        if message is None:
            return self._timed_out(request_id, budget, started)
        if message.get("type") == "init_error":
            error = message["error"]
            outcome = Outcome(
                request_id,
                json.dumps(error).encode(),
                error,
                "",
                0.0,
                self._max_memory_mb(),
                init_ms=(time.monotonic() - started) * 1000,
                init_output=self._take_output(),
                status="error",
            )
            self.stop()
            return outcome
        self.init_ms = (time.monotonic() - started) * 1000
        self.init_output = self._take_output()
        return None

    def invoke(self, request_id: str, event: str, invoked_arn: str, client_context: Any = None) -> Outcome:
        """Run the handler on ``event`` (JSON text), within the function's timeout."""
        started = time.monotonic()
        deadline = started + self.spec.timeout
        request = {
            "id": request_id,
            "event": event,
            "invoked_arn": invoked_arn,
            "client_context": client_context,
            "deadline_ms": int((time.time() + self.spec.timeout) * 1000),
        }
        # Only the first invocation reports the init phase.
        init_ms, self.init_ms = self.init_ms, None
        init_output, self.init_output = self.init_output, ""
        try:
            self._send(json.dumps(request).encode() + b"\n")
            reply = self._read(deadline)
        except (BrokenPipeError, _WorkerExited):
            return self._died(request_id, self._proc.wait(), started, init_ms)
        if reply is None:
            return self._timed_out(request_id, self.spec.timeout, started, init_ms)
        self.last_used = time.monotonic()
        payload = reply["payload"].encode() if reply["ok"] else json.dumps(reply["error"]).encode()
        return Outcome(
            request_id,
            payload,
            None if reply["ok"] else reply["error"],
            self._take_output(),
            reply["duration_ms"],
            reply["max_rss_kb"] // 1024,
            init_ms,
            init_output,
        )

    def stop(self) -> None:
        # The whole group, even when the worker itself has exited: what its handler started
        # (a subprocess, a forked child) would otherwise outlive it, and the emulator too.
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._proc.wait()
        for stream in (self._stdin, self._proc.stdout, self._log):
            if stream is not None:
                stream.close()
        self._log_path.unlink(missing_ok=True)

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # an unbuffered pipe may take a large event in several writes
            view = view[self._stdin.write(view) or 0 :]

    def _read(self, deadline: float) -> dict[str, Any] | None:
        """The worker's next JSON line, or None if ``deadline`` passes first.

        Each chunk is appended in place and only it is searched for the end of the line, so a
        reply of several MB reads in linear time (re-scanning the whole buffer per 64 KiB chunk
        took seconds for 20 MB, counted against the function's timeout).
        """
        end = self._buffer.find(b"\n")
        while end < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._stdout_fd], [], [], min(remaining, 1.0))
            if not ready:
                # A child the handler forked may hold the pipe open after the worker died.
                if self._proc.poll() is not None:
                    raise _WorkerExited(self._proc.returncode)
                continue
            chunk = os.read(self._stdout_fd, 1 << 20)
            if not chunk:
                raise _WorkerExited(self._proc.wait())
            searched = len(self._buffer)
            self._buffer += chunk
            end = self._buffer.find(b"\n", searched)
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return json.loads(line)

    def _take_output(self) -> str:
        """What the function wrote since the last call (the log file is emptied)."""
        if os.fstat(self._log.fileno()).st_size == 0:  # most calls of a quiet function
            return ""
        self._log.seek(0)
        data = self._log.read()
        os.truncate(self._log_path, 0)  # the worker appends (O_APPEND), so it goes on at 0
        return data.decode("utf-8", errors="replace")

    def _max_memory_mb(self) -> int:
        try:
            status = Path(f"/proc/{self._proc.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
        return 0

    def _timed_out(self, request_id: str, seconds: float, started: float, init_ms: float | None = None) -> Outcome:
        # Lambda's shape for a timeout: FunctionError "Unhandled", errorType "Sandbox.Timedout".
        outcome = failure(
            request_id,
            "Sandbox.Timedout",
            f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
            init_ms=init_ms,
            status="timeout",
        )
        outcome.output = self._take_output() + (
            f"{datetime.now(UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')} "
            f"{request_id} Task timed out after {seconds:.2f} seconds\n"
        )
        outcome.duration_ms = (time.monotonic() - started) * 1000
        self.stop()
        return outcome

    def _died(self, request_id: str, returncode: int, started: float, init_ms: float | None = None) -> Outcome:
        how = f"signal: {_signal_name(-returncode)}" if returncode < 0 else f"exit status {returncode}"
        outcome = failure(
            request_id,
            "Runtime.ExitError",
            f"RequestId: {request_id} Error: Runtime exited with error: {how}",
            init_ms=init_ms,
            status="error",
        )
        outcome.output = self._take_output()
        outcome.duration_ms = (time.monotonic() - started) * 1000
        self.stop()
        return outcome


def _signal_name(number: int) -> str:
    """``SIGKILL`` for 9; a real-time signal Python has no name for is its number."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _WorkerExited(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(f"worker exited with {returncode}")
        self.returncode = returncode
