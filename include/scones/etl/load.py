"""Load: upload a version's images concurrently, then its manifests (``labels.json`` last).

Every key is under the run's own version (``scones.layout``), which no reader sees until the
pointer names it, so nothing published is overwritten. Transient S3 errors (an outage, 5xx,
throttling) are retried with backoff and end in ``DestinationUnavailable``; a missing bucket
or a refused permission is ``DestinationError`` at once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from scones.errors import DestinationError, DestinationUnavailable
from scones.etl.transform import ImageFile
from scones.layout import LABELS_FILE
from scones.s3retry import TRANSIENT_CODES, with_retries

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)


@dataclass
class UploadStats:
    uploaded: int = 0
    skipped: int = 0  # identical object already there (a retried upload into the same version)
    bytes: int = 0


def _explain(exc: ClientError, bucket: str, action: str) -> DestinationError:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in ("404", "NoSuchBucket"):
        return DestinationError(f"bucket {bucket!r} does not exist: create it (or set SCONES_BUCKET) and rerun")
    if code in ("403", "AccessDenied", "AllAccessDisabled"):
        return DestinationError(
            f"no permission to {action} in bucket {bucket!r} ({code}): grant s3:ListBucket, "
            "s3:GetObject and s3:PutObject on it to this role, or use another bucket"
        )
    return DestinationError(f"could not {action} in bucket {bucket!r}: {exc}")


def check_destination(s3: S3Client, bucket: str) -> None:
    """Fail before any work if the bucket is missing or not ours to use."""
    try:
        with_retries(lambda: s3.head_bucket(Bucket=bucket), f"checking bucket {bucket!r}")
    except ClientError as exc:
        raise _explain(exc, bucket, "read") from exc


def existing_etags(s3: S3Client, bucket: str, prefix: str) -> dict[str, str]:
    """``{key: md5 hex}`` of the objects already under ``prefix``."""

    def listing() -> dict[str, str]:
        etags: dict[str, str] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                etags[obj["Key"]] = obj["ETag"].strip('"')
        return etags

    try:
        return with_retries(listing, f"listing s3://{bucket}/{prefix}")
    except ClientError as exc:
        raise _explain(exc, bucket, "list objects") from exc


def upload_images(
    s3: S3Client,
    bucket: str,
    prefix: str,
    chunks: Iterable[list[ImageFile]],
    concurrency: int = 16,
) -> UploadStats:
    """Put every image under ``prefix/``, ``concurrency`` at a time; skip identical ones.

    Stops at the first failure (no point sending the rest) and raises DestinationError.
    """
    prefix = prefix.strip("/")
    known = existing_etags(s3, bucket, prefix + "/")
    stats = UploadStats()

    def put(image: ImageFile, key: str) -> None:
        with_retries(
            lambda: s3.put_object(Bucket=bucket, Key=key, Body=image.body, ContentType="image/png"),
            f"uploading images to bucket {bucket!r}",
        )

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="s3-put") as pool:
        in_flight: set[Future[None]] = set()
        for chunk in chunks:
            for image in chunk:
                key = f"{prefix}/{image.key}"
                if known.get(key) == hashlib.md5(image.body, usedforsecurity=False).hexdigest():
                    stats.skipped += 1
                    continue
                in_flight.add(pool.submit(put, image, key))
                stats.uploaded += 1
                stats.bytes += len(image.body)
                if len(in_flight) >= 4 * concurrency:  # bound memory: wait for some to finish
                    done, in_flight = wait(in_flight, return_when=FIRST_EXCEPTION)
                    _raise_first(done, bucket, pool)
        wait(in_flight, return_when=FIRST_EXCEPTION)
        _raise_first(in_flight, bucket, pool)
    return stats


def _raise_first(futures: Iterable[Future[Any]], bucket: str, pool: ThreadPoolExecutor) -> None:
    for future in futures:
        if future.done() and (exc := future.exception()) is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            if isinstance(exc, DestinationUnavailable):
                raise exc
            if isinstance(exc, ClientError):
                raise _explain(exc, bucket, "upload images") from exc
            raise DestinationError(f"uploading images to bucket {bucket!r} failed: {exc}") from exc


def put_manifests(s3: S3Client, bucket: str, prefix: str, files: Mapping[str, str]) -> list[str]:
    """Write the manifests, ``labels.json`` last (it is what readers check first)."""
    prefix = prefix.strip("/")
    keys = []
    for name in sorted(files, key=lambda n: n == LABELS_FILE):
        key = f"{prefix}/{name}"
        content_type = "application/json" if name.endswith(".json") else "text/plain"
        body = files[name].encode()
        try:
            with_retries(
                lambda key=key, body=body, content_type=content_type: s3.put_object(
                    Bucket=bucket, Key=key, Body=body, ContentType=content_type
                ),
                f"writing {key}",
            )
        except ClientError as exc:
            raise _explain(exc, bucket, "write manifests") from exc
        keys.append(key)
    return keys


def delete_prefix(s3: S3Client, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix/``; return how many.

    DeleteObjects answers 200 even when it deletes nothing: each key it could not delete is in
    the response's ``Errors``. Keys with a transient code are sent again (with backoff).

    :raises DestinationError: some keys were refused (AccessDenied...): names them and why.
    """
    keys = list(existing_etags(s3, bucket, prefix.strip("/") + "/"))
    refused: list[dict[str, str]] = []
    for start in range(0, len(keys), 1000):
        pending = keys[start : start + 1000]

        def delete_batch(pending: list[str] = pending) -> None:  # bound now: called within this iteration
            response = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in pending], "Quiet": True}
            )
            errors = response.get("Errors", [])
            refused.extend(e for e in errors if e.get("Code") not in TRANSIENT_CODES)
            pending[:] = [e["Key"] for e in errors if e.get("Code") in TRANSIENT_CODES]
            if pending:  # raised as the ClientError it is, so with_retries backs off and sends these again
                first = next(e for e in errors if e["Key"] == pending[0])
                raise ClientError(
                    {"Error": {"Code": first["Code"], "Message": first.get("Message", "")}}, "DeleteObjects"
                )

        with_retries(delete_batch, f"deleting {prefix}")
    if refused:
        shown = ", ".join(f"{e.get('Key')} ({e.get('Code')}: {e.get('Message', '')})" for e in refused[:5])
        raise DestinationError(
            f"could not delete {len(refused)} of {len(keys)} objects under s3://{bucket}/{prefix}: {shown}"
            f"{' ...' if len(refused) > 5 else ''}; grant s3:DeleteObject on them to this role, then rerun"
        )
    return len(keys)
