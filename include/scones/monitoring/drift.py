"""Drift of a window against a baseline: PSI of class shares and of confidence, and a KS test.

The baseline is either the validation set's probability vectors recorded at deployment, or
an earlier window's ``statistics.json``. Both reduce to a :class:`Baseline`: class counts and
a fine confidence histogram, so every statistic here works on histograms and costs nothing
however many records there are.

- **PSI** (population stability index), ``sum((a - e) * ln(a / e))`` over bins, with empty
  bins floored at :data:`PSI_FLOOR`. Confidence bins are the baseline's deciles, so each holds
  a tenth of the baseline. Rule of thumb: < 0.1 stable, 0.1-0.2 moderate, > 0.2 shifted.
- **KS**: the largest gap between the two confidence CDFs (exact to the histogram's 1e-4
  resolution) and its asymptotic p-value. With tens of thousands of records any gap is
  "significant", so the check thresholds the statistic, as Model Monitor's baseline drift
  check thresholds a distance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError

from scones.monitoring.errors import BaselineError
from scones.monitoring.stats import BINS, WindowStatistics, histogram_quantiles, statistics_from_probabilities

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PSI_FLOOR = 1e-4  # share given to an empty bin so ln() stays finite (a common choice)
PSI_BINS = 10


@dataclass(frozen=True)
class Baseline:
    """What drift is measured against."""

    classes: tuple[str, ...]
    class_counts: np.ndarray  # (k,)
    confidence_histogram: np.ndarray  # (BINS,)
    records: int
    source: str

    @classmethod
    def from_statistics(cls, statistics: WindowStatistics, source: str) -> Baseline:
        return cls(
            statistics.classes,
            statistics.class_counts.copy(),
            statistics.confidence_histogram,
            statistics.records,
            source,
        )


def psi(expected: np.ndarray, actual: np.ndarray, floor: float = PSI_FLOOR) -> float:
    """Population stability index between two count (or share) vectors over the same bins."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.sum() == 0 or a.sum() == 0:
        raise ValueError("PSI needs at least one count on each side")
    e = np.maximum(e / e.sum(), floor)
    a = np.maximum(a / a.sum(), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def decile_edges(histogram: np.ndarray, bins: int = PSI_BINS) -> np.ndarray:
    """Fine-bin indices that split ``histogram`` into ``bins`` groups of equal mass (deduplicated)."""
    cumulative = np.cumsum(histogram)
    targets = cumulative[-1] * np.arange(1, bins) / bins
    edges = np.searchsorted(cumulative, targets, side="right")
    return np.unique(edges[(edges > 0) & (edges < len(histogram))])


def confidence_psi(baseline: np.ndarray, current: np.ndarray, bins: int = PSI_BINS) -> float:
    """PSI of two fine confidence histograms, over the baseline's decile bins."""
    groups = np.split(np.arange(len(baseline)), decile_edges(baseline, bins))
    return psi([baseline[g].sum() for g in groups], [current[g].sum() for g in groups])


def ks_statistic(baseline: np.ndarray, current: np.ndarray) -> float:
    """Largest distance between the two empirical CDFs (two-sample KS statistic)."""
    b = np.cumsum(baseline) / max(baseline.sum(), 1)
    c = np.cumsum(current) / max(current.sum(), 1)
    return float(np.max(np.abs(b - c)))


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Asymptotic two-sample KS p-value (Kolmogorov distribution, Stephens' correction)."""
    if n == 0 or m == 0:
        return 1.0
    en = math.sqrt(n * m / (n + m))
    lam = (en + 0.12 + 0.11 / en) * statistic
    if lam < 1e-3:
        return 1.0
    total = sum((-1) ** (j - 1) * math.exp(-2.0 * j * j * lam * lam) for j in range(1, 101))
    return float(min(max(2.0 * total, 0.0), 1.0))


@dataclass(frozen=True)
class Drift:
    """Drift figures of one window; None where a figure cannot be computed (empty window)."""

    baseline_source: str
    baseline_records: int
    class_share_psi: float | None
    confidence_psi: float | None
    confidence_ks: float | None
    confidence_ks_pvalue: float | None
    baseline_class_share: dict[str, float]
    baseline_quantiles: dict[str, float]
    evaluated: bool  # False: too few records for the figures to mean anything
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": {
                "source": self.baseline_source,
                "records": self.baseline_records,
                "class_share": self.baseline_class_share,
                "confidence_quantiles": self.baseline_quantiles,
            },
            "class_share_psi": self.class_share_psi,
            "confidence_psi": self.confidence_psi,
            "confidence_ks": self.confidence_ks,
            "confidence_ks_pvalue": self.confidence_ks_pvalue,
            "evaluated": self.evaluated,
            "note": self.note,
        }


