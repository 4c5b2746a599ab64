"""Diff: compare two manifests (or stamped results) and rank what may explain a speed gap.

``diff(a, b)`` takes manifests, documents (manifest, signed envelope or results log) or paths,
in any mix, and returns a :class:`DiffReport`:

* ``differences`` - identity and configuration differences, ranked by expected impact on
  inference speed (the rules table in :mod:`envstamp.rules`);
* ``state`` - readings of the moment (the ``volatile`` section and fields marked volatile)
  that differ: possible explanations, never reasons the runs are not comparable;
* ``unknown`` - fields known on one side only (a failed probe, an older envstamp);
* ``tests`` - with results on both sides, the speed ratio per test with its spread.

The manifest is walked generically over its attrs fields, so fields added later are diffed
too; the module is ``differ`` so that ``envstamp.diff`` stays this function.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Literal, NamedTuple

import attrs

from envstamp import rules
from envstamp.documents import Document
from envstamp.model import Manifest
from envstamp.rules import IMPACT_RANK, Impact, Rule

DIFF_SCHEMA_NAME = "envstamp.diff"
DIFF_SCHEMA_MAJOR = 1
DIFF_SCHEMA_ID = f"{DIFF_SCHEMA_NAME}/{DIFF_SCHEMA_MAJOR}"

# Probes whose failure leaves a whole list empty on one side: an empty list then means
# "unknown", not "none".
SECTION_PROBES: dict[str, tuple[str, ...]] = {
    "gpus": ("gpu_nvidia", "gpu_amd", "gpu_apple", "gpu_windows", "gpu_intel"),
    "llamacpp": ("llamacpp",),
    "models": ("models",),
}
Verification = Literal["verified", "unsigned", "not verified", "failed"]
_FAILED = frozenset({"timeout", "error", "permission"})

# Generic paths of the mappings met while walking (env, build_flags...): a key missing there
# reads "unset", not "unknown".  Facts about the model, so sharing them is harmless.
MAPPING_PATHS: set[str] = {"tests[].params"}


def _doc(text: str) -> Any:
    return attrs.field(metadata={"doc": text})


def _opt(text: str, default: Any = None) -> Any:
    return attrs.field(default=default, metadata={"doc": text})


@attrs.define(kw_only=True)
class Difference:
    """One path whose values differ, with its rank and the reason users see."""

    path: str = _doc(
        'Where, as "gpus[0].driver_version"; a list item is named by its position when both '
        'sides agree on it, else by the key that matched it ("gpus[uuid=GPU-...]").'
    )
    pattern: str = _doc('The generic path the rule matched, as "gpus[].driver_version".')
    category: str = _doc("gpu, driver, runtime, engine build, frontend, model, cpu, ...")
    impact: Impact = _doc("Expected impact on inference speed: high, medium, low or none.")
    label: str = _doc("What changed, in words.")
    component: str = _doc('Group of paths that change together ("GPU driver").')
    a: Any = _doc("Value on side A (null: unknown or absent).")
    b: Any = _doc("Value on side B (null: unknown or absent).")
    change: str = _doc('The change as users read it: "550.54 -> 560.35", "only on B: avx512f".')
    reason: str = _doc("One-line explanation.")
    state: bool = _opt("A reading of the moment: explains a gap, never blocks a comparison.",
                       False)


@attrs.define(kw_only=True)
class InputInfo:
    """One input of a diff and how far it can be trusted."""

    side: str = _doc('"A" or "B" (or the position in a compare).')
    source: str = _doc("The path given.")
    kind: str = _doc("manifest, envelope or results.")
    note: str = _doc("How the input reached us, in words.")
    verification: Verification = _doc("verified, unsigned, not verified or failed.")
    signature: str = _doc("The verification result as the loader reported it.")
    signers: list[str] = attrs.field(factory=list, metadata={"doc": "Key ids that signed it."})
    captured_at: str | None = _opt("When the manifest was captured.")
    identity_digest: str | None = _opt("The manifest's identity digest.")
    manifest_schema: str | None = _opt("The manifest's schema id.")
    results: int = _opt("Result records in the input.", 0)


@attrs.define(kw_only=True)
class Spread:
    """A metric's summary on one side."""

    mean: float = _doc("Mean.")
    stddev: float | None = _opt("Standard deviation; null when unknown (one sample).")
    n: int | None = _opt("Number of samples.")
    unit: str | None = _opt('Unit, e.g. "t/s" or "s".')


