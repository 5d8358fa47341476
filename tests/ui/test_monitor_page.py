"""The monitor page over real HTTP (uvicorn on loopback), reading reports from moto's S3."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import boto3
import pytest
import uvicorn
from moto import mock_aws

from scones.ui.monitor_page import create_app

BUCKET, ENDPOINT = "scones-test-bucket", "scones-endpoint"
PNG = b"\x89PNG\r\n\x1a\nfake"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def server(s3):
    app = create_app(s3=lambda: s3, bucket=lambda: BUCKET, endpoint=lambda: ENDPOINT)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def put_report(s3, date: str, report: dict, plots: list[str]) -> None:
    prefix = f"monitoring/{ENDPOINT}/{date}"
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/report.json", Body=json.dumps(report))
    for name in plots:
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{name}", Body=PNG)


def test_empty_page_says_what_will_appear(server):
    status, _, body = get(server + "/")
    assert status == 200 and b"No report yet" in body


def test_lists_reports_and_shows_the_latest(server, s3):
    put_report(s3, "2026-11-21", {"records": 10, "low_confidence_rate": 0.1, "violations": []}, ["a.png"])
    put_report(s3, "2026-11-22", {"records": 4321, "low_confidence_rate": 0.42,
                                  "violations": [{"check": "low_confidence_rate", "value": 0.42}]},
               ["confidence_over_time.png", "hourly_volume.png"])  # fmt: skip
    status, content_type, body = get(server + "/")
    page = body.decode()
    assert status == 200 and content_type.startswith("text/html")
    assert page.index("2026-11-22") < page.index("2026-11-21"), "newest first"
    assert "4321" in page and "1 violation(s)" in page and "low_confidence_rate" in page
    assert "src='reports/2026-11-22/files/confidence_over_time.png'" in page
    status, content_type, png = get(server + "/reports/2026-11-22/files/confidence_over_time.png")
    assert (status, content_type, png) == (200, "image/png", PNG)
    status, _, older = get(server + "/reports/2026-11-21")
    assert status == 200 and b"No violations" in older and b"src='../reports/2026-11-21/files/a.png'" in older


@pytest.mark.parametrize("path", ["/reports/2026-11-22/files/..%2F..%2Fsecret.png", "/reports/nov-22",
                                  "/reports/2026-11-22/files/report.exe"])  # fmt: skip
def test_rejects_names_that_are_not_report_files(server, path):
    assert get(server + path)[0] in (400, 404)


def test_missing_report_is_404(server):
    assert get(server + "/reports/2026-01-01")[0] == 404
    assert get(server + "/reports/2026-01-01/files/report.json")[0] == 404
