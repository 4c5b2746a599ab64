"""The content of ``envstamp report``: what a person needs to read many stamped results.

:func:`build_report` loads results logs through the loader of record (verified as they load),
groups every result by the setup it ran under across all inputs (``diffing.setups``: two logs
of one machine and configuration are one setup), and computes, per test, the speed of each
setup (``diffing.results``: the same views, pools and spreads ``diff`` uses), the peak memory
where it was recorded, and each setup compared with the first by ``diffing.diff`` (its
headline, speed ratios and ranked likely causes).  The HTML is :mod:`.html`'s business."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

import attrs

from envstamp.diffing.model import DiffReport, FailedRun, Spread
from envstamp.exporting.table import Row, build_that_ran, setup_columns, signature_state
from envstamp.manifest.document import Document

UNTRUSTED = "intact, but signed by no key you trust"  # a colleague's log, its key not added
# Parameters that say how often a test ran, never which test it is (as diff reads them).
_HOW_OFTEN = frozenset({"n_reps", "repetitions", "repeat", "warmup", "task_id"})


@attrs.define
class InputState:
    """One input and how far its signatures vouch for it."""

    source: str  # the file name as given
    verification: str  # verified | unsigned | not verified | failed (diff's words)
    signature: str  # the loader's text ("verified: 3 of 3 results signed by ...")
    signers: list[str]
    results: int
    per_result: dict[str, int]  # "verified" / "unsigned" / "not checked" -> results
    charted: bool  # False when its signatures do not hold: its numbers are not shown


@attrs.define
class SetupInfo:
    """One setup: a manifest's machine and configuration, and the results run under it."""

    index: int  # 1-based, in the order the inputs first used it
    build: str  # "b5308 (commit 8733e0cf)", "unknown"
    columns: Row  # exporting.table's setup columns
    results: int
    sources: list[str]

    @property
    def label(self) -> str:
        return f"S{self.index}"

    @property
    def hardware(self) -> str:
        return str(self.columns.get("gpu_names") or self.columns.get("cpu_model") or "unknown")


@attrs.define
class Bar:
    """One test's speed under one setup (one variant of its parameters)."""

    setup: int
    variant: str  # "" or what tells it from the setup's other runs of the test
    spread: Spread


@attrs.define
class SpeedChart:
    """One test, every setup that ran it."""

    name: str
    metric: str
    unit: str | None
    higher_is_better: bool
    context: bool  # the wrapper's whole-process time (envstamp run): context, not the speed
    bars: list[Bar] = attrs.field(factory=list)


@attrs.define
class MemoryRow:
    """Peak memory of one test under one setup, where it was recorded."""

    test: str
    setup: int
    rss_peak_bytes: int | None
    gpu_peak_mib: int | None
    source: str | None


@attrs.define
class SetupComparison:
    """A setup against the first, as ``envstamp diff`` compares them (A = base, B = other)."""

    base: int
    other: int
    diff: DiffReport


@attrs.define
class Report:
    inputs: list[InputState] = attrs.field(factory=list)
    setups: list[SetupInfo] = attrs.field(factory=list)
    tests: list[SpeedChart] = attrs.field(factory=list)
    memory: list[MemoryRow] = attrs.field(factory=list)
    comparisons: list[SetupComparison] = attrs.field(factory=list)
    failed: list[FailedRun] = attrs.field(factory=list)  # side: the setup's label


# ----------------------------------------------------------------------------- building


def build_report(paths: Sequence[str]) -> Report:
    """The report of results logs (paths), each verified as it loads."""
    from envstamp.documents import load_document
    from envstamp.errors import InputError

    docs = []
    for path in paths:
        doc = load_document(path)
        if doc.kind != "results":
            raise InputError(f"{path}: a {doc.kind}, not a results log (envstamp run -o LOG)")
        docs.append(_untrusted_but_intact(doc, path))
    return report_of(docs)


def _untrusted_but_intact(doc: Document, path: str) -> Document:
    """A log signed by a key you do not trust (a colleague's) reads "invalid" to the loader
    when you have keys of your own.  Its chain and lines may still hold: checked without any
    key, it is then what it would be to someone without keys - not verified, its results
    not checked - and charted.  A log that fails even so (edited, truncated, heads removed),
    or that a trusted key did sign in part (a result forged after its writer's final head),
    stays failed."""
    from envstamp.manifest.document import Status, Verification
    from envstamp.stamping.results import verify_log

    if doc.verification.status is not Status.INVALID:
        return doc
    if verify_log(path, allow_open=True, name=path).covered:
        return doc  # a trusted key signed part of it: what fails is the log, not the key
    if verify_log(path, trusted=[], allow_open=True, name=path).problems:
        return doc
    for result in doc.results:
        result.signed_by = None
    doc.verification = Verification(Status.NOT_CHECKED, message=UNTRUSTED)
    return doc


def report_of(docs: Sequence[Document]) -> Report:
    """The report of loaded results documents."""
    from envstamp.diffing.results import read_side
    from envstamp.diffing.setups import group_setups

    report = Report(inputs=[input_state(doc) for doc in docs])
    records: list[Any] = []
    source_of: dict[int, str] = {}
    for doc, state in zip(docs, report.inputs, strict=True):
        if state.charted:
            records.extend(doc.results)
            source_of.update((id(r), state.source) for r in doc.results)
    groups = group_setups(records)
    for group in groups:
        report.setups.append(setup_info(group.index, group.results, source_of))
    # each setup's results read once (views, failures), for the charts and the diffs alike
    sides = [read_side(g.results, f"S{g.index}") for g in groups]
    report.tests = charts_of(groups, sides)
    report.memory = memory_of(groups)
    report.failed = [f for side in sides for f in side.failed]
    report.comparisons = [
        compare_with_first(groups[0], sides[0], g, side)
        for g, side in zip(groups[1:], sides[1:], strict=True)
    ]
    return report


