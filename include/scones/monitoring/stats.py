"""Confidence statistics of a window, built incrementally in constant memory.

Per inference the monitor keeps only: its predicted class (argmax), its top confidence (max
probability) in a fine histogram per class (:data:`BINS` bins on [0, 1], so quantiles are
exact to 1/BINS), its hour, and whether it is below the confidence threshold. A deterministic
bottom-k sample (by a hash of time and confidence, so the same window always draws the same
points, in any file order) feeds the "confidence over time" plot. Nothing grows with the
number of records.

:meth:`WindowStatistics.to_statistics_json` writes the figures in the shape of SageMaker Model
Monitor's ``statistics.json`` (``dataset.item_count``, ``features[]`` with
``numerical_statistics`` / ``string_statistics``), plus the fine histogram a later window can
use as its baseline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scones.monitoring.capture_decode import Decoded

BINS = 10_000  # confidence resolution 1e-4: finer than any threshold anyone sets
QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
SAMPLE_SIZE = 20_000  # points on the over-time plot: dense enough to see, light to draw
HOUR_US = 3_600_000_000
STATISTICS_VERSION = 0.0  # Model Monitor's statistics.json carries a version field too


def quantile_name(q: float) -> str:
    """0.05 -> "p05", 0.5 -> "p50", 0.99 -> "p99"."""
    return f"p{round(q * 100):02d}"


def top_confidence(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(top confidence, predicted class index) of each row of an (n, k) probability array."""
    predicted = probabilities.argmax(axis=1)
    return probabilities[np.arange(len(probabilities)), predicted], predicted


def confidence_bins(confidence: np.ndarray) -> np.ndarray:
    return np.minimum((confidence * BINS).astype(np.int64), BINS - 1)


def histogram_quantiles(histogram: np.ndarray, quantiles: Sequence[float] = QUANTILES) -> dict[str, float]:
    """Quantiles of values binned in ``BINS`` equal bins on [0, 1], interpolated within a bin."""
    cumulative = np.cumsum(histogram)
    total = cumulative[-1] if len(cumulative) else 0
    if total == 0:
        return {}
    result = {}
    for q in quantiles:
        target = q * total
        i = int(np.searchsorted(cumulative, target, side="left"))
        before = cumulative[i - 1] if i else 0
        inside = (target - before) / histogram[i] if histogram[i] else 0.0
        result[quantile_name(q)] = round(float((i + inside) / len(histogram)), 6)
    return result


