"""The monitor page's HTML: the index (trends and days), a day's page, and error pages.

Every value from a report (S3) or a request is passed through :func:`e` where it is written,
attributes are always double-quoted, and links are built only from names that matched the
strict patterns in ``scones.ui.reports``. The pages need no script: the charts are inline SVG.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from scones.monitoring.checks import Thresholds
from scones.ui.charts import Point, bar_chart, line_chart
from scones.ui.reports import DayFigures, number

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2937;max-width:1200px}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:1.6rem} a{color:#1d4ed8}
table{border-collapse:collapse} td,th{border-bottom:1px solid #e5e7eb;padding:.3rem .7rem;text-align:left;vertical-align:top}
.bad{color:#b91c1c} .ok{color:#047857} .muted{color:#6b7280}
.charts{display:flex;flex-wrap:wrap;gap:1rem} .chart{border:1px solid #e5e7eb;background:#fff}
.chart-title{font-size:13px;font-weight:600} .tick{font-size:11px;fill:#6b7280}
.plots img{max-width:46%;margin:.5rem;border:1px solid #e5e7eb}
.days a{display:inline-block;margin:.15rem .5rem .15rem 0} .days .bad{font-weight:600}
"""

#: Drift figures: what each means, for a person reading the page.
DRIFT_HELP = {
    "class_share_psi": "Population stability index of the predicted-class shares against the baseline",
    "confidence_psi": "Population stability index of the top-class confidence distribution",
    "confidence_ks": "Kolmogorov-Smirnov distance between today's and the baseline's confidences",
}
LIMITS = Thresholds()  # the drift limits are not DAG params: the defaults are the ones checked


