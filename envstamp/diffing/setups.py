"""Setups of a results log: results grouped by the manifest they ran under.

One log may hold runs under several setups (the same file, a second run with
``OMP_NUM_THREADS=3``).  Every result names its manifest (``manifest_digest``; loaded results
carry it as ``.manifest``).  A *setup* is a group of those manifests that describe the same
machine and configuration: the same identity digest, or no identity difference above impact
"none" (two captures of one machine may differ in a reading rounded differently).  Pooling
results across setups would mix two configurations into one nonsense spread, so ``show``
lists each setup with its results, and ``diff`` / ``compare`` compare results per setup and
name what changed between a log's setups.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from envstamp.diffing.model import Setup
from envstamp.manifest.model import Manifest


@attrs.define
class SetupGroup:
    """Results of one log run under one setup."""

    index: int  # 1-based, in the order the log first used it
    manifest: Manifest  # the first manifest of the group
    results: list[Any] = attrs.field(factory=list)
    digests: list[str] = attrs.field(factory=list)


def group_setups(results: Iterable[Any], fallback: Manifest | None = None) -> list[SetupGroup]:
    """Results grouped by setup, in the order the log first used each; records without a
    manifest of their own (results inside an envelope) go with ``fallback``."""
    groups: list[SetupGroup] = []
    by_digest: dict[str, SetupGroup] = {}
    for record in results:
        digest = getattr(record, "manifest_digest", None)
        manifest = getattr(record, "manifest", None)
        if not isinstance(manifest, Manifest):
            manifest, digest = fallback, None
        key = digest if isinstance(digest, str) else "<document>"
        group = by_digest.get(key)
        if group is None and manifest is not None:
            group = next((g for g in groups if same_setup(g.manifest, manifest)), None)
            if group is None:
                group = SetupGroup(index=len(groups) + 1, manifest=manifest)
                groups.append(group)
            by_digest[key] = group
            group.digests.append(key)
        if group is not None:
            group.results.append(record)
    return groups


def same_setup(a: Manifest, b: Manifest) -> bool:
    """The same identity digest, or nothing that may change speed differs."""
    if a is b or (a.identity_digest and a.identity_digest == b.identity_digest):
        return True
    return not setup_differences(a, b)


def setup_differences(a: Manifest, b: Manifest) -> list[Any]:
    """Identity and configuration differences above impact "none", each said once."""
    from envstamp.diffing.manifests import diff_manifests, distinct, rank_key

    walk = diff_manifests(a, b)
    found = [d for d in walk.found if not d.state and d.impact != "none"]
    return distinct(sorted(found, key=rank_key))


def changes_from(first: Manifest, other: Manifest, index: int | None = None) -> list[str]:
    """ "env.OMP_NUM_THREADS: unset -> 3": what differs from the log's first setup.  The
    diff's words for its two sides become the setups' ("only on A: ./llama-bench" -> "only
    in setup 1: ./llama-bench"): these are two setups of one log, not a diff's A and B."""
    names = ("setup 1", f"setup {index}" if index is not None else "this setup")
    return [f"{d.path}: {name_sides(d.change, names)}"
            for d in setup_differences(first, other)]


_SIDE_WORDS = re.compile(r"\b(?:(only on|on) ([AB])\b|([AB]) newer\b|([AB])'s version\b)")


def name_sides(text: str, names: tuple[str, str]) -> str:
    """A difference's text with A and B named: "only on A" -> "only in setup 1", "B newer"
    -> "setup 2 newer", "only in A's version" -> "only in setup 1's version"."""

    def named(match: re.Match[str]) -> str:
        words, side_on, side_newer, side_version = match.groups()
        if side_on is not None:
            place = "only in" if words == "only on" else "in"
            return f"{place} {names[side_on == 'B']}"
        if side_newer is not None:
            return f"{names[side_newer == 'B']} newer"
        return f"{names[side_version == 'B']}'s version"

    return _SIDE_WORDS.sub(named, text)


def describe_setups(groups: Sequence[SetupGroup], side: str) -> list[Setup]:
    """The report's view of one side's setups (empty when it holds one)."""
    if len(groups) < 2:
        return []
    first = groups[0].manifest
    return [
        Setup(
            side=side,
            index=g.index,
            identity_digest=g.manifest.identity_digest,
            captured_at=g.manifest.captured_at,
            results=len(g.results),
            changes=[] if g.index == 1 else changes_from(first, g.manifest, g.index),
        )
        for g in groups
    ]


def pair_setups(a: Sequence[SetupGroup], b: Sequence[SetupGroup]) -> list[tuple[int, int]]:
    """Which setups' results are compared: each setup with the other side's most alike
    (the same setup when there is one, else the fewest differences, earlier first), so
    every setup of either side is compared with one of the other's.  Positions, 0-based."""
    if not a or not b:
        return []
    cost: dict[tuple[int, int], int] = {}

    def distance(i: int, j: int) -> int:
        if (i, j) not in cost:
            x, y = a[i].manifest, b[j].manifest
            cost[(i, j)] = 0 if same_setup(x, y) else len(setup_differences(x, y))
        return cost[(i, j)]

    pairs: set[tuple[int, int]] = set()
    for j in range(len(b)):
        pairs.add((min(range(len(a)), key=lambda i: (distance(i, j), i)), j))
    for i in range(len(a)):
        if not any(p[0] == i for p in pairs):
            pairs.add((i, min(range(len(b)), key=lambda j: (distance(i, j), j))))
    return sorted(pairs)
