"""Views of a compare report (:class:`~envstamp.diffing.compare.CompareReport`): a text table
of the fields that vary across inputs, or Markdown to paste.  JSON is
``diff_render.to_json(report)``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envstamp.diffing.compare import CompareReport, CompareRow, CompareTest

# Up to this many inputs the table has one column per input; beyond it, each varying field
# lists its distinct values and how many inputs hold each.
WIDE_LIMIT = 8


def shown_rows(rows: list[CompareRow]) -> list[CompareRow]:
    """Rows as a reader needs them: the driver version found in ``gpus`` and in
    ``runtimes`` with the same values is one row (JSON keeps both)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for row in rows:
        key = (row.label, repr(row.values))
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _names(report: CompareReport) -> list[str]:
    names = [Path(i.source).name or i.source for i in report.inputs]
    if len(set(names)) < len(names):
        names = [i.source for i in report.inputs]
    if len(set(names)) < len(names):  # the setups of one log: named by their column
        names = [f"{name} ({i.side})" for name, i in zip(names, report.inputs, strict=True)]
    return names


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *body]]


def _row_values(row: CompareRow) -> list[str]:
    from envstamp.diffing.compare import cell

    return [cell(row, v, i) for i, v in enumerate(row.values)]


def _distinct(row: CompareRow) -> str:
    counts: dict[str, int] = {}
    for text in _row_values(row):
        counts[text] = counts.get(text, 0) + 1
    return "; ".join(f"{text} ({n})" for text, n in counts.items())


def to_text(report: CompareReport, rows: list[CompareRow]) -> str:
    from envstamp.diffing.compare import spread_cell

    names = _names(report)
    lines = [f"envstamp compare: {len(names)} inputs", report.summary, ""]
    for info in report.inputs:
        lines.append(f"  {info.side}  {info.source}: {info.note}")
    lines.append("")
    if not rows:
        lines.append("No field varies.")
    elif len(names) <= WIDE_LIMIT:
        header = ["impact", "field", *[i.side for i in report.inputs]]
        body = [[r.impact, r.label, *_row_values(r)] for r in rows]
        lines += _table(header, body)
    else:
        lines += _table(["impact", "field", "values (count)"],
                        [[r.impact, r.label, _distinct(r)] for r in rows])
    if report.tests:
        lines += ["", "Speed (mean ± stddev, n):"]
        lines += _table(["test", *[i.side for i in report.inputs]],
                        [[_test_name(t), *[spread_cell(v) for v in t.values]]
                         for t in report.tests])
        if any(t.context for t in report.tests):
            lines.append("  (context: the wrapper's whole-process wall time, model load "
                         "included; the benchmark's own results are the speed)")
    if report.failed:
        lines += ["", "Failed runs (their times are not speeds; never compared):"]
        lines += [f"  {f.side}  {f.name}: {f.summary}" for f in report.failed]
    return "\n".join(lines) + "\n"


def _test_name(test: CompareTest) -> str:
    name = f"{test.name} [unsigned]" if test.unsigned else test.name
    return f"{name} (context)" if test.context else name


def to_markdown(report: CompareReport, rows: list[CompareRow]) -> str:
    from envstamp.diffing.compare import spread_cell
    from envstamp.output.diff_render import md_cell

    names = _names(report)
    lines = ["### envstamp compare", "", f"**{md_cell(report.summary)}**", ""]
    wide = len(names) <= WIDE_LIMIT
    if rows and wide:
        lines += ["| impact | field | " + " | ".join(f"`{md_cell(n)}`" for n in names) + " |"]
        lines += ["|---|---|" + "---|" * len(names)]
        lines += [f"| {r.impact} | {md_cell(r.label)} | "
                  + " | ".join(md_cell(v) for v in _row_values(r)) + " |" for r in rows]
    elif rows:
        lines += ["| impact | field | values (count) |", "|---|---|---|"]
        lines += [f"| {r.impact} | {md_cell(r.label)} | {md_cell(_distinct(r))} |" for r in rows]
    else:
        lines.append("No field varies.")
    if report.tests and wide:
        lines += ["", "| test | " + " | ".join(f"`{md_cell(n)}`" for n in names) + " |"]
        lines += ["|---|" + "---|" * len(names)]
        lines += [f"| {md_cell(_test_name(t))} | "
                  + " | ".join(md_cell(spread_cell(v)) for v in t.values)
                  + " |" for t in report.tests]
    if report.failed:
        lines += ["", "| failed run | input | status |", "|---|---|---|"]
        lines += [f"| {md_cell(f.name)} | {f.side} | {md_cell(f.summary)} |"
                  for f in report.failed]
    return "\n".join(lines) + "\n"
