"""The published dataset, as training sees it: its labels.json, a refresh, a held-out image."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from scones.errors import ConfigurationError
from scones.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class DatasetNotFound(ConfigurationError):
    """No dataset is published where the settings point."""


def _get(s3: S3Client, bucket: str, key: str) -> bytes:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket"):
            raise DatasetNotFound(
                f"no dataset at s3://{bucket}/{key.rsplit('/', 1)[0]}: run the scones_cifar_etl DAG "
                "first, or trigger this DAG with refresh_dataset on"
            ) from exc
        raise


def describe_dataset(s3: S3Client, settings: Settings) -> dict[str, Any]:
    """What training needs to know about the published dataset; checks its classes."""
    labels = json.loads(_get(s3, settings.bucket, f"{settings.dataset_prefix}/labels.json"))
    if list(labels["classes"]) != list(settings.classes):
        raise ConfigurationError(
            f"the published dataset has classes {labels['classes']} but this run asks for "
            f"{list(settings.classes)}: trigger with refresh_dataset on to rebuild it, or ask for its classes"
        )
    return {
        "dataset_uri": settings.dataset_uri,
        "classes": labels["classes"],
        "num_training_samples": sum(labels["counts"]["train"].values()),
        "num_validation_samples": sum(labels["counts"]["validation"].values()),
    }


def refresh_dataset(s3: S3Client, settings: Settings, staging_key: str) -> None:
    """Run the ETL with this run's classes and source (same code as the ETL DAG)."""
    from scones.etl import run_etl, run_key

    run_etl(s3, source=settings.source_url, classes=list(settings.classes), dataset_uri=settings.dataset_uri,
            cache_dir=settings.cache_dir, concurrency=settings.upload_concurrency, staging_key=run_key(staging_key))  # fmt: skip


def first_validation_image(s3: S3Client, settings: Settings) -> tuple[str, bytes]:
    """The first image of the validation manifest: held out from training."""
    lst = _get(s3, settings.bucket, f"{settings.dataset_prefix}/validation_lst/validation.lst").decode()
    relative = lst.splitlines()[0].split("\t")[2]
    key = f"{settings.dataset_prefix}/validation/{relative}"
    return key, _get(s3, settings.bucket, key)
