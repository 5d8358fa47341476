"""The quality gate: deploy a new model only when it is good enough and no worse than the serving one."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scones.errors import MissingMetric

log = logging.getLogger(__name__)

VALIDATION_METRIC = "validation:accuracy"


def final_metric(description: Mapping[str, Any], name: str = VALIDATION_METRIC) -> float:
    """A metric's final value from a DescribeTrainingJob answer (``FinalMetricDataList``)."""
    for metric in description.get("FinalMetricDataList") or []:
        if metric.get("MetricName") == name:
            return float(metric["Value"])
    names = [m.get("MetricName") for m in description.get("FinalMetricDataList") or []]
    raise MissingMetric(
        f"training job {description.get('TrainingJobName')} reported no {name!r} (it has {names}); "
        "the built-in image-classification algorithm always does: check the job's log"
    )


@dataclass(frozen=True)
class GateDecision:
    deploy: bool
    accuracy: float
    reason: str


def comparable_accuracy(serving: Any, classes: list[str]) -> float | None:
    """The serving model's validation accuracy, if it is comparable: a model over other classes
    (the dataset was refreshed with a new class list) scored on another task."""
    if serving is None or list(serving.classes) != list(classes):
        return None
    return serving.validation_accuracy


def decide(accuracy: float, minimum: float, serving_accuracy: float | None, tolerance: float) -> GateDecision:
    """Deploy if ``accuracy >= minimum`` and ``accuracy >= serving_accuracy - tolerance``."""
    if accuracy < minimum:
        return GateDecision(False, accuracy, f"validation accuracy {accuracy:.4f} is below the minimum {minimum:.4f}")
    if serving_accuracy is not None and accuracy < serving_accuracy - tolerance:
        return GateDecision(
            False,
            accuracy,
            f"validation accuracy {accuracy:.4f} is worse than the serving model's {serving_accuracy:.4f} "
            f"by more than the tolerance {tolerance:.4f}",
        )
    against = f"serving model {serving_accuracy:.4f}" if serving_accuracy is not None else "no comparable model serving"
    return GateDecision(True, accuracy, f"validation accuracy {accuracy:.4f} passes (minimum {minimum:.4f}; {against})")


def evaluate(job: Mapping[str, Any], serving: Any, settings: Any) -> GateDecision:
    """The gate for a finished training job (a DescribeTrainingJob answer) against the serving
    deployment (``None`` before the first) with the settings' minimum and tolerance.

    :raises MissingMetric: the job reported no validation accuracy.
    """
    classes = list(settings.classes)
    if serving is not None and list(serving.classes) != classes:
        log.info("the serving model classifies %s, this one %s: not compared", list(serving.classes), classes)
    return decide(
        final_metric(job),
        settings.min_validation_accuracy,
        comparable_accuracy(serving, classes),
        settings.accuracy_tolerance,
    )