@attrs.define(kw_only=True)
class TestComparison:
    """One benchmark test matched across the two sides."""

    name: str = _doc('Test name ("tg128", "pp512").')
    params: dict[str, Any] = attrs.field(
        factory=dict, metadata={"doc": "Parameters both sides share."}
    )
    metric: str = _doc('The metric compared ("tokens_per_s", "wall_s").')
    higher_is_better: bool = _doc("True for throughput, false for time.")
    a: Spread | None = _opt("Side A, null when only B ran it.")
    b: Spread | None = _opt("Side B, null when only A ran it.")
    ratio: float | None = _opt("How many times faster B is than A (below 1: slower).")
    faster: Literal["A", "B"] | None = _opt(
        '"A", "B", or null when equal, within noise or one-sided.'
    )
    within_noise: bool | None = _opt("The gap is inside the spread; null when unknown.")
    summary: str = _opt("One line.", "")


@attrs.define(kw_only=True)
class DiffReport:
    """Everything ``envstamp diff`` knows about two inputs."""

    schema: str = _opt('"envstamp.diff/1".', DIFF_SCHEMA_ID)
    a: InputInfo | None = _opt("Side A.")
    b: InputInfo | None = _opt("Side B.")
    headline: str = _opt("The one-line answer.", "")
    same_identity: bool = _opt("No identity or configuration difference above impact none.",
                               True)
    same_digest: bool = _opt("The identity digests are equal.", False)
    max_impact: Impact = _opt("Highest impact among the differences (none when there are none).",
                           "none")
    counts: dict[str, int] = attrs.field(
        factory=dict,
        metadata={"doc": "Differences per impact, each thing said once (a driver version "
                         "found in two sections counts once)."},
    )
    tests: list[TestComparison] = attrs.field(
        factory=list, metadata={"doc": "Speed per test, when results are on both sides."}
    )
    likely_causes: list[str] = attrs.field(
        factory=list, metadata={"doc": "The top differences (and states) that may explain it."}
    )
    differences: list[Difference] = attrs.field(
        factory=list, metadata={"doc": "Identity and configuration differences, ranked."}
    )
    state: list[Difference] = attrs.field(
        factory=list, metadata={"doc": "State at capture that differs, ranked."}
    )
    unknown: list[Difference] = attrs.field(
        factory=list, metadata={"doc": "Fields known on one side only."}
    )

    def at_or_above(self, impact: str, *, include_state: bool = False) -> list[Difference]:
        """Differences whose impact is ``impact`` or higher."""
        floor = IMPACT_RANK[impact]
        pool = self.differences + (self.state if include_state else [])
        return [d for d in pool if IMPACT_RANK[d.impact] >= floor]


# ------------------------------------------------------------------------------ inputs

Input = Manifest | Document | str | os.PathLike[str]


def as_document(value: Input, *, verify: bool = True) -> Document:
    """A Document from a manifest, a document or a path."""
    if isinstance(value, Document):
        return value
    if isinstance(value, Manifest):
        return Document("manifest", value, "<manifest>")
    if isinstance(value, (str, os.PathLike)):
        if verify:
            from envstamp.diff_load import load

            return load(os.fspath(value))
        from envstamp.documents import load_document

        return load_document(os.fspath(value), verify=False)
    raise TypeError(f"cannot diff a {type(value).__name__}")


def verification_of(doc: Document) -> Verification:
    """verified | unsigned | not verified | failed, from the loader's signature note."""
    signature = (doc.signature or "unsigned").strip().lower()
    if signature.startswith("verified"):
        return "verified"
    if signature.startswith("unsigned"):
        return "unsigned"
    if signature.startswith(("invalid", "failed", "bad")):
        return "failed"
    return "not verified"


