"""Views of a :class:`~envstamp.differ.DiffReport`: ranked, grouped text (optionally coloured)
and Markdown ready to paste into a GitHub issue.  JSON is ``serialize.to_json(report)``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from envstamp.diff_model import Difference, DiffReport, InputInfo, TestComparison
from envstamp.diff_results import format_spread, speed_phrase

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
        parts.append(info.identity_digest[:19])
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


def to_text(report: DiffReport, *, colour: bool = False, show_all: bool = False) -> str:
    paint = _Paint(colour)
    lines = ["envstamp diff"]
    for info in (report.a, report.b):
        if info is not None:
            lines.append(f"  {info.side}  {input_line(info)}")
    lines += ["", paint("bold", report.headline)]
    if report.tests:
        lines += ["", *_tests_text(report.tests)]
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
    return out


def _test_name(t: TestComparison) -> str:
    return t.name if t.metric in ("tokens_per_s", "avg_ts", "wall_s") else f"{t.name} [{t.metric}]"


def _result(t: TestComparison) -> str:
    if t.ratio is None:
        return t.summary.split(": ", 1)[-1]
    phrase = speed_phrase(t)
    return phrase.split(": ", 1)[-1] if phrase.startswith(f"{t.name}: ") else phrase


def _differences_text(report: DiffReport, paint: _Paint, show_all: bool) -> list[str]:
    if not report.differences:
        return ["No identity or configuration differences."]
    counts = ", ".join(
        f"{report.counts[i]} {i}" for i in ("high", "medium", "low", "none") if report.counts.get(i)
    )
    return [f"Differences ({counts}):", *_entries_text(report.differences, paint, show_all)]


def _entries_text(entries: list[Difference], paint: _Paint, show_all: bool) -> list[str]:
    out: list[str] = []
    width = max(len(d.category) for d in entries)
    current = None
    quiet = [d for d in entries if d.impact == "none"]
    for d, paths in merged(entries):
        if d.impact == "none" and not show_all and len(quiet) > BRIEF_LIMIT:
            continue
        if d.impact != current:
            current = d.impact
            out.append("  " + paint(d.impact, d.impact.upper()))
        out.append(f"    {d.category.ljust(width)}  {d.label}: {d.change}")
        out.append(paint("dim", f"    {' ' * width}    {why(d)}  [{', '.join(paths)}]"))
    if quiet and not show_all and len(quiet) > BRIEF_LIMIT:
        names = ", ".join(sorted({d.label for d in quiet}))
        out.append(paint("dim", f"  NONE  {len(quiet)} differences without speed impact: {names}"))
    return out


def _unknown_text(unknown: list[Difference], show_all: bool) -> list[str]:
    shown = unknown if show_all else unknown[:BRIEF_LIMIT]
    out = [f"Known on one side only ({len(unknown)}; a failed probe or an older envstamp):"]
    out += [f"  {d.path}: {d.change}" for d in shown]
    if len(unknown) > len(shown):
        out.append(f"  ... and {len(unknown) - len(shown)} more (--all lists them)")
    return out


# ------------------------------------------------------------------------------ markdown


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: DiffReport) -> str:
    lines = ["### envstamp diff", "", f"**{md_cell(report.headline)}**", ""]
    lines += ["| | input | kind | signature | captured | identity digest |"]
    lines += ["|---|---|---|---|---|---|"]
    for info in (report.a, report.b):
        if info is not None:
            lines.append(
                f"| {info.side} | `{md_cell(info.source)}` | {info.kind} | "
                f"{md_cell(info.signature)} | {info.captured_at or ''} | "
                f"{_code((info.identity_digest or '')[:19])} |"
            )
    if report.tests:
        lines += ["", "#### Speed", "", "| test | A | B | result |", "|---|---|---|---|"]
        lines += [
            f"| {md_cell(_test_name(t))} | {md_cell(format_spread(t.a))} | "
            f"{md_cell(format_spread(t.b))} | {md_cell(_result(t))} |"
            for t in report.tests
        ]
    lines += ["", "#### Differences", ""]
    lines += _md_table(report.differences) or ["No identity or configuration differences."]
    if report.state:
        lines += ["", "#### State at capture", "", "Possible explanations, never a reason to "
                  "refuse the comparison.", ""]
        lines += _md_table(report.state)
    if report.unknown:
        lines += ["", f"<details><summary>Known on one side only ({len(report.unknown)})"
                  "</summary>", "", "| field | value |", "|---|---|"]
        lines += [f"| `{md_cell(d.path)}` | {md_cell(d.change)} |" for d in report.unknown]
        lines += ["", "</details>"]
    lines += ["", f"<sub>envstamp diff · inputs: {verification_summary((report.a, report.b))}"
              "</sub>"]
    return "\n".join(lines) + "\n"


def _md_table(entries: list[Difference]) -> list[str]:
    if not entries:
        return []
    out = ["| impact | category | what | change | why |", "|---|---|---|---|---|"]
    for d, _paths in merged(entries):
        impact = f"**{d.impact}**" if d.impact == "high" else d.impact
        out.append(
            f"| {impact} | {md_cell(d.category)} | {md_cell(d.label)} | "
            f"{md_cell(d.change)} | {md_cell(why(d))} |"
        )
    return out
