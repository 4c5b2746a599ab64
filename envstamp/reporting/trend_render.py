"""``envstamp trend``'s output: text for a person, JSON (``envstamp.trend/1``) for CI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from envstamp.diffing.model import Spread
from envstamp.reporting.trend import TREND_SCHEMA, Step, Trend


def _spread(spread: Spread | None) -> str:
    from envstamp.diffing.results import format_spread

    return "-" if spread is None else format_spread(spread)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]  # fmt: skip


def rule_text(trend: Trend) -> str:
    return (f"flagged: a move of {trend.factor:g}x or more whose spreads "
            "(mean ± stddev) do not overlap")  # fmt: skip


def render_text(trend: Trend) -> str:
    points = trend.points
    noun = "point" if len(points) == 1 else "points"
    lines = [f"envstamp trend: {len(points)} {noun} ordered by {trend.order}"
             + ("" if trend.order == "build number"
                else " (not every build has a build number)")
             + f"; {rule_text(trend)}", ""]  # fmt: skip
    rows = [[str(p.index), p.build, p.captured_at or "-", str(p.results), ", ".join(p.sources)]
            for p in points]  # fmt: skip
    lines += _table(["#", "llama.cpp build", "captured", "results", "from"], rows)
    if trend.series:
        lines.append("")
        header = ["test", *(str(p.index) for p in points)]
        body = [[s.test, *(_spread(v) for v in s.values)] for s in trend.series]
        lines += _table(header, body)
    lines.append("")
    flagged = trend.flagged
    if not flagged:
        compared = len(trend.steps)
        lines.append(f"no step beyond noise ({compared} compared)" if compared
                     else "no step to compare (a test must run at two points)")  # fmt: skip
    else:
        slower = sum(s.slower for s in flagged)
        lines.append(f"{len(flagged)} flagged ({slower} slower, {len(flagged) - slower} "
                     "faster):")  # fmt: skip
        for step in flagged:
            lines.extend(step_lines(step))
    if trend.failed:
        lines.append("")
        lines.append("failed runs (never a speed): " + "; ".join(
            f"{f.side} {f.name} {f.summary}" for f in trend.failed))
    return "\n".join(lines) + "\n"


def step_lines(step: Step) -> list[str]:
    unsure = "" if step.within_noise is False else " (spread unknown: the factor alone)"
    lines = [f"  {step.test}  {step.before} -> {step.after}: {step.phrase}{unsure}  "
             f"{_spread(step.a)} -> {_spread(step.b)}"]  # fmt: skip
    if step.changes:
        lines.append("    changed: " + "; ".join(step.changes))
    else:
        lines.append("    changed: nothing envstamp records")
    return lines


def to_json(trend: Trend) -> dict[str, Any]:
    return {
        "schema": TREND_SCHEMA,
        "order": trend.order,
        "factor": trend.factor,
        "points": [
            {"index": p.index, "build": p.build, "build_number": p.build_number,
             "commit": p.commit, "version": p.version, "captured_at": p.captured_at,
             "identity_digest": p.identity_digest, "results": p.results, "sources": p.sources}
            for p in trend.points
        ],
        "series": [
            {"test": s.test, "metric": s.metric, "unit": s.unit,
             "higher_is_better": s.higher_is_better,
             "values": [_spread_json(v) for v in s.values]}
            for s in trend.series
        ],
        "steps": [
            {"test": s.test, "metric": s.metric, "unit": s.unit, "before": s.before,
             "after": s.after, "a": _spread_json(s.a), "b": _spread_json(s.b),
             "speedup": s.speedup, "direction": "slower" if s.slower else "faster",
             "factor": round(s.factor, 4), "within_noise": s.within_noise,
             "flagged": s.flagged, "changes": s.changes}
            for s in trend.steps
        ],
        "failed": [
            {"point": f.side, "name": f.name, "exit_code": f.exit_code,
             "exit_signal": f.exit_signal, "summary": f.summary}
            for f in trend.failed
        ],
    }  # fmt: skip


def _spread_json(spread: Spread | None) -> dict[str, Any] | None:
    if spread is None:
        return None
    return {"mean": spread.mean, "stddev": spread.stddev, "n": spread.n}


def render_json(trend: Trend) -> str:
    return json.dumps(to_json(trend), indent=2, ensure_ascii=False) + "\n"
