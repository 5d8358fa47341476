"""The Lambda executor's settings: moto's ``/moto-api/config``, then the environment, then defaults.

Set them on a running emulator through moto's control API (``set_config`` replaces the whole
``lambda`` section, so send every key you want to keep)::

    import requests
    requests.post(f"{endpoint_url}/moto-api/config", json={"lambda": {"max_concurrency": 4}})

or before it starts, in its environment (``SCONES_LAMBDA_MAX_CONCURRENCY=4 scones local-aws``).
``{"lambda": {"use_docker": false}}`` is moto's own switch back to its echoing simple backend.
"""

from __future__ import annotations

import os

from moto import settings as moto_settings
from moto.core.config import default_user_config

#: At most this many invocations run at once, over all functions (Lambda's account-level
#: concurrency, scaled to a laptop). Further invocations wait for a free slot.
DEFAULT_MAX_CONCURRENCY = 10
#: A warm worker idle for this long is stopped (Lambda keeps environments for minutes too).
DEFAULT_IDLE_SECONDS = 300.0


def _setting(key: str, default: str) -> str:
    value = default_user_config.get("lambda", {}).get(key)  # type: ignore[misc]
    if value is None:
        value = os.environ.get(f"SCONES_LAMBDA_{key.upper()}", default)
    return str(value)


def max_concurrency() -> int:
    """``max_concurrency`` / ``SCONES_LAMBDA_MAX_CONCURRENCY``: invocations running at once."""
    value = _setting("max_concurrency", str(DEFAULT_MAX_CONCURRENCY))
    try:
        limit = int(value)
    except ValueError:
        raise ValueError(f"Lambda max_concurrency must be a whole number >= 1, got {value!r}") from None
    if limit < 1:
        raise ValueError(f"Lambda max_concurrency must be a whole number >= 1, got {value!r}")
    return limit


def idle_seconds() -> float:
    """``idle_seconds`` / ``SCONES_LAMBDA_IDLE_SECONDS``: how long an unused warm worker lives."""
    return float(_setting("idle_seconds", str(DEFAULT_IDLE_SECONDS)))


def endpoint_url() -> str:
    """``endpoint_url`` / ``SCONES_LAMBDA_ENDPOINT_URL``: the AWS endpoint functions talk to.

    Defaults to this emulator on loopback at ``$MOTO_PORT``, which ``LocalAWS.start()`` sets to
    the port it listens on (moto's Step Functions interpreter calls back on the same port).
    """
    return _setting("endpoint_url", f"http://127.0.0.1:{moto_settings.moto_server_port()}")
