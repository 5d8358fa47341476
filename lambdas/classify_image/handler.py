"""Lambda 2 of the classification workflow: classify a base64 image on the SageMaker endpoint.

Event: what ``serialize_image_data`` returns, ``{"image_data": "<base64>", "s3_bucket": ...,
"s3_key": ...}`` (or the original project's ``{"statusCode": 200, "body": {...}}``). Returns::

    {"s3_bucket": ..., "s3_key": ..., "inferences": [0.97, 0.03],
     "predicted_label": 0, "predicted_class": "bicycle", "confidence": 0.97}

The image itself is not passed on: nothing after this step needs it, and a Step Functions
state carries at most 256 KiB.

Errors (Step Functions sees the class name as the error name)::

    MissingKeyError        image_data is missing or empty
    InvalidImageError      image_data is not base64 of a PNG or JPEG image
    PayloadTooLargeError   the image is larger than the endpoint accepts (6 MB)
    EndpointError          the endpoint failed, does not exist, or answered with no probabilities

Environment: ``ENDPOINT_NAME`` (default ``scones-endpoint``), ``CLASS_NAMES`` (comma-separated,
in label order, e.g. ``bicycle,motorcycle``), ``ENDPOINT_TIMEOUT_SECONDS`` (default 28: what the
endpoint call may take, retry included, within the function's timeout). boto3 only; no endpoint URL in this code.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_ENDPOINT_NAME = "scones-endpoint"
#: SageMaker real-time inference takes a request body of at most 6 MB.
MAX_REQUEST_BYTES = 6 * 1000 * 1000
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


class MissingKeyError(ValueError):
    """The event lacks a key this function needs."""


class InvalidImageError(ValueError):
    """image_data is not base64 of an image the endpoint accepts."""


class PayloadTooLargeError(ValueError):
    """The image is larger than the endpoint accepts."""


class EndpointError(RuntimeError):
    """The endpoint failed, does not exist, or did not answer with probabilities."""


#: Seconds the endpoint call may take, both attempts together (``ENDPOINT_TIMEOUT_SECONDS``; the
#: deployment sets the function's timeout less 2 s). Past the function's own timeout Lambda kills
#: it, and the workflow would see Sandbox.Timedout instead of EndpointError.
DEFAULT_ENDPOINT_TIMEOUT_SECONDS = 28.0
ENDPOINT_ATTEMPTS = 2


@functools.cache
def runtime_client() -> Any:
    """One client per warm container. Throttling and dropped connections get a second attempt
    (botocore's standard mode); each attempt has half of the endpoint's time."""
    budget = float(os.environ.get("ENDPOINT_TIMEOUT_SECONDS") or DEFAULT_ENDPOINT_TIMEOUT_SECONDS)
    per_attempt = max(budget / ENDPOINT_ATTEMPTS, 1.0)
    connect = min(2.0, per_attempt / 4)
    return boto3.client(
        "sagemaker-runtime",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": ENDPOINT_ATTEMPTS},
            connect_timeout=connect,
            read_timeout=per_attempt - connect,
        ),
    )


def endpoint_name() -> str:
    return os.environ.get("ENDPOINT_NAME") or DEFAULT_ENDPOINT_NAME


def class_names() -> list[str]:
    return [name.strip() for name in os.environ.get("CLASS_NAMES", "").split(",") if name.strip()]


def unwrap(event: Any) -> Any:
    """The original project's functions wrapped results as ``{"statusCode": 200, "body": {...}}``."""
    if isinstance(event, dict) and "statusCode" in event and "body" in event:
        body = event["body"]
        return json.loads(body) if isinstance(body, str) else body
    return event


def decode_image(event: Any) -> tuple[bytes, str]:
    """The image's bytes and content type, validated."""
    if not isinstance(event, dict):
        raise MissingKeyError(f"the event must be a JSON object with 'image_data', got {type(event).__name__}")
    encoded = event.get("image_data")
    if not isinstance(encoded, str) or not encoded:
        raise MissingKeyError("the event needs 'image_data' (base64 of the image), as serialize_image_data returns it")
    if len(encoded) > MAX_REQUEST_BYTES * 4 // 3 + 4:
        raise PayloadTooLargeError(
            f"image_data is {len(encoded)} base64 characters; the endpoint takes at most {MAX_REQUEST_BYTES} bytes"
        )
    try:
        image = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidImageError(f"image_data is not valid base64: {exc}") from exc
    content_type = next((kind for magic, kind in IMAGE_SIGNATURES.items() if image.startswith(magic)), None)
    if content_type is None:
        raise InvalidImageError(f"image_data is not a PNG or JPEG image (starts with {image[:8]!r})")
    return image, content_type


def parse_probabilities(body: bytes, name: str, expected: int | None) -> list[float]:
    """The endpoint's JSON list of class probabilities, checked (parsed as JSON, never evaluated)."""
    try:
        values = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EndpointError(f"endpoint {name!r} answered with something that is not JSON: {body[:200]!r}") from exc
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    ):
        raise EndpointError(f"endpoint {name!r} answered {str(values)[:200]}, not a list of class probabilities")
    if expected is not None and len(values) != expected:
        raise EndpointError(
            f"endpoint {name!r} returned {len(values)} probabilities but CLASS_NAMES names {expected} classes: "
            "deploy the workflow again with the model's classes"
        )
    return [float(v) for v in values]


def invoke_endpoint(name: str, image: bytes, content_type: str) -> bytes:
    try:
        response = runtime_client().invoke_endpoint(
            EndpointName=name, ContentType=content_type, Accept="application/json", Body=image
        )
        return response["Body"].read()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise EndpointError(
            f"endpoint {name!r} failed: {error.get('Code', 'error')}: {error.get('Message', exc)} "
            "(is it deployed and InService? set ENDPOINT_NAME to the serving endpoint)"
        ) from exc
    except BotoCoreError as exc:
        raise EndpointError(f"endpoint {name!r} could not be reached: {exc}") from exc


def lambda_handler(event: Any, context: Any = None) -> dict[str, Any]:
    event = unwrap(event)
    image, content_type = decode_image(event)
    name = endpoint_name()
    names = class_names()
    inferences = parse_probabilities(invoke_endpoint(name, image, content_type), name, len(names) or None)
    label = max(range(len(inferences)), key=inferences.__getitem__)
    return {
        "s3_bucket": event.get("s3_bucket"),
        "s3_key": event.get("s3_key"),
        "inferences": inferences,
        "predicted_label": label,
        "predicted_class": names[label] if names else str(label),
        "confidence": inferences[label],
    }
