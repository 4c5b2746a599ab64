"""``compare``: what varies across N manifests or results files, as one table.

Every input is diffed against the first (the reference) with the same walk and rules as
``diff``; a row is any path that differs in at least one input, holding each input's value.
When exactly one identity component varies (a driver update moves the driver and the CUDA
version it supports together: one component), the report says so in one line.

A results log that holds runs under several setups becomes one column per setup ("2.1",
"2.2"), so the setting that changed between them shows as a varying row and their results
are never pooled.  Failed runs are listed apart, never as speeds; the wrapper's
whole-process time of ``envstamp run`` is context, after the benchmark's own results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from envstamp.diffing.differ import Input, as_document, input_info
from envstamp.diffing.manifests import diff_manifests, rank_key
from envstamp.diffing.model import Difference, FailedRun, InputInfo, Spread, doc_field
from envstamp.diffing.results import (
    ResultView,
    format_spread,
    params_compatible,
    params_same,
    pool,
    read_side,
    same_test,
)
from envstamp.diffing.rules import Impact
from envstamp.diffing.walk import item_label, show_value
from envstamp.manifest.document import Document

COMPARE_SCHEMA_ID = "envstamp.compare/1"


_doc = doc_field


@attrs.define(kw_only=True)
class CompareRow:
    """One path that varies, with every input's value."""

    path: str = _doc("Where (list positions are the first input's).")
    pattern: str = _doc("The generic path the rule matched.")
    label: str = _doc("What varies, in words.")
    component: str = _doc("Group of paths that change together.")
    category: str = _doc("Category from the rules table.")
    impact: Impact = _doc("Expected impact on inference speed.")
    state: bool = _doc("A reading of the moment.", False)
    unknown: bool = _doc("Varies only between known and unknown.", False)
    values: list[Any] = attrs.field(factory=list, metadata={"doc": "Value per input."})
    absent: list[int] = attrs.field(
        factory=list,
        metadata={"doc": "Positions (0-based) of the inputs that do not have the item this "
                         "path belongs to (a llama.cpp build, a GPU, a model): their value "
                         "is null, shown as \"absent\"."},
    )


@attrs.define(kw_only=True)
class CompareTest:
    """One test's speed across the inputs that ran it."""

    name: str = _doc("Test name.")
    metric: str = _doc("Metric compared.")
    params: dict[str, Any] = attrs.field(factory=dict, metadata={"doc": "Parameters."})
    context: bool = _doc(
        "The wrapper's whole-process wall time (envstamp run) of a command that also printed "
        "its own results: context, not the speed.",
        False,
    )
    unsigned: bool = _doc(
        "Results that no signed head vouches for (their log was checked): a row apart, "
        "never pooled with signed results.",
        False,
    )
    values: list[Spread | None] = attrs.field(
        factory=list,
        metadata={"doc": "Summary per input (null: not run there, or only failed there)."},
    )


@attrs.define(kw_only=True)
class CompareReport:
    """What varies across several inputs."""

    schema: str = _doc('"envstamp.compare/1".', COMPARE_SCHEMA_ID)
    inputs: list[InputInfo] = attrs.field(factory=list, metadata={"doc": "The inputs."})
    summary: str = _doc("One line.", "")
    only_difference: str | None = _doc(
        "The one identity component that varies, when exactly one does.", None
    )
    rows: list[CompareRow] = attrs.field(factory=list, metadata={"doc": "Varying paths."})
    tests: list[CompareTest] = attrs.field(factory=list, metadata={"doc": "Speed per test."})
    failed: list[FailedRun] = attrs.field(
        factory=list,
        metadata={"doc": "Results whose command failed (side: the input's column): never "
                         "compared as speeds."},
    )
    setups: list[str] = attrs.field(
        factory=list,
        metadata={"doc": 'Inputs that hold several setups, in words ("2 holds 2 setups: '
                         '2.1, 2.2").'},
    )


def compare(inputs: Sequence[Input], *, verify: bool = True) -> CompareReport:
    """Tabulate what varies across two or more manifests, envelopes or results files."""
    given = [as_document(item, verify=verify) for item in inputs]
    if len(given) < 2:
        raise ValueError("compare needs at least two inputs")
    docs, sides, notes = _columns(given)
    rows = _rows(docs)
    tests, failed = _tests(docs, sides)
    report = CompareReport(
        inputs=[input_info(doc, side) for doc, side in zip(docs, sides, strict=True)],
        rows=rows,
        tests=tests,
        failed=failed,
        setups=notes,
    )
    report.only_difference = only_difference(rows)
    report.summary = _summary(report, len(given))
    return report


