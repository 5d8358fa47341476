"""S3 as the compute sees it: objects read and written in-process in moto's S3 backend.

Reading a thousand training images over HTTP from the server we run inside would cost
seconds and a port; moto's own Batch and SageMaker-runtime backends call the S3 backend
directly, and so do we (``seams.s3_backend``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from scones.emulator.sagemaker import seams


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        parsed = urlparse(uri)
        if parsed.scheme not in ("s3", "https") or not parsed.netloc:
            raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
        return cls(parsed.netloc, parsed.path.lstrip("/"))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def child(self, relative: str) -> S3Uri:
        prefix = self.key if not self.key or self.key.endswith("/") else self.key + "/"
        return S3Uri(self.bucket, prefix + relative.lstrip("/"))


class ObjectMissing(LookupError):
    """No such bucket or key; the message names the URI."""


class ObjectStore:
    """Get, put and list objects of one account's S3 (other accounts' buckets resolve too)."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    @property
    def _s3(self):
        return seams.s3_backend(self.account_id)

    def _bucket(self, uri: S3Uri):
        from moto.s3.exceptions import MissingBucket

        try:
            return self._s3.get_bucket(uri.bucket)
        except MissingBucket:
            raise ObjectMissing(f"bucket {uri.bucket!r} does not exist (for {uri})") from None

    def get(self, uri: S3Uri) -> bytes:
        self._bucket(uri)
        key = self._s3.get_object(uri.bucket, uri.key)
        if key is None:
            raise ObjectMissing(f"{uri} does not exist")
        return key.value

    def put(self, uri: S3Uri, body: bytes) -> None:
        self._bucket(uri)
        self._s3.put_object(uri.bucket, uri.key, body)

    def list(self, prefix: S3Uri) -> list[S3Uri]:
        """Every object under ``prefix``, sorted by key."""
        bucket = self._bucket(prefix)
        keys, _folders, _truncated, _next = self._s3.list_objects(bucket, prefix.key, None, None, None)
        return [S3Uri(prefix.bucket, key.name) for key in keys]
