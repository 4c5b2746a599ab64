"""Two manifests walked field by field: the raw findings, and the order they rank in.

``diff_manifests`` walks the model generically (fields added later are diffed too), folds an
engine's build fields into one finding, and adds the derived checks (a PCIe link below its
maximum, the temperature beside throttling); ``rank_key`` and ``distinct`` order and
de-duplicate what it found.  Used by the diff, by setups of one log, and by compare.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from envstamp.diffing import rules
from envstamp.diffing.builds import fold_engine_builds
from envstamp.diffing.model import (
    Difference,
)
from envstamp.diffing.rules import IMPACT_RANK, Impact, Rule
from envstamp.diffing.walk import Spot, Walk, make_difference, show_value
from envstamp.manifest.model import Manifest

_FAILED = frozenset({"timeout", "error", "permission"})


def _pcie_link(gpu: Any) -> tuple[bool, str] | None:
    """Whether a GPU's link ran below its maximum, and the link as text; None if unknown."""
    gen_now, width_now = gpu.pcie_gen_current, gpu.pcie_width_current
    gen_max, width_max = gpu.pcie_gen_max, gpu.pcie_width_max
    if None in (gen_now, gen_max) and None in (width_now, width_max):
        return None
    below = (gen_now is not None and gen_max is not None and gen_now < gen_max) or (
        width_now is not None and width_max is not None and width_now < width_max
    )
    text = f"gen {gen_now or '?'} x{width_now or '?'} of gen {gen_max or '?'} x{width_max or '?'}"
    return below, text


def pcie_findings(walk: Walk) -> Iterator[Difference]:
    """A PCIe link narrower or slower than its maximum on one side only (medium)."""
    rule = Rule(
        "gpus[].pcie_link",
        "gpu",
        "medium",
        "PCIe link below its maximum",
        "{label} {change}: links train down at idle, but a narrow or slow link under load "
        "slows partial offload and multi-GPU runs",
    )
    for path, ga, gb in walk.pairs.get("gpus", []):
        la, lb = _pcie_link(ga), _pcie_link(gb)
        if la is None or lb is None or la[0] == lb[0]:
            continue
        side, text = ("A", la[1]) if la[0] else ("B", lb[1])
        change = f"on {side} ({text})"
        spot = Spot(f"{path}.pcie_link", rule.pattern, state=True)
        yield make_difference(rule, spot, la[1], lb[1], change=change)


def annotate_throttling(walk: Walk) -> None:
    """Add the GPU temperature to throttle differences: "83 C with thermal flags on B"."""
    temps = {path: (ga.temperature_c, gb.temperature_c)
             for path, ga, gb in walk.pairs.get("volatile.gpus", [])}
    for i, found in enumerate(walk.found):
        if found.pattern != "volatile.gpus[].throttle_reasons":
            continue
        ta, tb = temps.get(found.path.rsplit(".", 1)[0], (None, None))
        if ta is None and tb is None:
            continue
        extra = f" (temperature A {show_value(ta, path='_c')}, B {show_value(tb, path='_c')})"
        walk.found[i] = attrs.evolve(found, reason=found.reason + extra)


def rank_key(d: Difference) -> tuple[int, int, int, str]:
    """Impact first, then category, then the rule's place in the table, then the path."""
    order = rules.RULE_ORDER.get(rules.rule_for(d.pattern), len(rules.RULES))
    return (-IMPACT_RANK[d.impact], rules.CATEGORY_RANK.get(d.category, 99), order, d.path)


def distinct(entries: list[Difference]) -> list[Difference]:
    """One entry per thing said: the driver version sits in ``gpus`` and in ``runtimes``,
    a user reads (and counts) it once; a build option beneath its build change is part of
    that one finding."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for d in entries:
        if d.under is not None:
            continue
        key = (d.impact, d.label, d.change)
        if key not in seen:
            seen.add(key)
            kept.append(d)
    return kept


def max_impact(found: list[Difference]) -> Impact:
    best: Impact = "none"
    for d in found:
        if IMPACT_RANK[d.impact] > IMPACT_RANK[best]:
            best = d.impact
    return best


def _failed_probes(manifest: Manifest) -> frozenset[str]:
    return frozenset(p.name for p in manifest.probes if p.status in _FAILED)


def diff_manifests(a: Manifest, b: Manifest, *, stable: bool = False) -> Walk:
    """Walk two manifests; the raw findings before ranking.  ``stable`` names list items by
    A's positions (``compare``: one path is one item of the reference in every column)."""
    walk = Walk((_failed_probes(a), _failed_probes(b)), stable=stable)
    walk.value(a, b, Spot())
    fold_engine_builds(walk, a, b)
    walk.found.extend(pcie_findings(walk))
    annotate_throttling(walk)
    return walk
