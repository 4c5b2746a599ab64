"""Inline SVG charts of the report: one per test, one row per setup.

Each row is a setup's label (text), a bar to the mean, a marker at the mean whose shape and
colour belong to the setup, a whisker of plus and minus one standard deviation, and the
value in words: colour is never the only cue (Okabe-Ito colours, which stay apart under the
common colour blindnesses; shapes; labels).  Every string is escaped: test names and
parameters come from logs anyone may have written."""

from __future__ import annotations

import math
from html import escape

from envstamp.reporting.data import SpeedChart

# Okabe & Ito's palette (yellow last: it is faint on white), cycled with the shapes below.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000",
           "#F0E442")  # fmt: skip
SHAPES = ("circle", "square", "triangle", "diamond", "down", "cross")
SHAPE_NAMES = {"circle": "circle", "square": "square", "triangle": "triangle",
               "diamond": "diamond", "down": "triangle down", "cross": "cross"}  # fmt: skip

WIDTH = 720
LABEL_W = 160  # setup labels
VALUE_W = 210  # the value in words, right of the plot
ROW_H = 26
TOP = 8
AXIS_H = 30


def colour(setup: int) -> str:
    return PALETTE[(setup - 1) % len(PALETTE)]


def shape(setup: int) -> str:
    return SHAPES[(setup - 1) % len(SHAPES)]


def marker(setup: int, x: float, y: float, size: float = 6.0) -> str:
    """The setup's marker centred on (x, y)."""
    fill, kind = colour(setup), shape(setup)
    stroke = 'stroke="#1a1a1a" stroke-width="1"'
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" fill="{fill}" {stroke}/>'
    if kind == "square":
        s = size * 0.9
        return (f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" '
                f'height="{2 * s:.1f}" fill="{fill}" {stroke}/>')  # fmt: skip
    points = {
        "triangle": [(0, -1.2), (1.1, 0.8), (-1.1, 0.8)],
        "down": [(0, 1.2), (1.1, -0.8), (-1.1, -0.8)],
        "diamond": [(0, -1.25), (1.1, 0), (0, 1.25), (-1.1, 0)],
        "cross": [(-0.35, -1.1), (0.35, -1.1), (0.35, -0.35), (1.1, -0.35), (1.1, 0.35),
                  (0.35, 0.35), (0.35, 1.1), (-0.35, 1.1), (-0.35, 0.35), (-1.1, 0.35),
                  (-1.1, -0.35), (-0.35, -0.35)],
    }[kind]
    text = " ".join(f"{x + dx * size:.1f},{y + dy * size:.1f}" for dx, dy in points)
    return f'<polygon points="{text}" fill="{fill}" {stroke}/>'


def legend_marker(setup: int) -> str:
    """A small standalone SVG of the setup's marker, for tables and legends."""
    return (f'<svg class="key" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">'
            f"{marker(setup, 8, 8, 5)}</svg>")  # fmt: skip


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def tick_text(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def chart(test: SpeedChart, labels: dict[int, str], chart_id: str) -> str:
    """The SVG of one test.  ``labels``: setup index -> its label ("S1")."""
    from envstamp.diffing.results import format_spread

    rows = test.bars
    height = TOP + ROW_H * len(rows) + AXIS_H
    ends = [b.spread.mean + (b.spread.stddev or 0.0) for b in rows]
    ticks = nice_ticks(max(ends, default=1.0) * 1.04)  # room for the marker at the top
    plot_w = WIDTH - LABEL_W - VALUE_W
    scale = plot_w / ticks[-1]

    def at(value: float) -> float:
        return LABEL_W + max(0.0, value) * scale

    unit = f" ({test.unit})" if test.unit else ""
    better = "higher is better" if test.higher_is_better else "lower is better"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(test.name)}: {escape(test.metric)}{escape(unit)} '
        f"by setup, {better}</title>",
    ]
    bottom = TOP + ROW_H * len(rows)
    for tick in ticks:
        x = at(tick)
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{bottom + 14}" '
                     f'text-anchor="middle">{tick_text(tick)}</text>')  # fmt: skip
    parts.append(f'<text class="axis" x="{LABEL_W + plot_w / 2:.1f}" y="{bottom + 27}" '
                 f'text-anchor="middle">{escape(test.metric + unit)}, {better}</text>')
    for row, bar in enumerate(rows):
        y = TOP + ROW_H * row + ROW_H / 2
        spread = bar.spread
        name = labels.get(bar.setup, f"S{bar.setup}")
        label = f"{name} {bar.variant}".strip()
        shown = label if len(label) <= 24 else label[:23] + "…"
        parts.append(f'<g class="row"><title>{escape(label)}: {escape(format_spread(spread))}'
                     "</title>")
        parts.append(f'<text class="label" x="{LABEL_W - 8}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{escape(shown)}</text>')  # fmt: skip
        parts.append(f'<rect class="bar" x="{LABEL_W}" y="{y - 6:.1f}" '
                     f'width="{at(spread.mean) - LABEL_W:.1f}" height="12" '
                     f'fill="{colour(bar.setup)}"/>')  # fmt: skip
        if spread.stddev:
            lo, hi = at(spread.mean - spread.stddev), at(spread.mean + spread.stddev)
            parts.append(f'<path class="whisker" d="M{lo:.1f} {y:.1f}H{hi:.1f}'
                         f"M{lo:.1f} {y - 5:.1f}V{y + 5:.1f}M{hi:.1f} {y - 5:.1f}"
                         f'V{y + 5:.1f}"/>')  # fmt: skip
        parts.append(marker(bar.setup, at(spread.mean), y))
        value = format_spread(spread)
        if spread.stddev is None:
            value += ", spread unknown"
        parts.append(f'<text class="value" x="{WIDTH - VALUE_W + 12}" y="{y + 4:.1f}">'
                     f"{escape(value)}</text></g>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)
