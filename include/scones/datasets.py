"""Dataset versions: name a new one, publish it atomically, and pin one for reading.

Writers (the ETL) put a whole version under its own prefix, ``labels.json`` last, then call
:func:`publish_version`, which swaps the pointer (``current.json``) with a conditional write:
``If-None-Match: *`` for the first version, ``If-Match: <the ETag it read>`` after. Two runs
publishing at once cannot interleave: the pointer names one complete version or the other.
A run that loses the race re-reads the pointer; if a *newer* version is now published it
fails with :class:`PublishConflict` (its own version stays, unpublished, for retention to
remove), otherwise it tries again on the new state.

Readers call :func:`resolve_dataset` once and keep the :class:`PinnedDataset` it returns:
whatever is published later, they read the same files.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from scones.errors import ConfigurationError, DatasetNotFound, DestinationError, PublishConflict
from scones.layout import LEGACY_VERSION, VERSION_RE, DatasetLayout
from scones.s3retry import is_not_implemented, with_retries

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)
PUBLISH_ATTEMPTS = 20  # pointer swaps lost to an older concurrent publisher before giving up
#: A worker whose clock is within this of S3's names versions by its own (sub-second) clock;
#: beyond it, by its clock corrected to S3's (whose Date header is only to the second).
CLOCK_TOLERANCE = timedelta(seconds=2)
#: A version named further than this ahead of S3's clock was named by a fast clock.
FUTURE_TOLERANCE = timedelta(minutes=1)


def new_version(now: datetime | None = None) -> str:
    """A fresh version name, ``20261129T172000.123456Z-1a2b3c4d``: sorts by creation time.

    Pass ``s3_clock(...)``: names are compared across workers, so they must share one clock.
    """
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(4)}"


def version_time(version: str) -> datetime:
    return datetime.strptime(version.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)


def s3_clock(s3: S3Client, bucket: str) -> datetime:
    """Now by S3's clock, the one clock every worker shares (the ``Date`` of a HEAD on the bucket).

    Version names order publishes, so a worker whose clock ran ahead would name a "future"
    version and make every correct run's publish fail until real time caught up. The local
    clock is used as it is when within :data:`CLOCK_TOLERANCE` of S3's (or when the store
    sends no ``Date``, as in-process moto, which shares our clock anyway).
    """
    response = with_retries(lambda: s3.head_bucket(Bucket=bucket), f"reading the clock of bucket {bucket!r}")
    local = datetime.now(UTC)
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        remote = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        remote = None
    if remote is None or remote.tzinfo is None or abs(local - remote) <= CLOCK_TOLERANCE:
        return local
    log.warning(
        "this worker's clock is %.0f s off S3's (%s); naming dataset versions by S3's clock",
        (local - remote).total_seconds(),
        date,
    )
    return remote


@dataclass(frozen=True)
class Pointer:
    """What ``current.json`` says, and its ETag (for the next conditional write)."""

    version: str
    etag: str
    published_at: str = ""
    previous: str | None = None


@dataclass(frozen=True)
class PinnedDataset:
    """One version of the dataset, resolved once: read everything through this."""

    layout: DatasetLayout
    version: str
    labels: dict[str, Any] = field(repr=False)

    @property
    def uri(self) -> str:
        """``s3://bucket/<prefix>/versions/<version>``: the training channels are under it."""
        return self.layout.version_uri(self.version)

    @property
    def classes(self) -> list[str]:
        return list(self.labels["classes"])

    def key(self, relative: str) -> str:
        return self.layout.key(self.version, relative)

    def channel_prefix(self, channel: str) -> str:
        return self.layout.channel_prefix(self.version, channel)

    def summary(self) -> dict[str, Any]:
        """A JSON-able description (an XCom, the Asset's extra, the CLI's output)."""
        counts = self.labels["counts"]
        return {
            "dataset_uri": self.uri,
            "dataset_version": self.version,
            "dataset_prefix": self.layout.prefix,
            "bucket": self.layout.bucket,
            "classes": self.classes,
            "counts": counts,
            "num_training_samples": sum(counts["train"].values()),
            "num_validation_samples": sum(counts["validation"].values()),
        }


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _get_json(s3: S3Client, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
    """The object's JSON and ETag, or None if there is no such key."""

    def get() -> tuple[bytes, str] | None:
        try:
            response = s3.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise  # NoSuchBucket, AccessDenied: the caller says what to do
        return response["Body"].read(), response["ETag"]

    found = with_retries(get, f"reading s3://{bucket}/{key}")
    if found is None:
        return None
    try:
        body = json.loads(found[0])
    except ValueError as exc:  # not UTF-8 or not JSON: rereading gives the same bytes
        raise DestinationError(f"s3://{bucket}/{key} is not JSON ({exc}); it was not written by scones") from exc
    return body, found[1]


def read_pointer(s3: S3Client, layout: DatasetLayout) -> Pointer | None:
    """The published version, or None when nothing was published in the versioned layout.

    :raises DestinationError: ``current.json`` is not a pointer (final: rereading reads the same).
    """
    repair = (
        f'delete it and rerun the scones_cifar_etl DAG, or write {{"version": "<a complete version under '
        f'{layout.versions_prefix}>"}} into it'
    )
    try:
        found = _get_json(s3, layout.bucket, layout.pointer_key)
    except DestinationError as exc:
        raise DestinationError(f"{exc}: the dataset pointer is damaged; {repair}") from exc
    if found is None:
        return None
    body, etag = found
    version = body.get("version") if isinstance(body, dict) else None
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise DestinationError(
            f's3://{layout.bucket}/{layout.pointer_key} has no valid "version" (found {version!r}): the dataset '
            f"pointer is damaged; {repair}"
        )
    return Pointer(version, etag, str(body.get("published_at", "")), body.get("previous"))


def resolve_dataset(s3: S3Client, layout: DatasetLayout) -> PinnedDataset:
    """Pin the published version (or the legacy layout's files when there is no pointer).

    :raises DatasetNotFound: nothing is published under the prefix.
    """
    pointer = read_pointer(s3, layout)
    version = pointer.version if pointer else LEGACY_VERSION
    found = _get_json(s3, layout.bucket, layout.labels_key(version))
    if found is None:
        if pointer:  # the pointer is written after the version's labels.json: never happens unless deleted
            raise DatasetNotFound(f"{layout.pointer_key} names version {version}, whose labels.json is gone")
        raise DatasetNotFound(
            f"no dataset at {layout.uri}: run the scones_cifar_etl DAG first (or trigger "
            "scones_train_deploy with refresh_dataset on)"
        )
    return PinnedDataset(layout, version, found[0])


def pin_version(s3: S3Client, layout: DatasetLayout, version: str) -> PinnedDataset:
    """A given version (one this run wrote, or one a model names), whether or not it is current."""
    found = _get_json(s3, layout.bucket, layout.labels_key(version))
    if found is None:
        raise DatasetNotFound(f"dataset version {version} is not complete at {layout.version_uri(version)}")
    return PinnedDataset(layout, version, found[0])


def publish_version(s3: S3Client, layout: DatasetLayout, version: str, *, attempts: int = PUBLISH_ATTEMPTS) -> Pointer:
    """Point ``current.json`` at ``version`` (complete: its labels.json is there) in one conditional write.

    :raises DatasetNotFound: the version is not complete.
    :raises PublishConflict: a newer version was published meanwhile; nothing changed.
    """
    pin_version(s3, layout, version)  # never point at a version that is not all there
    future = s3_clock(s3, layout.bucket) + FUTURE_TOLERANCE
    if version_time(version) > future:
        raise ConfigurationError(
            f"dataset version {version} is named after a time ahead of S3's clock: it was named by a worker whose "
            "clock runs fast, and publishing it would make every later run's version look older; not published"
        )
    for _ in range(attempts):
        current = read_pointer(s3, layout)
        if current is not None and current.version == version:
            return current  # published already (a retried task)
        if current is not None and version_time(current.version) > future:
            log.warning(
                "the published version %s is named ahead of S3's clock (a fast clock named it before "
                "versions were named by S3's): replacing it with %s",
                current.version,
                version,
            )
        elif current is not None and current.version > version and current.previous == version:
            # Our write committed but its answer was lost (the retried write then failed its If-Match),
            # and a newer version followed. Not reported as success: announcing a version that is
            # no longer current would mislead, and readers see exactly what a lost race leaves.
            raise PublishConflict(
                f"dataset version {version} was published at {layout.uri}, then superseded by {current.version} "
                f"(published by another run before this one could confirm its own write); {current.version} stays current"
            )
        elif current is not None and current.version > version:  # names sort by creation time
            raise PublishConflict(
                f"dataset version {current.version} was published at {layout.uri} while this run wrote "
                f"{version}; the newer one stays current and {version} is left unpublished"
            )
        body = {
            "version": version,
            "uri": layout.version_uri(version),
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "previous": current.version if current else None,
        }
        condition = {"IfMatch": current.etag} if current else {"IfNoneMatch": "*"}

        def put(condition: dict[str, str] = condition, body: dict[str, Any] = body) -> Any:
            return s3.put_object(
                Bucket=layout.bucket,
                Key=layout.pointer_key,
                Body=json.dumps(body, indent=2).encode(),
                ContentType="application/json",
                **condition,
            )

        try:
            response = with_retries(put, f"publishing {layout.pointer_key}")
        except ClientError as exc:
            if _error_code(exc) in ("PreconditionFailed", "412", "NoSuchKey", "404"):
                continue  # another publisher swapped it first: look again
            if is_not_implemented(exc):
                raise DestinationError(
                    f"the S3 store of bucket {layout.bucket!r} refused the conditional write of {layout.pointer_key} "
                    f"({exc}): publishing needs a store that supports conditional writes (PutObject with If-Match / "
                    "If-None-Match), as AWS S3 and the emulator do; nothing was published"
                ) from exc
            raise DestinationError(f"could not write {layout.pointer_key} in bucket {layout.bucket!r}: {exc}") from exc
        return Pointer(version, response["ETag"], body["published_at"], body["previous"])
    raise PublishConflict(f"{layout.pointer_key} kept changing under {attempts} tries to publish {version}; rerun")


def list_versions(s3: S3Client, layout: DatasetLayout) -> list[str]:
    """Every version name under ``versions/`` (complete or not), oldest first."""

    def listing() -> list[str]:
        names = []
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=layout.bucket, Prefix=layout.versions_prefix, Delimiter="/"
        ):
            for common in page.get("CommonPrefixes", []):
                if (version := layout.version_of_key(common["Prefix"])) is not None:
                    names.append(version)
        return sorted(names)

    return with_retries(listing, f"listing {layout.versions_prefix}")


def pointer_dict(pointer: Pointer) -> dict[str, Any]:
    return asdict(pointer)
