"""The dataset as training sees it: one pinned version, a refresh, a held-out image.

``check_dataset`` resolves the pointer once and hands the version on (XCom): the training
job's channels, its tags, the smoke test's image and the deployment record all name that
version, whatever the ETL publishes meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from scones.datasets import PinnedDataset, pin_version, resolve_dataset
from scones.errors import ConfigurationError, DatasetNotFound, NothingToDoYet
from scones.layout import DatasetLayout
from scones.s3retry import with_retries
from scones.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["dataset_for_run", "describe_dataset", "first_validation_image", "refresh_dataset"]


def dataset_for_run(s3: S3Client, settings: Settings, *, refresh: bool, run_type: str | None) -> dict[str, Any]:
    """The dataset version this run trains on: a new one from the ETL when ``refresh``, else the
    published one; its classes checked (:func:`describe_dataset`).

    :param run_type: the DAG run's type (``scheduled``, ``manual``...).
    :raises NothingToDoYet: nothing is published and the run is scheduled (the first start of
        ``scones up``, before any ETL): the task ends skipped, saying why.
    :raises DatasetNotFound: nothing is published and a person triggered the run: it fails,
        saying to run the ETL first.
    """
    version = refresh_dataset(s3, settings) if refresh else None
    try:
        return describe_dataset(s3, settings, version)
    except DatasetNotFound as exc:
        if run_type == "scheduled":
            raise NothingToDoYet(f"{exc} (this scheduled run has nothing to train on yet)") from exc
        raise


def describe_dataset(s3: S3Client, settings: Settings, version: str | None = None) -> dict[str, Any]:
    """What training needs to know about the published (or given) version; checks its classes."""
    layout = DatasetLayout.of(settings)
    try:
        pinned = pin_version(s3, layout, version) if version else resolve_dataset(s3, layout)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
        raise DatasetNotFound(
            f"no dataset at {layout.uri}: bucket {layout.bucket!r} does not exist (create it, or set "
            "SCONES_BUCKET), then run the scones_cifar_etl DAG"
        ) from exc
    if pinned.classes != list(settings.classes):
        raise ConfigurationError(
            f"the published dataset (version {pinned.version}) has classes {pinned.classes} but this run asks for "
            f"{list(settings.classes)}: trigger with refresh_dataset on to rebuild it, or ask for its classes"
        )
    return pinned.summary()


def refresh_dataset(s3: S3Client, settings: Settings) -> str:
    """Run the ETL with this run's classes and source (same code as the ETL DAG); return its version."""
    from scones.etl import run_etl

    result = run_etl(
        s3,
        source=settings.source_url,
        classes=list(settings.classes),
        dataset_uri=settings.dataset_uri,
        cache_dir=settings.cache_dir,
        concurrency=settings.upload_concurrency,
    )
    return result.version


def first_validation_image(s3: S3Client, dataset: dict[str, Any]) -> tuple[str, bytes]:
    """The first image of the pinned version's validation manifest: held out from training.

    :param dataset: what :func:`describe_dataset` returned (``dataset_version`` pins the files).
    """
    layout = DatasetLayout(dataset["bucket"], dataset["dataset_prefix"])
    pinned = PinnedDataset(layout, dataset["dataset_version"], {"classes": dataset["classes"]})

    def get(key: str) -> bytes:
        return with_retries(lambda: s3.get_object(Bucket=layout.bucket, Key=key)["Body"].read(), f"reading {key}")

    lst = get(layout.manifest_key(pinned.version, "validation")).decode()
    relative = lst.splitlines()[0].split("\t")[2]
    key = pinned.key(f"validation/{relative}")
    return key, get(key)