def compute_drift(current: WindowStatistics, baseline: Baseline, min_records: int = 0) -> Drift:
    """Drift of ``current`` against ``baseline``.

    :param min_records: below this many records in the window, figures are still computed
        but marked not evaluated, so no violation is raised on noise.
    :raises BaselineError: the baseline's classes are not the window's.
    """
    if tuple(baseline.classes) != tuple(current.classes):
        raise BaselineError(
            f"baseline {baseline.source} has classes {list(baseline.classes)}, the window "
            f"{list(current.classes)}: pass the classes the model was trained on, in label order"
        )
    total = baseline.records or 1
    baseline_share = {n: round(int(c) / total, 6) for n, c in zip(baseline.classes, baseline.class_counts, strict=True)}
    baseline_quantiles = histogram_quantiles(baseline.confidence_histogram)
    common = {
        "baseline_source": baseline.source,
        "baseline_records": baseline.records,
        "baseline_class_share": baseline_share,
        "baseline_quantiles": baseline_quantiles,
    }
    if current.records == 0 or baseline.records == 0:
        note = "empty window: no drift to measure" if current.records == 0 else "empty baseline"
        return Drift(
            **common,
            class_share_psi=None,
            confidence_psi=None,
            confidence_ks=None,
            confidence_ks_pvalue=None,
            evaluated=False,
            note=note,
        )
    hist = current.confidence_histogram
    ks = ks_statistic(baseline.confidence_histogram, hist)
    evaluated = current.records >= min_records
    return Drift(
        **common,
        class_share_psi=round(psi(baseline.class_counts, current.class_counts), 6),
        confidence_psi=round(confidence_psi(baseline.confidence_histogram, hist), 6),
        confidence_ks=round(ks, 6),
        confidence_ks_pvalue=ks_pvalue(ks, baseline.records, current.records),
        evaluated=evaluated,
        note="" if evaluated else f"only {current.records} records (< {min_records}): figures not checked",
    )


def _histogram_from_statistics(data: dict[str, Any], source: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    features = {f.get("name"): f for f in data.get("features", [])}
    try:
        fine = features["confidence"]["numerical_statistics"]["distribution"]["fine_histogram"]
        buckets = features["predicted_label"]["string_statistics"]["distribution"]["categorical"]["buckets"]
    except (KeyError, TypeError) as exc:
        raise BaselineError(
            f"{source} is a statistics.json without {exc}: write it with scones monitor analyze"
        ) from exc
    if fine.get("bin_count") != BINS:
        raise BaselineError(f"{source}: fine_histogram has {fine.get('bin_count')} bins, expected {BINS}")
    histogram = np.zeros(BINS, dtype=np.int64)
    for index, count in fine.get("counts", {}).items():
        histogram[int(index)] = int(count)
    classes = [b["value"] for b in buckets]
    return classes, np.array([int(b["count"]) for b in buckets], dtype=np.int64), histogram


def baseline_from_json(data: Any, classes: Sequence[str], source: str = "baseline", threshold: float = 0.5) -> Baseline:
    """A :class:`Baseline` from parsed JSON in one of the accepted formats.

    - validation probabilities: ``[[0.9, 0.1], ...]`` or ``{"probabilities": [[...], ...],
      "classes": [...]}`` (``classes`` optional; if present it must match);
    - a ``statistics.json`` written by this monitor for an earlier window.

    :param classes: the window's classes, in label order (a vector's i-th value is class i).
    :raises BaselineError: another format, or vectors of the wrong length.
    """
    if isinstance(data, dict) and "features" in data:
        names, counts, histogram = _histogram_from_statistics(data, source)
        return Baseline(tuple(names), counts, histogram, int(counts.sum()), source)
    declared = None
    if isinstance(data, dict):
        declared = data.get("classes")
        data = data.get("probabilities")
    if not isinstance(data, list) or not data:
        raise BaselineError(
            f"{source} is neither a statistics.json nor a non-empty list of probability vectors "
            '(expected [[0.9, 0.1], ...] or {"probabilities": [[...], ...]})'
        )
    if declared is not None and list(declared) != list(classes):
        raise BaselineError(f"{source} was recorded for classes {declared}, the window has {list(classes)}")
    try:
        probabilities = np.array(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BaselineError(f"{source}: probability vectors are not all numbers of one length ({exc})") from exc
    if probabilities.ndim != 2 or probabilities.shape[1] != len(classes):
        raise BaselineError(
            f"{source}: vectors of shape {probabilities.shape[1:]} for {len(classes)} classes {list(classes)}"
        )
    statistics = statistics_from_probabilities(probabilities, classes, threshold)
    return Baseline.from_statistics(statistics, source)


def load_baseline(location: str | Path, classes: Sequence[str], *, s3: S3Client | None = None) -> Baseline:
    """Read a baseline file from a local path or ``s3://bucket/key`` (formats: :func:`baseline_from_json`).

    :raises BaselineError: missing, unreadable, or not an accepted format.
    """
    location = str(location)
    try:
        if location.startswith("s3://"):
            if s3 is None:
                raise BaselineError(f"an S3 client is needed to read {location}")
            bucket, _, key = location[5:].partition("/")
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        else:
            body = Path(location).expanduser().read_bytes()
        data = json.loads(body)
    except (OSError, ValueError, ClientError, BotoCoreError) as exc:
        raise BaselineError(f"cannot read baseline {location}: {exc}") from exc
    return baseline_from_json(data, classes, source=location)
