"""Diff: compare two manifests (or stamped results) and rank what may explain a speed gap.

``diff(a, b)`` takes manifests, documents (manifest, signed envelope or results log) or paths,
in any mix, and returns a :class:`DiffReport`:

* ``differences`` - identity and configuration differences, ranked by expected impact on
  inference speed (the rules table in :mod:`envstamp.diffing.rules`);
* ``state`` - readings of the moment (the ``volatile`` section and fields marked volatile)
  that differ: possible explanations, never reasons the runs are not comparable;
* ``unknown`` - fields known on one side only (a failed probe, an older envstamp);
* ``tests`` - with results on both sides, the speed ratio per test with its spread (the
  benchmark's own results first; the wrapper's whole-process time is context);
* ``failed`` - results whose command failed: never a speed;
* ``setups`` - when a results log holds runs under several setups, each setup and what
  changed from the log's first (its results are compared setup by setup); ``setup_a`` /
  ``setup_b`` name the pair whose manifests the differences above compare.

The manifest is walked generically over its attrs fields, so fields added later are diffed
too; the module is ``differ`` so that ``envstamp.diff`` stays this function.
"""

from __future__ import annotations

import os
from typing import Any

import attrs

from envstamp.diffing import rules
from envstamp.diffing.manifests import diff_manifests, distinct, max_impact, rank_key
from envstamp.diffing.model import (
    DIFF_SCHEMA_ID,
    Difference,
    DiffReport,
    FailedRun,
    InputInfo,
    Setup,
    Spread,
    TestComparison,
    Verification,
    diff_schema,
)
from envstamp.manifest.document import Document, Status
from envstamp.manifest.model import Manifest

__all__ = [
    "DIFF_SCHEMA_ID",
    "DiffReport",
    "Difference",
    "InputInfo",
    "Spread",
    "TestComparison",
    "as_document",
    "diff",
    "diff_schema",
]


# ------------------------------------------------------------------------------ inputs

Input = Manifest | Document | str | os.PathLike[str]


def as_document(value: Input, *, verify: bool = True) -> Document:
    """A Document from a manifest, a document or a path."""
    if isinstance(value, Document):
        return value
    if isinstance(value, Manifest):
        return Document("manifest", value, "<manifest>")
    if isinstance(value, (str, os.PathLike)):
        from envstamp.documents import load_document

        return load_document(os.fspath(value), verify=verify)
    raise TypeError(f"cannot diff a {type(value).__name__}")


# A partly signed log and a signed input nobody checked are alike "not verified".
_VERIFICATION: dict[Status, Verification] = {
    Status.VERIFIED: "verified",
    Status.UNSIGNED: "unsigned",
    Status.INVALID: "failed",
    Status.EDITED: "failed",
    Status.PARTLY_SIGNED: "not verified",
    Status.NOT_CHECKED: "not verified",
}


def verification_of(doc: Document) -> Verification:
    """verified | unsigned | not verified | failed, from the loader's verification."""
    return _VERIFICATION[doc.verification.status]


def input_info(doc: Document, side: str) -> InputInfo:
    manifest = doc.manifest
    return InputInfo(
        side=side,
        source=doc.source,
        kind=doc.kind,
        note=doc.note,
        verification=verification_of(doc),
        signature=doc.signature,
        signers=list(doc.verification.signers),
        captured_at=manifest.captured_at,
        identity_digest=manifest.identity_digest,
        manifest_schema=manifest.schema,
        results=len(doc.results),
    )

# ------------------------------------------------------------------------------- diff()


def diff(a: Input, b: Input, *, verify: bool = True) -> DiffReport:
    """Compare two manifests, signed envelopes or results logs (paths or loaded), any mix.

    When a log holds runs under several setups, the manifests compared (differences, state,
    unknown fields, likely causes) are those of the setup pair behind the headline's speed
    gap, else the first pair compared; the report names that pair (``setup_a``/``setup_b``),
    so the headline never names a cause the report does not list."""
    doc_a, doc_b = as_document(a, verify=verify), as_document(b, verify=verify)
    compared = Compared(manifests_a=[doc_a.manifest], manifests_b=[doc_b.manifest])
    if doc_a.results or doc_b.results:
        compared = compare_documents(doc_a, doc_b)
    i, j = compared.primary_pair()
    walk = diff_manifests(compared.manifests_a[i], compared.manifests_b[j])
    found = walk.found + compared.outcome.differences
    unknown = walk.unknown + compared.outcome.unknown
    return build_report(doc_a, doc_b, found, unknown, compared.outcome.tests,
                        failed=compared.outcome.failed, setups=compared.setups,
                        pair=compared.tag(i, j),
                        manifests=(compared.manifests_a[i], compared.manifests_b[j]))


