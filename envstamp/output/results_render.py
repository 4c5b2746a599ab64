"""Results as a table for ``envstamp show`` (text or Markdown): one row per test with its
status, samples, wall time, main metric, peak memory and advice.

Repeated runs of one test (same name and parameters, under one setup) are one row, pooled as
``envstamp diff`` pools them (``diffing.results.group_records`` and ``pool``): n is the
pooled sample count with the number of runs beside it ("9 (3 runs)"), the wall time the
median of every run's samples, the speed the pooled mean and standard deviation, the peak
memory the highest of the runs' peaks and the advice every run's.  So the numbers ``show``
prints for a log are the ones ``diff`` compares.  Each run as stored is in ``show --json``.

A failed run (``Result.failed``, a signal, or in logs written before those fields a non-zero
exit code) reads "failed: exit 132 (SIGILL)" in the status column and shows no wall time
and no speed: how long a crash took is not a measurement.  A log that holds runs under
several setups is listed setup by setup, each with what differs from the first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from envstamp.output.formatting import seconds
from envstamp.stamping.results import Result, Summary

if TYPE_CHECKING:
    from envstamp.diffing.model import Spread
    from envstamp.diffing.results import RecordGroup

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
        return results_table(results, markdown=markdown,
                             shown=[as_shown[id(r)] for r in results])
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
        parts.append(results_table(group.results, markdown=markdown, shown=rows).rstrip("\n"))
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


def results_table(
    results: Sequence[Result],
    *,
    markdown: bool = False,
    shown: Sequence[Result] | None = None,
) -> str:
    """The table of one setup's results, or an empty string without results.

    Runs are pooled into tests from ``results`` (the log as it is: redaction may make two
    parameters look alike); what a row prints comes from ``shown``, one for one with it."""
    from envstamp.diffing.results import group_records

    if not results:
        return ""
    as_shown = dict(zip(map(id, results), shown if shown is not None else results,
                        strict=True))
    groups = group_records(results)
    rows = [_group_row(group, as_shown) for group in groups[:MAX_ROWS]]
    more = sum(len(group.records) for group in groups[MAX_ROWS:])
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


Row = tuple[str, str, str, str, str, str, str]


def _group_row(group: RecordGroup, as_shown: dict[int, Result]) -> Row:
    runs = [as_shown[id(record)] for record in group.records]
    if len(runs) == 1:
        return _row(runs[0])
    return _pooled_row(runs, group)


def _pooled_row(runs: list[Result], group: RecordGroup) -> Row:
    """Several runs of one test (never failed ones: diff lists those apart) as one row."""
    from envstamp.diffing.results import pool

    walls = [x for run in runs for x in run.wall_s]
    every_wall = all(run.wall_s for run in runs)
    median = seconds(_median(walls)) if every_wall else "-"
    spread = pool(group.views)
    count = spread.n if spread is not None and spread.n else sum(map(_samples, runs))
    statuses = list(dict.fromkeys(_status(run, False, median) for run in runs))
    advice = dict.fromkeys(a.code for run in runs for a in run.advice)
    return (
        _label(runs[0]),
        " / ".join(statuses),
        f"{count or '-'} ({len(runs)} runs)",
        median,
        _pooled_speed(group.views[0].metric, spread) if group.views[0].higher_is_better
        else "-",
        _peak_memory(runs),
        ", ".join(advice) or "-",
    )


def _median(samples: list[float]) -> float:
    import statistics

    return statistics.median(samples)


def _samples(result: Result) -> int:
    wall = result.summary.get("wall_s")
    return wall.n if wall else max((s.n for s in result.summary.values()), default=0)


def _pooled_speed(metric: str, spread: Spread | None) -> str:
    if spread is None:
        return "-"
    deviation = f" ± {spread.stddev:.2f}" if spread.stddev is not None else ""
    return f"{spread.mean:.2f}{deviation} {_unit(metric)}"


def _unit(metric: str) -> str:
    """Tokens per second in the unit diff prints ("t/s"); another metric by its own name."""
    return "t/s" if metric in _TOKENS_PER_SECOND else metric


def _row(result: Result) -> Row:
    wall = result.summary.get("wall_s")
    samples = _samples(result)
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
    return f"{result.metrics[name]:.2f}{spread} {_unit(name)}"


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
    return _peak_memory([result])


def _peak_memory(runs: Sequence[Result]) -> str:
    """The highest peak of each kind over the runs ("RSS 812 MiB, GPU 5120 MiB")."""
    found = [run.memory for run in runs if run.memory is not None]
    rss = _highest([m.child_rss_peak_bytes or m.rss_peak_bytes for m in found])
    gpu = _highest([m.gpu_process_peak_mib for m in found])
    gpu_total = _highest([m.gpu_total_peak_mib for m in found])
    parts = []
    if rss is not None:
        parts.append(f"RSS {rss / (1 << 20):.0f} MiB")
    if gpu is not None:
        parts.append(f"GPU {gpu} MiB")
    if gpu_total is not None:
        parts.append(f"GPU total {gpu_total} MiB")
    return ", ".join(parts) or "-"


def _highest(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None
