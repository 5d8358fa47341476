from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scones.errors import ChecksumMismatch, SourceUnreachable
from scones.etl.extract import fetch_archive

from .conftest import TEST_BUCKET, FileServer


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_local_path_is_used_in_place(cifar_all_classes: Path, tmp_path: Path):
    fetched = fetch_archive(str(cifar_all_classes), tmp_path)
    assert fetched.path == cifar_all_classes.resolve()
    assert fetched.md5 == md5(cifar_all_classes.read_bytes())
    assert not (tmp_path / "downloads").exists(), "a local source must not be copied"


def test_missing_local_file_says_what_to_do(tmp_path: Path):
    with pytest.raises(SourceUnreachable, match="does not exist.*cifar-100-python-bikes"):
        fetch_archive(str(tmp_path / "nope.tar.gz"), tmp_path)


def test_unknown_scheme_is_rejected(tmp_path: Path):
    with pytest.raises(SourceUnreachable, match="unsupported source"):
        fetch_archive("ftp://example.invalid/x.tar.gz", tmp_path)


def test_http_download_is_cached_and_reused(file_server: FileServer, tmp_path: Path):
    first = fetch_archive(file_server.url(), tmp_path, expected_md5=md5(file_server.payload))
    assert not first.from_cache and first.path.read_bytes() == file_server.payload
    second = fetch_archive(file_server.url(), tmp_path, expected_md5=md5(file_server.payload))
    assert second.from_cache and second.path == first.path
    assert file_server.hits == 1, "a verified cached copy must not be downloaded again"


def test_transient_errors_are_retried_with_backoff(file_server: FileServer, tmp_path: Path):
    file_server.fail_first = [503, 502]
    fetched = fetch_archive(file_server.url(), tmp_path, backoff=0.01)
    assert fetched.size == len(file_server.payload)
    assert file_server.hits == 3


def test_not_found_is_final_and_not_retried(file_server: FileServer, tmp_path: Path):
    file_server.fail_first = [404]
    with pytest.raises(SourceUnreachable, match="HTTP 404"):
        fetch_archive(file_server.url(), tmp_path, backoff=0.01)
    assert file_server.hits == 1


def test_unreachable_host_gives_up_after_retries(tmp_path: Path):
    # Port 9 on loopback: connection refused at once, no network involved.
    with pytest.raises(SourceUnreachable, match="after 3 attempts.*--source"):
        fetch_archive("http://127.0.0.1:9/cifar-100-python.tar.gz", tmp_path, retries=2, backoff=0.01)


def test_truncated_download_is_retried_then_reported(file_server: FileServer, tmp_path: Path):
    file_server.truncate = True
    with pytest.raises(SourceUnreachable, match="truncated"):
        fetch_archive(file_server.url(), tmp_path, retries=1, backoff=0.01)
    assert not list((tmp_path / "downloads").rglob("*.tar.gz*")), "no partial file may stay in the cache"


def test_checksum_mismatch_fails_and_leaves_no_cached_copy(file_server: FileServer, tmp_path: Path):
    with pytest.raises(ChecksumMismatch, match="expected 0+"):
        fetch_archive(file_server.url(), tmp_path, expected_md5="0" * 32)
    assert not list((tmp_path / "downloads").rglob("*.tar.gz*"))
    # and a later run with the right checksum downloads again rather than trusting anything
    fetch_archive(file_server.url(), tmp_path, expected_md5=md5(file_server.payload))
    assert file_server.hits == 2


def test_official_url_is_verified_against_published_md5(monkeypatch, file_server: FileServer, tmp_path: Path):
    import scones.etl.extract as extract

    monkeypatch.setattr(extract, "OFFICIAL_CIFAR100_URL", file_server.url())
    with pytest.raises(ChecksumMismatch, match="eb9058c3a382ffc7106e4002c42a8d85"):
        fetch_archive(file_server.url(), tmp_path)


def test_s3_source(s3, cifar_all_classes: Path, tmp_path: Path):
    s3.put_object(Bucket=TEST_BUCKET, Key="raw/cifar-100-python.tar.gz", Body=cifar_all_classes.read_bytes())
    fetched = fetch_archive(f"s3://{TEST_BUCKET}/raw/cifar-100-python.tar.gz", tmp_path, s3_client=s3)
    assert fetched.path.read_bytes() == cifar_all_classes.read_bytes()
    with pytest.raises(SourceUnreachable, match="NoSuchKey"):
        fetch_archive(f"s3://{TEST_BUCKET}/raw/missing.tar.gz", tmp_path, s3_client=s3)


def test_an_s3_source_without_credentials_fails_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Retrying (5 tries, backoff) cannot bring credentials; the message must say what is missing."""
    import boto3
    from botocore.config import Config

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.Session().client("s3", region_name="us-east-1", config=Config(retries={"max_attempts": 0}))
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    with pytest.raises(SourceUnreachable, match="no AWS credentials"):
        fetch_archive(f"s3://{TEST_BUCKET}/raw/cifar-100-python.tar.gz", tmp_path / "cache", s3_client=client)
    assert slept == [], "no retry"


def test_stage_reads_an_s3_source_with_its_own_client(s3, cifar_all_classes: Path, tmp_path: Path):
    """The DAG's client carries the Airflow connection's credentials: the archive is read with it too."""
    from scones.etl.pipeline import stage

    s3.put_object(Bucket=TEST_BUCKET, Key="raw/cifar-100-python.tar.gz", Body=cifar_all_classes.read_bytes())
    asked: list[str] = []

    class Recording:
        def __getattr__(self, name: str):
            asked.append(name)
            return getattr(s3, name)

    stage(
        Recording(),
        source=f"s3://{TEST_BUCKET}/raw/cifar-100-python.tar.gz",
        classes=["bicycle"],
        dataset_uri=f"s3://{TEST_BUCKET}/datasets/test",
        cache_dir=tmp_path,
    )
    assert "get_object" in asked
