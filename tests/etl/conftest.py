from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import TEST_BUCKET  # noqa: F401 - the bucket of the root conftest's s3 fixture


class FileServer:
    """A loopback HTTP server serving one payload, with scripted failures and a hit count."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.fail_first: list[int] = []  # statuses to answer before serving the payload
        self.truncate = False
        self.hits = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                if server.fail_first:
                    self.send_error(server.fail_first.pop(0))
                    return
                body = server.payload[: len(server.payload) // 2] if server.truncate else server.payload
                self.send_response(200)
                self.send_header("Content-Length", str(len(server.payload)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for the loop to see it: 0.5 s per test at the default poll interval
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def url(self, name: str = "cifar-100-python.tar.gz") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"


@pytest.fixture
def file_server(cifar_all_classes: Path) -> Iterator[FileServer]:
    server = FileServer(cifar_all_classes.read_bytes())
    yield server
    server.httpd.shutdown()