def input_state(doc: Document) -> InputState:
    from envstamp.diffing.differ import verification_of

    verification = verification_of(doc)
    counts: dict[str, int] = {}
    for result in doc.results if verification != "failed" else ():
        # (a log whose chain or signatures do not hold vouches for none of its results)
        state = signature_state(result)[0]
        counts[state] = counts.get(state, 0) + 1
    return InputState(
        source=PurePath(doc.source).name or doc.source,
        verification=verification,
        signature=doc.signature,
        signers=list(doc.verification.signers),
        results=len(doc.results),
        per_result=dict(sorted(counts.items())),
        charted=verification != "failed",
    )


def setup_info(index: int, results: Sequence[Any], source_of: dict[int, str]) -> SetupInfo:
    from envstamp.diffing.builds import build_summary, describe_build

    first = results[0]
    manifest = first.manifest
    build = build_that_ran(manifest, first) if manifest is not None else None
    return SetupInfo(
        index=index,
        build=describe_build(build_summary(build)) if build is not None else "unknown",
        columns=setup_columns(manifest, first),
        results=len(results),
        sources=list(dict.fromkeys(source_of.get(id(r), "?") for r in results)),
    )


def charts_of(groups: Sequence[Any], sides: Sequence[Any]) -> list[SpeedChart]:
    """Per test (name, metric, context), one bar per setup and variant of its parameters:
    records of one test and setup pool into one spread, as ``diff`` pools them.  ``sides``:
    each group's records read by ``diffing.results.read_side``."""
    from envstamp.diffing.results import group_views, pool

    charts: dict[tuple[str, str, bool], SpeedChart] = {}
    variants: dict[tuple[str, str, bool], list[tuple[int, bool, list[Any]]]] = {}
    for group, side in zip(groups, sides, strict=True):
        for views in group_views(side.views):
            view = views[0]
            key = (view.name, view.metric, view.context)
            if key not in charts:
                unit = view.spread.unit if view.spread is not None else None
                charts[key] = SpeedChart(view.name, view.metric, unit, view.higher_is_better,
                                        view.context)  # fmt: skip
                variants[key] = []
            variants[key].append((group.index, view.unsigned, views))
    ordered = sorted(charts, key=lambda k: k[2])  # the benchmark's own tests first
    for key in ordered:
        chart = charts[key]
        groups_of_key = variants[key]
        for setup, unsigned, views in groups_of_key:
            spread = pool(views)
            if spread is None:
                continue
            label = _variant_label(views[0].params, setup, groups_of_key)
            if unsigned:
                label = f"{label} [unsigned]".strip()
            chart.bars.append(Bar(setup=setup, variant=label, spread=spread))
    return [charts[k] for k in ordered if charts[k].bars]


def _variant_label(
    params: dict[str, Any], setup: int, variants: Sequence[tuple[int, bool, list[Any]]]
) -> str:
    """The parameters that tell this run of a test from the setup's other runs of it."""
    others = [views[0].params for index, _, views in variants if index == setup]
    if len(others) < 2:
        return ""
    keys = sorted({k for p in others for k in p} - _HOW_OFTEN)
    varying = [k for k in keys if len({_canonical(p.get(k)) for p in others}) > 1]
    return " ".join(f"{k}={_canonical(params.get(k))}" for k in varying)


def _canonical(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def memory_of(groups: Sequence[Any]) -> list[MemoryRow]:
    """The highest peaks per test and setup, where a result recorded its memory."""
    rows: dict[tuple[str, int], MemoryRow] = {}
    for group in groups:
        for record in group.results:
            memory = getattr(record, "memory", None)
            if memory is None:
                continue
            rss = memory.child_rss_peak_bytes or memory.rss_peak_bytes
            gpu = memory.gpu_process_peak_mib
            if rss is None and gpu is None:
                continue
            key = (record.name, group.index)
            row = rows.setdefault(key, MemoryRow(record.name, group.index, None, None,
                                                 memory.source))  # fmt: skip
            row.rss_peak_bytes = _highest(row.rss_peak_bytes, rss)
            row.gpu_peak_mib = _highest(row.gpu_peak_mib, gpu)
    return list(rows.values())


def _highest(a: int | None, b: int | None) -> int | None:
    known = [x for x in (a, b) if x is not None]
    return max(known) if known else None


def compare_with_first(first: Any, first_side: Any, other: Any, side: Any) -> SetupComparison:
    """The first setup (A) and another (B) compared as ``diff`` compares two logs of one
    setup each - the manifests walked and ranked, the tests matched and their ratios, the
    headline and likely causes - from the results already read (``read_side``)."""
    from envstamp.diffing.differ import build_report
    from envstamp.diffing.manifests import diff_manifests
    from envstamp.diffing.results import compare_sides

    doc_a = Document("results", first.manifest, f"S{first.index}", results=list(first.results))
    doc_b = Document("results", other.manifest, f"S{other.index}", results=list(other.results))
    walk = diff_manifests(first.manifest, other.manifest)
    outcome = compare_sides(first_side, side)
    report = build_report(doc_a, doc_b, walk.found + outcome.differences,
                          walk.unknown + outcome.unknown, outcome.tests, failed=outcome.failed,
                          manifests=(first.manifest, other.manifest))  # fmt: skip
    return SetupComparison(base=first.index, other=other.index, diff=report)
