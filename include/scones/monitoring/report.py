"""A window's outputs: report.json, statistics.json, constraint_violations.json, plots, report.html.

:func:`write_report` writes them through a :class:`~scones.monitoring.sinks.ReportSink`,
``report.json`` last: whoever lists reports (the UI page) sees a day only once its plots and
page are in place, and a rerun overwrites the same names.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from scones.monitoring.sinks import REPORT_FILE
from scones.monitoring.window import iso

if TYPE_CHECKING:
    from scones.monitoring.analyze import Analysis
    from scones.monitoring.sinks import ReportSink

REPORT_VERSION = 1
STATISTICS_FILE = "statistics.json"
VIOLATIONS_FILE = "constraint_violations.json"
HTML_FILE = "report.html"
_JSON = "application/json"


def build_report(analysis: Analysis) -> dict[str, Any]:
    """The summary the DAG logs and the UI page shows (small: no histograms)."""
    from scones.monitoring.plots import PLOT_FILES

    s = analysis.statistics
    by_hour = {h.start: h for h in s.hourly}
    hourly = []
    for hour in analysis.window.report_hours(by_hour):
        h = by_hour.get(hour)
        hourly.append(
            {
                "hour": iso(hour),
                "records": h.records if h else 0,
                "low_confidence_rate": round(h.low_confidence_rate, 6) if h else None,
            }
        )
    low_rate = s.low_confidence_rate
    return {
        "version": REPORT_VERSION,
        "endpoint": analysis.endpoint,
        "model": dict(analysis.lineage),
        "input": analysis.input,
        "window": analysis.window.to_dict(),
        "generated_at": analysis.generated_at,
        "status": "ok" if analysis.ok else "violations",
        "records": s.records,
        "malformed": s.malformed_count,
        "malformed_by_reason": s.malformed,
        "malformed_rate": round(s.malformed_rate, 6),
        "malformed_examples": list(s.malformed_examples),
        "out_of_window": s.out_of_window,
        "files": s.files,
        "bytes_read": s.bytes_read,
        "classes": list(s.classes),
        "class_counts": {name: int(c) for name, c in zip(s.classes, s.class_counts, strict=True)},
        "class_share": s.class_share,
        "confidence": {
            "threshold": s.threshold,
            "mean": None if s.mean_confidence is None else round(s.mean_confidence, 6),
            "std_dev": None if s.std_confidence is None else round(s.std_confidence, 6),
            "min": s.confidence_min,
            "max": s.confidence_max,
            "quantiles": s.quantiles(),
        },
        "low_confidence_count": s.low_confidence,
        "low_confidence_rate": None if low_rate is None else round(low_rate, 6),
        "hourly": hourly,
        "drift": analysis.drift.to_dict() if analysis.drift else None,
        "thresholds": analysis.thresholds.to_dict(),
        "violations": [v.to_dict() for v in analysis.violations],
        "plots": list(PLOT_FILES),
        "files_written": [*PLOT_FILES, STATISTICS_FILE, VIOLATIONS_FILE, HTML_FILE, REPORT_FILE],
    }


def _figure_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2%}"

    def num(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.4f}"

    conf = report["confidence"]
    lineage = report.get("model") or {}
    rows = (
        [
            (
                f"model{' ' + lineage['model'] if lineage.get('model') else ''}",
                f"trained on dataset version {lineage['dataset_version']}",
            )
        ]
        if lineage.get("dataset_version")
        else []
    )
    rows += [
        ("window (UTC)", f"{report['window']['start']} to {report['window']['end']} (end excluded)"),
        ("inferences", f"{report['records']:,}"),
        ("malformed records", f"{report['malformed']:,} {report['malformed_by_reason'] or ''}"),
        (
            f"below confidence {conf['threshold']}",
            f"{report['low_confidence_count']:,} ({pct(report['low_confidence_rate'])})",
        ),
        ("class share", ", ".join(f"{k} {pct(v)}" for k, v in report["class_share"].items())),
        ("confidence mean", num(conf["mean"])),
        ("confidence quantiles", ", ".join(f"{k} {v:.4f}" for k, v in conf["quantiles"].items()) or "n/a"),
    ]
    drift = report.get("drift")
    if drift:
        rows += [
            ("baseline", f"{drift['baseline']['source']} ({drift['baseline']['records']:,} records)"),
            ("class share PSI", num(drift["class_share_psi"])),
            ("confidence PSI", num(drift["confidence_psi"])),
            ("confidence KS", f"{num(drift['confidence_ks'])} (p = {num(drift['confidence_ks_pvalue'])})"),
        ]
        if drift.get("note"):
            rows.append(("drift note", drift["note"]))
    return rows


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page (inline style, images by relative link) for a browser or the UI."""
    e = html.escape
    title = f"Model monitor: {report['endpoint'] or report['input']} {report['window']['start'][:10]}"
    figures = "\n".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in _figure_rows(report))
    if report["violations"]:
        items = "\n".join(f"<li><b>{e(v['check'])}</b>: {e(v['description'])}</li>" for v in report["violations"])
        verdict = f'<p class="bad">{len(report["violations"])} violation(s)</p><ul>{items}</ul>'
    else:
        verdict = '<p class="ok">No violations.</p>'
    examples = "".join(f"<li><code>{e(x)}</code></li>" for x in report["malformed_examples"])
    malformed = f"<h2>Malformed records (examples)</h2><ul>{examples}</ul>" if examples else ""
    images = "\n".join(f'<figure><img src="{e(name)}" alt="{e(name)}"></figure>' for name in report["plots"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .25em .8em; border-bottom: 1px solid #ddd; }}
.ok {{ color: #1a7f37; font-weight: bold; }} .bad {{ color: #c62828; font-weight: bold; }}
img {{ max-width: 100%; }} figure {{ margin: 1em 0; }}
</style></head><body>
<h1>{e(title)}</h1>
{verdict}
<table>{figures}</table>
{images}
{malformed}
<p><small>Generated {e(report["generated_at"])} from {e(report["input"])}. Figures: <a href="{REPORT_FILE}">{REPORT_FILE}</a>,
<a href="{STATISTICS_FILE}">{STATISTICS_FILE}</a>, <a href="{VIOLATIONS_FILE}">{VIOLATIONS_FILE}</a>.</small></p>
</body></html>
"""


def write_report(analysis: Analysis, sink: ReportSink) -> dict[str, str]:
    """Write every output of the window through ``sink``; ``report.json`` last.

    :return: file name -> location, in the order written.
    """
    from scones.monitoring.plots import render_plots

    report = build_report(analysis)
    statistics = analysis.statistics.to_statistics_json()
    statistics["window"] = analysis.window.to_dict()
    violations = {"violations": report["violations"]}
    written = {}
    for name, png in render_plots(analysis.statistics, analysis.window).items():
        written[name] = sink.write(name, png, "image/png")
    written[STATISTICS_FILE] = sink.write(STATISTICS_FILE, _dumps(statistics), _JSON)
    written[VIOLATIONS_FILE] = sink.write(VIOLATIONS_FILE, _dumps(violations), _JSON)
    written[HTML_FILE] = sink.write(HTML_FILE, render_html(report).encode(), "text/html; charset=utf-8")
    written[REPORT_FILE] = sink.write(REPORT_FILE, _dumps(report), _JSON)
    return written


def _dumps(data: Any) -> bytes:
    return json.dumps(data, indent=2, allow_nan=False).encode()


def format_summary(report: dict[str, Any]) -> str:
    """A few readable lines for a log or a terminal."""
    lines = [f"{'OK' if report['status'] == 'ok' else 'VIOLATIONS'}: {report['endpoint'] or report['input']}"]
    lines += [f"  {name}: {value}" for name, value in _figure_rows(report)]
    lines += [f"  ! {v['check']}: {v['description']}" for v in report["violations"]]
    return "\n".join(lines)
