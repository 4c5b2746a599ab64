"""Results as a table for ``envstamp show`` (text or Markdown): one row per result with its
samples, wall time, main metric, peak memory and advice."""

from __future__ import annotations

from collections.abc import Sequence

from envstamp.results import Result, Summary

MAX_ROWS = 40
_HEADERS = ("result", "n", "wall (median)", "speed", "peak memory", "advice")
# Parameters left out of the label: they say how, or describe the model at length.
_QUIET_PARAMS = frozenset({"repeat", "warmup", "model_size", "n_params", "n_prompt", "n_gen"})
# Metrics shown as the result's speed, most telling first.
_SPEED = ("tokens_per_s", "prompt_tps", "tokens_per_second", "avg_ts")


def results_table(results: Sequence[Result], *, markdown: bool = False) -> str:
    """The table, or an empty string without results."""
    if not results:
        return ""
    rows = [_row(r) for r in results[:MAX_ROWS]]
    more = len(results) - len(rows)
    if markdown:
        lines = ["", "| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
        for row in rows:
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    else:
        widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]
        lines = ["", "  ".join(h.ljust(w) for h, w in zip(_HEADERS, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    if more > 0:
        lines.append(f"... and {more} more results")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _row(result: Result) -> tuple[str, str, str, str, str, str]:
    wall = result.summary.get("wall_s")
    samples = wall.n if wall else max((s.n for s in result.summary.values()), default=0)
    return (
        _label(result),
        str(samples) if samples else "-",
        _seconds(wall.median) if wall else "-",
        _speed(result),
        _memory(result),
        ", ".join(a.code for a in result.advice) or "-",
    )


def _label(result: Result) -> str:
    shown = {k: v for k, v in result.params.items() if k not in _QUIET_PARAMS}
    if not shown:
        return result.name
    text = ", ".join(f"{k}={v}" for k, v in list(shown.items())[:3])
    extra = ", ..." if len(shown) > 3 else ""
    return f"{result.name} ({text}{extra})"


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.3f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.1f} us"


def _speed(result: Result) -> str:
    for name in _SPEED:
        if name in result.metrics:
            summary: Summary | None = result.summary.get(name)
            spread = f" ± {summary.stddev:.2f}" if summary and summary.stddev is not None else ""
            return f"{result.metrics[name]:.2f}{spread} {name}"
    return "-"


def _memory(result: Result) -> str:
    memory = result.memory
    if memory is None:
        return "-"
    parts = []
    rss = memory.child_rss_peak_bytes or memory.rss_peak_bytes
    if rss is not None:
        parts.append(f"RSS {rss / (1 << 20):.0f} MiB")
    if memory.gpu_process_peak_mib is not None:
        parts.append(f"GPU {memory.gpu_process_peak_mib} MiB")
    if memory.gpu_total_peak_mib is not None:
        parts.append(f"GPU total {memory.gpu_total_peak_mib} MiB")
    return ", ".join(parts) or "-"
