"""Retry S3 calls through an outage, and tell such an outage apart from bad input.

botocore already retries a few times within milliseconds; an S3 hiccup or a restarting
endpoint lasts seconds. :func:`with_retries` adds exponential backoff on top for errors that
waiting can heal (connection errors, timeouts, 5xx but 501, throttling) and raises
:class:`~scones.errors.DestinationUnavailable` when they outlast it. Any other error
(NoSuchBucket, AccessDenied, a failed precondition) is not retried: it is the caller's to explain.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectionError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)

from scones.errors import DestinationUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

#: S3 error codes that mean "not now" rather than "not like this".
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ConditionalRequestConflict",
        "500",
        "502",
        "503",
        "504",
    }
)
ATTEMPTS = 6
BACKOFF = 0.5  # seconds before the first retry, doubled each time: 0.5 + 1 + 2 + 4 + 8


#: "This store cannot do that" (501): e.g. an S3-compatible store without conditional writes.
NOT_IMPLEMENTED_CODES = frozenset({"NotImplemented", "501"})


def is_not_implemented(exc: BaseException) -> bool:
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return exc.response.get("Error", {}).get("Code", "") in NOT_IMPLEMENTED_CODES or status == 501


def is_transient(exc: BaseException) -> bool:
    """True for errors that waiting can heal (a 5xx other than 501: waiting never implements a feature)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return not is_not_implemented(exc) and (error.get("Code", "") in TRANSIENT_CODES or status >= 500)
    return isinstance(
        exc, (EndpointConnectionError, ConnectionClosedError, ConnectionError, ReadTimeoutError, HTTPClientError)
    )


def with_retries(
    call: Callable[[], T],
    what: str,
    *,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """``call()``, retried with exponential backoff (and jitter) while it fails transiently.

    :param what: what the call does, for the message ("uploading images to bucket 'b'").
    :raises DestinationUnavailable: still failing transiently after ``attempts`` tries.
    """
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts - 1:
                raise DestinationUnavailable(
                    f"S3 kept failing while {what} ({attempts} tries over about "
                    f"{backoff * (2 ** (attempts - 1) - 1):.0f} s): {exc}. This is not the input's fault; "
                    "nothing was published, rerun when S3 is reachable"
                ) from exc
            delay = backoff * 2**attempt * (0.75 + random.random() / 2)
            log.warning("S3 error while %s (%s); retry %d in %.1f s", what, exc, attempt + 1, delay)
            (sleep or time.sleep)(delay)
    raise AssertionError("unreachable")  # pragma: no cover
