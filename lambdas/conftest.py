"""Fixtures for the Lambda functions' unit tests: moto in-process, fake credentials, test images."""

from __future__ import annotations

import struct
import zlib

import boto3
import pytest
from moto import mock_aws

from lambdas.classify_image import handler as classify_handler
from lambdas.serialize_image_data import handler as serialize_handler

TEST_REGION = "us-east-1"
TEST_BUCKET = "scones-test-images"


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG, built by hand so the tests need no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Lambda gives a function: credentials and a region; no endpoint, no settings of ours."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": TEST_REGION}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "ENDPOINT_NAME", "CLASS_NAMES", "CONFIDENCE_THRESHOLD", "MAX_IMAGE_BYTES"):
        monkeypatch.delenv(key, raising=False)
    # Each handler keeps one client per warm container; a test starts cold.
    serialize_handler.s3_client.cache_clear()
    classify_handler.runtime_client.cache_clear()


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=TEST_REGION)
        client.create_bucket(Bucket=TEST_BUCKET)
        yield client
