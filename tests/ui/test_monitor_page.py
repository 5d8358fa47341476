"""The monitor page over real HTTP (uvicorn on loopback), reading reports from moto's S3.

Access goes through Airflow's own ``requires_access_dag`` and a real auth manager (the simple
one, as ``scones up`` runs it), with JWTs that manager signs: what the API server does.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
import uvicorn

from scones.ui.monitor_page import create_app
from scones.ui.security import MONITOR_DAG_ID, airflow_dag_reader, airflow_login_url

from .conftest import BUCKET

ENDPOINT = "scones-endpoint"
PNG = b"\x89PNG\r\n\x1a\nfake"
HOSTILE = "x' onerror='alert(document.domain)'<script>alert(1)</script>"


@pytest.fixture(scope="module")
def metadata_tables():
    """The tables the access check reads (revoked tokens, a DAG's team) in the test session's
    SQLite home: created from the models, since the unit tier migrates no database."""
    from airflow import settings
    from airflow.models import import_all_models
    from airflow.models.base import Base

    import_all_models()
    Base.metadata.create_all(settings.engine)


@pytest.fixture(scope="module")
def module_auth_manager(metadata_tables):
    """One auth manager for the module: it holds no state a test changes but ``asked_for``."""
    from airflow.api_fastapi.app import create_auth_manager, purge_cached_app

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(
            "AIRFLOW__CORE__AUTH_MANAGER",
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        )
        monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "test-only-secret-for-the-ui-tests-" * 3)
        purge_cached_app()
        manager = create_auth_manager()
        manager.init()
        # Which DAG the page asks about: recorded, then the manager's own answer is returned.
        manager.asked_for = []
        decide = manager.is_authorized_dag

        def recorded(**kwargs):
            manager.asked_for.append((kwargs["method"], kwargs["details"].id))
            return decide(**kwargs)

        monkeypatch.setattr(manager, "is_authorized_dag", recorded)
        yield manager
        purge_cached_app()


@pytest.fixture
def auth_manager(module_auth_manager):
    """The module's auth manager, with what this test asked of it only."""
    module_auth_manager.asked_for.clear()
    return module_auth_manager


def token(manager, role: str | None = "VIEWER") -> str:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return manager.generate_jwt(SimpleAuthManagerUser(username="someone", role=role))


@pytest.fixture(scope="module")
def running_server(module_auth_manager):
    """One app on one uvicorn for the module; it reads the S3 that ``current["s3"]`` holds."""
    current = {}
    app = create_app(
        s3=lambda: current["s3"],
        bucket=lambda: BUCKET,
        endpoint=lambda: ENDPOINT,
        authorize=airflow_dag_reader(),
        login_url=airflow_login_url,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield current, f"http://127.0.0.1:{port}", token(module_auth_manager)
    srv.should_exit = True
    thread.join(5)


@pytest.fixture
def server(running_server, s3, auth_manager):
    """The page, reading this test's own S3 (a fresh moto); yields its URL and a viewer's token."""
    current, url, viewer = running_server
    current["s3"] = s3
    yield url, viewer
    del current["s3"]


def fetch(url: str, bearer: str | None = None, cookie: str | None = None):
    headers = {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if cookie:
        headers["Cookie"] = f"_token={cookie}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def get(server, path: str):
    url, bearer = server
    return fetch(url + path, bearer=bearer)


def put_report(s3, date: str, report: dict | None = None, plots: tuple[str, ...] = ("a.png",), **fields) -> None:
    prefix = f"monitoring/{ENDPOINT}/{date}"
    body = report if report is not None else make_report(date, **fields)
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/report.json", Body=json.dumps(body))
    for name in plots:
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{name}", Body=PNG)


def make_report(date: str, records: int = 100, low: float = 0.1, violations: list | None = None, drift=None) -> dict:
    return {
        "records": records,
        "low_confidence_rate": low,
        "low_confidence_count": int(records * low),
        "window": {"start": f"{date}T00:00:00Z", "end": f"{date}T23:59:59Z"},
        "confidence": {"threshold": 0.93, "mean": 0.9, "quantiles": {"p50": 0.95}},
        "class_share": {"bicycle": 0.6, "motorcycle": 0.4},
        "thresholds": {"max_low_confidence_rate": 0.25},
        "hourly": [{"hour": f"{date}T{h:02d}:00:00Z", "records": h, "low_confidence_rate": 0.1} for h in range(24)],
        "drift": drift,
        "violations": violations or [],
    }


ROUTES = [
    "/",
    "/?days=7",
    "/reports/2026-11-22",
    "/reports/2026-11-22/files/a.png",
    "/reports/2026-11-22/files/report.json",
]


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_needs_an_airflow_user_who_may_read_the_monitor_dag(server, s3, auth_manager, path):
    put_report(s3, "2026-11-22")
    url, viewer = server
    status, headers, body = fetch(url + path)
    assert status == 401, "no token: refused"
    assert b"/auth/login?next=" in body and b"Please log in" in body, "says where to log in"
    assert fetch(url + path, bearer="not-a-jwt")[0] == 403
    assert fetch(url + path, bearer=token(auth_manager, role=None))[0] == 403, "a user with no role may not read DAGs"
    assert fetch(url + path, bearer=viewer)[0] == 200
    assert fetch(url + path, cookie=viewer)[0] == 200, "the UI's own cookie is enough: no second login"
    assert set(auth_manager.asked_for) == {("GET", MONITOR_DAG_ID)}, "access is reading the monitor DAG"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"])
def test_no_api_docs(server, path):
    assert get(server, path)[0] == 404


def test_empty_page_says_what_will_appear(server):
    status, headers, body = get(server, "/")
    assert status == 200 and b"No report yet" in body
    assert (
        "script-src" not in headers["Content-Security-Policy"]
        and "default-src 'none'" in headers["Content-Security-Policy"]
    )
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_hostile_object_names_and_report_values_come_back_inert(server, s3):
    report = make_report(
        "2026-11-22",
        violations=[{"check": HOSTILE, "description": HOSTILE}],
        drift={"baseline": {"source": HOSTILE, "records": 5}, "note": HOSTILE},
    )
    report["class_share"] = {HOSTILE: 1.0}
    report["model"] = {"model": HOSTILE, "dataset_version": HOSTILE}
    report["window"]["start"] = HOSTILE
    put_report(s3, "2026-11-22", report, plots=("ok.png", f"{HOSTILE}.png", 'x" onerror="alert(1)".png'))
    for path in ("/", "/reports/2026-11-22"):
        status, _, body = get(server, path)
        page = body.decode()
        assert status == 200
        assert "<script>" not in page and "onerror=" not in page.replace("onerror=&#x27;", "").replace(
            "onerror=&quot;", ""
        ), f"{path}: hostile text must be escaped"
        assert re.search(r"<[^>]*\sonerror\s*=", page) is None, f"{path}: no element carries an event handler"
    day = get(server, "/reports/2026-11-22")[2].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in day, "hostile text is shown, escaped"
    assert 'src="2026-11-22/files/ok.png"' in day
    assert "onerror" not in "".join(re.findall(r"<img[^>]*>", day)), "odd object names never become images"


def test_stored_html_and_disguised_files_are_served_sandboxed(server, s3):
    put_report(s3, "2026-11-22")
    prefix = f"monitoring/{ENDPOINT}/2026-11-22"
    script = b"<html><script>fetch('/api/v2/variables')</script></html>"
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/report.html", Body=script, ContentType="text/html")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/evil.png", Body=script, ContentType="text/html")
    status, headers, body = get(server, "/reports/2026-11-22/files/report.html")
    assert status == 200 and body == script
    assert headers["Content-Security-Policy"].startswith("sandbox;"), (
        "no script, no same-origin: the UI's token is safe"
    )
    assert "script-src" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = get(server, "/reports/2026-11-22/files/evil.png")
    assert (status, headers["Content-Type"], headers["X-Content-Type-Options"]) == (200, "image/png", "nosniff")
    assert headers["Content-Security-Policy"].startswith("sandbox;")


def test_index_draws_the_trends_and_flags_bad_days(server, s3):
    for day in range(1, 11):
        bad = day == 7
        put_report(
            s3,
            f"2026-11-{day:02d}",
            records=100 * day,
            low=0.4 if bad else 0.1,
            violations=[{"check": "low_confidence_rate", "description": "too many"}] if bad else [],
        )
    status, _, body = get(server, "/")
    page = body.decode()
    assert status == 200
    for title in ("Inferences per day", "Low-confidence share", "Mean confidence", "Confidence drift (PSI)"):
        assert title in page
    assert page.count("<svg") == 6
    volume = page[page.index("Inferences per day") : page.index("</svg>", page.index("Inferences per day"))]
    assert volume.count("<rect") == 10 and "2026-11-10: 1,000" in volume
    low = page[page.index("Low-confidence share") :]
    assert "#b91c1c" in low[: low.index("</svg>")], "the violation day is drawn in red"
    assert "alert above 25.0%" in page, "the threshold is drawn against the share"
    assert page.index("2026-11-10") < page.index("2026-11-09"), "days newest first"
    assert 'class="bad">2026-11-07 (1 violation)' in page
    short = get(server, "/?days=3")[2].decode()
    assert short.count("<rect") == 3, "?days= bounds the trend"
    assert "?days=6'>longer" in short and "longer" not in page, "a longer trend is offered only when there is more"


def test_day_page_explains_figures_and_links_its_files(server, s3):
    put_report(s3, "2026-11-21")
    put_report(
        s3,
        "2026-11-22",
        plots=("confidence_over_time.png",),
        records=4321,
        drift={
            "baseline": {"source": "s3://b/2026-11-21/statistics.json", "records": 100},
            "class_share_psi": 0.01,
            "confidence_psi": 0.3,
            "confidence_ks": 0.05,
            "evaluated": True,
        },
        violations=[{"check": "confidence_drift_psi", "description": "confidence PSI 0.3 above 0.2"}],
    )
    s3.put_object(Bucket=BUCKET, Key=f"monitoring/{ENDPOINT}/2026-11-22/statistics.json", Body=b"{}")
    status, _, body = get(server, "/reports/2026-11-22")
    page = body.decode()
    assert status == 200
    assert "confidence PSI 0.3 above 0.2" in page and "Population stability index" in page
    assert "Inferences per hour (UTC)" in page and "bicycle 60.0%" in page and "p50 0.9500" in page
    assert "not recorded" in page, "no lineage in this report"
    assert 'src="2026-11-22/files/confidence_over_time.png"' in page
    assert 'href="2026-11-22/files/statistics.json"' in page and 'href="2026-11-21"' in page
    status, headers, png = get(server, "/reports/2026-11-22/files/confidence_over_time.png")
    assert (status, headers["Content-Type"], png) == (200, "image/png", PNG)
    older = get(server, "/reports/2026-11-21")[2].decode()
    assert "No violations" in older and "Not computed: no baseline" in older


@pytest.mark.parametrize(
    "path, status, words",
    [
        ("/reports/nov-22", 400, "days are written like 2026-11-23"),
        ("/reports/2026-13-45", 400, "days are written like"),
        ("/reports/2026-01-01", 404, "No report for 2026-01-01"),
        ("/reports/2026-01-01/files/report.json", 404, "No report.json for 2026-01-01"),
        ("/reports/2026-11-22/files/..%2F..%2Fsecret.png", 404, "Not Found"),  # no route: never reaches S3
        ("/reports/2026-11-22/files/report.exe", 400, "not a report file"),
        ("/?days=lots", 400, "days must be a whole number"),
        ("/?days=0", 400, "days must be a whole number"),
    ],
)
def test_friendly_pages_for_missing_reports_and_bad_requests(server, path, status, words):
    got, headers, body = get(server, path)
    assert got == status and headers["Content-Type"].startswith("text/html")
    assert words in body.decode() and b"Back to the model monitor" in body


@pytest.mark.parametrize(
    "field, value",
    [
        ("records", 10**400),
        ("violations", 5),
        ("hourly", True),
        ("drift", [1]),
        ("class_share", "all"),
        ("window", None),
    ],
    ids=["huge-integer", "violations-number", "hourly-bool", "drift-list", "share-text", "no-window"],
)
def test_a_report_of_an_unexpected_shape_still_draws(server, s3, field, value):
    put_report(s3, "2026-11-21")
    report = make_report("2026-11-22")
    report[field] = value
    s3.put_object(Bucket=BUCKET, Key=f"monitoring/{ENDPOINT}/2026-11-22/report.json", Body=json.dumps(report))
    assert get(server, "/")[0] == 200, "one odd day must not take the trends down"
    assert get(server, "/reports/2026-11-22")[0] == 200


def test_names_ending_in_a_newline_are_not_report_names(server, s3):
    put_report(s3, "2026-11-22", plots=("a.png", "b.png\n"))
    put_report(s3, "2026-11-23\n")
    page = get(server, "/")[2].decode()
    assert "2026-11-23" not in page, "a folder named with a trailing newline is no day"
    day = get(server, "/reports/2026-11-22")[2].decode()
    assert 'files/a.png"' in day and "b.png" not in day
    assert get(server, "/reports/2026-11-22/files/b.png%0A")[0] == 400


def test_a_corrupt_report_or_a_missing_bucket_is_a_page_not_a_traceback(server, s3):
    s3.put_object(Bucket=BUCKET, Key=f"monitoring/{ENDPOINT}/2026-11-22/report.json", Body=b"{half")
    status, _, body = get(server, "/reports/2026-11-22")
    assert status == 500 and b"cannot be read" in body
    assert get(server, "/")[0] == 200, "the index still opens, without that day's figures"
    s3.delete_object(Bucket=BUCKET, Key=f"monitoring/{ENDPOINT}/2026-11-22/report.json")
    s3.delete_bucket(Bucket=BUCKET)
    status, _, body = get(server, "/")
    assert status == 502 and b"NoSuchBucket" in body and BUCKET.encode() in body


def test_the_monitors_own_reports_render_as_trends_and_days(server, s3):
    """Not hand-made JSON: three days analysed by the daily job itself, then read by the page."""
    from scones.monitoring.checks import Thresholds
    from scones.monitoring.daily import monitor_window
    from scones.monitoring.window import Window
    from tests.support.capture_records import capture_line

    from ..monitoring.conftest import partition_key

    for day, (records, low) in {"2026-11-20": (30, 0), "2026-11-21": (40, 4), "2026-11-22": (50, 25)}.items():
        lines = [
            capture_line([0.5, 0.5] if i < low else [0.99, 0.01], f"{day}T{i % 24:02d}:10:00Z") for i in range(records)
        ]
        key = f"data_capture/{partition_key(f'{day}T05:00:00Z', endpoint=ENDPOINT)}"
        s3.put_object(Bucket=BUCKET, Key=key, Body="".join(f"{line}\n" for line in lines).encode())
        monitor_window(
            s3,
            bucket=BUCKET,
            capture_uri=f"s3://{BUCKET}/data_capture",
            endpoint=ENDPOINT,
            classes=["bicycle", "motorcycle"],
            window=Window.for_day(day),
            thresholds=Thresholds(min_records=1),
            lineage={
                "model": "scones-train-7",
                "training_job": "scones-train-7",
                "dataset_version": "20261119T101010000000Z-0a1b2c3d",
            },
        )
    index = get(server, "/")[2].decode()
    volume = index[index.index("Inferences per day") :]
    assert all(f"{day}: {n}" in volume for day, n in (("2026-11-20", 30), ("2026-11-21", 40), ("2026-11-22", 50)))
    assert 'class="bad">2026-11-22 (1 violation)' in index, "half the day below the threshold: flagged"
    day = get(server, "/reports/2026-11-22")[2].decode()
    assert "low_confidence_rate" in day and "50.0%" in day and "hourly_volume.png" in day
    assert "s3://" in day and "statistics.json" in day, "drift against the day before, named"
    assert "dataset version 20261119T101010000000Z-0a1b2c3d" in day, "the model's lineage, as the report names it"
    status, headers, _ = get(server, "/reports/2026-11-22/files/report.html")
    assert status == 200 and headers["Content-Security-Policy"].startswith("sandbox")
