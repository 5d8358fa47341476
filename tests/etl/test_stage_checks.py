"""The ETL DAG's check between its tasks: an archive other than the one extract_archive checked
fails before anything is uploaded, and is not retried."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.errors import ArchiveChanged, NonRetryableError
from scones.etl import fetch_archive, stage

from .conftest import TEST_BUCKET

URI = f"s3://{TEST_BUCKET}/datasets/x"


def test_a_changed_archive_fails_before_any_upload(s3, cifar_all_classes: Path, tmp_path: Path):
    with pytest.raises(ArchiveChanged, match="changed since it was checked") as raised:
        stage(
            s3,
            source=str(cifar_all_classes),
            classes=["bicycle"],
            dataset_uri=URI,
            cache_dir=tmp_path,
            expected_md5="0" * 32,
        )
    assert isinstance(raised.value, NonRetryableError)
    assert s3.list_objects_v2(Bucket=TEST_BUCKET).get("KeyCount") == 0


def test_the_checked_archive_is_staged(s3, cifar_all_classes: Path, tmp_path: Path):
    md5 = fetch_archive(str(cifar_all_classes), tmp_path).md5
    result = stage(
        s3, source=str(cifar_all_classes), classes=["bicycle"], dataset_uri=URI, cache_dir=tmp_path, expected_md5=md5
    )
    assert result.archive_md5 == md5 and result.uploaded > 0
