from __future__ import annotations

import numpy as np
import pytest

from scones.monitoring.capture_decode import Decoded
from scones.monitoring.stats import BINS, HOUR_US, StatisticsBuilder, histogram_quantiles, statistics_from_probabilities

CLASSES = ("bicycle", "motorcycle")
T10 = 1_795_428_000 * 1_000_000  # 2026-11-23T10:00:00Z


def vectors(top: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    probs = np.empty((len(top), 2))
    probs[np.arange(len(top)), predicted] = top
    probs[np.arange(len(top)), 1 - predicted] = 1 - top
    return probs


def test_counts_shares_threshold_and_hours():
    top = np.array([0.99, 0.95, 0.93, 0.929999, 0.6, 0.97])
    predicted = np.array([0, 0, 1, 1, 0, 1])
    times = np.array([T10, T10 + 1, T10 + HOUR_US - 1, T10 + HOUR_US, T10 + HOUR_US + 5, T10 + 2 * HOUR_US])
    builder = StatisticsBuilder(CLASSES, threshold=0.93)
    builder.add(Decoded(times, vectors(top, predicted)))
    s = builder.build()
    assert s.records == 6
    assert s.class_counts.tolist() == [3, 3] and s.class_share == {"bicycle": 0.5, "motorcycle": 0.5}
    assert s.low_confidence == 2, "0.93 itself is not below the threshold; 0.929999 and 0.6 are"
    assert s.low_confidence_rate == pytest.approx(2 / 6)
    assert [(h.hour_us, h.records, h.low_confidence) for h in s.hourly] == [
        (T10, 3, 0),
        (T10 + HOUR_US, 2, 2),
        (T10 + 2 * HOUR_US, 1, 0),
    ]
    assert s.mean_confidence == pytest.approx(top.mean())
    assert s.std_confidence == pytest.approx(top.std())
    assert (s.confidence_min, s.confidence_max) == (0.6, 0.99)


def test_quantiles_of_a_known_distribution_are_exact_to_the_bin_width():
    rng = np.random.default_rng(0)
    top = rng.uniform(0.5, 1.0, 200_000)
    s = statistics_from_probabilities(vectors(top, rng.integers(0, 2, len(top))), CLASSES, 0.93)
    for name, q in (("p01", 0.01), ("p25", 0.25), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        assert s.quantiles()[name] == pytest.approx(np.quantile(top, q), abs=2 / BINS)
    assert s.low_confidence_rate == pytest.approx((top < 0.93).mean())


def test_histogram_quantiles_interpolate_within_a_bin():
    histogram = np.zeros(BINS)
    histogram[5000] = 10  # ten values in [0.5, 0.5001)
    assert histogram_quantiles(histogram, [0.5]) == {"p50": 0.50005}
    assert histogram_quantiles(np.zeros(BINS)) == {}


def test_files_in_any_order_give_the_same_statistics_and_sample():
    rng = np.random.default_rng(1)
    chunks = [
        Decoded(T10 + rng.integers(0, 24 * HOUR_US, 5000), vectors(rng.uniform(0.5, 1, 5000), rng.integers(0, 2, 5000)))
        for _ in range(4)
    ]
    results = []
    for order in ([0, 1, 2, 3], [3, 1, 0, 2]):
        builder = StatisticsBuilder(CLASSES, 0.93, sample_size=1000)
        for i in order:
            builder.add(chunks[i])
        results.append(builder.build())
    a, b = results
    assert a.records == b.records == 20_000
    assert np.array_equal(a.histograms, b.histograms)
    assert len(a.sample_times_us) == 1000, "the plot sample is bounded"
    assert np.array_equal(a.sample_times_us, b.sample_times_us) and np.array_equal(
        a.sample_confidence, b.sample_confidence
    )
    assert np.all(np.diff(a.sample_times_us) >= 0), "sample sorted by time for plotting"


def test_malformed_counts_and_examples_are_merged_across_files():
    builder = StatisticsBuilder(CLASSES, 0.93)
    for reason in ("invalid_json", "invalid_json", "wrong_class_count"):
        d = Decoded.empty(2)
        d.malformed[reason] += 2
        d.examples.append(f"file {reason}")
        d.files = 1
        builder.add(d)
    s = builder.build()
    assert s.malformed == {"invalid_json": 4, "wrong_class_count": 2} and s.malformed_count == 6
    assert s.records == 0 and s.malformed_rate == 1.0 and s.files == 3
    assert s.low_confidence_rate is None and s.mean_confidence is None and s.quantiles() == {}


def test_statistics_json_has_model_monitor_shape():
    s = statistics_from_probabilities([[0.9, 0.1], [0.2, 0.8], [0.99, 0.01]], CLASSES, 0.93)
    data = s.to_statistics_json()
    assert data["dataset"]["item_count"] == 3
    features = {f["name"]: f for f in data["features"]}
    numeric = features["confidence"]["numerical_statistics"]
    assert numeric["common"] == {"num_present": 3, "num_missing": 0}
    assert numeric["mean"] == pytest.approx((0.9 + 0.8 + 0.99) / 3)
    assert sum(b["count"] for b in numeric["distribution"]["buckets"]) == 3
    assert sum(numeric["distribution"]["fine_histogram"]["counts"].values()) == 3
    buckets = features["predicted_label"]["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert buckets == [{"value": "bicycle", "count": 2}, {"value": "motorcycle", "count": 1}]


def test_wrong_vector_length_is_refused():
    with pytest.raises(ValueError, match="3 probabilities per inference for 2 classes"):
        StatisticsBuilder(CLASSES, 0.93).add_inferences(None, np.full((1, 3), 1 / 3))
