"""Who may open the monitor page, and the response headers that keep what it shows inert.

Access is Airflow's own decision: the page's routes depend on the API server's
``requires_access_dag`` for reading the ``scones_model_monitor`` DAG, which takes the same JWT
the UI already holds (its ``_token`` cookie, or an ``Authorization: Bearer`` header for REST
clients) and asks the configured auth manager. No second login, no rule of our own.

Reports come from S3, which is not as closely guarded as the Airflow UI, so every response
carries a Content-Security-Policy that forbids scripts (the pages need none) and
``X-Content-Type-Options: nosniff``; stored files are served under ``sandbox`` as well, so a
hostile ``report.html`` or a PNG that is really HTML cannot act as the Airflow UI's origin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MONITOR_DAG_ID = "scones_model_monitor"

#: Our own pages: inline styles and SVG, images from this origin, no script, framed only by the UI.
PAGE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)
#: Files from S3, whatever they claim to be: a unique origin with no script.
FILE_POLICY = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": PAGE_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def file_headers() -> dict[str, str]:
    return {**page_headers(), "Content-Security-Policy": FILE_POLICY}


def airflow_dag_reader(dag_id: str = MONITOR_DAG_ID) -> Callable[..., Any]:
    """A FastAPI dependency: the request's Airflow user may read ``dag_id`` (401 without a token, 403 without access)."""
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return requires_access_dag("GET", param_dag_id=dag_id)


def airflow_login_url(next_url: str) -> str | None:
    """Where the configured auth manager logs a user in, coming back to ``next_url``; None if unknown."""
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager().get_url_login(next_url=next_url)
    except Exception:  # no auth manager in this process, or one without a login page: no link
        return None
