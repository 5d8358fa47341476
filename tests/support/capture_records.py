"""Capture records as SageMaker Data Capture writes them: one compact JSON object a line.

One builder for the monitor's tests, ``benchmarks/monitor.py`` (a million records: the template
below, not ``json.dumps`` of a dict, keeps that quick) and ``scripts/screenshots.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import numpy as np

from tests.support.images import png

#: A real (tiny) PNG as the captured input; the monitor skips inputs without decoding them.
PNG_B64 = base64.b64encode(png(np.full((4, 4, 3), 200, dtype=np.uint8))).decode()
NO_EVENT_ID = "00000000-0000-0000-0000-000000000000"


def capture_line(
    probabilities: Sequence[float] | str,
    when: str,
    *,
    encoding: str = "JSON",
    event_id: str = NO_EVENT_ID,
    input_b64: str = PNG_B64,
) -> str:
    """One record, no newline: the input ``input_b64`` (a base64 PNG), the output
    ``probabilities`` (a list, or the output's text as is), made at ``when`` (ISO 8601)."""
    data = probabilities if isinstance(probabilities, str) else json.dumps(list(probabilities))
    if encoding == "BASE64":
        data = base64.b64encode(data.encode()).decode()
    # What json.dumps(record, separators=(",", ":")) writes, key order included.
    return (
        '{"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT",'
        f'"data":{json.dumps(input_b64)},"encoding":"BASE64"}},"endpointOutput":{{'
        f'"observedContentType":"application/json","mode":"OUTPUT","data":{json.dumps(data)},"encoding":{json.dumps(encoding)}}}}},'
        f'"eventMetadata":{{"eventId":{json.dumps(event_id)},"inferenceTime":{json.dumps(when)}}},"eventVersion":"0"}}'
    )
