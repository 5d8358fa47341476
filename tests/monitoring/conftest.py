"""Capture files written as SageMaker Data Capture writes them, for the monitor's tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import boto3
import numpy as np
import pytest
from moto import mock_aws

from scones.etl.png import encode_png

TEST_BUCKET = "scones-monitor-test"
TEST_ENDPOINT = "scones-endpoint"
TEST_VARIANT = "AllTraffic"
CAPTURE_PREFIX = "data_capture"
# A real (tiny) PNG as the captured input; the monitor must skip it without decoding it.
PNG_B64 = base64.b64encode(encode_png(np.full((4, 4, 3), 200, dtype=np.uint8))).decode()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def capture_line(
    probabilities: Sequence[float] | str,
    when: str,
    *,
    encoding: str = "JSON",
    event_id: str = "00000000-0000-0000-0000-000000000000",
) -> str:
    """One capture record exactly as SageMaker writes it (compact JSON, one line, no newline)."""
    data = probabilities if isinstance(probabilities, str) else json.dumps(list(probabilities))
    if encoding == "BASE64":
        data = base64.b64encode(data.encode()).decode()
    record = {
        "captureData": {
            "endpointInput": {"observedContentType": "image/png", "mode": "INPUT", "data": PNG_B64, "encoding": "BASE64"},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": data, "encoding": encoding},
        },
        "eventMetadata": {"eventId": event_id, "inferenceTime": when},
        "eventVersion": "0",
    }  # fmt: skip
    return json.dumps(record, separators=(",", ":"))


def partition_key(when: str, name: str = "capture.jsonl", endpoint: str = TEST_ENDPOINT, variant: str = TEST_VARIANT) -> str:
    """``<endpoint>/<variant>/yyyy/mm/dd/hh/<name>`` for the hour of ``when``."""
    return f"{endpoint}/{variant}/{utc(when).strftime('%Y/%m/%d/%H')}/{name}"


def write_lines(path: Path, lines: Sequence[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


@pytest.fixture
def s3() -> Iterator:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=TEST_BUCKET)
        yield client


def put_lines(s3, key: str, lines: Sequence[str]) -> None:
    s3.put_object(Bucket=TEST_BUCKET, Key=key, Body="".join(f"{line}\n" for line in lines).encode())
