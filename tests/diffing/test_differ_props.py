"""Properties of a diff report over generated manifests: its ranking, counts and mirror.

The manifests come from the model-derived strategy of ``test_diff_props.py`` (small value
pools, so two draws often agree and lists share keys).  These hold for any pair: the report
is ordered by its rank key, counts what it lists once, and reads the same from either side.
"""

from __future__ import annotations

from collections import Counter

import attrs
from hypothesis import given, settings

from envstamp.diffing.differ import diff
from envstamp.diffing.manifests import distinct, rank_key
from envstamp.diffing.model import Difference, DiffReport
from envstamp.diffing.rules import IMPACT_RANK, IMPACTS
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import manifest_from_json, to_json
from tests.diffing.test_diff_props import MANIFESTS
from tests.diffing.test_diff_props import SETTINGS as BASE

SETTINGS = settings(BASE, max_examples=25)


def _entries(report: DiffReport) -> list[Difference]:
    return report.differences + report.state + report.unknown


def _key(d: Difference) -> tuple[str, str, str, bool]:
    return (d.path, d.impact, d.category, d.state)


def _in_rank_order(report: DiffReport) -> None:
    for entries in (report.differences, report.state, report.unknown):
        assert [rank_key(d) for d in entries] == sorted(rank_key(d) for d in entries)
    assert all(not d.state for d in report.differences)
    assert all(d.state for d in report.state)


def _under_listed(report: DiffReport) -> None:
    paths = {d.path for d in report.differences}
    for d in report.differences:
        assert d.under is None or (d.under in paths and d.under != d.path)


@SETTINGS
@given(MANIFESTS, MANIFESTS)
def test_a_report_is_ranked_and_counts_what_it_lists(a: Manifest, b: Manifest) -> None:
    report = diff(a, b)
    _in_rank_order(report)
    _under_listed(report)  # a finding beneath another names one that is listed
    listed = Counter(d.impact for d in distinct(report.differences))
    assert report.counts == {impact: listed.get(impact, 0) for impact in IMPACTS}
    top = max((IMPACT_RANK[d.impact] for d in report.differences), default=0)
    assert IMPACT_RANK[report.max_impact] == top
    assert report.same_identity == (top == 0)
    for impact in IMPACTS:
        floor = IMPACT_RANK[impact]
        assert report.at_or_above(impact) == [
            d for d in report.differences if IMPACT_RANK[d.impact] >= floor]
    assert report.at_or_above("none", include_state=True) == report.differences + report.state


@SETTINGS
@given(MANIFESTS, MANIFESTS)
def test_the_backward_report_mirrors_the_forward_one(a: Manifest, b: Manifest) -> None:
    forward, backward = diff(a, b), diff(b, a)
    assert sorted(map(_key, _entries(forward))) == sorted(map(_key, _entries(backward)))
    assert forward.counts == backward.counts
    assert forward.same_digest == backward.same_digest
    # one path may name several one-sided items: compare as multisets, sides swapped
    ahead = sorted((d.path, d.state, repr(d.a), repr(d.b), str(d.under))
                   for d in forward.differences + forward.state)
    behind = sorted((d.path, d.state, repr(d.b), repr(d.a), str(d.under))
                    for d in backward.differences + backward.state)
    assert ahead == behind


@SETTINGS
@given(MANIFESTS)
def test_a_manifest_read_back_from_its_json_has_no_difference(manifest: Manifest) -> None:
    again = manifest_from_json(to_json(manifest))
    report = diff(manifest, again)
    assert _entries(report) == []
    assert report.max_impact == "none" and report.same_identity


@SETTINGS
@given(MANIFESTS, MANIFESTS)
def test_a_diff_is_the_same_whenever_it_runs(a: Manifest, b: Manifest) -> None:
    first = diff(a, b)
    diff(b, a)  # another walk between the two must change nothing
    again = diff(a, b)
    assert attrs.asdict(first) == attrs.asdict(again)
