"""The "Model monitor" page: the daily reports the monitor DAG writes to S3, in the Airflow UI.

Reports live at ``s3://<bucket>/<prefix>/<endpoint>/<yyyy-mm-dd>/`` (``report.json``, plots and
files). Routes, all behind ``authorize`` (Airflow's auth manager in the plugin):

- ``/``: trends over the last days with a report (``?days=N``, default 28) and every day;
- ``/reports/<yyyy-mm-dd>``: one day, rendered from its ``report.json``;
- ``/reports/<yyyy-mm-dd>/files/<name>``: a stored plot or file, served inert (sandboxed).

The app only reads. Names are checked against strict patterns before they reach S3, every
value from S3 is escaped where it is rendered, and there is no ``/docs`` or ``/openapi.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from scones.monitoring.sinks import DAY, MONITORING_PREFIX
from scones.ui.pages import day_page, error_page, index_page
from scones.ui.reports import FILE, ReportStore, ReportUnreadable
from scones.ui.security import file_headers, page_headers

log = logging.getLogger(__name__)

CONTENT_TYPES = {"png": "image/png", "json": "application/json", "html": "text/html; charset=utf-8"}
DEFAULT_TREND_DAYS = 28
MAX_TREND_DAYS = 366


def _day(text: str) -> str:
    """``text`` if it is a real calendar date written yyyy-mm-dd; a 400 otherwise."""
    try:
        if DAY.fullmatch(text) and date.fromisoformat(text):
            return text
    except ValueError:
        pass
    raise HTTPException(400, f"'{text}' is not a date: days are written like 2026-11-23.")


def create_app(
    s3: Callable[[], Any],
    bucket: Callable[[], str],
    endpoint: Callable[[], str],
    *,
    authorize: Callable[..., Any],
    login_url: Callable[[str], str | None] | None = None,
    prefix: str = MONITORING_PREFIX,
) -> FastAPI:
    """The page as a FastAPI app; ``s3``, ``bucket`` and ``endpoint`` are looked up per request.

    :param authorize: a FastAPI dependency run before every route; it raises 401/403 to refuse.
    :param login_url: the login page for a refused request, given the path to come back to.
    """
    app = FastAPI(
        title="Scones model monitor", docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(authorize)]
    )

    def store() -> ReportStore:
        return ReportStore(s3(), bucket(), endpoint(), prefix)

    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers=page_headers())

    @app.exception_handler(HTTPException)
    async def friendly_error(request: Request, exc: HTTPException) -> HTMLResponse:
        login = login_url(request.url.path) if login_url and exc.status_code == 401 else None
        home = request.scope.get("root_path", "") + "/"
        response = html(error_page(exc.status_code, str(exc.detail), login_url=login, home=home), exc.status_code)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_query(request: Request, exc: RequestValidationError) -> HTMLResponse:
        return await friendly_error(
            request, HTTPException(400, f"days must be a whole number from 1 to {MAX_TREND_DAYS}.")
        )

    @app.exception_handler(ClientError)
    @app.exception_handler(BotoCoreError)
    async def s3_error(request: Request, exc: Exception) -> HTMLResponse:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
        return await friendly_error(
            request, HTTPException(502, f"Cannot read the reports from S3 bucket '{bucket()}': {code}.")
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> HTMLResponse:
        # A report shaped in a way no page expects must not become a traceback; the log has it.
        log.exception("monitor page: %s failed", request.url.path)
        return await friendly_error(
            request,
            HTTPException(
                500, f"This page could not be drawn ({type(exc).__name__}); the API server's log has the details."
            ),
        )

    @app.get("/", response_class=HTMLResponse)
    def index(days: int = Query(DEFAULT_TREND_DAYS, ge=1, le=MAX_TREND_DAYS)) -> HTMLResponse:
        reports = store()
        known = reports.days()
        return html(index_page(reports.endpoint, known, reports.trend(known[:days]), min(days * 2, MAX_TREND_DAYS)))

    @app.get("/reports/{day}", response_class=HTMLResponse)
    def report(day: str) -> HTMLResponse:
        reports = store()
        try:
            found = reports.report(_day(day))
        except ReportUnreadable as exc:
            raise HTTPException(500, f"The report of {day} cannot be read: {exc}.") from exc
        if found is None:
            raise HTTPException(
                404,
                f"No report for {day}. The scones_model_monitor DAG writes a day's report "
                "after the day ends (01:00 UTC); a day with no deployed model has none.",
            )
        return html(day_page(reports.endpoint, day, found, reports.files(day), reports.days()))

    @app.get("/reports/{day}/files/{name}")
    def report_file(day: str, name: str) -> Response:
        if not FILE.fullmatch(name):
            raise HTTPException(400, f"'{name}' is not a report file (plots, JSON files and report.html only).")
        body = store().read(_day(day), name)
        if body is None:
            raise HTTPException(404, f"No {name} for {day}.")
        return Response(body, media_type=CONTENT_TYPES[name.rsplit(".", 1)[1]], headers=file_headers())

    return app
