"""Lambda 1 of the classification workflow: read an image from S3, return it base64-encoded.

Event::

    {"s3_bucket": "scones-unlimited-ml", "s3_key": "datasets/.../bicycle_s_000017.png"}

The original project's event, ``{"image_data": "", "s3_bucket": ..., "s3_key": ...}``, works
too (``image_data`` is ignored). Returns::

    {"image_data": "<base64>", "s3_bucket": ..., "s3_key": ..., "content_type": "image/png"}

Errors (Step Functions sees the class name as the error name)::

    MissingKeyError        s3_bucket or s3_key is missing, empty or not a string
    ImageNotFoundError     no such bucket or object (also when S3 hides a missing key behind 403)
    PayloadTooLargeError   the object is larger than MAX_IMAGE_BYTES
    InvalidImageError      the object is not a PNG or JPEG image

Environment: ``MAX_IMAGE_BYTES`` (default 150 KiB). boto3 only; the endpoint comes from the
environment (``AWS_ENDPOINT_URL`` where an emulator runs the function), never from this code.
"""

from __future__ import annotations

import base64
import functools
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

#: A Step Functions state carries at most 256 KiB; base64 makes an image 4/3 larger and the
#: rest of the state needs room, so 150 KiB of image is the most that can travel.
DEFAULT_MAX_IMAGE_BYTES = 150 * 1024
#: The formats SageMaker's image-classification algorithm accepts, by their first bytes.
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}


class MissingKeyError(ValueError):
    """The event lacks a key this function needs."""


class ImageNotFoundError(LookupError):
    """The bucket or the object does not exist."""


class PayloadTooLargeError(ValueError):
    """The image is too large to pass through the workflow."""


class InvalidImageError(ValueError):
    """The object is not an image the endpoint accepts."""


@functools.cache
def s3_client() -> Any:
    """One client per warm container, created on first use (region and endpoint from the environment)."""
    return boto3.client("s3")


def max_image_bytes() -> int:
    return int(os.environ.get("MAX_IMAGE_BYTES") or DEFAULT_MAX_IMAGE_BYTES)


def image_content_type(data: bytes) -> str | None:
    """``image/png`` or ``image/jpeg`` from the file's signature, else None."""
    return next((kind for magic, kind in IMAGE_SIGNATURES.items() if data.startswith(magic)), None)


def required_string(event: Any, key: str) -> str:
    if not isinstance(event, dict):
        raise MissingKeyError(f"the event must be a JSON object with {key!r}, got {type(event).__name__}")
    value = event.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MissingKeyError(f"the event needs {key!r} as a non-empty string, got {value!r}")
    return value


def object_listed(bucket: str, key: str) -> bool:
    """Whether a listing shows ``key``; True when the listing is refused too (we cannot tell).

    S3 answers a GetObject of a missing key with 404 only to a caller allowed to list the
    bucket, else with 403 AccessDenied. Our role may list only under the images prefix (a
    condition on ``s3:prefix``, a key that GetObject does not carry), so a missing image
    under that prefix arrives as AccessDenied; a listing with the key as prefix settles it.
    """
    try:
        listing = s3_client().list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    except ClientError as exc:
        return exc.response.get("Error", {}).get("Code", "") not in _NOT_FOUND_CODES
    return any(item.get("Key") == key for item in listing.get("Contents", []))


def read_image(bucket: str, key: str, limit: int) -> bytes:
    """The object's bytes, refusing objects over ``limit`` before reading them."""
    uri = f"s3://{bucket}/{key}"
    try:
        response = s3_client().get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _NOT_FOUND_CODES or (code == "AccessDenied" and not object_listed(bucket, key)):
            raise ImageNotFoundError(f"{uri} does not exist ({code}): check the bucket and key") from exc
        raise
    body = response["Body"]
    try:
        if response.get("ContentLength", 0) > limit:
            raise PayloadTooLargeError(
                f"{uri} is {response['ContentLength']} bytes; at most {limit} can pass through the workflow "
                "(set MAX_IMAGE_BYTES, or resize the image)"
            )
        data = body.read(limit + 1)  # a lying ContentLength cannot make us read more
    finally:
        body.close()
    if len(data) > limit:
        raise PayloadTooLargeError(f"{uri} is larger than {limit} bytes")
    return data


def lambda_handler(event: Any, context: Any = None) -> dict[str, str]:
    bucket = required_string(event, "s3_bucket")
    key = required_string(event, "s3_key")
    data = read_image(bucket, key, max_image_bytes())
    content_type = image_content_type(data)
    if content_type is None:
        raise InvalidImageError(f"s3://{bucket}/{key} is not a PNG or JPEG image (starts with {data[:8]!r})")
    return {
        "image_data": base64.b64encode(data).decode("ascii"),
        "s3_bucket": bucket,
        "s3_key": key,
        "content_type": content_type,
    }