def input_info(doc: Document, side: str) -> InputInfo:
    manifest = doc.manifest
    return InputInfo(
        side=side,
        source=doc.source,
        kind=doc.kind,
        note=doc.note,
        verification=verification_of(doc),
        signature=doc.signature,
        signers=list(doc.signers),
        captured_at=manifest.captured_at,
        identity_digest=manifest.identity_digest,
        manifest_schema=manifest.schema,
        results=len(doc.results),
    )


# -------------------------------------------------------------------------------- walk


class Spot(NamedTuple):
    """Where the walk is: the display path, the generic path rules match, and whether the
    value is a reading of the moment."""

    path: str = ""
    generic: str = ""
    state: bool = False

    def child(self, name: str, *, volatile: bool = False) -> Spot:
        if not self.path:
            return Spot(name, name, self.state or volatile)
        return Spot(f"{self.path}.{name}", f"{self.generic}.{name}", self.state or volatile)

    def item(self, segment: str) -> Spot:
        return Spot(f"{self.path}[{segment}]", f"{self.generic}[]", self.state)


_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """(name, volatile) of each field of an attrs class, worked out once per class."""
    found = _FIELDS.get(cls)
    if found is None:
        found = tuple((f.name, bool(f.metadata.get("volatile", False))) for f in attrs.fields(cls))
        _FIELDS[cls] = found
    return found


class _Walk:
    """Collects differences while walking two values of the same shape."""

    def __init__(self, failed: tuple[frozenset[str], frozenset[str]]) -> None:
        self.found: list[Difference] = []
        self.unknown: list[Difference] = []
        self.pairs: dict[str, list[tuple[str, Any, Any]]] = {}
        self.failed = failed

    def value(self, a: Any, b: Any, spot: Spot) -> None:
        if a == b and type(a) is type(b):
            return  # equal all the way down (attrs compares field by field): nothing to say
        if spot.generic and rules.is_ignored(spot.generic):
            return
        if attrs.has(type(a)) or attrs.has(type(b)):
            self.objects(a, b, spot)
        elif isinstance(a, list) or isinstance(b, list):
            self.lists(a or [], b or [], spot)
        elif isinstance(a, dict) or isinstance(b, dict):
            self.mappings(a or {}, b or {}, spot)
        else:
            self.scalar(a, b, spot)

    def objects(self, a: Any, b: Any, spot: Spot) -> None:
        if a is None or b is None:
            self.presence(a, b, spot)
            return
        if type(a) is not type(b):
            self.scalar(_item_label(a), _item_label(b), spot)
            return
        for name, volatile in _fields(type(a)):
            self.value(getattr(a, name), getattr(b, name), spot.child(name, volatile=volatile))

    def lists(self, a: list[Any], b: list[Any], spot: Spot) -> None:
        if any(attrs.has(type(item)) for item in (*a, *b)):
            self.object_lists(a, b, spot)
            return
        rule = rules.rule_for(spot.generic)
        if (not a or not b) and not rule.empty_is_none:
            if a or b:
                self.one_sided(a or None, b or None, spot)
            return
        only_a = _set_minus(a, b)
        only_b = _set_minus(b, a)
        if only_a or only_b:
            change = _set_change(only_a, only_b)
            self.add(rule, spot, sorted_values(a), sorted_values(b), change=change)

    def object_lists(self, a: list[Any], b: list[Any], spot: Spot) -> None:
        if not (a and b) and self._section_failed(spot.generic, bool(a)):
            self.one_sided(_labels(a) or None, _labels(b) or None, spot)
            return
        how = rules.list_match(spot.generic)
        matched = match_items(a, b, how)
        self.pairs[spot.generic] = [
            (spot.item(segment).path, a[i], b[j]) for i, j, segment in matched.pairs
        ]
        for i, j, segment in matched.pairs:
            self.value(a[i], b[j], spot.item(segment))
        for i in matched.only_a:
            self.presence(a[i], None, spot.item(lone_segment(a[i], i, how)))
        for j in matched.only_b:
            self.presence(None, b[j], spot.item(lone_segment(b[j], j, how)))

    def _section_failed(self, generic: str, a_has_items: bool) -> bool:
        # The empty side's probe failed: its list is unknown, not empty.
        probes = SECTION_PROBES.get(generic, ())
        empty_side = self.failed[1] if a_has_items else self.failed[0]
        return any(name in empty_side for name in probes)

    def mappings(self, a: dict[str, Any], b: dict[str, Any], spot: Spot) -> None:
        # A key missing on one side is a real difference: the variable or option is unset.
        MAPPING_PATHS.add(spot.generic)
        for key in sorted(set(a) | set(b), key=str):
            x, y = a.get(key), b.get(key)
            child = spot.child(str(key))
            if rules.is_ignored(child.generic):
                continue
            if isinstance(x, (dict, list)) or isinstance(y, (dict, list)) or attrs.has(type(x)):
                self.value(x, y, child)
                continue
            rule = rules.rule_for(child.generic)
            if x is None or y is None or not rules.equal(rule, x, y):
                shown = [_show(v, unset=True, path=child.generic) for v in (x, y)]
                detail = rules.detail_for(rule, x, y)
                self.add(rule, child, x, y, change=f"{shown[0]} -> {shown[1]}", detail=detail)

    def scalar(self, a: Any, b: Any, spot: Spot) -> None:
        if a == b and type(a) is type(b):
            return  # the common case, decided without looking up a rule
        if a is None or b is None:
            self.one_sided(a, b, spot)
            return
        rule = rules.rule_for(spot.generic)
        if rules.equal(rule, a, b):
            return
        change = f"{_show(a, path=spot.generic)} -> {_show(b, path=spot.generic)}"
        self.add(rule, spot, a, b, change=change, detail=rules.detail_for(rule, a, b))

    def presence(self, a: Any, b: Any, spot: Spot) -> None:
        rule = rules.rule_for(spot.generic)
        x, y = _item_label(a), _item_label(b)
        if not rule.presence:
            self.one_sided(x, y, spot)
            return
        change = f"only on A: {x}" if b is None else f"only on B: {y}"
        self.add(rule, spot, x, y, change=change)

    def one_sided(self, a: Any, b: Any, spot: Spot) -> None:
        rule = rules.rule_for(spot.generic)
        side = "A" if b is None else "B"
        change = f"known only on {side}: {_show(a if b is None else b, path=spot.generic)}"
        self.unknown.append(make_difference(rule, spot, a, b, change=change))

    def add(self, rule: Rule, spot: Spot, a: Any, b: Any, *, change: str, detail: str = "") -> None:
        self.found.append(make_difference(rule, spot, a, b, change=change, detail=detail))


