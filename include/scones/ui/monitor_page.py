"""The "Model monitor" page: the daily reports the monitor DAG writes to S3, in the Airflow UI.

Reports live at ``s3://<bucket>/<prefix>/<endpoint>/<yyyy-mm-dd>/`` (``report.json`` and PNG
plots). The app only reads; names are checked against strict patterns before they reach S3.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response

from scones.monitoring.sinks import list_report_days, read_report, report_prefix

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE = re.compile(r"^[A-Za-z0-9_.-]+\.(png|json|html)$")
CONTENT_TYPES = {"png": "image/png", "json": "application/json", "html": "text/html"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2937}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse} td,th{border:1px solid #d1d5db;padding:.3rem .6rem;text-align:left}
.violation{color:#b91c1c} .ok{color:#047857} img{max-width:46%;margin:.5rem;border:1px solid #e5e7eb}
nav a{margin-right:.8rem}
"""


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                        f"<style>{_STYLE}</style></head><body>{body}</body></html>")  # fmt: skip


def _figures(report: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v) if isinstance(v, (dict, list)) else str(v))}</td></tr>"
        for k, v in report.items() if k != "violations"
    )  # fmt: skip
    violations = report.get("violations") or []
    if violations:
        items = "".join(f"<li class='violation'>{html.escape(json.dumps(v))}</li>" for v in violations)
        status = f"<h2 class='violation'>{len(violations)} violation(s)</h2><ul>{items}</ul>"
    else:
        status = "<h2 class='ok'>No violations</h2>"
    return f"{status}<table>{rows}</table>"


def create_app(s3: Callable[[], Any], bucket: Callable[[], str], endpoint: Callable[[], str],
               prefix: str = "monitoring") -> FastAPI:  # fmt: skip
    """The page as a FastAPI app; ``s3``, ``bucket`` and ``endpoint`` are looked up per request."""
    app = FastAPI(title="Scones model monitor")

    def folder(date: str) -> str:
        return report_prefix(endpoint(), date, prefix)

    def files(date: str) -> list[str]:
        listing = s3().list_objects_v2(Bucket=bucket(), Prefix=folder(date))
        return sorted(o["Key"].rsplit("/", 1)[-1] for o in listing.get("Contents", []))

    def report_html(date: str) -> str:
        report = read_report(s3(), bucket(), endpoint(), date, prefix)
        if report is None:
            raise HTTPException(404, f"no report for {date}")
        names = files(date)
        images = "".join(f"<img alt='{n}' src='reports/{date}/files/{n}'>" for n in names if n.endswith(".png"))
        return f"<h2>{date}</h2>{_figures(report)}<div>{images}</div>"

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        known = list_report_days(s3(), bucket(), endpoint(), prefix)
        links = "".join(f"<a href='reports/{d}'>{d}</a>" for d in known)
        latest = report_html(known[0]) if known else "<p>No report yet: the scones_model_monitor DAG writes one a day.</p>"
        return _page("Model monitor", f"<h1>Model monitor: {html.escape(endpoint())}</h1><nav>{links}</nav>{latest}")

    @app.get("/reports/{date}", response_class=HTMLResponse)
    def report(date: str) -> HTMLResponse:
        if not DATE.match(date):
            raise HTTPException(400, "dates look like 2026-11-23")
        body = report_html(date).replace("src='reports/", "src='../reports/")
        return _page(f"Model monitor {date}", f"<h1>Model monitor: {html.escape(endpoint())}</h1><p><a href='..'>latest</a></p>{body}")

    @app.get("/reports/{date}/files/{name}")
    def report_file(date: str, name: str) -> Response:
        if not DATE.match(date) or not FILE.match(name):
            raise HTTPException(400, "not a report file name")
        try:
            body = s3().get_object(Bucket=bucket(), Key=folder(date) + name)["Body"].read()
        except Exception as exc:  # botocore's NoSuchKey, without importing botocore at import time
            if "NoSuchKey" in type(exc).__name__ or "NoSuchKey" in str(exc):
                raise HTTPException(404, f"no {name} for {date}") from exc
            raise
        return Response(body, media_type=CONTENT_TYPES[name.rsplit(".", 1)[1]])

    return app
