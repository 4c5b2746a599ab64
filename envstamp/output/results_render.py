"""Results as a table for ``envstamp show`` (text or Markdown): one row per result with its
status, samples, wall time, main metric, peak memory and advice.

A failed run (``Result.failed``, a signal, or in logs written before those fields a non-zero
exit code) reads "failed: exit 132 (SIGILL)" in the status column and shows no wall time
and no speed: how long a crash took is not a measurement.  A log that holds runs under
several setups is listed setup by setup, each with what differs from the first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envstamp.output.formatting import seconds
from envstamp.stamping.results import Result, Summary

MAX_ROWS = 40
_HEADERS = ("result", "status", "n", "wall (median)", "speed", "peak memory", "advice")
# Parameters left out of the label: they say how, or describe the model at length.
_QUIET_PARAMS = frozenset({"repeat", "warmup", "model_size", "n_params", "n_prompt", "n_gen"})
# Metrics shown as the result's speed, most telling first.
_TOKENS_PER_SECOND = frozenset({"tokens_per_s", "tokens_per_second", "avg_ts"})
_SPEED = ("tokens_per_s", "prompt_tps", "tokens_per_second", "avg_ts", "output_throughput")


def results_section(
    results: Sequence[Result],
    *,
    markdown: bool = False,
    shown: Sequence[Result] | None = None,
) -> str:
    """The results of a log: one table, or one per setup when the log holds several.

    ``shown``: the same results as a shareable view shows them (redacted: names, parameters,
    commands and manifests), one for one with ``results``.  Setups are grouped, and their
    digests printed, from ``results`` - the log as it is, so a digest names what the log
    holds - while names, parameters and what differs from setup 1 come from ``shown``."""
    from envstamp.diffing.setups import changes_from, group_setups

    as_shown = dict(zip(map(id, results), shown if shown is not None else results, strict=True))
    groups = group_setups(results)
    if len(groups) < 2:
        return results_table([as_shown[id(r)] for r in results], markdown=markdown)
    first = _shown_manifest(groups[0], as_shown)
    lead = (f"This log holds runs under {len(groups)} setups; each is listed with its results "
            "(the manifest above is setup 1's).")
    parts = ["", f"**{lead}**" if markdown else lead]
    for group in groups:
        manifest = _shown_manifest(group, as_shown)
        changes = changes_from(first, manifest, group.index) if group.index > 1 else []
        digests = [d for d in group.digests if d.startswith("sha256:")]
        heading = _setup_heading(group.index, group.manifest, len(group.results), changes,
                                 digests, markdown=markdown)
        parts += ["", heading]
        rows = [as_shown[id(r)] for r in group.results]
        parts.append(results_table(rows, markdown=markdown).rstrip("\n"))
    return "\n".join(parts) + "\n"


def _shown_manifest(group: Any, as_shown: dict[int, Result]) -> Any:
    """A setup's manifest as shown: its first result's, redacted where the view is."""
    for result in group.results:
        manifest = as_shown[id(result)].manifest
        if manifest is not None:
            return manifest
    return group.manifest


def _setup_heading(index: int, manifest: Any, count: int, changes: list[str],
                   digests: list[str], *, markdown: bool) -> str:
    """ "Setup 2 (identity digest sha256:..., manifest digest sha256:..., captured ...): 1
    result; differs from setup 1 in ..." - ``manifest`` is the log's own (not a redacted
    copy), so its identity digest is the one ``show`` of the log's manifest prints."""
    from envstamp.output.formatting import identity_text, manifest_digests_text, plural, timestamp

    what = ("differs from setup 1 in " + "; ".join(changes)) if changes else (
        "the first setup" if index == 1 else "no difference from setup 1 that may change speed")
    # the identity digest (the machine's setup), then the manifest digests its results name
    ids = ", ".join(filter(None, (identity_text(manifest.identity_digest),
                                  manifest_digests_text(digests))))
    text = (f"Setup {index} ({ids}, captured {timestamp(manifest.captured_at)}): "
            f"{plural(count, 'result')}; {what}")
    return f"#### {text}" if markdown else text


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
        from envstamp.output.formatting import plural

        lines.append(f"... and {plural(more, 'more result')}")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _row(result: Result) -> tuple[str, str, str, str, str, str, str]:
    wall = result.summary.get("wall_s")
    samples = wall.n if wall else max((s.n for s in result.summary.values()), default=0)
    failed = is_failed(result)
    median = seconds(wall.median) if wall and wall.median is not None else "-"
    return (
        _label(result),
        _status(result, failed, median),
        str(samples) if samples else "-",
        "-" if failed else median,
        "-" if failed else _speed(result),
        _memory(result),
        ", ".join(a.code for a in result.advice) or "-",
    )


def is_failed(result: Result) -> bool:
    """Failed: marked so, ended by a signal, or (older logs) a non-zero exit code."""
    from envstamp.diffing.results import is_failed as failed

    return failed(result)


def _status(result: Result, failed: bool, median: str) -> str:
    """ "ok", "ok (exit 0)", "failed: exit 132 (SIGILL) after 12.00 ms"."""
    from envstamp.diffing.results import failure_text, is_unsigned

    code = result.exit_code
    unsigned = ", unsigned" if is_unsigned(result) else ""  # no signed head vouches for it
    if not failed:
        return ("ok" if code is None else f"ok (exit {code})") + unsigned
    text = failure_text(code, getattr(result, "exit_signal", None))
    return (f"{text} after {median}" if median != "-" else text) + unsigned


def _label(result: Result) -> str:
    shown = {k: v for k, v in result.params.items() if k not in _QUIET_PARAMS}
    if not shown:
        return result.name
    text = ", ".join(f"{k}={v}" for k, v in list(shown.items())[:3])
    extra = ", ..." if len(shown) > 3 else ""
    return f"{result.name} ({text}{extra})"


def _speed(result: Result) -> str:
    name = _speed_metric(result)
    if name is None:
        return "-"
    summary: Summary | None = result.summary.get(name)
    stddev = summary.stddev if summary else None
    if stddev is None and name in ("tokens_per_s", "avg_ts"):
        stddev = result.metrics.get("stddev_ts")  # as llama-bench printed it
    spread = f" ± {stddev:.2f}" if stddev is not None else ""
    # tokens per second in the unit diff prints ("t/s"); another metric by its own name
    unit = "t/s" if name in _TOKENS_PER_SECOND else name
    return f"{result.metrics[name]:.2f}{spread} {unit}"


def _speed_metric(result: Result) -> str | None:
    """The metric shown as the speed: the most telling of _SPEED, else any throughput metric
    the result holds (llama-batched-bench's total_tps), as diff chooses it."""
    from envstamp.diffing.results import is_throughput

    for name in _SPEED:
        if name in result.metrics:
            return name
    return next((name for name in result.metrics
                 if is_throughput(name) and not name.lower().startswith("stddev")), None)


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