def make_difference(
    rule: Rule, spot: Spot, a: Any, b: Any, *, change: str, detail: str = ""
) -> Difference:
    """A Difference with the rule's rank and its reason filled in."""
    label = _label(rule, spot.generic)
    component = _named(rule.component, spot.generic) if rule.component else label
    reason = rule.reason.format(label=label, change=change, detail=detail)
    return Difference(
        change=change + detail,
        path=spot.path,
        pattern=spot.generic,
        category=rule.category,
        impact=rule.impact,
        label=label,
        component=component,
        a=_plain(a),
        b=_plain(b),
        reason=reason,
        state=spot.state,
    )


def _label(rule: Rule, generic: str) -> str:
    """The rule's label, naming the key when one rule covers many (env.GGML_*, build
    options, frontends.*): "ggml setting GGML_CUDA_NO_PINNED", "frontend ollama"."""
    parent, _, key = generic.rpartition(".")
    if rule.pattern.endswith("*") and (parent in MAPPING_PATHS or rule.presence):
        return f"{rule.label} {key}"
    return _named(rule.label, generic)


def _named(label: str, generic: str) -> str:
    """ "frontend version" of frontends.ollama.* -> "ollama version"."""
    if not generic.startswith("frontends.") or generic.count(".") < 2:
        return label
    name = generic.split(".")[1]
    return label.replace("frontend", name) if "frontend" in label else f"{name} {label}"


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        return _item_label(value)
    return value


# ---------------------------------------------------------------------------- matching


class Matched(NamedTuple):
    """Items of two lists paired up, each pair with the path segment that names it."""

    pairs: list[tuple[int, int, str]]
    only_a: list[int]
    only_b: list[int]


