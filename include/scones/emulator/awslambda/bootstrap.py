"""The runtime inside one Lambda worker process: import the handler once, then serve invocations.

This file runs as a script (``python -P bootstrap.py``) in a process of its own, so it imports
the standard library only: the function's code must see a clean interpreter, as in Lambda's
python runtime, with no emulator module loaded and nothing of ours shadowing its modules.

It speaks JSON lines with the emulator over the stdin/stdout it was started with; the
handler's own ``print``/``logging`` output (fds 1 and 2 once started) goes to the log file the
emulator gave as stderr, which the emulator turns into CloudWatch Logs events.

    emulator -> worker   {"id": ..., "event": "<json text>", "deadline_ms": ..., "invoked_arn": ...}
    worker -> emulator   {"type": "ready"} once, or {"type": "init_error", "error": {...}}
                         {"id": ..., "ok": true, "payload": "<json text>", "duration_ms": ..., "max_rss_kb": ...}
                         {"id": ..., "ok": false, "error": {errorMessage, errorType, stackTrace}, ...}

Errors take the shape of Lambda's python runtime (awslambdaric), so a state machine can
Retry/Catch on ``errorType`` (the exception's class name).
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback
from types import SimpleNamespace
from typing import IO, Any

#: Lambda's limit on a synchronous invocation's response (6 MB and 100 bytes, as its error says).
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100
_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"


class LambdaContext:
    """The ``context`` argument, with the attributes Lambda's python runtime gives it."""

    def __init__(self, request: dict[str, Any]) -> None:
        env = os.environ
        self.aws_request_id: str = request["id"]
        self.invoked_function_arn: str = request["invoked_arn"]
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        client_context = request.get("client_context")
        self.client_context = SimpleNamespace(**client_context) if client_context else None
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


class _RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id, as Lambda's log handler does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _error(message: str, error_type: str, tb: Any = None) -> dict[str, Any]:
    stack = traceback.format_list(traceback.extract_tb(tb)) if tb is not None else []
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack}


def _log_error(error: dict[str, Any]) -> None:
    """Lambda logs an unhandled error as ``[ERROR] Type: message`` plus the traceback."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(frame.rstrip("\n") for frame in error["stackTrace"])
    print("\n".join(lines), flush=True)


class _InitError(Exception):
    """The handler could not be loaded: Lambda's Runtime.* init errors."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error = _error(message, error_type)


def _load_handler(handler: str) -> Any:
    """Import ``module.function`` (``dir/module.function`` too) as Lambda does."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _InitError(f"Bad handler '{handler}': {exc}", "Runtime.MalformedHandlerName") from None
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _InitError(f"Unable to import module '{module_name}': {exc}", "Runtime.ImportModuleError") from None
    except SyntaxError as exc:
        raise _InitError(f"Syntax error in module '{module_name}': {exc}", "Runtime.UserCodeSyntaxError") from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        raise _InitError(message, "Runtime.HandlerNotFound") from None


def _default(value: Any) -> Any:
    # Lambda's runtime serializes Decimal (what DynamoDB returns) as a number.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _invoke(handler: Any, request: dict[str, Any], request_filter: _RequestIdFilter) -> dict[str, Any]:
    request_filter.request_id = request["id"]
    started = time.perf_counter()
    reply: dict[str, Any] = {"id": request["id"]}
    try:
        event = json.loads(request["event"])
        result = handler(event, LambdaContext(request))
        try:
            payload = json.dumps(result, default=_default)
        except (TypeError, ValueError) as exc:
            error = _error(f"Unable to marshal response: {exc}", "Runtime.MarshalError")
            _log_error(error)
            reply.update(ok=False, error=error)
        else:
            if len(payload.encode()) > MAX_RESPONSE_BYTES:
                # Lambda's words (moto's server answers the same over HTTP; the Step Functions
                # interpreter calls the backend in-process, so the limit is enforced here).
                error = _error(
                    f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                    "Function.ResponseSizeTooLarge",
                )
                _log_error(error)
                reply.update(ok=False, error=error)
            else:
                reply.update(ok=True, payload=payload)
    except Exception as exc:
        # Drop this runtime's own frame: the stack trace starts in the function's code.
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        error = _error(str(exc), type(exc).__name__, tb)
        _log_error(error)
        reply.update(ok=False, error=error)
    reply["duration_ms"] = (time.perf_counter() - started) * 1000
    # REPORT's "Max Memory Used", read here rather than by the emulator per call. Not
    # getrusage's ru_maxrss: Linux carries it over exec, from the emulator's own peak.
    reply["max_rss_kb"] = _peak_rss_kb()
    sys.stdout.flush()
    sys.stderr.flush()
    return reply


def _peak_rss_kb() -> int:
    """This process's peak resident memory (``VmHWM``), in kB; 0 where /proc has none."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _send(channel: IO[bytes], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message).encode() + b"\n")
    channel.flush()


def main() -> None:
    # Keep the emulator's pipes to ourselves; the function sees the log file on fds 1 and 2
    # (as Lambda's runtime sends stdout and stderr to CloudWatch) and nothing on stdin.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)

    task_root = os.environ["LAMBDA_TASK_ROOT"]
    os.chdir(task_root)
    sys.path.insert(0, task_root)

    request_filter = _RequestIdFilter()
    log_handler = logging.StreamHandler(sys.stdout)
    log_handler.setFormatter(logging.Formatter(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S"))
    log_handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    log_handler.addFilter(request_filter)
    logging.getLogger().addHandler(log_handler)

    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except _InitError as exc:
        _log_error(exc.error)
        _send(replies, {"type": "init_error", "error": exc.error})
        return
    except Exception as exc:
        error = _error(str(exc), type(exc).__name__, exc.__traceback__)
        _log_error(error)
        _send(replies, {"type": "init_error", "error": error})
        return
    _send(replies, {"type": "ready"})

    for line in requests:  # EOF: the emulator stopped this worker, or is gone
        _send(replies, _invoke(handler, json.loads(line), request_filter))


if __name__ == "__main__":
    main()
