"""Lambda 3 of the classification workflow: pass a classification on only when it is confident.

Event: what ``classify_image`` returns, with ``inferences`` a JSON list of class probabilities,
or the JSON string of one (what the original project's classify function returned), or the
original ``{"statusCode": 200, "body": {...}}`` wrapping. The string is parsed as JSON, never
evaluated. Returns the event with ``inferences`` as a list and ``confidence``, the top one.

Errors (Step Functions sees the class name as the error name)::

    MissingKeyError            inferences is missing
    InvalidInferencesError     inferences is not a non-empty list of probabilities in [0, 1]
    PayloadTooLargeError       the inferences string is implausibly large for a classifier
    ThresholdConfidenceNotMet  the top probability is below the threshold

Environment: ``CONFIDENCE_THRESHOLD`` (default 0.93). boto3-free: it needs no AWS call.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

DEFAULT_THRESHOLD = 0.93
#: A classifier's probabilities as JSON fit in a few KiB even for thousands of classes.
MAX_INFERENCES_CHARS = 64 * 1024


class MissingKeyError(ValueError):
    """The event lacks a key this function needs."""


class InvalidInferencesError(ValueError):
    """inferences is not a list of class probabilities."""


class PayloadTooLargeError(ValueError):
    """inferences is too large to be a classifier's output."""


class ThresholdConfidenceNotMet(Exception):
    """The classifier is not confident enough: a person should look at the image."""


class ConfigurationError(ValueError):
    """The function's environment has a bad value."""


def threshold() -> float:
    raw = os.environ.get("CONFIDENCE_THRESHOLD") or str(DEFAULT_THRESHOLD)
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise ConfigurationError(f"CONFIDENCE_THRESHOLD={raw!r} must be a number between 0 and 1")
    return value


def unwrap(event: Any) -> Any:
    """The original project's functions wrapped results as ``{"statusCode": 200, "body": {...}}``."""
    if isinstance(event, dict) and "statusCode" in event and "body" in event:
        body = event["body"]
        return json.loads(body) if isinstance(body, str) else body
    return event


def parse_inferences(raw: Any) -> list[float]:
    """A list of probabilities from a list or its JSON string (``json.loads``: data, not code)."""
    if isinstance(raw, (str, bytes)):
        if len(raw) > MAX_INFERENCES_CHARS:
            raise PayloadTooLargeError(
                f"inferences is {len(raw)} characters; a classifier's output is under {MAX_INFERENCES_CHARS}"
            )
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InvalidInferencesError(f"inferences is a string but not JSON: {str(raw)[:100]!r}") from exc
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0 for v in raw)
    ):
        raise InvalidInferencesError(
            f"inferences must be a non-empty list of probabilities in [0, 1], got {str(raw)[:200]}"
        )
    return [float(v) for v in raw]


def lambda_handler(event: Any, context: Any = None) -> dict[str, Any]:
    event = unwrap(event)
    if not isinstance(event, dict) or "inferences" not in event:
        raise MissingKeyError("the event needs 'inferences' (the class probabilities classify_image returns)")
    inferences = parse_inferences(event["inferences"])
    confidence = max(inferences)
    limit = threshold()
    if confidence < limit:
        image = f"s3://{event.get('s3_bucket')}/{event.get('s3_key')}" if event.get("s3_key") else "the image"
        predicted = event.get("predicted_class") or str(inferences.index(confidence))
        raise ThresholdConfidenceNotMet(
            f"top confidence {confidence:.4f} ({predicted}) for {image} is below the threshold {limit:.2f}"
        )
    return {**event, "inferences": inferences, "confidence": confidence}
