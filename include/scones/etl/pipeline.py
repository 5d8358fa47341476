"""The ETL's steps as plain functions: what the DAG's tasks and ``scones etl`` call.

``stage`` does the heavy part (fetch, decode, encode, upload the images and then the
manifests of a **new version** under ``versions/<version>/``, where no other run writes);
``publish`` makes that version current by swapping the pointer in one conditional write
(``scones.datasets``). Run together (``run_etl``) or as separate Airflow tasks, a failure
before ``publish`` leaves the published dataset exactly as it was, byte for byte.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scones.datasets import new_version, publish_version, s3_clock
from scones.errors import ArchiveChanged
from scones.etl.cifar import read_cifar_archive
from scones.etl.extract import FetchedArchive, fetch_archive
from scones.etl.load import check_destination, put_manifests, upload_images
from scones.etl.transform import build_manifests, iter_image_files, resolve_classes
from scones.layout import DatasetLayout, parse_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)
__all__ = ["EtlResult", "parse_s3_uri", "publish", "publish_staged", "run_etl", "stage"]


@dataclass
class EtlResult:
    dataset_uri: str  # the dataset's prefix (its pointer and versions are under it)
    version: str  # the version this run wrote
    version_uri: str
    classes: list[str]
    counts: dict[str, dict[str, int]]
    uploaded: int
    skipped: int
    bytes: int
    archive_md5: str
    seconds: dict[str, float] = field(default_factory=dict)
    manifest_keys: list[str] = field(default_factory=list)
    published: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stage(
    s3: S3Client,
    *,
    source: str,
    classes: list[str],
    dataset_uri: str,
    cache_dir: Path,
    concurrency: int = 16,
    fetched: FetchedArchive | None = None,
    version: str | None = None,
    expected_md5: str = "",
) -> EtlResult:
    """Fetch, transform and upload a new, complete version (images, then manifests); not yet published.

    :param version: the version's name; a fresh one by default (a retried task writes a new
        version: the one an earlier try left half written is an orphan for retention).
    :param expected_md5: the archive an earlier step checked (the DAG's extract_archive); a
        different one fails before anything is uploaded.
    :raises ArchiveChanged: the archive is not that one.
    """
    layout = DatasetLayout.from_uri(dataset_uri)
    label_ids = resolve_classes(classes)  # fail on a bad name before downloading anything
    classes = [c.strip().lower() for c in classes if c.strip()]
    check_destination(s3, layout.bucket)
    version = version or new_version(s3_clock(s3, layout.bucket))  # S3's clock: names order publishes
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    fetched = fetched or fetch_archive(source, cache_dir, s3_client=s3)  # an s3:// source: the same credentials
    seconds["extract"] = time.perf_counter() - t0
    if expected_md5 and fetched.md5 != expected_md5:
        raise ArchiveChanged(
            f"the archive changed since it was checked ({expected_md5} -> {fetched.md5}): rerun the DAG"
        )
    t0 = time.perf_counter()
    archive = read_cifar_archive(fetched.path, label_ids)
    manifests = build_manifests(archive, classes, label_ids)  # refuses empty classes and odd names: before any upload
    seconds["decode"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    root = layout.root(version)
    stats = upload_images(s3, layout.bucket, root, iter_image_files(archive, classes, label_ids), concurrency)
    seconds["encode_and_upload"] = time.perf_counter() - t0
    keys = put_manifests(s3, layout.bucket, root, manifests.files)  # labels.json last: the version is complete
    log.info(
        "staged %s version %s: %d images uploaded, counts %s", dataset_uri, version, stats.uploaded, manifests.counts
    )
    return EtlResult(
        layout.uri,
        version,
        layout.version_uri(version),
        classes,
        manifests.counts,
        stats.uploaded,
        stats.skipped,
        stats.bytes,
        fetched.md5,
        seconds,
        keys,
    )


def publish(s3: S3Client, *, dataset_uri: str, version: str) -> str:
    """Make ``version`` the published one (one conditional write of the pointer); return the pointer's key.

    :raises PublishConflict: a newer version was published meanwhile (this one stays unpublished).
    """
    layout = DatasetLayout.from_uri(dataset_uri)
    publish_version(s3, layout, version)
    return layout.pointer_key


def publish_staged(s3: S3Client, staged: Mapping[str, Any]) -> dict[str, Any]:
    """Publish what :func:`stage` wrote (``staged``: its ``EtlResult.to_dict()``, the DAG's XCom);
    return the announcement: what the dataset asset's event carries, for training to pin.

    :raises PublishConflict: a newer version was published meanwhile (nothing is announced).
    """
    pointer = publish(s3, dataset_uri=staged["dataset_uri"], version=staged["version"])
    return {
        "dataset_uri": staged["dataset_uri"],
        "dataset_version": staged["version"],
        "version_uri": staged["version_uri"],
        "classes": staged["classes"],
        "counts": staged["counts"],
        "pointer": pointer,
    }


def run_etl(
    s3: S3Client,
    *,
    source: str,
    classes: list[str],
    dataset_uri: str,
    cache_dir: Path,
    concurrency: int = 16,
) -> EtlResult:
    """The whole ETL in one call (``scones etl``): a new version, then published."""
    result = stage(
        s3,
        source=source,
        classes=classes,
        dataset_uri=dataset_uri,
        cache_dir=cache_dir,
        concurrency=concurrency,
    )
    t0 = time.perf_counter()
    result.manifest_keys.append(publish(s3, dataset_uri=dataset_uri, version=result.version))
    result.published = True
    result.seconds["publish"] = time.perf_counter() - t0
    return result
