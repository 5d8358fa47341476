"""Retention of dataset versions: old ones go by count or age, never one a model needs.

Kept, whatever their age or number: the published version, and every version a serving or
kept model trained on (the deployment record and its newest history entries name them).
Besides those, the newest ``keep`` complete versions stay (and, with ``max_age_days``, only
those younger than that). A version without ``labels.json`` is an orphan of a run that
failed or was killed; it is removed once older than ``orphan_grace`` (a younger one may
still be uploading).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from scones.datasets import list_versions, read_pointer
from scones.etl.load import delete_prefix
from scones.layout import DatasetLayout

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from scones.settings import Settings

log = logging.getLogger(__name__)
ORPHAN_GRACE = timedelta(hours=6)  # longer than any ETL run takes to upload


@dataclass
class Retention:
    kept: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    orphans_deleted: list[str] = field(default_factory=list)
    objects_deleted: int = 0


def version_time(version: str) -> datetime:
    return datetime.strptime(version.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)


def _complete(s3: S3Client, layout: DatasetLayout, version: str) -> bool:
    try:
        s3.head_object(Bucket=layout.bucket, Key=layout.labels_key(version))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def protected_versions(s3: S3Client, settings: Settings) -> set[str]:
    """Versions that serving and kept models trained on (from the deployment record and history)."""
    from scones.deployment.record import read_current, recent_deployments

    current = read_current(s3, settings.bucket, settings.models_prefix)
    records = ([current] if current else []) + recent_deployments(s3, settings.bucket, settings.models_prefix,
                                                                   settings.keep_versions + 1)  # fmt: skip
    return {r.dataset_version for r in records if r.dataset_version}


def prune_versions(
    s3: S3Client,
    layout: DatasetLayout,
    *,
    keep: int,
    protected: set[str],
    max_age_days: int = 0,
    orphan_grace: timedelta = ORPHAN_GRACE,
    now: datetime | None = None,
) -> Retention:
    """Delete old and orphaned versions; see the module docstring for what is never deleted."""
    now = now or datetime.now(UTC)
    pointer = read_pointer(s3, layout)
    protected = set(protected) | ({pointer.version} if pointer else set())
    result = Retention()
    complete_unprotected: list[str] = []
    for version in sorted(list_versions(s3, layout), reverse=True):  # newest first
        if version in protected:
            result.kept.append(version)
        elif not _complete(s3, layout, version):
            if now - version_time(version) > orphan_grace:
                result.objects_deleted += delete_prefix(s3, layout.bucket, layout.root(version))
                result.orphans_deleted.append(version)
            else:
                result.kept.append(version)  # maybe still uploading
        else:
            complete_unprotected.append(version)
    for rank, version in enumerate(complete_unprotected):
        too_old = max_age_days > 0 and now - version_time(version) > timedelta(days=max_age_days)
        if rank < keep and not too_old:
            result.kept.append(version)
            continue
        # labels.json first: a half-deleted version then reads as an orphan, never as complete.
        s3.delete_object(Bucket=layout.bucket, Key=layout.labels_key(version))
        result.objects_deleted += 1 + delete_prefix(s3, layout.bucket, layout.root(version))
        result.deleted.append(version)
    log.info("dataset versions at %s: kept %s, deleted %s, orphans deleted %s", layout.uri, result.kept,
             result.deleted, result.orphans_deleted)  # fmt: skip
    return result
