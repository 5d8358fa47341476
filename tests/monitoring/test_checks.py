from __future__ import annotations

import numpy as np
import pytest

from scones.errors import ConfigurationError
from scones.monitoring.capture_decode import Decoded
from scones.monitoring.checks import CHECKS, Thresholds, find_violations
from scones.monitoring.drift import baseline_from_json, compute_drift
from scones.monitoring.stats import StatisticsBuilder, statistics_from_probabilities

CLASSES = ("bicycle", "motorcycle")


def window_with(low: int, high: int, threshold: float = 0.93):
    probs = [[0.6, 0.4]] * low + [[0.99, 0.01]] * high
    return statistics_from_probabilities(probs, CLASSES, threshold)


def checks(statistics, drift=None, **thresholds) -> list[str]:
    return [v.check for v in find_violations(statistics, drift, Thresholds(**thresholds))]


def test_low_confidence_rate_raised_only_above_its_maximum():
    assert checks(window_with(25, 75), max_low_confidence_rate=0.25) == [], "exactly at the maximum is fine"
    assert checks(window_with(26, 74), max_low_confidence_rate=0.25) == ["low_confidence_rate"]
    violation = find_violations(window_with(26, 74), None, Thresholds())[0].to_dict()
    assert violation["value"] == 0.26 and violation["threshold"] == 0.25
    assert violation["feature_name"] == "confidence" and "26.0% of 100 inferences" in violation["description"]


def test_malformed_rate():
    builder = StatisticsBuilder(CLASSES, 0.93)
    bad = Decoded(np.zeros(99, np.int64), np.tile([0.99, 0.01], (99, 1)))
    bad.malformed["invalid_json"] = 2
    builder.add(bad)
    assert checks(builder.build()) == ["malformed_rate"]
    assert checks(builder.build(), max_malformed_rate=0.05) == []


def test_drift_checks_raise_each_named_check():
    baseline = baseline_from_json([[0.99, 0.01]] * 50 + [[0.01, 0.99]] * 50, CLASSES)
    drifted = statistics_from_probabilities([[0.6, 0.4]] * 180 + [[0.3, 0.7]] * 20, CLASSES, 0.93)
    drift = compute_drift(drifted, baseline, min_records=100)
    found = checks(drifted, drift, max_low_confidence_rate=1.0)
    assert found == ["class_share_drift_psi", "confidence_drift_psi", "confidence_drift_ks"]
    assert all(CHECKS[name][1] == "baseline_drift_check" for name in found)
    # Not evaluated (too few records): figures reported, no violation.
    drift_small = compute_drift(drifted, baseline, min_records=1000)
    assert checks(drifted, drift_small, max_low_confidence_rate=1.0) == []


def test_no_violation_when_stable_or_empty():
    baseline = baseline_from_json([[0.99, 0.01]] * 50 + [[0.01, 0.99]] * 50, CLASSES)
    same = statistics_from_probabilities([[0.99, 0.01]] * 100 + [[0.01, 0.99]] * 100, CLASSES, 0.93)
    assert checks(same, compute_drift(same, baseline, min_records=100)) == []
    empty = statistics_from_probabilities(np.empty((0, 2)), CLASSES, 0.93)
    assert checks(empty, compute_drift(empty, baseline)) == []


def test_a_window_with_too_few_inferences_is_a_violation_when_asked():
    empty = statistics_from_probabilities(np.empty((0, 2)), CLASSES, 0.93)
    assert checks(empty, min_records=1) == ["record_count"]
    violation = find_violations(empty, None, Thresholds(min_records=1))[0].to_dict()
    assert violation["value"] == 0 and violation["threshold"] == 1 and violation["feature_name"] == "capture_record"
    assert "data capture is off" in violation["description"]
    assert checks(window_with(0, 10), min_records=10) == [], "exactly the minimum is fine"
    assert checks(window_with(0, 9), min_records=10) == ["record_count"]
    assert checks(empty) == [], "not checked by default (an ad-hoc analysis)"


@pytest.mark.parametrize(
    "kw", [{"confidence_threshold": 1.5}, {"max_confidence_psi": 0}, {"min_records_for_drift": -1}, {"min_records": -1}]
)
def test_thresholds_are_validated(kw):
    with pytest.raises(ConfigurationError):
        Thresholds(**kw)
