"""The model monitor: captured inferences to confidence statistics, drift, plots and a report.

Public surface (imported lazily, so ``import scones.monitoring`` in a DAG file costs nothing;
numpy, msgspec and matplotlib load when a function is first used)::

    Window(start, end) / Window.for_day(day)      the [start, end) UTC window of a run
    Thresholds(...)                               when a window is flagged
    load_baseline(location, classes, s3=)         validation probabilities or statistics.json
    analyze_capture(input_uri, window, ...)       read + statistics + drift + violations
    write_report(analysis, sink) / build_report   report.json (last), statistics, plots, html
    LocalSink / S3Sink / CallableSink             where the outputs go (ReportSink base)
    report_prefix / list_report_days / read_report  the S3 layout the UI page reads
    format_summary(report)                        readable lines for a log
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Window": "scones.monitoring.window",
    "Thresholds": "scones.monitoring.checks",
    "Violation": "scones.monitoring.checks",
    "CHECKS": "scones.monitoring.checks",
    "MonitorError": "scones.monitoring.errors",
    "WindowError": "scones.monitoring.errors",
    "CaptureSourceError": "scones.monitoring.errors",
    "BaselineError": "scones.monitoring.errors",
    "ReportSink": "scones.monitoring.sinks",
    "LocalSink": "scones.monitoring.sinks",
    "S3Sink": "scones.monitoring.sinks",
    "CallableSink": "scones.monitoring.sinks",
    "report_prefix": "scones.monitoring.sinks",
    "list_report_days": "scones.monitoring.sinks",
    "read_report": "scones.monitoring.sinks",
    "Analysis": "scones.monitoring.analyze",
    "analyze_capture": "scones.monitoring.analyze",
    "Baseline": "scones.monitoring.drift",
    "load_baseline": "scones.monitoring.drift",
    "baseline_from_json": "scones.monitoring.drift",
    "build_report": "scones.monitoring.report",
    "write_report": "scones.monitoring.report",
    "render_html": "scones.monitoring.report",
    "format_summary": "scones.monitoring.report",
}

__all__ = [  # the lazy names of _EXPORTS (checked equal by tests/monitoring/test_package.py)
    "Analysis",
    "Baseline",
    "BaselineError",
    "CHECKS",
    "CallableSink",
    "CaptureSourceError",
    "LocalSink",
    "MonitorError",
    "ReportSink",
    "S3Sink",
    "Thresholds",
    "Violation",
    "Window",
    "WindowError",
    "analyze_capture",
    "baseline_from_json",
    "build_report",
    "format_summary",
    "list_report_days",
    "load_baseline",
    "read_report",
    "render_html",
    "report_prefix",
    "write_report",
]

if TYPE_CHECKING:
    from scones.monitoring.analyze import Analysis, analyze_capture
    from scones.monitoring.checks import CHECKS, Thresholds, Violation
    from scones.monitoring.drift import Baseline, baseline_from_json, load_baseline
    from scones.monitoring.errors import BaselineError, CaptureSourceError, MonitorError, WindowError
    from scones.monitoring.report import build_report, format_summary, render_html, write_report
    from scones.monitoring.sinks import (
        CallableSink,
        LocalSink,
        ReportSink,
        S3Sink,
        list_report_days,
        read_report,
        report_prefix,
    )
    from scones.monitoring.window import Window


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'scones.monitoring' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
