"""Extract: bring the CIFAR-100 archive from its source to a local, verified cache.

Sources: ``http(s)://`` URLs (streamed to disk, never whole in memory, transient errors
retried with backoff), ``s3://bucket/key`` and local paths (used in place). The official
archive is md5-verified; a verified cached copy is reused instead of downloading again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from scones.errors import ChecksumMismatch, SourceUnreachable
from scones.settings import OFFICIAL_CIFAR100_MD5, OFFICIAL_CIFAR100_URL

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

CHUNK = 1 << 20
#: Attempts after the first, the first delay (doubled each time) and the socket timeout: an
#: unreachable source fails in at most 4 x 20 s + 2 + 4 + 8 s, about a minute and a half.
#: The DAG task does not retry a SourceError on top (that multiplied it to 13 minutes).
DOWNLOAD_RETRIES = 3
DOWNLOAD_BACKOFF = 2.0
DOWNLOAD_TIMEOUT = 20.0
#: Where to change the source, said in every "cannot read the source" error.
SOURCE_HINT = (
    'set the "Source" field of the DAG\'s trigger form (scones etl: --source; everywhere: '
    "SCONES_SOURCE_URL); offline, use shared/data/cifar-100-python-bikes.tar.gz"
)
#: HTTP statuses worth retrying; any other error status is final (a 404 will not heal).
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class FetchedArchive:
    """A local copy of the archive and what is known about it."""

    path: Path
    md5: str
    size: int
    source: str
    from_cache: bool


def expected_md5_for(source: str) -> str | None:
    """Only the official archive has a published checksum."""
    return OFFICIAL_CIFAR100_MD5 if source == OFFICIAL_CIFAR100_URL else None


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_archive(
    source: str,
    cache_dir: Path,
    *,
    expected_md5: str | None = None,
    retries: int = DOWNLOAD_RETRIES,
    backoff: float = DOWNLOAD_BACKOFF,
    s3_client: S3Client | None = None,
) -> FetchedArchive:
    """Return a verified local copy of ``source``.

    :param source: an ``http(s)://`` URL, an ``s3://bucket/key`` URI or a local path.
    :param cache_dir: where downloads are kept between runs.
    :param expected_md5: checksum to enforce; defaults to the published one for the
        official URL and none otherwise.
    :param retries: attempts after the first for transient network errors.
    :param backoff: first retry delay in seconds, doubled each time.
    :raises SourceUnreachable: missing file, unknown scheme, or network errors after retries.
    :raises ChecksumMismatch: the content's md5 is not ``expected_md5``.
    """
    expected_md5 = expected_md5 or expected_md5_for(source)
    scheme = urlparse(source).scheme
    if scheme in ("http", "https", "s3"):
        return _fetch_remote(source, cache_dir, expected_md5, retries, backoff, s3_client)
    if scheme not in ("", "file"):
        raise SourceUnreachable(f"unsupported source {source!r}: use an http(s):// URL, an s3:// URI or a local path")
    path = Path(urlparse(source).path if scheme == "file" else source).expanduser()
    if not path.is_file():
        raise SourceUnreachable(f"source file {path} does not exist: {SOURCE_HINT}")
    md5 = file_md5(path)
    _verify(md5, expected_md5, source)
    return FetchedArchive(path.resolve(), md5, path.stat().st_size, source, from_cache=False)


def _verify(md5: str, expected: str | None, source: str) -> None:
    if expected and md5 != expected:
        raise ChecksumMismatch(
            f"{source} has md5 {md5}, expected {expected}: the download is corrupt or the "
            "file is not the official CIFAR-100 archive; it was not used (delete the cache "
            "entry or fix the source, then rerun)"
        )


def _cache_paths(cache_dir: Path, source: str) -> tuple[Path, Path]:
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    name = Path(urlparse(source).path).name or "archive.tar.gz"
    folder = cache_dir / "downloads" / key
    return folder / name, folder / "fetched.json"


def _fetch_remote(
    source: str,
    cache_dir: Path,
    expected_md5: str | None,
    retries: int,
    backoff: float,
    s3_client: S3Client | None,
) -> FetchedArchive:
    target, record = _cache_paths(cache_dir, source)
    if target.is_file() and record.is_file():
        meta = json.loads(record.read_text())
        # The record is written only after a complete download, so its md5 is trusted
        # when the size still matches; an expected md5 must match it too.
        if meta.get("size") == target.stat().st_size and (expected_md5 is None or meta.get("md5") == expected_md5):
            log.info("using cached %s (%s bytes, md5 %s)", target, meta["size"], meta["md5"])
            return FetchedArchive(target, meta["md5"], meta["size"], source, from_cache=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    download = _download_s3 if source.startswith("s3://") else _download_http
    for attempt in range(retries + 1):
        try:
            md5, size = download(source, part, s3_client)
            break
        except _Transient as exc:
            if attempt == retries:
                part.unlink(missing_ok=True)
                raise SourceUnreachable(
                    f"could not download {source} after {retries + 1} attempts: {exc.__cause__ or exc}; "
                    f"check the network, or {SOURCE_HINT}"
                ) from exc
            delay = backoff * 2**attempt
            log.warning("download of %s failed (%s); retry %d in %.0fs", source, exc.__cause__, attempt + 1, delay)
            time.sleep(delay)
    try:
        _verify(md5, expected_md5, source)
    except ChecksumMismatch:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    record.write_text(json.dumps({"source": source, "md5": md5, "size": size}))
    log.info("downloaded %s to %s (%d bytes, md5 %s)", source, target, size, md5)
    return FetchedArchive(target, md5, size, source, from_cache=False)


class _Transient(Exception):
    """A download error worth retrying; the cause is chained."""


def _download_http(url: str, part: Path, _s3: object = None) -> tuple[str, int]:
    digest, size = hashlib.md5(usedforsecurity=False), 0
    request = urllib.request.Request(url, headers={"User-Agent": "scones-etl"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response, part.open("wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            expected = response.headers.get("Content-Length")
    except urllib.error.HTTPError as exc:
        if exc.code in RETRYABLE_STATUS:
            raise _Transient(str(exc)) from exc
        raise SourceUnreachable(f"{url} answered HTTP {exc.code} {exc.reason}: {SOURCE_HINT}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise _Transient(str(exc)) from exc
    if expected is not None and int(expected) != size:
        raise _Transient(f"truncated download: {size} of {expected} bytes")
    return digest.hexdigest(), size


def _download_s3(uri: str, part: Path, s3_client: S3Client | None) -> tuple[str, int]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    parsed = urlparse(uri)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    client = s3_client or boto3.client("s3")
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        digest, size = hashlib.md5(usedforsecurity=False), 0
        with part.open("wb") as out:
            for chunk in body.iter_chunks(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "NoSuchBucket", "404", "AccessDenied", "403"):
            raise SourceUnreachable(f"cannot read {uri}: {code}; {SOURCE_HINT}") from exc
        raise _Transient(str(exc)) from exc
    except NoCredentialsError as exc:  # waiting will not bring credentials: say so at once
        raise SourceUnreachable(
            f"cannot read {uri}: no AWS credentials (the Airflow connection's, or the environment's)"
        ) from exc
    except BotoCoreError as exc:
        raise _Transient(str(exc)) from exc
    return digest.hexdigest(), size
