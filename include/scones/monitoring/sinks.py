"""Where a window's report and plots go: a swappable part with one method.

``ReportSink.write(name, body, content_type) -> location`` is all a writer needs, so the same
report code writes to a local folder (the CLI), to S3 (the DAG), or to a plain function (tests),
as httpx's transports swap with ``MockTransport``. Writing the same name again overwrites it:
rerunning a window replaces its report instead of adding a second one.

The S3 layout, which the UI plugin reads::

    s3://<bucket>/monitoring/<endpoint>/<yyyy-mm-dd>/report.json   (written last)
                                                    /statistics.json, constraint_violations.json
                                                    /report.html, *.png
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from scones.layout import MONITORING_PREFIX  # the S3 contract has one home

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPORT_FILE = "report.json"
#: A report folder's day, yyyy-mm-dd (\Z, not $: "$" matches before a final newline).
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")


def report_prefix(endpoint: str, day: str, root: str = MONITORING_PREFIX) -> str:
    """``monitoring/<endpoint>/<yyyy-mm-dd>/``: one folder per endpoint and day."""
    return f"{root.strip('/')}/{endpoint}/{day}/"


class ReportSink:
    """Base class: store one named file of a report and say where it went."""

    def write(self, name: str, body: bytes, content_type: str) -> str:
        """Store ``body`` as ``name`` (overwriting), return its location (path or URI)."""
        raise NotImplementedError


class LocalSink(ReportSink):
    """Files in a local folder, each written to a temporary name then renamed (never half written)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()

    def write(self, name: str, body: bytes, content_type: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        fd, staging = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.chmod(staging, 0o644)  # mkstemp makes 0600; a report is for reading
            os.replace(staging, target)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
        return str(target)


class S3Sink(ReportSink):
    """Objects under ``s3://bucket/prefix`` (each PUT replaces the whole object atomically)."""

    def __init__(self, s3: S3Client, bucket: str, prefix: str) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix.strip("/")

    def write(self, name: str, body: bytes, content_type: str) -> str:
        key = f"{self.prefix}/{name}" if self.prefix else name
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return f"s3://{self.bucket}/{key}"


class CallableSink(ReportSink):
    """The test version: hands every file to a plain function ``fn(name, body, content_type)``."""

    def __init__(self, fn: Callable[[str, bytes, str], str | None]) -> None:
        self.fn = fn

    def write(self, name: str, body: bytes, content_type: str) -> str:
        return self.fn(name, body, content_type) or name


def list_report_days(s3: S3Client, bucket: str, endpoint: str, root: str = MONITORING_PREFIX) -> list[str]:
    """The days (``yyyy-mm-dd``, newest first) that have a report for ``endpoint`` in S3."""
    prefix = f"{root.strip('/')}/{endpoint}/"
    days = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        days += [p["Prefix"][len(prefix) :].strip("/") for p in page.get("CommonPrefixes", [])]
    return sorted((d for d in days if DAY.match(d)), reverse=True)


def read_report(
    s3: S3Client, bucket: str, endpoint: str, day: str, root: str = MONITORING_PREFIX
) -> dict[str, Any] | None:
    """The ``report.json`` of one day, or None if that day has none (yet)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=report_prefix(endpoint, day, root) + REPORT_FILE)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    return json.loads(body)
