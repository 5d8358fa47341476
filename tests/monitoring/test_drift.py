from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from scones.monitoring.drift import (
    Baseline,
    baseline_from_json,
    compute_drift,
    confidence_psi,
    ks_pvalue,
    ks_statistic,
    load_baseline,
    psi,
)
from scones.monitoring.errors import BaselineError
from scones.monitoring.stats import BINS, confidence_bins, statistics_from_probabilities

from .conftest import TEST_BUCKET

CLASSES = ("bicycle", "motorcycle")


def binary(top: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    probs = np.empty((len(top), 2))
    probs[np.arange(len(top)), predicted] = top
    probs[np.arange(len(top)), 1 - predicted] = 1 - top
    return probs


def histogram(values: np.ndarray) -> np.ndarray:
    return np.bincount(confidence_bins(values), minlength=BINS)


def test_psi_of_known_shares():
    # 50/50 -> 70/30: (0.7-0.5) ln(0.7/0.5) + (0.3-0.5) ln(0.3/0.5)
    expected = 0.2 * math.log(1.4) + (-0.2) * math.log(0.6)
    assert psi([50, 50], [70, 30]) == pytest.approx(expected)
    assert psi([50, 50], [500, 500]) == 0.0, "shares, not counts"
    assert psi([1, 0], [0, 1]) == pytest.approx(2 * (1 - 1e-4) * math.log(1 / 1e-4)), "empty bins floored"


def test_confidence_psi_is_small_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    base = 0.5 + 0.5 * rng.beta(8, 1, 50_000)
    same = 0.5 + 0.5 * rng.beta(8, 1, 50_000)
    shifted = 0.5 + 0.5 * rng.beta(3, 1, 50_000)  # a less confident model
    assert confidence_psi(histogram(base), histogram(same)) < 0.01
    assert confidence_psi(histogram(base), histogram(shifted)) > 0.2


def test_confidence_psi_uses_the_baselines_deciles():
    # Baseline uniform on [0.5, 1): deciles every 0.05. Current: all in the top decile.
    base = np.linspace(0.5, 1, 10_000, endpoint=False)
    current = np.full(1000, 0.99)
    expected = (1.0 - 0.1) * math.log(1.0 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert confidence_psi(histogram(base), histogram(current)) == pytest.approx(expected, rel=1e-3)


def test_ks_matches_scipy_on_binned_data():
    from scipy import stats as scipy_stats  # 1.6 s to import: here, not at every worker's collection

    rng = np.random.default_rng(2)
    a = np.round(rng.uniform(0.5, 1, 3000), 4)
    b = np.round(rng.uniform(0.55, 1, 2000), 4)
    # Values on bin edges: the histogram statistic equals the exact one.
    a, b = np.floor(a * BINS) / BINS + 0.5 / BINS, np.floor(b * BINS) / BINS + 0.5 / BINS
    exact = scipy_stats.ks_2samp(a, b, method="asymp")
    d = ks_statistic(histogram(a), histogram(b))
    assert d == pytest.approx(exact.statistic, abs=1e-9)
    assert ks_pvalue(d, len(a), len(b)) == pytest.approx(exact.pvalue, rel=0.05, abs=1e-6)
    assert ks_pvalue(0.0, 10, 10) == 1.0


def test_compute_drift_against_validation_probabilities():
    rng = np.random.default_rng(3)
    validation = binary(0.5 + 0.5 * rng.beta(8, 1, 2000), rng.integers(0, 2, 2000))
    baseline = baseline_from_json(validation.tolist(), CLASSES, source="validation.json")
    stable = statistics_from_probabilities(
        binary(0.5 + 0.5 * rng.beta(8, 1, 5000), rng.integers(0, 2, 5000)), CLASSES, 0.93
    )
    drifted = statistics_from_probabilities(
        binary(0.5 + 0.5 * rng.beta(2, 1, 5000), (rng.random(5000) < 0.9).astype(int)), CLASSES, 0.93
    )
    calm = compute_drift(stable, baseline, min_records=100)
    moved = compute_drift(drifted, baseline, min_records=100)
    assert calm.evaluated and calm.class_share_psi < 0.01 and calm.confidence_psi < 0.05 and calm.confidence_ks < 0.05
    assert moved.class_share_psi > 0.2 and moved.confidence_psi > 0.2 and moved.confidence_ks > 0.1
    assert moved.to_dict()["baseline"]["records"] == 2000


def test_drift_on_too_few_records_is_reported_but_not_evaluated():
    baseline = baseline_from_json([[0.9, 0.1]] * 200, CLASSES)
    tiny = statistics_from_probabilities([[0.1, 0.9]] * 5, CLASSES, 0.93)
    drift = compute_drift(tiny, baseline, min_records=100)
    assert not drift.evaluated and drift.class_share_psi > 1 and "only 5 records" in drift.note


def test_empty_window_has_no_drift_figures():
    empty = statistics_from_probabilities(np.empty((0, 2)), CLASSES, 0.93)
    drift = compute_drift(empty, baseline_from_json([[0.9, 0.1]], CLASSES), min_records=0)
    assert drift.class_share_psi is None and drift.confidence_ks is None and not drift.evaluated


def test_an_earlier_windows_statistics_json_is_a_baseline(tmp_path: Path):
    rng = np.random.default_rng(4)
    earlier = statistics_from_probabilities(binary(rng.uniform(0.5, 1, 1000), rng.integers(0, 2, 1000)), CLASSES, 0.93)
    path = tmp_path / "statistics.json"
    path.write_text(json.dumps(earlier.to_statistics_json()))
    baseline = load_baseline(path, CLASSES)
    assert baseline.records == 1000 and baseline.classes == CLASSES
    assert np.array_equal(baseline.confidence_histogram, earlier.confidence_histogram)
    same = compute_drift(earlier, baseline)
    assert same.class_share_psi == 0 and same.confidence_psi == 0 and same.confidence_ks == 0


def test_baseline_from_s3_and_dict_format(s3):
    body = {"classes": list(CLASSES), "probabilities": [[0.9, 0.1], [0.3, 0.7]]}
    s3.put_object(Bucket=TEST_BUCKET, Key="models/validation.json", Body=json.dumps(body))
    baseline = load_baseline(f"s3://{TEST_BUCKET}/models/validation.json", CLASSES, s3=s3)
    assert baseline.class_counts.tolist() == [1, 1] and baseline.source.startswith("s3://")


@pytest.mark.parametrize(
    "content, match",
    [
        ({"hello": 1}, "neither a statistics.json"),
        ([], "neither a statistics.json"),
        ([[0.5, 0.3, 0.2]], "for 2 classes"),
        ([[0.5, "x"]], "not all numbers"),
        ({"classes": ["cat", "dog"], "probabilities": [[0.5, 0.5]]}, "recorded for classes"),
        ({"features": [{"name": "confidence"}]}, "statistics.json without"),
    ],
)
def test_bad_baselines_say_what_is_expected(content, match: str):
    with pytest.raises(BaselineError, match=match):
        baseline_from_json(content, CLASSES)


def test_baseline_with_other_classes_is_refused():
    window = statistics_from_probabilities([[0.9, 0.1]], CLASSES, 0.93)
    other = Baseline(("cat", "dog"), np.array([1, 1]), np.ones(BINS), 2, "old.json")
    with pytest.raises(BaselineError, match="label order"):
        compute_drift(window, other)


def test_missing_baseline_file(tmp_path: Path):
    with pytest.raises(BaselineError, match="cannot read baseline"):
        load_baseline(tmp_path / "nope.json", CLASSES)