def _no_results() -> Any:
    from envstamp.diffing.results import ResultsComparison

    return ResultsComparison()


@attrs.define
class Compared:
    """The results of two documents compared, and the manifests of each side's setups
    (one per setup, in the order the log first used it; the document's own manifest when
    a side holds one setup or none)."""

    manifests_a: list[Manifest]
    manifests_b: list[Manifest]
    outcome: Any = attrs.field(factory=_no_results)
    setups: list[Setup] = attrs.field(factory=list)
    pairs: list[tuple[int, int]] = attrs.field(factory=lambda: [(0, 0)])

    def tag(self, i: int, j: int) -> tuple[int | None, int | None]:
        """1-based setup numbers of a pair, None for a side that holds one setup."""
        return (i + 1 if len(self.manifests_a) > 1 else None,
                j + 1 if len(self.manifests_b) > 1 else None)

    def primary_pair(self) -> tuple[int, int]:
        """The setup pair whose manifests the report compares: the one behind the biggest
        real speed gap (the headline's), else the first pair whose results were compared."""
        from envstamp.diffing.results import top_gap

        top = top_gap(self.outcome.tests)
        if top is not None:
            return ((top.setup_a or 1) - 1, (top.setup_b or 1) - 1)
        return self.pairs[0] if self.pairs else (0, 0)


def compare_documents(doc_a: Document, doc_b: Document) -> Compared:
    """The results of two documents compared, setup by setup when a log holds several."""
    from envstamp.diffing import results as diff_results
    from envstamp.diffing import setups as diff_setups

    groups_a = diff_setups.group_setups(doc_a.results, doc_a.manifest)
    groups_b = diff_setups.group_setups(doc_b.results, doc_b.manifest)
    compared = Compared(manifests_a=[g.manifest for g in groups_a] or [doc_a.manifest],
                        manifests_b=[g.manifest for g in groups_b] or [doc_b.manifest])
    if len(groups_a) < 2 and len(groups_b) < 2:
        compared.outcome = diff_results.compare_results(doc_a.results, doc_b.results)
        return compared
    sides_a = [diff_results.read_side(g.results, "A", _tag(g, groups_a)) for g in groups_a]
    sides_b = [diff_results.read_side(g.results, "B", _tag(g, groups_b)) for g in groups_b]
    pairs = diff_setups.pair_setups(groups_a, groups_b)
    if not pairs:  # one side has no results at all
        sides_a = sides_a or [diff_results.SideResults()]
        sides_b = sides_b or [diff_results.SideResults()]
        pairs = [(i, j) for i in range(len(sides_a)) for j in range(len(sides_b))]
    compared.outcome = diff_results.compare_setups(sides_a, sides_b, pairs)
    compared.pairs = pairs
    compared.setups = diff_setups.describe_setups(groups_a, "A") + (
        diff_setups.describe_setups(groups_b, "B"))
    for setup in compared.setups:
        mine = 0 if setup.side == "A" else 1
        setup.paired_with = sorted(
            {p[1 - mine] + 1 for p in pairs if p[mine] + 1 == setup.index}
        ) if groups_a and groups_b else []
    return compared


def _tag(group: Any, groups: list[Any]) -> int | None:
    return group.index if len(groups) > 1 else None


def build_report(
    doc_a: Document,
    doc_b: Document,
    found: list[Difference],
    unknown: list[Difference],
    tests: list[TestComparison],
    *,
    failed: list[FailedRun] | None = None,
    setups: list[Setup] | None = None,
    pair: tuple[int | None, int | None] = (None, None),
    manifests: tuple[Manifest, Manifest] | None = None,
) -> DiffReport:
    differences = sorted((d for d in found if not d.state), key=rank_key)
    state = sorted((d for d in found if d.state), key=rank_key)
    counts: dict[str, int] = dict.fromkeys(rules.IMPACTS, 0)
    for d in distinct(differences):
        counts[d.impact] += 1
    manifest_a, manifest_b = manifests or (doc_a.manifest, doc_b.manifest)
    report = DiffReport(
        a=input_info(doc_a, "A"),
        b=input_info(doc_b, "B"),
        same_identity=not any(d.impact != "none" for d in differences),
        same_digest=bool(manifest_a.identity_digest)
        and manifest_a.identity_digest == manifest_b.identity_digest,
        max_impact=max_impact(differences),
        counts=counts,
        tests=tests,
        differences=differences,
        state=state,
        unknown=sorted(unknown, key=rank_key),
        failed=list(failed or []),
        setups=list(setups or []),
        setup_a=pair[0],
        setup_b=pair[1],
    )
    from envstamp.diffing.results import headline, likely_causes

    report.likely_causes = likely_causes(report)
    report.headline = headline(report)
    return report
