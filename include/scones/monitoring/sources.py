"""Where a window's capture files are: a local folder, or the hourly partitions in S3.

Partition names (``yyyy/mm/dd/hh``) sort as their hours do, and S3 lists keys in that order:
each variant is listed from just before the window's first partition (``StartAfter``) and the
listing stops at the first key past its last one. A window costs one LIST call per 1,000
capture files it holds (plus one), however long the endpoint has been capturing and however
long the window: a window of decades over a day of capture costs what the day costs. The
input may name the capture root, one endpoint, or one variant; the variant folders are found
with delimiter listings (one level at a time, never the objects under them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from scones.monitoring.errors import CaptureSourceError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from scones.monitoring.window import Window

_YEAR = re.compile(r"^\d{4}\Z")  # \Z, not $: "$" matches before a final newline
_PARTITION = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+\Z")
CAPTURE_SUFFIX = ".jsonl"


@dataclass(frozen=True)
class CaptureObject:
    """One capture file: a local path, or an S3 key in ``bucket``."""

    location: str
    size: int
    bucket: str = ""  # empty for a local file

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.location}" if self.bucket else self.location


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ("bucket", "some/prefix")."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise CaptureSourceError(f"{uri!r} is not an s3://bucket/prefix URI")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


def local_capture_files(folder: str | Path, window: Window | None = None) -> list[CaptureObject]:
    """Every ``.jsonl`` under ``folder`` (recursively), skipping hourly partitions outside ``window``.

    Files not under a ``yyyy/mm/dd/hh/`` folder are always read (their records are filtered
    on time later). ``folder`` may also be one capture file.

    :raises CaptureSourceError: the folder does not exist.
    """
    root = Path(folder).expanduser()
    if root.is_file():  # one capture file named directly: read it, whatever its name
        return [CaptureObject(str(root), root.stat().st_size)]
    if not root.is_dir():
        raise CaptureSourceError(f"capture folder {root} does not exist")
    found = []
    for path in sorted(root.rglob(f"*{CAPTURE_SUFFIX}")):
        if not path.is_file():
            continue
        match = _PARTITION.search(path.relative_to(root).as_posix())
        if window is not None and match and not window.covers_partition("/".join(match.groups())):
            continue
        found.append(CaptureObject(str(path), path.stat().st_size))
    return found


def _child_folders(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    names = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        names += [p["Prefix"][len(prefix) :].rstrip("/") for p in page.get("CommonPrefixes", [])]
    return names


def variant_prefixes(s3: S3Client, bucket: str, prefix: str, depth: int = 2) -> list[str]:
    """The ``<endpoint>/<variant>/`` prefixes at or below ``prefix`` (those holding year folders).

    :param depth: how many folder levels to descend looking for them (root -> endpoint -> variant).
    """
    prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    children = _child_folders(s3, bucket, prefix)
    if any(_YEAR.match(name) for name in children):
        return [prefix]
    if depth == 0:
        return []
    found: list[str] = []
    for name in children:
        found += variant_prefixes(s3, bucket, f"{prefix}{name}/", depth - 1)
    return found


def s3_capture_objects(s3: S3Client, uri: str, window: Window) -> list[CaptureObject]:
    """The capture objects in the window's hourly partitions under ``uri``.

    :param uri: ``s3://bucket/<capture prefix>[/<endpoint>[/<variant>]]``.
    :raises CaptureSourceError: the bucket is missing or cannot be listed.
    """
    bucket, prefix = parse_s3_uri(uri)
    try:
        found = []
        for variant in variant_prefixes(s3, bucket, prefix):
            found += _objects_in_window(s3, bucket, variant, window)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        hint = {
            "NoSuchBucket": "check the bucket name (SCONES_BUCKET) and the endpoint URL (AWS_ENDPOINT_URL)",
            "AccessDenied": "the role needs s3:ListBucket on the bucket and s3:GetObject on the prefix",
        }.get(code, "check the URI and credentials")
        raise CaptureSourceError(f"cannot list {uri}: {code or exc}; {hint}") from exc
    return found


def _objects_in_window(s3: S3Client, bucket: str, variant: str, window: Window) -> list[CaptureObject]:
    """The capture files of one ``<endpoint>/<variant>/`` in the window's partitions, in key order."""
    found = []
    # A key of the first partition is "<variant><yyyy/mm/dd/hh>/<file>": it sorts after this.
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=variant, StartAfter=f"{variant}{window.first_partition}"
    )
    for page in pages:
        for o in page.get("Contents", []):
            partition = o["Key"][len(variant) : len(variant) + len(window.first_partition)]
            if partition > window.last_partition:
                return found  # every later key is later still: stop paging
            match = _PARTITION.search(o["Key"][len(variant) :])
            if match and o["Key"].endswith(CAPTURE_SUFFIX) and window.covers_partition("/".join(match.groups())):
                found.append(CaptureObject(o["Key"], o["Size"], bucket))
    return found
