"""Capture files written as SageMaker Data Capture writes them (tests.support.capture_records),
in the monitor's S3 (the root conftest's ``s3`` fixture) or in a folder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from conftest import TEST_BUCKET
from tests.support.capture_records import capture_line  # noqa: F401 - the monitor tests' import of it

TEST_ENDPOINT = "scones-endpoint"
TEST_VARIANT = "AllTraffic"
CAPTURE_PREFIX = "data_capture"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def partition_key(
    when: str, name: str = "capture.jsonl", endpoint: str = TEST_ENDPOINT, variant: str = TEST_VARIANT
) -> str:
    """``<endpoint>/<variant>/yyyy/mm/dd/hh/<name>`` for the hour of ``when``."""
    return f"{endpoint}/{variant}/{utc(when).strftime('%Y/%m/%d/%H')}/{name}"


def write_lines(path: Path, lines: Sequence[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def put_lines(s3, key: str, lines: Sequence[str]) -> None:
    s3.put_object(Bucket=TEST_BUCKET, Key=key, Body="".join(f"{line}\n" for line in lines).encode())
