"""One monitor run: read a window's capture, compute statistics and drift, find violations."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scones.monitoring.checks import Thresholds, Violation, find_violations
from scones.monitoring.drift import Baseline, Drift, compute_drift
from scones.monitoring.reader import read_capture
from scones.monitoring.stats import StatisticsBuilder, WindowStatistics
from scones.monitoring.window import HOUR, Window, floor_hour, iso
from scones.settings import DEFAULT_CLASSES

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Analysis:
    """The outcome of one window: what :func:`scones.monitoring.report.write_report` writes."""

    input: str
    window: Window
    statistics: WindowStatistics
    thresholds: Thresholds
    drift: Drift | None
    violations: list[Violation]
    endpoint: str = ""
    #: What serves: model, training job and the dataset version it trained on (the deployment record).
    lineage: dict[str, str] = field(default_factory=dict)
    generated_at: str = field(default_factory=lambda: iso(datetime.now(UTC).replace(microsecond=0)))

    @property
    def ok(self) -> bool:
        return not self.violations


def _window_of_data(statistics: WindowStatistics) -> Window:
    """Whole hours around the records read (a local folder analysed without --start/--end)."""
    if not statistics.hourly:
        return Window.around(None, None)
    first = datetime.fromtimestamp(statistics.hourly[0].hour_us / 1e6, tz=UTC)
    last = datetime.fromtimestamp(statistics.hourly[-1].hour_us / 1e6, tz=UTC)
    return Window(floor_hour(first), floor_hour(last) + HOUR)


def analyze_capture(
    input_uri: str,
    window: Window | None,
    *,
    classes: Sequence[str] = DEFAULT_CLASSES,
    thresholds: Thresholds | None = None,
    baseline: Baseline | None = None,
    s3: S3Client | None = None,
    workers: int | None = None,
    endpoint: str = "",
) -> Analysis:
    """Read the window's capture and judge it.

    :param input_uri: ``s3://bucket/<capture prefix>[/<endpoint>[/<variant>]]`` or a local
        folder (searched recursively for ``.jsonl``).
    :param window: [start, end) in UTC; ``None`` reads a local folder whole.
    :param classes: class names in label order (probability i is class i).
    :param baseline: drift is measured against it when given (see :mod:`scones.monitoring.drift`).
    :param s3: the client for ``s3://`` inputs (boto3 honours ``AWS_ENDPOINT_URL``).
    :param workers: decoding processes (default: the usable cores).
    :param endpoint: names the endpoint in the report.
    :return: the analysis; an empty window is a valid result with ``records == 0``.
    :raises CaptureSourceError: the input cannot be listed or read.
    :raises BaselineError: the baseline's classes differ from ``classes``.
    """
    thresholds = thresholds or Thresholds()
    builder = StatisticsBuilder(classes, thresholds.confidence_threshold)
    started = time.perf_counter()
    for decoded in read_capture(input_uri, window, len(classes), s3=s3, workers=workers):
        builder.add(decoded)
    statistics = builder.build()
    seconds = time.perf_counter() - started
    logger.info(
        "read %d capture files (%.0f MB) from %s in %.1f s: %d inferences, %d malformed, %d out of window",
        statistics.files,
        statistics.bytes_read / 1e6,
        input_uri,
        seconds,
        statistics.records,
        statistics.malformed_count,
        statistics.out_of_window,
    )
    drift = compute_drift(statistics, baseline, thresholds.min_records_for_drift) if baseline else None
    return Analysis(
        input=input_uri,
        window=window or _window_of_data(statistics),
        statistics=statistics,
        thresholds=thresholds,
        drift=drift,
        violations=find_violations(statistics, drift, thresholds),
        endpoint=endpoint,
    )