def e(value: Any) -> str:
    """Escaped text for HTML content or a double-quoted attribute."""
    return html.escape(str(value), quote=True)


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def num(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` if it is an object, else empty: a report's shape is not trusted."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _dicts(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects in the list ``data[key]``; nothing if it is not a list."""
    value = data.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def layout(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f'<meta name="referrer" content="same-origin"><style>{STYLE}</style></head><body>{body}</body></html>'
    )


def error_page(status: int, message: str, *, login_url: str | None = None, home: str = "./") -> str:
    """A short page for a missing report, a bad date, or a refused request."""
    titles = {400: "Not a valid request", 401: "Please log in", 403: "Not allowed", 404: "Not found"}
    title = titles.get(status, "Something went wrong")
    login = f'<p><a href="{e(login_url)}">Log in to Airflow</a>, then come back.</p>' if login_url else ""
    back = f'<p><a href="{e(home)}">Back to the model monitor</a></p>' if status not in (401, 403) else ""
    return layout(title, f"<h1>{e(title)}</h1><p>{e(message)}</p>{login}{back}")


def _day_link(day: str, prefix: str, violations: Sequence[str] = ()) -> str:
    cls = ' class="bad"' if violations else ""
    flag = f" ({len(violations)} violation{'s' if len(violations) != 1 else ''})" if violations else ""
    return f'<a href="{e(prefix + quote(day))}"{cls}>{e(day)}{e(flag)}</a>'


def trend_charts(trend: Sequence[DayFigures]) -> str:
    """Volume, low-confidence share against its limit, mean confidence and drift, one chart each."""
    if not trend:
        return ""
    limits = {f.max_low_confidence_rate for f in trend if f.max_low_confidence_rate is not None}
    limit = max(limits) if limits else None  # the limit can change between days: draw the loosest
    charts = [
        bar_chart("Inferences per day", [Point(f.day, f.records, "record_count" in f.violations) for f in trend]),
        line_chart(
            "Low-confidence share",
            [Point(f.day, f.low_confidence_rate, "low_confidence_rate" in f.violations) for f in trend],
            fmt="{:.0%}".format,
            limit=limit,
            limit_label=f"alert above {pct(limit)}" if limit is not None else "",
        ),
        line_chart("Mean confidence", [Point(f.day, f.mean_confidence) for f in trend], fmt="{:.2f}".format, y_max=1.0),
        line_chart(
            "Confidence drift (PSI)",
            [Point(f.day, f.confidence_psi, "confidence_drift_psi" in f.violations) for f in trend],
            limit=LIMITS.max_confidence_psi,
        ),
        line_chart(
            "Class-share drift (PSI)",
            [Point(f.day, f.class_share_psi, "class_share_drift_psi" in f.violations) for f in trend],
            limit=LIMITS.max_class_share_psi,
        ),
        line_chart(
            "Confidence drift (KS distance)",
            [Point(f.day, f.confidence_ks, "confidence_drift_ks" in f.violations) for f in trend],
            limit=LIMITS.max_confidence_ks,
        ),
    ]
    return f'<div class="charts">{"".join(charts)}</div>'


def index_page(endpoint: str, days: Sequence[str], trend: Sequence[DayFigures], longer: int | None) -> str:
    """Trends and every day with a report; ``longer``: the ``?days=`` of a longer trend, None if none."""
    title = f"Model monitor: {endpoint}"
    if not days:
        body = (
            f"<h1>{e(title)}</h1><p>No report yet: the <code>scones_model_monitor</code> DAG writes one a day "
            "for the day before, once a model is deployed and serving.</p>"
        )
        return layout(title, body)
    latest = trend[-1] if trend else None
    if latest is None:
        status = "<p class='muted'>The latest report could not be read.</p>"
    elif latest.violations:
        status = (
            f"<p class='bad'>Latest day, {_day_link(latest.day, 'reports/', latest.violations)}: "
            f"{e(', '.join(latest.violations))}</p>"
        )
    else:
        status = (
            f"<p class='ok'>Latest day, {_day_link(latest.day, 'reports/')}: no violations "
            f"({num(latest.records, 0)} inferences, {pct(latest.low_confidence_rate)} low confidence).</p>"
        )
    flagged = {f.day: f.violations for f in trend}
    links = "".join(_day_link(d, "reports/", flagged.get(d, ())) for d in days)
    shown = f"{len(trend)} day{'s' if len(trend) != 1 else ''}"
    more = f"<a href='?days={longer}'>longer</a>; " if longer and len(days) > len(trend) else ""
    body = (
        f"<h1>{e(title)}</h1>{status}<h2>Trends, last {e(shown)} with a report "
        f"<small class='muted'>({more}red: a violation that day)</small></h2>"
        f"{trend_charts(trend)}<h2>Daily reports</h2><p class='days'>{links}</p>"
    )
    return layout(title, body)


def _rows(rows: Sequence[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows)


def _violations(report: dict[str, Any]) -> str:
    violations = _dicts(report, "violations")
    if not violations:
        return "<p class='ok'>No violations: every check passed.</p>"
    items = "".join(f"<li><b>{e(v.get('check', '?'))}</b>: {e(v.get('description', ''))}</li>" for v in violations)
    return f"<p class='bad'>{len(violations)} violation{'s' if len(violations) != 1 else ''}</p><ul>{items}</ul>"


def _drift(report: dict[str, Any]) -> str:
    drift = report.get("drift")
    if not isinstance(drift, dict):  # null (no baseline), or not an object
        return (
            "<p class='muted'>Not computed: no baseline. The monitor compares each day with the latest earlier "
            "day that has a report (up to a week back), or with the run's <code>baseline_uri</code>; the first "
            "day of monitoring has none.</p>"
        )
    baseline = _dict(drift, "baseline")
    rows = [("baseline", f"{e(baseline.get('source', '?'))} ({e(num(number(baseline.get('records')), 0))} records)")]
    rows += [
        (name, f"{e(num(number(drift.get(name))))} <span class='muted'>{e(help_)}</span>")
        for name, help_ in DRIFT_HELP.items()
    ]
    note = f"<p class='muted'>{e(drift['note'])}</p>" if drift.get("note") else ""
    if drift.get("evaluated") is False:
        note += "<p class='muted'>Too few inferences to judge drift: the figures are shown, not checked.</p>"
    return f"<table>{_rows(rows)}</table>{note}"


def _figures(report: dict[str, Any]) -> str:
    conf, quantiles = _dict(report, "confidence"), _dict(_dict(report, "confidence"), "quantiles")
    shares, window, thresholds, lineage = (_dict(report, k) for k in ("class_share", "window", "thresholds", "model"))
    served = [
        f"{name} {lineage[key]}"
        for key, name in (("model", "model"), ("training_job", "training job"), ("dataset_version", "dataset version"))
        if lineage.get(key)
    ]
    rows = [
        ("serving", e(", ".join(served) or "not recorded")),
        ("window (UTC)", f"{e(window.get('start', '?'))} to {e(window.get('end', '?'))} (end excluded)"),
        ("inferences", e(num(number(report.get("records")), 0))),
        (
            f"below confidence {num(number(conf.get('threshold')), 2)}",
            f"{e(num(number(report.get('low_confidence_count')), 0))} ({e(pct(number(report.get('low_confidence_rate'))))}; "
            f"alert above {e(pct(number(thresholds.get('max_low_confidence_rate'))))})",
        ),
        ("class share", e(", ".join(f"{k} {pct(number(v))}" for k, v in shares.items()) or "n/a")),
        ("confidence mean", e(num(number(conf.get("mean"))))),
        ("confidence quantiles", e(", ".join(f"{k} {num(number(v))}" for k, v in quantiles.items()) or "n/a")),
        ("malformed records", e(num(number(report.get("malformed")), 0))),
    ]
    return f"<table>{_rows(rows)}</table>"


def _hourly(report: dict[str, Any]) -> str:
    hourly = _dicts(report, "hourly")
    if not hourly:
        return ""
    limit = number(_dict(report, "thresholds").get("max_low_confidence_rate"))
    hours = [str(h.get("hour", ""))[11:16] or "?" for h in hourly]
    volume = bar_chart(
        "Inferences per hour (UTC)", [Point(t, number(h.get("records"))) for t, h in zip(hours, hourly, strict=True)]
    )
    low = line_chart(
        "Low-confidence share per hour",
        [Point(t, number(h.get("low_confidence_rate"))) for t, h in zip(hours, hourly, strict=True)],
        fmt="{:.0%}".format,
        limit=limit,
        y_max=1.0,
    )
    return f'<div class="charts">{volume}{low}</div>'


def day_page(endpoint: str, day: str, report: dict[str, Any], files: Sequence[str], days: Sequence[str]) -> str:
    """One day: verdict, figures, hourly charts, drift explained, the stored plots and files."""
    newer = [d for d in days if d > day]
    older = [d for d in days if d < day]
    nav = " ".join(
        filter(
            None,
            [
                '<a href="../">all days</a>',
                f'<a href="{e(quote(older[0]))}">&larr; {e(older[0])}</a>' if older else "",
                f'<a href="{e(quote(newer[-1]))}">{e(newer[-1])} &rarr;</a>' if newer else "",
            ],
        )
    )
    base = f"{quote(day)}/files/"
    plots = "".join(f'<img alt="{e(n)}" src="{e(base + quote(n))}">' for n in files if n.endswith(".png"))
    links = " &middot; ".join(f'<a href="{e(base + quote(n))}">{e(n)}</a>' for n in files if not n.endswith(".png"))
    title = f"Model monitor: {endpoint}, {day}"
    body = (
        f"<h1>{e(title)}</h1><p>{nav}</p><h2>Checks</h2>{_violations(report)}<h2>Figures</h2>{_figures(report)}"
        f"{_hourly(report)}<h2>Drift</h2>{_drift(report)}<h2>Plots</h2><div class='plots'>{plots or 'none stored'}</div>"
        f"<h2>Files</h2><p>{links or 'none'}</p><p class='muted'>report.html opens sandboxed: as stored, "
        f"without its images.</p><details><summary>report.json</summary><pre>{e(json.dumps(report, indent=2))}</pre></details>"
    )
    return layout(title, body)
