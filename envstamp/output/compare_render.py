"""Views of a compare report (:class:`~envstamp.diffing.compare.CompareReport`): a text table
of the fields that vary across inputs, or Markdown to paste.  JSON is
``diff_render.to_json(report)`` (every row, whatever the view shows).

Which rows a view shows (:func:`select_rows`): by default the fields that vary and may change
speed.  Fields that vary without speed impact (a host name, a GPU's UUID: every machine has
its own) are named in one line under the text table; readings of the moment and fields known
in some inputs only are left out.  ``--all`` shows every varying row; ``--state`` and
``--unknown`` add their kind.  Markdown, made to be pasted where width does not matter,
keeps the rows without speed impact, as diff's Markdown does.

The text fits :data:`~envstamp.output.formatting.TEXT_WIDTH` (100) columns: one column per
input while the table fits, else one block per field with a line per input; long values
wrap.  Beyond :data:`WIDE_LIMIT` inputs each field lists its distinct values and how many
inputs hold each."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from envstamp.output.formatting import (
    TEXT_WIDTH,
    fits,
    md_cell,
    plural,
    table,
    wrap,
    wrapped_table,
)

if TYPE_CHECKING:
    from envstamp.diffing.compare import CompareReport, CompareRow, CompareTest

# Up to this many inputs the table has one column per input; beyond it, each varying field
# lists its distinct values and how many inputs hold each.
WIDE_LIMIT = 8


@attrs.frozen
class RowChoice:
    """Which varying rows a view shows (the CLI's --all, --state, --unknown)."""

    show_all: bool = False
    state: bool = False
    unknown: bool = False

    def keeps(self, row: CompareRow, *, quiet: bool) -> bool:
        """``quiet``: whether rows without speed impact are left to one line (text)."""
        if self.show_all:
            return True
        if (row.state and not self.state) or (row.unknown and not self.unknown):
            return False
        return not (quiet and row.impact == "none")


def select_rows(report: CompareReport, choice: RowChoice, *, quiet: bool) -> list[CompareRow]:
    """The rows shown, one per thing (see :func:`shown_rows`)."""
    return shown_rows([r for r in report.rows if choice.keeps(r, quiet=quiet)])


def shown_rows(rows: list[CompareRow]) -> list[CompareRow]:
    """Rows as a reader needs them: the driver version found in ``gpus`` and in
    ``runtimes`` with the same values is one row (JSON keeps both); rows that would share
    a label while naming different fields (the distribution's name and its version, both
    "operating system") are told apart by their field's name."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for row in rows:
        key = (row.label, repr(row.values))
        if key not in seen:
            seen.add(key)
            kept.append(row)
    paths: dict[str, set[str]] = {}
    for row in kept:
        paths.setdefault(row.label, set()).add(row.path)
    return [attrs.evolve(r, label=_told_apart(r)) if len(paths[r.label]) > 1 else r
            for r in kept]


def _told_apart(row: CompareRow) -> str:
    """ "operating system (os.distro_version)": the label and the field it names."""
    return f"{row.label} ({row.path})"


def quiet_line(report: CompareReport, choice: RowChoice) -> str | None:
    """ "4 fields vary without speed impact: GPU UUID, host name, ... (--all shows them)"."""
    if choice.show_all:
        return None
    hidden = shown_rows([r for r in report.rows if r.impact == "none"
                         and choice.keeps(r, quiet=False)])
    if not hidden:
        return None
    names = ", ".join(dict.fromkeys(r.label for r in hidden))
    return (f"{plural(len(hidden), 'field')} {'varies' if len(hidden) == 1 else 'vary'} "
            f"without speed impact: {names} (--all shows them)")


def _names(report: CompareReport) -> list[str]:
    names = [Path(i.source).name or i.source for i in report.inputs]
    if len(set(names)) < len(names):
        names = [i.source for i in report.inputs]
    if len(set(names)) < len(names):  # the setups of one log: named by their column
        names = [f"{name} ({i.side})" for name, i in zip(names, report.inputs, strict=True)]
    return names


def _row_values(row: CompareRow, *, full: bool = False) -> list[str]:
    from envstamp.diffing.compare import cell

    return [cell(row, v, i, full=full) for i, v in enumerate(row.values)]


def _distinct(row: CompareRow, *, full: bool = False) -> str:
    counts: dict[str, int] = {}
    for text in _row_values(row, full=full):
        counts[text] = counts.get(text, 0) + 1
    return "; ".join(f"{text} ({n})" for text, n in counts.items())


# ---------------------------------------------------------------------------------- text


def to_text(report: CompareReport, choice: RowChoice | None = None) -> str:
    """The report in at most 100 columns (a path or a word longer than that aside)."""
    from envstamp.diffing.compare import spread_cell

    choice = choice or RowChoice()
    rows = select_rows(report, choice, quiet=True)
    sides = [i.side for i in report.inputs]
    lines = [f"envstamp compare: {plural(len(sides), 'input')}",
             *wrap(report.summary, TEXT_WIDTH, ""), ""]
    for info in report.inputs:
        lines += _input_lines(info.side, info.source, info.note)
    lines.append("")
    if not rows:
        lines.append("No field that may change speed varies (--all shows every varying field)."
                     if report.rows else "No field varies.")
    for n, (heading, part) in enumerate(_sections(rows)):
        if n:
            lines += ["", heading]
        lines += _rows_text(part, sides, full=choice.show_all)
    quiet = quiet_line(report, choice)
    if quiet:
        lines += ["", *wrap(quiet, TEXT_WIDTH, "  ")]
    if report.tests:
        lines += ["", "Speed (mean ± stddev, n):"]
        body = [[_test_name(t), *[spread_cell(v) for v in t.values]] for t in report.tests]
        lines += _fitted(["test", *sides], body, sides, keys=1)
        if any(t.context for t in report.tests):
            lines += wrap("(context: the wrapper's whole-process wall time, model load "
                          "included; the benchmark's own results are the speed)",
                          TEXT_WIDTH, "  ")
    if report.failed:
        lines += ["", "Failed runs (their times are not speeds; never compared):"]
        for f in report.failed:
            lines += wrap(f"{f.side}  {f.name}: {f.summary}", TEXT_WIDTH, "  ")
    return "\n".join(lines) + "\n"


def _rows_markdown(rows: list[CompareRow], names: list[str], *, full: bool) -> list[str]:
    if len(names) > WIDE_LIMIT:
        return ["| impact | field | values (count) |", "|---|---|---|",
                *(f"| {r.impact} | {md_cell(r.label)} | {md_cell(_distinct(r, full=full))} |"
                  for r in rows)]
    return ["| impact | field | " + " | ".join(f"`{md_cell(n)}`" for n in names) + " |",
            "|---|---|" + "---|" * len(names),
            *(f"| {r.impact} | {md_cell(r.label)} | "
              + " | ".join(md_cell(v) for v in _row_values(r, full=full)) + " |"
              for r in rows)]


def _sections(rows: list[CompareRow]) -> list[tuple[str, list[CompareRow]]]:
    """The identity rows, then (when shown) readings of the moment and one-sided fields,
    each under its heading; empty parts left out, the identity rows' heading unused."""
    parts = [
        ("", [r for r in rows if not r.state and not r.unknown]),
        ("State at capture (readings of the moment):", [r for r in rows if r.state]),
        ("Known in some inputs only:", [r for r in rows if r.unknown and not r.state]),
    ]
    return [(heading, part) for heading, part in parts if part]


def _rows_text(rows: list[CompareRow], sides: list[str], *, full: bool) -> list[str]:
    if len(sides) <= WIDE_LIMIT:
        body = [[r.impact, r.label, *_row_values(r, full=full)] for r in rows]
        return _fitted(["impact", "field", *sides], body, sides)
    return _fitted(["impact", "field", "values (count)"],
                   [[r.impact, r.label, _distinct(r, full=full)] for r in rows],
                   ["values (count)"])


def _input_lines(side: str, source: str, note: str) -> list[str]:
    """ "  1  week1.json: plain manifest (unsigned)", the note on a line of its own when the
    path is long."""
    line = f"  {side}  {source}: {note}"
    if len(line) <= TEXT_WIDTH:
        return [line]
    return [f"  {side}  {source}:", *wrap(note, TEXT_WIDTH, " " * (len(side) + 4))]


def _fitted(header: list[str], body: list[list[str]], columns: list[str],
            *, keys: int = 2) -> list[str]:
    """A table with one column per input in 100 columns: as it is when it fits, else with
    its value cells wrapped; when even that would leave columns too narrow, one block per
    row - its ``keys`` leading cells on a line, then each column's value on a line of its
    own."""
    laid = table(header, body)
    if fits(laid):
        return laid
    wrapped = wrapped_table(header, body, fixed=keys)
    if wrapped is not None:
        return wrapped
    lead_widths = [max(len(row[i]) for row in body) for i in range(keys - 1)]
    width = max(len(c) for c in columns)
    out: list[str] = []
    for row in body:
        leads = [cell.ljust(w) for cell, w in zip(row, lead_widths, strict=False)]
        out.append("  " + "  ".join([*leads, row[keys - 1]]))
        for name, value in zip(columns, row[keys:], strict=True):
            lead = f"      {name.ljust(width)}  "
            first, *rest = wrap(value, TEXT_WIDTH, lead)
            out += [first, *(" " * len(lead) + line[len(lead):] for line in rest)]
    return out


def _test_name(test: CompareTest) -> str:
    name = f"{test.name} [unsigned]" if test.unsigned else test.name
    return f"{name} (context)" if test.context else name


# ------------------------------------------------------------------------------ markdown


def to_markdown(report: CompareReport, choice: RowChoice | None = None) -> str:
    """Markdown to paste: every varying row of the choice, rows without speed impact
    included (a rendered table scrolls; nothing needs to fit 100 columns)."""
    from envstamp.diffing.compare import spread_cell

    choice = choice or RowChoice()
    rows = select_rows(report, choice, quiet=False)
    names = _names(report)
    lines = ["### envstamp compare", "", f"**{md_cell(report.summary)}**", ""]
    wide = len(names) <= WIDE_LIMIT
    if not rows:
        lines.append("No field varies.")
    for n, (heading, part) in enumerate(_sections(rows)):
        if n:
            lines += ["", f"#### {heading.rstrip(':')}", ""]
        lines += _rows_markdown(part, names, full=choice.show_all)
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
