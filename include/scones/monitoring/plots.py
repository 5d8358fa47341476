"""The window's plots as PNG bytes (matplotlib, Agg backend: no display, safe in workers).

- ``confidence_over_time.png``: the top confidence of each sampled inference over time,
  coloured by predicted class, with the threshold line;
- ``confidence_by_class.png``: a confidence histogram per predicted class, threshold marked;
- ``hourly_volume.png``: inferences per hour (bars) and the low-confidence share (line).

An empty window still gets all three, saying so, so a report page never has a broken image.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from scones.monitoring.stats import BINS
from scones.monitoring.window import HOUR, MAX_LISTED_SPAN

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from scones.monitoring.stats import WindowStatistics
    from scones.monitoring.window import Window

PLOT_FILES = ("confidence_over_time.png", "confidence_by_class.png", "hourly_volume.png")
HISTOGRAM_BINS = 50  # display bins (the statistics keep BINS)
_DPI = 100


def _figure(width: float, height: float) -> Figure:
    # Figure() directly, not pyplot: no global state, nothing to close, thread-safe.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=_DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})  # stable bytes on rerun
    return buffer.getvalue()


def _empty(ax, text: str = "no inferences in this window") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")


def _datetimes(times_us: np.ndarray) -> list[datetime]:
    return [datetime.fromtimestamp(t / 1e6, tz=UTC) for t in times_us.tolist()]


def confidence_over_time(statistics: WindowStatistics, window: Window) -> bytes:
    import matplotlib.dates as mdates

    figure = _figure(10, 4)
    ax = figure.add_subplot()
    if len(statistics.sample_times_us):
        when = _datetimes(statistics.sample_times_us)
        for index, name in enumerate(statistics.classes):
            mask = statistics.sample_predicted == index
            if mask.any():
                ax.scatter(
                    [w for w, m in zip(when, mask, strict=True) if m],
                    statistics.sample_confidence[mask],
                    s=4,
                    alpha=0.5,
                    label=f"predicted {name}",
                    linewidths=0,
                )
    else:
        _empty(ax)
    ax.axhline(
        statistics.threshold, color="red", linestyle="--", linewidth=1, label=f"threshold {statistics.threshold}"
    )
    ax.legend(loc="lower left", markerscale=3)
    long_window = window.end - window.start > MAX_LISTED_SPAN
    if long_window and len(statistics.sample_times_us):  # decades of axis would squash the points
        ax.set_xlim(min(when) - HOUR, max(when) + HOUR)
    else:
        ax.set_xlim(window.start, window.end)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=UTC))
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("top confidence")
    ax.set_xlabel("inference time (UTC)")
    shown = len(statistics.sample_times_us)
    sampled = f", {shown:,} sampled" if shown < statistics.records else ""
    ax.set_title(f"Confidence of each inference ({statistics.records:,} inferences{sampled})")
    return _png(figure)


def confidence_by_class(statistics: WindowStatistics) -> bytes:
    k = len(statistics.classes)
    figure = _figure(4 * k, 3.2)
    axes = figure.subplots(1, k, squeeze=False)[0]
    edges = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    for index, (ax, name) in enumerate(zip(axes, statistics.classes, strict=True)):
        counts = statistics.histograms[index].reshape(HISTOGRAM_BINS, BINS // HISTOGRAM_BINS).sum(axis=1)
        total = int(counts.sum())
        if total:
            ax.stairs(counts, edges, fill=True, alpha=0.7)
            low = int(statistics.histograms[index][: int(statistics.threshold * BINS)].sum())
            ax.set_title(f"{name}: {total:,} predicted, {low / total:.1%} low")
        else:
            _empty(ax, "none predicted")
            ax.set_title(f"{name}: 0 predicted")
        ax.axvline(statistics.threshold, color="red", linestyle="--", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_xlabel("top confidence")
    axes[0].set_ylabel("inferences")
    return _png(figure)


def hourly_volume(statistics: WindowStatistics, window: Window) -> bytes:
    import matplotlib.dates as mdates

    figure = _figure(10, 3.5)
    ax = figure.add_subplot()
    by_hour = {h.start: h for h in statistics.hourly}
    hours = window.report_hours(by_hour)
    records, rates = [], []
    for hour in hours:
        h = by_hour.get(hour)
        records.append(h.records if h else 0)
        rates.append(h.low_confidence_rate if h and h.records else np.nan)
    ax.bar(hours, records, width=1 / 24 * 0.9, align="edge", color="tab:blue", alpha=0.6)
    # The hours listed: the whole of a short window, the span with data of a long one.
    ax.set_xlim(*((hours[0], hours[-1] + HOUR) if hours else (window.start, window.end)))
    ax.set_ylabel("inferences per hour", color="tab:blue")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=UTC))
    share = ax.twinx()
    centres = [h.timestamp() + 1800 for h in hours]
    share.plot([datetime.fromtimestamp(c, tz=UTC) for c in centres], rates, color="tab:red", marker="o", markersize=3)
    share.set_ylim(0, 1)
    share.set_ylabel("low-confidence share", color="tab:red")
    if not statistics.records:
        _empty(ax)
    ax.set_title(f"Hourly volume and share below {statistics.threshold}")
    ax.set_xlabel("hour (UTC)")
    return _png(figure)


def render_plots(statistics: WindowStatistics, window: Window) -> dict[str, bytes]:
    """Every plot of the window: file name -> PNG bytes (names are :data:`PLOT_FILES`)."""
    return dict(
        zip(
            PLOT_FILES,
            (
                confidence_over_time(statistics, window),
                confidence_by_class(statistics),
                hourly_volume(statistics, window),
            ),
            strict=True,
        )
    )
