"""When state is written: after each request that may have changed it, before its answer goes out.

- S3, key level: PutObject, CopyObject, DeleteObject and CompleteMultipartUpload write their
  key's record in moto's key store itself (``s3_objects``); a request that changes a stored
  object in place (``?tagging``, ``?acl``, ``?retention``...) rewrites its record here (and
  S3's backends file: object tags are kept in the backend's tagger).
  Bucket level (CreateBucket, its settings, DeleteBucket) and multipart uploads in progress
  (kept in the bucket): S3's backends file.
- Every other service: after any request but a read (GET/HEAD without a mutating
  ``?Action=``, an ``X-Amz-Target`` action named Describe*/List*/Get*..., or an Invoke: see
  :func:`is_read`), the requested service's backends are written if they changed, with
  those it changes before answering (``backends.CROSS_EFFECTS``: SNS delivering to SQS);
  a ``/moto-api/`` mutation writes all. A read that finds a background change unsaved
  (a job's end: ``changes``) writes everything first.
- An ``OSError`` writing S3's state answers S3's XML ``InternalError`` (nothing stored);
  any other failure a JSON ``InternalFailure``, never Flask's HTML 500.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from scones.emulator.persistence.layout import commit

log = logging.getLogger(__name__)

READ_PREFIXES = ("Describe", "List", "Get", "Search", "BatchGet", "Query", "Head", "Check", "Validate", "Test")
_IN_PLACE = ("tagging", "acl", "retention", "legal-hold", "restore")
_MULTIPART = ("uploads", "uploadId", "partNumber")


class Costs:
    """Time requests spent writing state, for the benchmarks (``GET /moto-api/scones/persistence``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.writes = 0
        self._lock = threading.Lock()

    def add(self, started: float) -> None:
        elapsed = time.perf_counter() - started
        with self._lock:
            self.seconds += elapsed
            self.writes += 1

    def answer(self, request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
        with self._lock:
            body = {
                "seconds": self.seconds,
                "writes": self.writes,
                "ms_per_write": 1000 * self.seconds / self.writes if self.writes else 0.0,
            }
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


COSTS = Costs()


class Activity:
    """Counts requests, so that the background snapshot can rest while nobody calls."""

    def __init__(self) -> None:
        self.count = 0

    def bump(self) -> None:
        self.count += 1  # a lost increment under a race only delays a snapshot by a tick


ACTIVITY = Activity()


def is_read(environ: dict[str, Any]) -> bool:
    """A request that changes no state a client was told about.

    Lambda's Invoke and SageMaker's InvokeEndpoint (``POST .../invocations``) count as reads:
    they change no resource, and what they leave (CloudWatch log events, capture records) is
    written by the background snapshot within 2 s. They are the hot path of the workflow, and
    the logs they grow are the largest state there is.
    """
    if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD", "OPTIONS"):
        # The query protocol (SQS, SNS, IAM) takes a mutation as a GET too: ?Action=CreateQueue
        action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
        return not action or action.startswith(READ_PREFIXES)
    if environ.get("PATH_INFO", "").endswith("/invocations"):
        return True
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return bool(target) and target.rsplit(".", 1)[-1].startswith(READ_PREFIXES)


def _not_kept(exc: Exception, start_response: Any) -> list[bytes]:
    message = (
        f"the request was carried out but the local AWS emulator could not write its state "
        f"({type(exc).__name__}: {exc}); it will be lost at the next restart"
    )
    body = json.dumps({"__type": "InternalFailure", "message": message, "Message": message}).encode()
    start_response(
        "500 INTERNAL SERVER ERROR",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
        sys.exc_info(),
    )
    return [body]


def install_wsgi_hook(save_others: Callable[[str], Any], unsaved: Callable[[], bool] = lambda: False) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    def __call__(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
        app = self.get_application(environ)
        status: list[str] = []

        def record_status(code: str, headers: Any, *exc_info: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *exc_info)

        body = app(environ, record_status)
        service = getattr(app, "service", None)
        # A read after a change made outside a request (a job's end: ``changes``) saves it before
        # answering: what the client is shown (Completed, SUCCEEDED) must survive a kill -9.
        written = status and status[0][:1] in "23" and not is_read(environ)
        ACTIVITY.bump()
        # /moto-api/reset, the state manager, the emulator's control routes: everything may have changed.
        if service != "s3" and (written or unsaved()):
            started = time.perf_counter()
            try:
                # a /moto-api/ change is saved as such (S3 included) even when a background change waits
                save_others(service if written and (service == "moto_api" or not unsaved()) else "")
            except Exception as exc:  # the change is made but not kept: say so, as a JSON 500, not an HTML one
                log.exception("could not write the emulator's state")
                return _not_kept(exc, start_response)
            COSTS.add(started)
        return body

    DomainDispatcherApplication.__call__ = __call__  # type: ignore[method-assign]


def _s3_not_stored(exc: OSError) -> tuple[int, dict[str, str], str]:
    """S3's own error format for a write the disk refused (full, a file-size limit): nothing stored."""
    from xml.sax.saxutils import escape

    message = (
        f"the local AWS emulator could not write this request's data to its state folder "
        f"({type(exc).__name__}: {exc}); nothing was stored"
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
        f"<Message>{escape(message)}</Message></Error>"
    )
    return 500, {"Content-Type": "application/xml"}, body


def install_s3_hooks(save_buckets: Callable[[], Any], persist_key: Callable[[Any, str, str], None]) -> None:
    from moto.s3.responses import S3Response

    key_response, bucket_response = S3Response.key_response, S3Response.bucket_response

    # An OSError (ENOSPC, EFBIG) from a body, a key record (written before the key store
    # changes, see s3_objects) or a backends file: S3's XML InternalError, not Flask's HTML 500.
    def key_hook(self: S3Response, request: Any, full_url: str, headers: Any) -> Any:
        try:
            answer = key_response(self, request, full_url, headers)
            if request.method not in ("GET", "HEAD") and answer[0] < 300:
                started = time.perf_counter()
                query = self._get_querystring(request, full_url)
                if any(name in query for name in _IN_PLACE):
                    persist_key(self.backend, self.parse_bucket_name_from_url(request, full_url), self.parse_key_name())
                if any(name in query for name in (*_IN_PLACE, *_MULTIPART)):
                    save_buckets()  # object tags live in the backend's tagger; uploads in progress in their bucket
                    commit()
                    COSTS.add(started)
        except OSError as exc:
            log.exception("could not write the emulator's S3 state")
            return _s3_not_stored(exc)
        return answer

    def bucket_hook(self: S3Response, request: Any, full_url: str, headers: Any) -> Any:
        try:
            answer = bucket_response(self, request, full_url, headers)
            if request.method not in ("GET", "HEAD") and answer[0] < 300:
                started = time.perf_counter()
                save_buckets()
                COSTS.add(started)
        except OSError as exc:
            log.exception("could not write the emulator's S3 state")
            return _s3_not_stored(exc)
        return answer

    S3Response.key_response = key_hook  # type: ignore[method-assign]
    S3Response.bucket_response = bucket_hook  # type: ignore[method-assign]