def match_items(a: list[Any], b: list[Any], how: rules.ListMatch) -> Matched:
    """Pair items by each key in turn (both sides known and equal), then by position.

    Path segments are the same whichever side is A: the position when both sides agree on
    it, else the key that matched ("uuid=GPU-..."), else both positions ("0~1").  Lists
    matched by key alone (models, loaded models) are named by their key throughout.
    """
    left = list(range(len(a)))
    right = list(range(len(b)))
    pairs: list[tuple[int, int, str]] = []
    for key in how.keys:
        # key value -> B positions still free, in order (equal keys pair up in turn)
        index: dict[Any, list[int]] = {}
        for j in right:
            value = _key_of(b[j], key)
            if value is not None:
                index.setdefault(value, []).append(j)
        for i in list(left):
            value = _key_of(a[i], key)
            free = index.get(value) if value is not None else None
            j_found = free.pop(0) if free else None
            if j_found is not None:
                pairs.append((i, j_found, _segment(i, j_found, a[i], b[j_found], key=key, how=how)))
                left.remove(i)
                right.remove(j_found)
    if not how.by_order:
        # items without a key pair up with an equal item, when there is one
        for i in list(left):
            j_equal = next((j for j in right if a[i] == b[j]), None)
            if j_equal is not None:
                pairs.append((i, j_equal, lone_segment(a[i], i, how)))
                left.remove(i)
                right.remove(j_equal)
    if how.by_order:
        for i, j in zip(list(left), list(right), strict=False):
            pairs.append((i, j, str(i) if i == j else f"{min(i, j)}~{max(i, j)}"))
            left.remove(i)
            right.remove(j)
    pairs.sort()
    return Matched(pairs, left, right)


def _segment(i: int, j: int, a: Any, b: Any, *, key: str, how: rules.ListMatch) -> str:
    if i == j and how.by_order:
        return str(i)
    x, y = getattr(a, key), getattr(b, key)
    # the printed value when both sides print it alike, else the form they matched on
    value = x if x == y else _key_of(a, key)
    return f"{key}={value}" if how.by_order else str(value)


def lone_segment(item: Any, position: int, how: rules.ListMatch) -> str:
    """Path segment of an item present on one side only."""
    if not how.by_order:
        for key in how.keys:
            value = getattr(item, key, None)
            if value not in (None, ""):
                return str(value)
    return str(position)


def _key_of(item: Any, key: str) -> Any:
    value = getattr(item, key, None)
    if isinstance(value, str):
        return rules.normalise_name(value) or None
    return value


_LABEL_FIELDS = ("name", "model_name", "path", "version", "backend", "uuid", "index")


def _item_label(item: Any) -> Any:
    if item is None or not attrs.has(type(item)):
        return item
    for name in _LABEL_FIELDS:
        value = getattr(item, name, None)
        if value not in (None, ""):
            return value
    return type(item).__name__


def _labels(items: list[Any]) -> list[Any]:
    return [_item_label(item) for item in items]


def _set_minus(a: list[Any], b: list[Any]) -> list[Any]:
    keys = {rules.set_key(item) for item in b}
    return sorted_values([item for item in a if rules.set_key(item) not in keys])


def sorted_values(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: (type(item).__name__, str(item)))


def _set_change(only_a: list[Any], only_b: list[Any]) -> str:
    parts = []
    if only_a:
        parts.append("only on A: " + _shorten(only_a))
    if only_b:
        parts.append("only on B: " + _shorten(only_b))
    return "; ".join(parts)


def _shorten(items: list[Any], limit: int = 8) -> str:
    shown = ", ".join(str(item) for item in items[:limit])
    extra = len(items) - limit
    return shown + (f" (+{extra} more)" if extra > 0 else "")


def _show(value: Any, *, unset: bool = False, path: str = "") -> str:
    """A value as users read it, with the unit its field name carries."""
    if value is None:
        unset = unset or path.rpartition(".")[0] in MAPPING_PATHS
        return "unset" if unset else "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if path.endswith("_bytes"):
            return rules.human_bytes(value)
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return rules.with_unit(text, path)
    if isinstance(value, list):
        return _shorten(value) if value else "none"
    return str(value)


