"""The ETL's steps as plain functions: what the DAG's tasks and ``scones etl`` call.

``stage`` does the heavy part (fetch, decode, encode, upload images, stage the manifests
under ``_staging/<run key>/``); ``publish`` moves the staged manifests into place. Run
together (``run_etl``) or as separate Airflow tasks, a failure before ``publish`` leaves the
published dataset exactly as it was.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from scones.errors import ConfigurationError
from scones.etl.cifar import read_cifar_archive
from scones.etl.extract import FetchedArchive, fetch_archive
from scones.etl.load import check_destination, delete_prefix, put_manifests, read_manifests, upload_images
from scones.etl.transform import build_manifests, iter_image_files, resolve_classes

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)
STAGING = "_staging"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ConfigurationError(f"{uri!r} is not an s3://BUCKET/PREFIX URI")
    return parsed.netloc, parsed.path.strip("/")


def run_key(text: str) -> str:
    """A run id made safe for an S3 key segment."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:120]


@dataclass
class EtlResult:
    dataset_uri: str
    classes: list[str]
    counts: dict[str, dict[str, int]]
    uploaded: int
    skipped: int
    bytes: int
    archive_md5: str
    seconds: dict[str, float] = field(default_factory=dict)
    manifest_keys: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stage(
    s3: S3Client,
    *,
    source: str,
    classes: list[str],
    dataset_uri: str,
    cache_dir: Path,
    staging_key: str,
    concurrency: int = 16,
    fetched: FetchedArchive | None = None,
) -> EtlResult:
    """Fetch, transform and upload the images; stage the manifests (not yet published)."""
    bucket, prefix = parse_s3_uri(dataset_uri)
    label_ids = resolve_classes(classes)  # fail on a bad name before downloading anything
    classes = [c.strip().lower() for c in classes if c.strip()]
    check_destination(s3, bucket)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    fetched = fetched or fetch_archive(source, cache_dir, s3_client=s3)  # an s3:// source: the same credentials
    seconds["extract"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    archive = read_cifar_archive(fetched.path, label_ids)
    manifests = build_manifests(archive, classes, label_ids)
    seconds["decode"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    stats = upload_images(s3, bucket, prefix, iter_image_files(archive, classes, label_ids), concurrency)
    seconds["encode_and_upload"] = time.perf_counter() - t0
    put_manifests(s3, bucket, f"{prefix}/{STAGING}/{staging_key}", manifests.files)
    log.info(
        "staged %s: %d images uploaded, %d already there, counts %s",
        dataset_uri, stats.uploaded, stats.skipped, manifests.counts,
    )  # fmt: skip
    return EtlResult(dataset_uri, classes, manifests.counts, stats.uploaded, stats.skipped, stats.bytes, fetched.md5, seconds)


def publish(s3: S3Client, *, dataset_uri: str, staging_key: str) -> list[str]:
    """Copy the staged manifests into place (labels.json last), then drop the staging area."""
    bucket, prefix = parse_s3_uri(dataset_uri)
    staged = f"{prefix}/{STAGING}/{staging_key}"
    names = ["train_lst/train.lst", "validation_lst/validation.lst", "labels.json"]
    keys = put_manifests(s3, bucket, prefix, read_manifests(s3, bucket, staged, names))
    delete_prefix(s3, bucket, staged)
    return keys


def run_etl(
    s3: S3Client,
    *,
    source: str,
    classes: list[str],
    dataset_uri: str,
    cache_dir: Path,
    concurrency: int = 16,
    staging_key: str = "cli",
) -> EtlResult:
    """The whole ETL in one call (``scones etl``)."""
    result = stage(
        s3, source=source, classes=classes, dataset_uri=dataset_uri, cache_dir=cache_dir,
        staging_key=staging_key, concurrency=concurrency,
    )  # fmt: skip
    t0 = time.perf_counter()
    result.manifest_keys = publish(s3, dataset_uri=dataset_uri, staging_key=staging_key)
    result.seconds["publish"] = time.perf_counter() - t0
    return result