def _columns(docs: list[Document]) -> tuple[list[Document], list[str], list[str]]:
    """One column per input, or per setup of an input that holds several ("2.1", "2.2")."""
    from envstamp.diffing.setups import group_setups

    columns: list[Document] = []
    sides: list[str] = []
    notes: list[str] = []
    for i, doc in enumerate(docs, start=1):
        groups = group_setups(doc.results, doc.manifest)
        if len(groups) < 2:
            columns.append(doc)
            sides.append(str(i))
            continue
        names = [f"{i}.{g.index}" for g in groups]
        notes.append(f"{i} holds {len(groups)} setups: {', '.join(names)}")
        for name, group in zip(names, groups, strict=True):
            columns.append(attrs.evolve(doc, manifest=group.manifest, results=group.results))
            sides.append(name)
    return columns, sides, notes


def _rows(docs: list[Document]) -> list[CompareRow]:
    """Every path that differs from the reference in some input, with each input's value:
    the value its own walk found, else (no difference there) the reference's - unless the
    input lacks the item the path belongs to, or holds another item at that place."""
    reference = docs[0].manifest
    rows: dict[str, CompareRow] = {}
    found_at: dict[str, dict[int, Any]] = {}
    walks = [diff_manifests(reference, doc.manifest, stable=True) for doc in docs[1:]]
    for i, walk in enumerate(walks, start=1):
        for unknown, entries in ((False, walk.found), (True, walk.unknown)):
            for d in entries:
                row = rows.get(d.path)
                if row is None:
                    row = rows[d.path] = _row(d, unknown, len(docs))
                    found_at[d.path] = {}
                elif not unknown:
                    row.unknown = False
                found_at[d.path][i] = d.b
                row.values[0] = d.a
                for position, value in ((0, d.a), (i, d.b)):
                    if value is None and _is_item_presence(d) and position not in row.absent:
                        row.absent.append(position)
    for i, walk in enumerate(walks, start=1):
        for d in walk.folded:  # said within another finding, but still this input's value
            if d.path in rows:
                found_at[d.path][i] = d.b
    for path, row in rows.items():
        seen, ref = found_at[path], row.values[0]
        row.values = [ref]
        for i, walk in enumerate(walks, start=1):
            if i in seen:
                row.values.append(seen[i])
                continue
            value, absent = value_without_difference(walk, path, ref)
            row.values.append(value)
            if absent:
                row.absent.append(i)
    for row in rows.values():
        row.absent.sort()
    return sorted(rows.values(), key=lambda r: (r.state, r.unknown, *rank_key(_as_diff(r))))


def _is_item_presence(d: Difference) -> bool:
    """A list item (a build, a GPU, a model) present on one side only: the other lacks it."""
    from envstamp.diffing import rules

    return d.pattern.endswith("[]") and rules.rule_for(d.pattern).presence


def value_without_difference(walk: Any, path: str, ref: Any) -> tuple[Any, bool]:
    """An input's value at ``path`` where its walk against the reference found no difference:
    (None, True) when it lacks an item the path lies in (its list was walked and has no item
    at that place); its own item's label for a path naming an item; else the reference's."""
    for item in item_paths(path):
        if item[: item.rindex("[")] in walk.lists_seen and item not in walk.paired:
            return None, True
    if path in walk.paired:
        return item_label(walk.paired[path]), False
    return ref, False


def item_paths(path: str) -> list[str]:
    """The list items a display path lies in, outermost first: "llamacpp[0].devices[1].name"
    -> ["llamacpp[0]", "llamacpp[0].devices[1]"]."""
    found = []
    for end, char in enumerate(path):
        if char == "]" and (end + 1 == len(path) or path[end + 1] in ".["):
            found.append(path[: end + 1])
    return found


def _row(d: Difference, unknown: bool, n: int) -> CompareRow:
    return CompareRow(
        path=d.path,
        pattern=d.pattern,
        label=d.label,
        component=d.component,
        category=d.category,
        impact=d.impact,
        state=d.state,
        unknown=unknown,
        values=[None] * n,
    )


def _as_diff(row: CompareRow) -> Difference:
    return Difference(
        path=row.path, pattern=row.pattern, category=row.category, impact=row.impact,
        label=row.label, component=row.component, a=None, b=None, change="", reason="",
    )


