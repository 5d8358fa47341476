"""``LocalLambdaBackend``: moto's Lambda backend with an ``invoke`` that runs the function's code.

Everything else (CreateFunction, UpdateFunctionCode, GetFunction, versions, aliases...) is
moto's. Only ``invoke`` changes, as ``LambdaSimpleBackend`` (moto/awslambda_simple/models.py)
changes only ``invoke`` to echo instead of starting Docker.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.utils import make_function_arn

from scones.emulator.awslambda import logs
from scones.emulator.awslambda.exceptions import (
    InvalidRequestContentException,
    RequestTooLargeException,
    TooManyRequestsException,
)
from scones.emulator.awslambda.function_spec import FunctionSpec
from scones.emulator.awslambda.pool import WorkerPool
from scones.emulator.awslambda.worker import Outcome

log = logging.getLogger(__name__)

#: Lambda's limit on a synchronous request payload.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: ... and on an asynchronous (Event) one: "For asynchronous invocations, the maximum payload size
#: is 1 MB" (Invoke's reference, botocore 1.43's model; it was 256 KB until late 2025).
MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024

#: The warm workers of every function, shared by all accounts and regions of the emulator.
POOL = WorkerPool()


class ReservedConcurrency:
    """PutFunctionConcurrency enforced: a synchronous invocation beyond the reservation is throttled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    @contextlib.contextmanager
    def slot(self, fn: LambdaFunction) -> Iterator[None]:
        reserved = fn.reserved_concurrency
        if reserved is None:
            yield
            return
        key = fn.function_arn.split(":function:", 1)[0] + ":function:" + fn.function_name  # all versions share it
        with self._lock:
            if self._running.get(key, 0) >= int(reserved):
                raise TooManyRequestsException(fn.function_name, int(reserved))
            self._running[key] = self._running.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running[key] -= 1


RESERVATIONS = ReservedConcurrency()


