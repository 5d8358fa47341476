"""Route requests to moto's services without re-deciding the service on every request.

moto's server picks the service of each request in
``DomainDispatcherApplication.get_backend_for_host`` (moto/moto_server/werkzeug_app.py): it
lists moto's package folder on disk (``list_of_moto_modules``: a listdir and ~170 isdir
calls) and then tries every service's URL patterns, all under one lock that every request
takes. The answer depends only on the host string, and the emulator sees a handful of
hosts, so it is remembered per host: a dict lookup instead of ~5 ms of CPU per request.
"""

from __future__ import annotations

from typing import Any

_MEMO_ATTRIBUTE = "_scones_backend_for_host"


def install() -> None:
    """Memoise ``DomainDispatcherApplication.get_backend_for_host`` (``LocalAWS`` calls this once)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    if getattr(original, "memoised", False):
        return

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        # Called with self.lock held (get_application), so the dict needs no lock of its own.
        memo = self.__dict__.setdefault(_MEMO_ATTRIBUTE, {})
        if host not in memo:
            memo[host] = original(self, host)
        return memo[host]

    get_backend_for_host.memoised = True  # type: ignore[attr-defined]
    get_backend_for_host.__doc__ = original.__doc__
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