show_value = _show


def diff_schema() -> dict[str, Any]:
    """JSON Schema of ``envstamp diff --json``."""
    from envstamp.schema import schema_for

    return schema_for(
        DiffReport,
        schema_id=f"diff.v{DIFF_SCHEMA_MAJOR}.schema.json",
        title="envstamp diff report",
        patterns={"schema": f"^{DIFF_SCHEMA_NAME.replace('.', '[.]')}/{DIFF_SCHEMA_MAJOR}$"},
    )


# ----------------------------------------------------------------------- derived checks


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


def pcie_findings(walk: _Walk) -> Iterator[Difference]:
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


def annotate_throttling(walk: _Walk) -> None:
    """Add the GPU temperature to throttle differences: "83 C with thermal flags on B"."""
    temps = {path: (ga.temperature_c, gb.temperature_c)
             for path, ga, gb in walk.pairs.get("volatile.gpus", [])}
    for i, found in enumerate(walk.found):
        if found.pattern != "volatile.gpus[].throttle_reasons":
            continue
        ta, tb = temps.get(found.path.rsplit(".", 1)[0], (None, None))
        if ta is None and tb is None:
            continue
        extra = f" (temperature A {_show(ta, path='_c')}, B {_show(tb, path='_c')})"
        walk.found[i] = attrs.evolve(found, reason=found.reason + extra)


# ---------------------------------------------------------------------------- ranking


def rank_key(d: Difference) -> tuple[int, int, int, str]:
    """Impact first, then category, then the rule's place in the table, then the path."""
    order = rules.RULE_ORDER.get(rules.rule_for(d.pattern), len(rules.RULES))
    return (-IMPACT_RANK[d.impact], rules.CATEGORY_RANK.get(d.category, 99), order, d.path)


def distinct(entries: list[Difference]) -> list[Difference]:
    """One entry per thing said: the driver version sits in ``gpus`` and in ``runtimes``,
    a user reads (and counts) it once."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for d in entries:
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


def diff_manifests(a: Manifest, b: Manifest) -> _Walk:
    """Walk two manifests; the raw findings before ranking."""
    walk = _Walk((_failed_probes(a), _failed_probes(b)))
    walk.value(a, b, Spot())
    walk.found.extend(pcie_findings(walk))
    annotate_throttling(walk)
    return walk


# ------------------------------------------------------------------------------- diff()


def diff(a: Input, b: Input, *, verify: bool = True) -> DiffReport:
    """Compare two manifests, signed envelopes or results logs (paths or loaded), any mix."""
    doc_a, doc_b = as_document(a, verify=verify), as_document(b, verify=verify)
    walk = diff_manifests(doc_a.manifest, doc_b.manifest)
    found = walk.found
    tests: list[TestComparison] = []
    if doc_a.results or doc_b.results:
        from envstamp import diff_results

        tests, param_diffs = diff_results.compare_results(doc_a.results, doc_b.results)
        found = found + param_diffs
    return build_report(doc_a, doc_b, found, walk.unknown, tests)


def build_report(
    doc_a: Document,
    doc_b: Document,
    found: list[Difference],
    unknown: list[Difference],
    tests: list[TestComparison],
) -> DiffReport:
    differences = sorted((d for d in found if not d.state), key=rank_key)
    state = sorted((d for d in found if d.state), key=rank_key)
    counts: dict[str, int] = dict.fromkeys(rules.IMPACTS, 0)
    for d in distinct(differences):
        counts[d.impact] += 1
    report = DiffReport(
        a=input_info(doc_a, "A"),
        b=input_info(doc_b, "B"),
        same_identity=not any(d.impact != "none" for d in differences),
        same_digest=bool(doc_a.manifest.identity_digest)
        and doc_a.manifest.identity_digest == doc_b.manifest.identity_digest,
        max_impact=max_impact(differences),
        counts=counts,
        tests=tests,
        differences=differences,
        state=state,
        unknown=sorted(unknown, key=rank_key),
    )
    from envstamp.diff_results import headline, likely_causes

    report.likely_causes = likely_causes(report)
    report.headline = headline(report)
    return report
