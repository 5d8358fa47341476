"""Fixtures for the Lambda functions' unit tests: moto in-process, fake credentials, test images."""

from __future__ import annotations

import pytest

from conftest import TEST_BUCKET, TEST_REGION  # noqa: F401 - the root conftest's s3 fixture, its bucket
from lambdas.classify_image import handler as classify_handler
from lambdas.serialize_image_data import handler as serialize_handler
from tests.support.images import solid_png as png_bytes  # noqa: F401 - the Lambda tests' name for it


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Lambda gives a function: credentials and a region; no endpoint, no settings of ours."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": TEST_REGION,
    }.items():
        monkeypatch.setenv(key, value)
    for key in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "ENDPOINT_NAME",
        "CLASS_NAMES",
        "CONFIDENCE_THRESHOLD",
        "MAX_IMAGE_BYTES",
    ):
        monkeypatch.delenv(key, raising=False)
    # Each handler keeps one client per warm container; a test starts cold.
    serialize_handler.s3_client.cache_clear()
    classify_handler.runtime_client.cache_clear()
