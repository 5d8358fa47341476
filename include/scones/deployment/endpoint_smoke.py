"""Smoke test: one held-out image through the endpoint must give a probability vector."""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

from scones.errors import SmokeTestFailed

log = logging.getLogger(__name__)


def check_probabilities(body: bytes, num_classes: int, tolerance: float = 1e-3) -> list[float]:
    """Parse the endpoint's answer and check it is ``num_classes`` probabilities summing to 1."""
    try:
        probabilities = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SmokeTestFailed(f"the endpoint's answer is not JSON: {body[:200]!r}") from exc
    if not isinstance(probabilities, list) or len(probabilities) != num_classes:
        raise SmokeTestFailed(f"expected a list of {num_classes} probabilities, got {str(probabilities)[:200]}")
    if not all(isinstance(p, (int, float)) and 0.0 <= p <= 1.0 for p in probabilities):
        raise SmokeTestFailed(f"values outside [0, 1]: {probabilities}")
    if not math.isclose(sum(probabilities), 1.0, abs_tol=tolerance):
        raise SmokeTestFailed(f"probabilities sum to {sum(probabilities):.6f}, not 1")
    return [float(p) for p in probabilities]


def model_failed(error: BaseException) -> bool:
    """Whether ``error`` shows the model itself is wrong, not the way to it: a wrong answer, or
    SageMaker's ModelError (the container answered the request with an error). Throttling,
    timeouts and the network are not: a retry may pass."""
    if isinstance(error, SmokeTestFailed):
        return True
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ModelError"


def smoke_test(
    runtime: Any, endpoint_name: str, image: bytes, num_classes: int, attempts: int = 2, pause: float = 5.0
) -> list[float]:
    """Invoke ``endpoint_name`` with a PNG and check the answer.

    A ModelError gets ``attempts`` tries, ``pause`` seconds apart: a container that is slow to
    answer its first request (a timeout is a ModelError too) is not yet a failed model.
    """
    for attempt in range(1, attempts + 1):
        try:
            response = runtime.invoke_endpoint(EndpointName=endpoint_name, ContentType="image/png", Body=image)
            break
        except Exception as exc:
            if not model_failed(exc) or attempt == attempts:
                raise
            log.warning(
                "endpoint %s answered with a ModelError (%s); trying again in %.0f s", endpoint_name, exc, pause
            )
            time.sleep(pause)
    return check_probabilities(response["Body"].read(), num_classes)