def only_difference(rows: list[CompareRow]) -> str | None:
    """ "the GPU driver: 550.54 -> 560.35" when exactly one identity component varies."""
    identity = [r for r in rows if not r.state and not r.unknown and r.impact != "none"]
    components = {r.component for r in identity}
    if len(components) != 1:
        return None
    first = identity[0]
    values: list[str] = []
    for position, value in enumerate(first.values):
        # an input without the item says so as show does ("GPU  none found"), not "unknown"
        shown = NONE_FOUND if position in first.absent else show_value(value, path=first.pattern)
        if not values or values[-1] != shown:
            values.append(shown)
    # one row alone is named by its own label: a build found at another path is "the
    # llama.cpp path", not "the llama.cpp build" (its component), which reads as a new build
    name = first.label if len({r.label for r in identity}) == 1 else first.component
    return f"{name}: {' -> '.join(values)}"


def _summary(report: CompareReport, n: int) -> str:
    text = _identity_summary(report, n)
    if report.setups:
        text += "; " + "; ".join(report.setups) + " (one column each)"
    if report.failed:
        noun = "run" if len(report.failed) == 1 else "runs"
        text += f"; {len(report.failed)} failed {noun} not compared"
    return text


def _identity_summary(report: CompareReport, n: int) -> str:
    if report.only_difference:
        return f"the only difference between these runs is the {report.only_difference}"
    identity = [r for r in report.rows if not r.state and not r.unknown and r.impact != "none"]
    if not identity:
        return f"no identity difference across these {n} runs"
    components = sorted({r.component for r in identity})
    shown = ", ".join(components[:6]) + (" ..." if len(components) > 6 else "")
    return f"{len(components)} components vary across these {n} runs: {shown}"


def _tests(docs: list[Document], sides: list[str]) -> tuple[list[CompareTest], list[FailedRun]]:
    """Speed per test across the columns: records of one test matched as ``diff`` matches
    them (parameters within their precision; one a format leaves out does not split a
    test), failed runs apart."""
    rows: list[tuple[ResultView, list[list[ResultView]]]] = []
    failed: list[FailedRun] = []
    for i, (doc, side) in enumerate(zip(docs, sides, strict=True)):
        found = read_side(doc.results, side)
        failed += found.failed
        for view in found.views:
            home = _row_for(rows, view)
            if home is None:
                home = (view, [[] for _ in docs])
                rows.append(home)
            home[1][i].append(view)
    tests = [
        CompareTest(name=first.name, metric=first.metric, params=first.params,
                    context=first.context, unsigned=first.unsigned,
                    values=[pool(views) if views else None for views in columns])
        for first, columns in rows
    ]
    tests = [t for t in tests if sum(v is not None for v in t.values) > 1]
    return sorted(tests, key=lambda t: t.context), failed


def _row_for(
    rows: list[tuple[ResultView, list[list[ResultView]]]], view: ResultView
) -> tuple[ResultView, list[list[ResultView]]] | None:
    for fits in (params_same, params_compatible):
        for row in rows:
            if same_test(row[0], view) and fits(row[0], view):
                return row
    return None


def compare_schema() -> dict[str, Any]:
    """JSON Schema of ``envstamp compare --json``."""
    from envstamp.manifest.schema import schema_for

    return schema_for(
        CompareReport,
        schema_id="compare.v1.schema.json",
        title="envstamp compare report",
        patterns={"schema": "^envstamp[.]compare/1$"},
    )


# A list in a table cell shows this many items, then how many more (the JSON has them all).
CELL_ITEMS = 4

# A cell whose input lacks the item the row belongs to (a GPU, a llama.cpp build, a model):
# worded as ``show`` words a machine without GPUs ("GPU  none found").
NONE_FOUND = "none found"


def cell(row: CompareRow, value: Any, position: int | None = None, *, full: bool = False) -> str:
    """A table cell for one input's value (``position``: the input's, to say it has no such
    item; ``full``: every item of a list or mapping, not the first few)."""
    if position is not None and position in row.absent:
        return NONE_FOUND
    limit = None if full else CELL_ITEMS
    if isinstance(value, dict):  # build options, settings: "K=V, ... (+110 more)"
        items = list(value.items())
        shown = ", ".join(f"{k}={show_value(v)}" for k, v in items[:limit])
        extra = len(items) - len(items[:limit])
        return shown + (f" (+{extra} more)" if extra > 0 else "")
    if isinstance(value, list) and limit is not None and len(value) > limit:
        shown = ", ".join(show_value(v) for v in value[:limit])
        return f"{shown} (+{len(value) - limit} more)"
    if isinstance(value, list) and value and full:
        return ", ".join(str(v) for v in value)
    return show_value(value, path=row.pattern)


def spread_cell(value: Spread | None) -> str:
    return format_spread(value) if value is not None else "-"

