"""S3's writes to one key made atomic, and the conditions moto leaves out.

Each wrapped method runs under its key's lock (striped: 256 locks for all keys), so moto's own
``If-Match`` / ``If-None-Match`` check and the write it guards happen as one step.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Callable
from typing import Any

from scones.emulator.s3.exceptions import error_response

_STRIPES = [threading.Lock() for _ in range(256)]
#: UploadId -> the key's ETag when the upload was created (None: no object then).
_UPLOAD_BASELINE: dict[str, str | None] = {}
_BASELINE_LOCK = threading.Lock()
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


def key_lock(bucket: str, key: str) -> threading.Lock:
    return _STRIPES[zlib.crc32(f"{bucket}/{key}".encode()) % len(_STRIPES)]


def _current_etag(response: Any, bucket: str, key: str) -> str | None:
    from moto.s3.exceptions import S3ClientError

    try:
        obj = response.backend.get_object(bucket, key)
    except S3ClientError:
        return None
    return None if obj is None else obj.etag.strip('"')


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """PutObject / CopyObject / DeleteObject: the whole call under the destination key's lock."""

    def wrapper(self: Any) -> Any:
        with key_lock(self.bucket_name, self.parse_key_name()):
            return method(self)

    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    wrapper.__doc__ = method.__doc__
    return wrapper


def _post(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateMultipartUpload records the key's state; a conditional CompleteMultipartUpload checks it."""

    def _key_response_post(self: Any, request: Any, body: bytes, bucket_name: str, query: dict[str, Any], key_name: str) -> Any:
        with key_lock(bucket_name, key_name):
            if body == b"" and "uploads" in query:
                baseline = _current_etag(self, bucket_name, key_name)
                status, headers, payload = original(self, request, body, bucket_name, query, key_name)
                raw = payload if isinstance(payload, bytes) else str(payload).encode()
                if (found := _UPLOAD_ID.search(raw)) is not None:
                    with _BASELINE_LOCK:
                        _UPLOAD_BASELINE[found.group(1).decode()] = baseline
                return status, headers, payload
            if "uploadId" in query:
                upload_id = query["uploadId"][0]
                refused = _check_completion(self, request, bucket_name, key_name, upload_id)
                if refused is not None:
                    return refused
                answer = original(self, request, body, bucket_name, query, key_name)
                if answer[0] == 200:
                    with _BASELINE_LOCK:
                        _UPLOAD_BASELINE.pop(upload_id, None)  # completed: nothing left to check
                return answer
            return original(self, request, body, bucket_name, query, key_name)

    _key_response_post.__wrapped__ = original  # type: ignore[attr-defined]
    return _key_response_post


def _check_completion(self: Any, request: Any, bucket: str, key: str, upload_id: str) -> Any:
    if_match = request.headers.get("If-Match")
    if_none_match = request.headers.get("If-None-Match")
    if not (if_match or if_none_match):
        return None
    current = _current_etag(self, bucket, key)
    existing = self.backend.get_object(bucket, key) if current is not None else None
    if existing is not None and existing.multipart is not None and existing.multipart.id == upload_id:
        return None  # moto answers a repeated completion idempotently
    with _BASELINE_LOCK:
        known = upload_id in _UPLOAD_BASELINE
        baseline = _UPLOAD_BASELINE.get(upload_id)
    if known and baseline != current:
        # S3: "If a conflicting operation occurs during the upload S3 returns a 409
        # ConditionalRequestConflict response. On a 409 failure you should re-initiate the
        # multipart upload with CreateMultipartUpload and re-upload each part."
        return error_response(409, "ConditionalRequestConflict",
                              "A conflicting operation occurred on the key during this upload; "
                              "re-initiate the multipart upload and try again", key)  # fmt: skip
    if if_match:
        if current is None:
            return error_response(404, "NoSuchKey", "The specified key does not exist.", key)
        if if_match.strip('"') != current:
            return error_response(412, "PreconditionFailed",
                                  "At least one of the pre-conditions you specified did not hold", key, "If-Match")  # fmt: skip
    # If-None-Match: * is checked by moto itself, now under the key's lock.
    return None


def install_responses() -> None:
    from moto.s3.responses import S3Response

    for name in ("put_object", "copy_object", "delete_object"):
        setattr(S3Response, name, _locked(getattr(S3Response, name)))
    S3Response._key_response_post = _post(S3Response._key_response_post)  # type: ignore[method-assign]
