"""Retention of dataset versions: old ones go by count or age, never one a model needs.

Kept, whatever their age or number: the published version, and every version a serving or
kept model trained on (the deployment record and its newest history entries name them).
Only complete versions OLDER than the published one are pruned by count and age: publishing
refuses them, so none can become current again. Of those the newest ``keep`` stay (and, with
``max_age_days``, only those younger than that).

A version newer than the published one is staged, maybe about to be published by another
run; one without ``labels.json`` is still uploading or an orphan of a run that failed or was
killed. Either is removed only once older than ``orphan_grace`` (no run takes that long).
The pointer is read again just before each deletion, so a version published meanwhile stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from scones.datasets import list_versions, read_pointer, s3_clock, version_time
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
    records = ([current] if current else []) + recent_deployments(
        s3, settings.bucket, settings.models_prefix, settings.keep_versions + 1
    )
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
    now = now or s3_clock(s3, layout.bucket)  # the clock the version names were taken from
    pointer = read_pointer(s3, layout)
    published = pointer.version if pointer else None
    protected = set(protected) | ({published} if published else set())
    result = Retention()
    older_than_published: list[str] = []
    for version in sorted(list_versions(s3, layout), reverse=True):  # newest first
        complete = version not in protected and _complete(s3, layout, version)
        if version in protected:
            result.kept.append(version)
        elif complete and published is not None and version < published:
            older_than_published.append(version)
        elif now - version_time(version) > orphan_grace and _delete(s3, layout, version, complete, result):
            result.orphans_deleted.append(version)  # never published: a failed, killed or abandoned run's
        else:
            result.kept.append(version)  # maybe still uploading, or staged and about to be published
    for rank, version in enumerate(older_than_published):
        too_old = max_age_days > 0 and now - version_time(version) > timedelta(days=max_age_days)
        if (rank < keep and not too_old) or not _delete(s3, layout, version, True, result):
            result.kept.append(version)
        else:
            result.deleted.append(version)
    log.info(
        "dataset versions at %s: kept %s, deleted %s, orphans deleted %s",
        layout.uri,
        result.kept,
        result.deleted,
        result.orphans_deleted,
    )
    return result


def _delete(s3: S3Client, layout: DatasetLayout, version: str, complete: bool, result: Retention) -> bool:
    """Delete a version unless it was published since the listing; True if deleted."""
    pointer = read_pointer(s3, layout)  # again: another run may have published it a moment ago
    if pointer is not None and pointer.version == version:
        return False
    if complete:  # labels.json first: a half-deleted version then reads as an orphan, never as complete
        s3.delete_object(Bucket=layout.bucket, Key=layout.labels_key(version))
    result.objects_deleted += int(complete) + delete_prefix(s3, layout.bucket, layout.root(version))
    return True