def _sample_keys(times_us: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """splitmix64 of (time, confidence): a uniform-looking key that depends only on the record."""
    with np.errstate(over="ignore"):
        z = times_us.astype(np.uint64) ^ (confidence.astype(np.float64).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


@dataclass(frozen=True)
class HourStats:
    hour_us: int  # start of the hour, microseconds since the epoch
    records: int
    low_confidence: int

    @property
    def low_confidence_rate(self) -> float:
        return self.low_confidence / self.records if self.records else 0.0

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.hour_us // 1_000_000, tz=UTC)


@dataclass(frozen=True)
class WindowStatistics:
    """Everything the report, the plots and the drift checks need about one window."""

    classes: tuple[str, ...]
    threshold: float
    records: int
    class_counts: np.ndarray  # (k,) inferences predicted as each class
    histograms: np.ndarray  # (k, BINS) top-confidence counts per predicted class
    confidence_sum: float
    confidence_sum_squares: float
    confidence_min: float | None
    confidence_max: float | None
    low_confidence: int  # inferences with top confidence < threshold
    hourly: tuple[HourStats, ...]
    sample_times_us: np.ndarray
    sample_confidence: np.ndarray
    sample_predicted: np.ndarray
    malformed: dict[str, int] = field(default_factory=dict)
    malformed_examples: tuple[str, ...] = ()
    out_of_window: int = 0
    files: int = 0
    bytes_read: int = 0

    @property
    def malformed_count(self) -> int:
        return sum(self.malformed.values())

    @property
    def malformed_rate(self) -> float:
        seen = self.records + self.malformed_count
        return self.malformed_count / seen if seen else 0.0

    @property
    def confidence_histogram(self) -> np.ndarray:
        return self.histograms.sum(axis=0)

    @property
    def class_share(self) -> dict[str, float]:
        total = self.records or 1
        return {name: round(int(count) / total, 6) for name, count in zip(self.classes, self.class_counts, strict=True)}

    @property
    def mean_confidence(self) -> float | None:
        return self.confidence_sum / self.records if self.records else None

    @property
    def std_confidence(self) -> float | None:
        if not self.records:
            return None
        mean = self.confidence_sum / self.records
        return float(np.sqrt(max(self.confidence_sum_squares / self.records - mean * mean, 0.0)))

    @property
    def low_confidence_rate(self) -> float | None:
        """Share of inferences below the threshold; None for an empty window (no rate to judge)."""
        return self.low_confidence / self.records if self.records else None

    def quantiles(self) -> dict[str, float]:
        values = histogram_quantiles(self.confidence_histogram)
        if values and self.confidence_min is not None and self.confidence_max is not None:
            values = {k: min(max(v, self.confidence_min), self.confidence_max) for k, v in values.items()}
        return values

    def to_statistics_json(self) -> dict[str, Any]:
        """The window's figures shaped like Model Monitor's ``statistics.json``."""
        histogram = self.confidence_histogram
        coarse = histogram.reshape(10, BINS // 10).sum(axis=1)
        nonzero = np.flatnonzero(histogram)
        return {
            "version": STATISTICS_VERSION,
            "dataset": {
                "item_count": self.records,
                "malformed_count": self.malformed_count,
                "out_of_window_count": self.out_of_window,
            },
            "features": [
                {
                    "name": "confidence",
                    "inferred_type": "Fractional",
                    "numerical_statistics": {
                        "common": {"num_present": self.records, "num_missing": 0},
                        "mean": self.mean_confidence,
                        "sum": self.confidence_sum,
                        "std_dev": self.std_confidence,
                        "min": self.confidence_min,
                        "max": self.confidence_max,
                        "distribution": {
                            "quantiles": self.quantiles(),
                            "buckets": [
                                {"lower_bound": i / 10, "upper_bound": (i + 1) / 10, "count": int(c)}
                                for i, c in enumerate(coarse)
                            ],
                            # Sparse, exact to 1/BINS: what a later window's drift check reads.
                            "fine_histogram": {
                                "lower_bound": 0.0,
                                "upper_bound": 1.0,
                                "bin_count": BINS,
                                "counts": {str(int(i)): int(histogram[i]) for i in nonzero},
                            },
                        },
                    },
                },
                {
                    "name": "predicted_label",
                    "inferred_type": "String",
                    "string_statistics": {
                        "common": {"num_present": self.records, "num_missing": 0},
                        "distinct_count": int(np.count_nonzero(self.class_counts)),
                        "distribution": {
                            "categorical": {
                                "buckets": [
                                    {"value": name, "count": int(count)}
                                    for name, count in zip(self.classes, self.class_counts, strict=True)
                                ]
                            }
                        },
                    },
                },
            ],
            "confidence_threshold": self.threshold,
            "low_confidence_count": self.low_confidence,
        }


class StatisticsBuilder:
    """Folds decoded files (or raw probability arrays) into one :class:`WindowStatistics`."""

    def __init__(self, classes: Sequence[str], threshold: float, sample_size: int = SAMPLE_SIZE) -> None:
        self.classes = tuple(classes)
        self.threshold = threshold
        self.sample_size = sample_size
        k = len(self.classes)
        self.histograms = np.zeros((k, BINS), dtype=np.int64)
        self.records = 0
        self.low = 0
        self.total = 0.0
        self.total_squares = 0.0
        self.minimum: float | None = None
        self.maximum: float | None = None
        self.hourly: Counter[int] = Counter()
        self.hourly_low: Counter[int] = Counter()
        self.sample = (np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int64))
        self.malformed: Counter[str] = Counter()
        self.examples: list[str] = []
        self.out_of_window = 0
        self.files = 0
        self.bytes_read = 0

    def add(self, decoded: Decoded) -> None:
        self.malformed.update(decoded.malformed)
        self.examples += decoded.examples[: max(0, 20 - len(self.examples))]  # bounded, like each file's
        self.out_of_window += decoded.out_of_window
        self.files += decoded.files
        self.bytes_read += decoded.bytes_read
        self.add_inferences(decoded.times_us, decoded.probabilities)

    def add_inferences(self, times_us: np.ndarray | None, probabilities: np.ndarray) -> None:
        """Add inferences; ``times_us`` None for a baseline (no hours, no over-time sample)."""
        if len(probabilities) == 0:
            return
        if probabilities.shape[1] != len(self.classes):
            raise ValueError(f"{probabilities.shape[1]} probabilities per inference for {len(self.classes)} classes")
        confidence, predicted = top_confidence(probabilities)
        k = len(self.classes)
        flat = np.bincount(predicted * BINS + confidence_bins(confidence), minlength=k * BINS)
        self.histograms += flat.reshape(k, BINS)
        low = confidence < self.threshold
        self.records += len(confidence)
        self.low += int(np.count_nonzero(low))
        self.total += float(confidence.sum())
        self.total_squares += float(np.square(confidence).sum())
        lo, hi = float(confidence.min()), float(confidence.max())
        self.minimum = lo if self.minimum is None else min(self.minimum, lo)
        self.maximum = hi if self.maximum is None else max(self.maximum, hi)
        if times_us is None:
            return
        hours, inverse = np.unique(times_us // HOUR_US, return_inverse=True)
        counts = np.bincount(inverse, minlength=len(hours))
        lows = np.bincount(inverse, weights=low, minlength=len(hours))
        for hour, count, low_count in zip(hours.tolist(), counts.tolist(), lows.tolist(), strict=True):
            self.hourly[hour] += count
            self.hourly_low[hour] += int(low_count)
        self._sample(times_us, confidence, predicted)

    def _sample(self, times_us: np.ndarray, confidence: np.ndarray, predicted: np.ndarray) -> None:
        keys = np.concatenate((self.sample[0], _sample_keys(times_us, confidence)))
        columns = [
            np.concatenate((old, new))
            for old, new in zip(self.sample[1:], (times_us, confidence, predicted), strict=True)
        ]
        if len(keys) > self.sample_size:
            keep = np.argpartition(keys, self.sample_size)[: self.sample_size]
            keys, columns = keys[keep], [c[keep] for c in columns]
        self.sample = (keys, *columns)

    def build(self) -> WindowStatistics:
        order = np.argsort(self.sample[1], kind="stable")
        return WindowStatistics(
            classes=self.classes,
            threshold=self.threshold,
            records=self.records,
            class_counts=self.histograms.sum(axis=1),
            histograms=self.histograms.copy(),
            confidence_sum=self.total,
            confidence_sum_squares=self.total_squares,
            confidence_min=self.minimum,
            confidence_max=self.maximum,
            low_confidence=self.low,
            hourly=tuple(
                HourStats(hour * HOUR_US, self.hourly[hour], self.hourly_low[hour]) for hour in sorted(self.hourly)
            ),
            sample_times_us=self.sample[1][order],
            sample_confidence=self.sample[2][order],
            sample_predicted=self.sample[3][order],
            malformed={reason: self.malformed[reason] for reason in sorted(self.malformed)},
            malformed_examples=tuple(self.examples),
            out_of_window=self.out_of_window,
            files=self.files,
            bytes_read=self.bytes_read,
        )


def statistics_from_probabilities(
    probabilities: np.ndarray | Sequence[Sequence[float]], classes: Sequence[str], threshold: float
) -> WindowStatistics:
    """Statistics of probability vectors without times (e.g. the validation set's)."""
    builder = StatisticsBuilder(classes, threshold)
    builder.add_inferences(None, np.asarray(probabilities, dtype=np.float64).reshape(-1, len(classes)))
    return builder.build()