class LocalLambdaBackend(LambdaBackend):
    """moto's Lambda backend; ``invoke`` runs the handler in a warm python worker process."""

    def invoke(
        self,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        """Run the function's handler on the payload and return its JSON result.

        The function's zip is unzipped once per code hash and its handler imported in a
        worker process (``sys.executable``, with ``AWS_ENDPOINT_URL`` pointing at this
        emulator) that stays warm for the next invocation of the same version. A handler
        exception, a timeout or a crash answer as Lambda does: ``X-Amz-Function-Error:
        Unhandled`` and ``{"errorMessage", "errorType", "stackTrace"}``. Output goes to
        CloudWatch Logs ``/aws/lambda/<name>``; ``InvocationType=Event`` returns 202 at once
        and runs in the background. Settings (concurrency bound, idle time) are in
        ``scones.emulator.awslambda._config``.

        .. sourcecode:: python

            import io, json, zipfile, boto3

            code = io.BytesIO()
            with zipfile.ZipFile(code, "w") as z:
                z.writestr("app.py", "def handler(event, context):\\n    return {'sum': sum(event)}\\n")
            client = boto3.client("lambda", endpoint_url="http://127.0.0.1:5000", region_name="us-east-1")
            client.create_function(FunctionName="add", Runtime="python3.11", Handler="app.handler",
                                   Role="arn:aws:iam::123456789012:role/x", Code={"ZipFile": code.getvalue()})
            resp = client.invoke(FunctionName="add", Payload=json.dumps([1, 2]))
            json.load(resp["Payload"])  # {"sum": 3}
        """
        fn = self.get_function(function_name, qualifier)
        spec = FunctionSpec.from_moto(fn)  # refuses non-python and image functions
        invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        event = _event_text(body, MAX_ASYNC_PAYLOAD_BYTES if invocation_type == "Event" else MAX_PAYLOAD_BYTES)
        client_context = _client_context(headers.get("X-Amz-Client-Context"))
        unqualified_arn = make_function_arn(self.region_name, self.account_id, fn.function_name)
        invoked_arn = f"{unqualified_arn}:{qualifier}" if qualifier else fn.function_arn  # as the caller named it
        response_headers["x-amz-executed-version"] = spec.version
        run = functools.partial(_run, fn.logs_backend, spec, str(uuid.uuid4()), event, invoked_arn, client_context)

        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            if fn.reserved_concurrency is not None and int(fn.reserved_concurrency) == 0:
                log.info("asynchronous invocation of %s throttled: reserved concurrency 0", spec.function_name)
                return b""  # Lambda keeps such an event queued until it expires; it never runs
            threading.Thread(
                target=_run_in_background,
                args=(run, spec.function_name),
                name=f"lambda-event-{spec.function_name}",
                daemon=True,
            ).start()
            return b""

        with RESERVATIONS.slot(fn):
            outcome, lines = run()
        if outcome.function_error:
            response_headers["x-amz-function-error"] = outcome.function_error
        response_headers["x-amz-log-result"] = logs.tail(lines)  # moto drops it unless LogType=Tail
        response_headers["Content-Length"] = str(len(outcome.payload))
        return outcome.payload

    def delete_function(self, function_name: str, qualifier: str | None = None) -> None:
        """moto's DeleteFunction, then the function's warm workers are stopped."""
        fn = self.get_function(function_name, qualifier)
        super().delete_function(function_name, qualifier)
        POOL.forget(fn.function_arn)

    def reset(self) -> None:
        # /moto-api/reset forgets every function: their warm workers must go too.
        POOL.forget(make_function_arn(self.region_name, self.account_id, ""))
        super().reset()


def invoke_as_event(function: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> bytes:
    """``LambdaFunction.invoke``, which moto's SNS, S3 notifications and stream pollers call: an
    asynchronous invocation (``Event``) on this emulator's workers instead of moto's Docker."""
    from moto.awslambda.utils import get_backend  # ours, unless use_docker was switched off

    backend = get_backend(function.account_id, function.region)
    qualifier = None if function.version == "$LATEST" else str(function.version)
    return (
        backend.invoke(function.function_name, qualifier, body, {"X-Amz-Invocation-Type": "Event"}, response_headers)
        or b""
    )


def _run(
    logs_backend: Any, spec: FunctionSpec, request_id: str, event: str, invoked_arn: str, client_context: Any
) -> tuple[Outcome, list[str]]:
    """One invocation on the pool, its lines written to CloudWatch Logs; the outcome and lines."""
    outcome, stream = POOL.invoke(spec, request_id, event, invoked_arn, client_context)
    init, lines = logs.invocation_lines(spec, outcome)
    logs.write(logs_backend, spec.log_group, stream, init + lines)
    return outcome, lines


def _run_in_background(run: Callable[[], tuple[Outcome, list[str]]], function_name: str) -> None:
    """An Event invocation: nobody waits for it, so failures go to the emulator's log."""
    try:
        outcome, _ = run()
    except Exception:
        log.exception("asynchronous invocation of %s failed to run", function_name)
        return
    if outcome.error:
        log.info(
            "asynchronous invocation %s of %s failed: %s", outcome.request_id, function_name, outcome.error["errorType"]
        )


def _event_text(body: str | bytes | None, limit: int) -> str:
    """The payload as JSON text ("{}" when empty); Lambda refuses anything that is not JSON or over ``limit``."""
    size = len(body) if isinstance(body, bytes) else len((body or "").encode("utf-8"))
    if size > limit:  # bytes, not characters: Lambda counts the request's bytes
        raise RequestTooLargeException(size, limit)
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not body:
        return "{}"
    try:
        json.loads(body)
    except ValueError as exc:
        raise InvalidRequestContentException(f"Could not parse request body into json: {exc}") from None
    return body


def _client_context(header: str | None) -> dict[str, Any] | None:
    """``ClientContext``: base64 JSON with ``client``, ``custom`` and ``env`` (all optional)."""
    if not header:
        return None
    try:
        value = json.loads(base64.b64decode(header))
    except (binascii.Error, ValueError):
        raise InvalidRequestContentException("Client context must be base64-encoded JSON") from None
    return {key: value.get(key) for key in ("client", "custom", "env")} if isinstance(value, dict) else None
