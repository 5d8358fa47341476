"""Small inline SVG charts for the monitor page: no JavaScript, no external files.

The page's Content-Security-Policy forbids scripts, so the charts are drawn on the server as
SVG elements inside the HTML. Every text that reaches a chart (dates, titles, figures) is
escaped here; callers pass plain strings and numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 560, 180
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 24, 34
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
OK, BAD, LINE, BAR, GRID, LIMIT = "#047857", "#b91c1c", "#1d4ed8", "#93c5fd", "#e5e7eb", "#d97706"


@dataclass(frozen=True)
class Point:
    """One x position: its label (a day or an hour), its value (None: no data) and whether it is flagged."""

    label: str
    value: float | None
    flagged: bool = False


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _frame(title: str, y_top: float, fmt: Callable[[float], str], points: Sequence[Point]) -> list[str]:
    parts = [f'<text x="{LEFT}" y="14" class="chart-title">{escape(title)}</text>']
    for i in range(3):  # three gridlines: 0, half, top
        value = y_top * i / 2
        y = TOP + PLOT_H - PLOT_H * i / 2
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" class="tick">{escape(fmt(value))}</text>')
    if points:  # first and last labels only: a month of dates does not fit under the axis
        ends = {0: "start", len(points) - 1: "end"}
        for i, anchor in ends.items():
            parts.append(
                f'<text x="{_x(i, len(points)):.1f}" y="{HEIGHT - 10}" text-anchor="{anchor}" '
                f'class="tick">{escape(points[i].label)}</text>'
            )
    return parts


def _x(i: int, n: int) -> float:
    return LEFT + (PLOT_W * (i + 0.5) / n if n else 0)


def _y(value: float, y_top: float) -> float:
    return TOP + PLOT_H - PLOT_H * min(max(value, 0.0), y_top) / y_top


def _svg(parts: list[str], title: str) -> str:
    body = "".join(parts)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def line_chart(
    title: str,
    points: Sequence[Point],
    *,
    fmt: Callable[[float], str] = "{:.2f}".format,
    limit: float | None = None,
    limit_label: str = "",
    y_max: float | None = None,
) -> str:
    """A line over ``points`` (gaps where a value is None), flagged points in red, an optional limit line."""
    values = [p.value for p in points if p.value is not None]
    y_top = y_max if y_max is not None else _nice_top(max([*values, limit or 0.0, 0.0]))
    parts = _frame(title, y_top, fmt, points)
    if limit is not None:
        y = _y(limit, y_top)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LIMIT}" '
            f'stroke-dasharray="4 3"/>'
        )
        # At the left end: series tend to cross a limit late, at the right.
        parts.append(
            f'<text x="{LEFT + 4}" y="{y - 4:.1f}" class="tick" fill="{LIMIT}">'
            f"{escape(limit_label or fmt(limit))}</text>"
        )
    segment: list[str] = []
    for i, p in enumerate(points):
        if p.value is None:
            if len(segment) > 1:
                parts.append(f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="{" ".join(segment)}"/>')
            segment = []
            continue
        segment.append(f"{_x(i, len(points)):.1f},{_y(p.value, y_top):.1f}")
    if len(segment) > 1:
        parts.append(f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="{" ".join(segment)}"/>')
    for i, p in enumerate(points):
        if p.value is not None:
            colour = BAD if p.flagged else LINE
            parts.append(
                f'<circle cx="{_x(i, len(points)):.1f}" cy="{_y(p.value, y_top):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(p.label)}: {escape(fmt(p.value))}</title></circle>"
            )
    return _svg(parts, title)


def bar_chart(title: str, points: Sequence[Point], *, fmt: Callable[[float], str] = "{:,.0f}".format) -> str:
    """Bars over ``points`` (None drawn as no bar), flagged bars in red."""
    y_top = _nice_top(max([p.value for p in points if p.value is not None] + [0.0]))
    parts = _frame(title, y_top, fmt, points)
    width = max(PLOT_W / max(len(points), 1) * 0.8, 1.0)
    for i, p in enumerate(points):
        if p.value is None:
            continue
        y = _y(p.value, y_top)
        colour = BAD if p.flagged else BAR
        parts.append(
            f'<rect x="{_x(i, len(points)) - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{TOP + PLOT_H - y:.1f}" fill="{colour}"><title>{escape(p.label)}: '
            f"{escape(fmt(p.value))}</title></rect>"
        )
    return _svg(parts, title)
