"""S3's writes to one key made atomic, the conditions moto leaves out, and the operations it must not answer.

Each wrapped method runs under its key's lock (striped: 256 locks for all keys), so moto's own
``If-Match`` / ``If-None-Match`` check and the write it guards happen as one step.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Callable
from typing import Any

from scones.emulator.s3.exceptions import error_response, not_implemented

_STRIPES = [threading.Lock() for _ in range(256)]
#: UploadId -> (bucket, the key's ETag when the upload was created; None: no object then).
#: An entry lives as long as moto's upload: dropped when it completes, is aborted or refused,
#: and (for uploads abandoned some other way) when its bucket no longer has it.
_UPLOAD_BASELINE: dict[str, tuple[str, str | None]] = {}
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

    def _key_response_post(
        self: Any, request: Any, body: bytes, bucket_name: str, query: dict[str, Any], key_name: str
    ) -> Any:
        with key_lock(bucket_name, key_name):
            if body == b"" and "uploads" in query:
                baseline = _current_etag(self, bucket_name, key_name)
                status, headers, payload = original(self, request, body, bucket_name, query, key_name)
                raw = payload if isinstance(payload, bytes) else str(payload).encode()
                if (found := _UPLOAD_ID.search(raw)) is not None:
                    _forget_gone_uploads(self, bucket_name)
                    with _BASELINE_LOCK:
                        _UPLOAD_BASELINE[found.group(1).decode()] = (bucket_name, baseline)
                return status, headers, payload
            if "uploadId" in query:
                upload_id = query["uploadId"][0]
                refused = _check_completion(self, request, bucket_name, key_name, upload_id)
                if refused is not None:
                    _forget(upload_id)  # the client re-initiates the upload (S3's advice after a 409)
                    return refused
                answer = original(self, request, body, bucket_name, query, key_name)
                if answer[0] == 200:
                    _forget(upload_id)  # completed: nothing left to check
                return answer
            return original(self, request, body, bucket_name, query, key_name)

    _key_response_post.__wrapped__ = original  # type: ignore[attr-defined]
    return _key_response_post


def _forget(upload_id: str) -> None:
    with _BASELINE_LOCK:
        _UPLOAD_BASELINE.pop(upload_id, None)


def _forget_gone_uploads(response: Any, bucket: str) -> None:
    """Drop the baselines of this bucket's uploads that moto no longer has (abandoned, then removed)."""
    try:
        live = set(response.backend.get_bucket(bucket).multiparts)
    except Exception:
        live = set()
    with _BASELINE_LOCK:
        for upload_id in [u for u, (b, _) in _UPLOAD_BASELINE.items() if b == bucket and u not in live]:
            del _UPLOAD_BASELINE[upload_id]


def _abort(method: Callable[..., Any]) -> Callable[..., Any]:
    """AbortMultipartUpload (DELETE ?uploadId): the upload's baseline goes with it."""

    def abort_multipart_upload(self: Any) -> Any:
        try:
            return method(self)
        finally:
            _forget(self._get_param("uploadId"))

    abort_multipart_upload.__wrapped__ = method  # type: ignore[attr-defined]
    return abort_multipart_upload


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
        baseline = _UPLOAD_BASELINE[upload_id][1] if known else None
    if known and baseline != current:
        # S3: "If a conflicting operation occurs during the upload S3 returns a 409
        # ConditionalRequestConflict response. On a 409 failure you should re-initiate the
        # multipart upload with CreateMultipartUpload and re-upload each part."
        return error_response(
            409,
            "ConditionalRequestConflict",
            "A conflicting operation occurred on the key during this upload; "
            "re-initiate the multipart upload and try again",
            key,
        )
    if if_match:
        if current is None:
            return error_response(404, "NoSuchKey", "The specified key does not exist.", key)
        if if_match.strip('"') != current:
            return error_response(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                key,
                "If-Match",
            )
    # If-None-Match: * is checked by moto itself, now under the key's lock.
    return None


def _refusing(original: Callable[..., Any], kind: str) -> Callable[..., Any]:
    """``_bucket_response`` / ``_key_response``: a request that is an operation the emulator does
    not classify as computed or bookkeeping (scones.emulator.s3.operations), or no operation of
    S3's API at all, is refused before moto answers it, perhaps as another operation."""

    def respond(self: Any, request: Any, full_url: str) -> Any:
        from urllib.parse import urlparse

        from scones.emulator.s3 import operations
        from scones.emulator.unsupported import signing_service

        path = urlparse(full_url).path
        signed_for = signing_service(request.headers.get("Authorization", "")) or "s3"
        target = kind
        if kind == "bucket":
            bucket = self.parse_bucket_name_from_url(request, full_url)
            target = "service" if not bucket else f"/{bucket}" if f"/{bucket}" in operations.fixed_paths() else "bucket"
        headers = {name.lower() for name in request.headers.keys()}
        found = operations.identify(
            request.method, target, self._get_querystring(request, full_url), headers, signed_for
        )
        named = " / ".join(f"s3:{op}" for op in found) or f"{request.method} {path}"
        if signed_for == "s3express":  # a directory bucket's request: none is served
            return not_implemented(
                f"The local AWS emulator does not implement {named} "
                f"on directory buckets (S3 Express One Zone); {operations.SUPPORTED}.",
                path,
            )
        if not found and not _unmodelled_but_served(request, target):
            # moto falls back to the plain operation: PUT / and DELETE / were answered as ListBuckets.
            return not_implemented(
                f"The local AWS emulator does not implement {named}: it is no operation of "
                f"S3's API. {operations.SUPPORTED[0].upper()}{operations.SUPPORTED[1:]}.",
                path,
            )
        refused = operations.refusal(found) if found else None
        if refused is not None:
            return not_implemented(refused, path)
        return original(self, request, full_url)

    respond.__wrapped__ = original  # type: ignore[attr-defined]
    return respond


def _unmodelled_but_served(request: Any, target: str) -> bool:
    """Requests S3 answers that botocore's model does not describe: CORS preflights (OPTIONS) and
    browser form uploads (POST /bucket, multipart/form-data: presigned POST)."""
    if request.method == "OPTIONS":
        return True
    content_type = request.headers.get("Content-Type", "")
    return request.method == "POST" and target == "bucket" and content_type.startswith("multipart/form-data")


def install_responses() -> None:
    from moto.s3.responses import S3Response

    from scones.emulator.s3 import operations

    operations.fixed_paths()  # botocore's model read now, not while the first request waits

    S3Response._bucket_response = _refusing(S3Response._bucket_response, "bucket")  # type: ignore[method-assign]
    S3Response._key_response = _refusing(S3Response._key_response, "key")  # type: ignore[method-assign]

    for name in ("put_object", "copy_object", "delete_object"):
        setattr(S3Response, name, _locked(getattr(S3Response, name)))
    S3Response._key_response_post = _post(S3Response._key_response_post)  # type: ignore[method-assign]
    S3Response.abort_multipart_upload = _abort(S3Response.abort_multipart_upload)  # type: ignore[method-assign]
