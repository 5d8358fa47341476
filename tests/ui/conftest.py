"""The UI tests' S3 is the root conftest's ``s3`` fixture (moto in-process), with its bucket."""

from __future__ import annotations

from conftest import TEST_BUCKET as BUCKET  # noqa: F401 - the tests' name for it
