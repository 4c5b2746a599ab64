"""Views of a :class:`~envstamp.diffing.model.DiffReport`: ranked, grouped text (optionally
coloured) and Markdown ready to paste into a GitHub issue.  JSON is
``serialize.to_json(report)``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from envstamp.diffing.model import (
    Difference,
    DiffReport,
    FailedRun,
    InputInfo,
    Setup,
    TestComparison,
)
from envstamp.diffing.results import format_spread, speed_phrase, test_label
from envstamp.output.formatting import (
    DIFF_TITLE,
    identity_text,
    md_cell,
    md_code,
    plural,
    short_digest,
)

_COLOURS = {
    "high": "\033[1;31m",
    "medium": "\033[33m",
    "low": "\033[36m",
    "none": "\033[2m",
    "bold": "\033[1m",
    "dim": "\033[2m",
}
_RESET = "\033[0m"

# Text view: at most this many "none" and "unknown" lines unless --all is given.
BRIEF_LIMIT = 6


class _Paint:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, style: str, text: str) -> str:
        if not self.colour or not text:
            return text
        return f"{_COLOURS[style]}{text}{_RESET}"


def why(d: Difference) -> str:
    """The explanation part of a reason (after "label change: ")."""
    prefix = f"{d.label} {d.change}: "
    return d.reason[len(prefix):] if d.reason.startswith(prefix) else d.reason


def merged(entries: list[Difference]) -> list[tuple[Difference, list[str]]]:
    """Entries that say the same thing at several paths (the driver version in ``gpus`` and
    in ``runtimes``), shown once with all their paths."""
    groups: dict[tuple[str, str, str], tuple[Difference, list[str]]] = {}
    for d in entries:
        key = (d.impact, d.label, d.change)
        if key in groups:
            groups[key][1].append(d.path)
        else:
            groups[key] = (d, [d.path])
    return list(groups.values())


def input_line(info: InputInfo) -> str:
    parts = [info.note]
    if info.signers:
        parts.append("signed by " + ", ".join(s[:16] for s in info.signers))
    if info.captured_at:
        parts.append(f"captured {info.captured_at}")
    if info.identity_digest:
        parts.append(identity_text(info.identity_digest))
    return f"{info.source}: " + "; ".join(parts)


def verification_summary(inputs: Iterable[InputInfo | None]) -> str:
    """ "A verified, B unsigned"."""
    return ", ".join(f"{i.side} {i.verification}" for i in inputs if i is not None)


# ---------------------------------------------------------------------------------- JSON


def to_json(report: Any) -> str:
    """JSON of a diff or compare report.

    These reports hold only scalars, lists, mappings and attrs objects, for which
    ``attrs.asdict`` gives exactly what the converter's unstructure gives (the tests hold
    them to it) without importing cattrs: ``envstamp diff --json`` starts faster.
    """
    import json

    data = attrs.asdict(report, recurse=True)
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# ---------------------------------------------------------------------------------- text


def to_text(report: DiffReport, *, colour: bool = False, show_all: bool = False,
            title: str = DIFF_TITLE) -> str:
    """``title``: the verb that made the report ("envstamp check" diffs a baseline too)."""
    paint = _Paint(colour)
    lines = [title]
    for info in (report.a, report.b):
        if info is not None:
            lines.append(f"  {info.side}  {input_line(info)}")
    lines += ["", paint("bold", report.headline)]
    if report.setups:
        lines += ["", *_setups_text(report.setups)]
    if report.tests:
        lines += ["", *_tests_text(report.tests)]
    if report.failed:
        lines += ["", *_failed_text(report.failed)]
    lines += ["", *_differences_text(report, paint, show_all)]
    if report.state:
        lines += ["", "State at capture (possible explanations, never a reason to refuse):"]
        lines += _entries_text(report.state, paint, show_all)
    if report.unknown:
        lines += ["", *_unknown_text(report.unknown, show_all)]
    return "\n".join(lines) + "\n"


def _tests_text(tests: list[TestComparison]) -> list[str]:
    header = ("test", "A", "B", "result")
    rows = [
        (_test_name(t), format_spread(t.a), format_spread(t.b), _result(t)) for t in tests
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    out = ["Speed (mean ± stddev, n):"]
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        out.append("  " + "  ".join([*cells, row[3]]).rstrip())
    if any(t.context for t in tests):
        out.append("  (context: the wrapper's whole-process wall time, model load included; "
                   "the benchmark's own results are the speed)")
    return out


def _test_name(t: TestComparison) -> str:
    name = test_label(t)
    if t.metric not in ("tokens_per_s", "avg_ts", "wall_s"):
        name = f"{name} [{t.metric}]"
    return f"{name} (context)" if t.context else name


def _result(t: TestComparison) -> str:
    if t.ratio is None:
        return t.summary.split(": ", 1)[-1]
    phrase = speed_phrase(t)
    label = test_label(t)
    return phrase.split(": ", 1)[-1] if phrase.startswith(f"{label}: ") else phrase


def _failed_text(failed: list[FailedRun]) -> list[str]:
    out = ["Failed runs (their times are not speeds; never compared):"]
    out += [f"  {f.side}  {_failed_name(f)}: {f.summary}" for f in failed]
    return out


def _failed_name(f: FailedRun) -> str:
    return f"{f.name} [setup {f.setup}]" if f.setup is not None else f.name


def _setups_text(setups: list[Setup]) -> list[str]:
    out = ["Setups (a results log holds runs under several; compared setup by setup):"]
    for s in setups:
        paired = ", ".join(str(n) for n in s.paired_with)
        other = "B" if s.side == "A" else "A"
        what = "; ".join(s.changes) if s.changes else (
            "the log's first setup" if s.index == 1 else "no ranked difference from setup 1")
        with_ = f"; compared with {other} setup {paired}" if paired else ""
        out.append(f"  {s.side} setup {s.index}: {plural(s.results, 'result')}; {what}{with_}")
    return out


def compared_pair(report: DiffReport) -> str:
    """ "A setup 2 against B" when a log holds several setups: whose manifests the
    differences compare; "" otherwise."""
    if report.setup_a is None and report.setup_b is None:
        return ""
    a = "A" if report.setup_a is None else f"A setup {report.setup_a}"
    b = "B" if report.setup_b is None else f"B setup {report.setup_b}"
    return f"{a} against {b}"


def _differences_text(report: DiffReport, paint: _Paint, show_all: bool) -> list[str]:
    pair = compared_pair(report)
    if not report.differences:
        return [f"No identity or configuration differences{f' ({pair})' if pair else ''}."]
    counts = ", ".join(
        f"{report.counts[i]} {i}" for i in ("high", "medium", "low", "none") if report.counts.get(i)
    )
    head = f"{pair}; {counts}" if pair else counts
    return [f"Differences ({head}):", *_entries_text(report.differences, paint, show_all)]


def _entries_text(entries: list[Difference], paint: _Paint, show_all: bool) -> list[str]:
    out: list[str] = []
    width = max(len(d.category) for d in entries)
    current = None
    quiet = [d for d in entries if d.impact == "none"]
    tops = {d.path for d in entries if d.under is None}
    for d, paths in merged(entries):
        if d.under in tops:
            continue  # shown beneath the finding it belongs to
        if d.impact == "none" and not show_all and len(quiet) > BRIEF_LIMIT:
            continue
        if d.impact != current:
            current = d.impact
            out.append("  " + paint(d.impact, d.impact.upper()))
        out.append(f"    {d.category.ljust(width)}  {d.label}: {d.change}")
        out.append(paint("dim", f"    {' ' * width}    {why(d)}  [{', '.join(paths)}]"))
        for sub in (e for e in entries if e.under == d.path):
            out.append(f"    {' ' * width}    - {sub.impact}: {sub.label}: {sub.change}")
    if quiet and not show_all and len(quiet) > BRIEF_LIMIT:
        names = ", ".join(sorted({d.label for d in quiet}))
        count = plural(len(quiet), "difference")
        out.append(paint("dim", f"  NONE  {count} without speed impact: {names}"))
    return out


def _unknown_text(unknown: list[Difference], show_all: bool) -> list[str]:
    shown = unknown if show_all else unknown[:BRIEF_LIMIT]
    out = [f"Unknown on one side ({len(unknown)}; a failed probe, an older envstamp, or an "
           "output format that leaves the value out): never counted as a difference"]
    out += [f"  {d.path}: {d.change}" for d in shown]
    if len(unknown) > len(shown):
        out.append(f"  ... and {len(unknown) - len(shown)} more (--all lists them)")
    return out


# ------------------------------------------------------------------------------ markdown


def to_markdown(report: DiffReport, *, title: str = DIFF_TITLE) -> str:
    lines = [f"### {title}", "", f"**{md_cell(report.headline)}**", ""]
    lines += ["| | input | kind | signature | captured | identity digest |"]
    lines += ["|---|---|---|---|---|---|"]
    for info in (report.a, report.b):
        if info is not None:
            lines.append(
                f"| {info.side} | `{md_cell(info.source)}` | {info.kind} | "
                f"{md_cell(info.signature)} | {info.captured_at or ''} | "
                f"{md_code(short_digest(info.identity_digest)) if info.identity_digest else ''} |"
            )
    if report.setups:
        lines += ["", "#### Setups", "", "| side | setup | results | differs from setup 1 in |",
                  "|---|---|---|---|"]
        lines += [f"| {s.side} | {s.index} | {s.results} | {md_cell('; '.join(s.changes))} |"
                  for s in report.setups]
    if report.tests:
        lines += ["", "#### Speed", "", "| test | A | B | result |", "|---|---|---|---|"]
        lines += [
            f"| {md_cell(_test_name(t))} | {md_cell(format_spread(t.a))} | "
            f"{md_cell(format_spread(t.b))} | {md_cell(_result(t))} |"
            for t in report.tests
        ]
    if report.failed:
        lines += ["", "#### Failed runs (not compared)", "", "| side | run | status |",
                  "|---|---|---|"]
        lines += [f"| {f.side} | {md_cell(_failed_name(f))} | {md_cell(f.summary)} |"
                  for f in report.failed]
    pair = compared_pair(report)
    lines += ["", f"#### Differences ({pair})" if pair else "#### Differences", ""]
    lines += _md_table(report.differences) or ["No identity or configuration differences."]
    if report.state:
        lines += ["", "#### State at capture", "", "Possible explanations, never a reason to "
                  "refuse the comparison.", ""]
        lines += _md_table(report.state)
    if report.unknown:
        lines += ["", f"<details><summary>Unknown on one side ({len(report.unknown)})"
                  "</summary>", "", "| field | value |", "|---|---|"]
        lines += [f"| `{md_cell(d.path)}` | {md_cell(d.change)} |" for d in report.unknown]
        lines += ["", "</details>"]
    lines += ["", f"<sub>{title} · inputs: {verification_summary((report.a, report.b))}</sub>"]
    return "\n".join(lines) + "\n"


def _md_table(entries: list[Difference]) -> list[str]:
    if not entries:
        return []
    out = ["| impact | category | what | change | why |", "|---|---|---|---|---|"]
    tops = {d.path for d in entries if d.under is None}
    for d, _paths in merged(entries):
        if d.under in tops:
            continue
        out.append(_md_row(d, d.label))
        out += [_md_row(sub, f"↳ {sub.label}") for sub in entries if sub.under == d.path]
    return out


def _md_row(d: Difference, label: str) -> str:
    impact = f"**{d.impact}**" if d.impact == "high" else d.impact
    return (f"| {impact} | {md_cell(d.category)} | {md_cell(label)} | "
            f"{md_cell(d.change)} | {md_cell(why(d))} |")
