"""The generic walk behind ``diff``: two values of the same model shape, field by field,
lists matched item by item, every difference ranked by the rules table.

Paths are spelled twice: for people (``gpus[0].driver_version``, ``env.GGML_X``) and
generically for the rules (``gpus[].driver_version``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import attrs

from envstamp.diffing import rules
from envstamp.diffing.model import Difference
from envstamp.diffing.rules import Rule

# Probes whose failure leaves a whole list empty on one side: an empty list then means
# "unknown", not "none".
SECTION_PROBES: dict[str, tuple[str, ...]] = {
    "gpus": ("gpu_nvidia", "gpu_amd", "gpu_apple", "gpu_windows", "gpu_intel"),
    "llamacpp": ("llamacpp",),
    "models": ("models",),
}

# Generic paths of the model's mappings, and of a result's parameters: a key missing there
# reads "unset", not "unknown", and a rule that covers every key ("env.*") names the key.
# A constant, so that no diff depends on what earlier ones walked; a test holds it equal to
# the dict fields of the model.
MAPPING_PATHS: frozenset[str] = frozenset({
    "env",
    "frontends.ollama.settings",
    "llamacpp[].build_flags",
    "python.packages",
    "tests[].params",
})


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


class Walk:
    """Collects differences while walking two values of the same shape."""

    def __init__(self, failed: tuple[frozenset[str], frozenset[str]], *,
                 stable: bool = False) -> None:
        self.found: list[Difference] = []
        self.unknown: list[Difference] = []
        self.pairs: dict[str, list[tuple[str, Any, Any]]] = {}
        self.failed = failed
        # ``compare`` walks the first input against each other one: an item is then named
        # by the first input's position whatever it was matched by, so that one path means
        # one item in every column (B's unmatched items follow A's positions).
        self.stable = stable
        # Display paths of the object lists walked, and of their items B has (paired, with
        # B's item): an item of a walked list that is not paired is absent on B.
        self.lists_seen: set[str] = set()
        self.paired: dict[str, Any] = {}
        # Findings folded into another one (an engine's packages into its build change):
        # never reported, but their values are still this pair's (a compare column).
        self.folded: list[Difference] = []

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
            self.scalar(item_label(a), item_label(b), spot)
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
        if self.stable and how.by_order:
            matched = stable_segments(matched)
        self.pairs[spot.generic] = [
            (spot.item(segment).path, a[i], b[j]) for i, j, segment in matched.pairs
        ]
        self.lists_seen.add(spot.path)
        for i, j, segment in matched.pairs:
            self.paired[spot.item(segment).path] = b[j]
            self.value(a[i], b[j], spot.item(segment))
        for i in matched.only_a:
            self.presence(a[i], None, spot.item(lone_segment(a[i], i, how)))
        for k, j in enumerate(matched.only_b):
            segment = str(len(a) + k) if self.stable and how.by_order else (
                lone_segment(b[j], j, how))
            self.paired[spot.item(segment).path] = b[j]
            self.presence(None, b[j], spot.item(segment))

    def _section_failed(self, generic: str, a_has_items: bool) -> bool:
        # The empty side's probe failed: its list is unknown, not empty.
        probes = SECTION_PROBES.get(generic, ())
        empty_side = self.failed[1] if a_has_items else self.failed[0]
        return any(name in empty_side for name in probes)

    def mappings(self, a: dict[str, Any], b: dict[str, Any], spot: Spot) -> None:
        # A key missing on one side is a real difference: the variable or option is unset.
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
                shown = [show_value(v, unset=True, path=child.generic) for v in (x, y)]
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
        change = f"{show_value(a, path=spot.generic)} -> {show_value(b, path=spot.generic)}"
        self.add(rule, spot, a, b, change=change, detail=rules.detail_for(rule, a, b))

    def presence(self, a: Any, b: Any, spot: Spot) -> None:
        rule = rules.rule_for(spot.generic)
        x, y = item_label(a), item_label(b)
        if not rule.presence:
            self.one_sided(x, y, spot)
            return
        change = f"only on A: {x}" if b is None else f"only on B: {y}"
        self.add(rule, spot, x, y, change=change)

    def one_sided(self, a: Any, b: Any, spot: Spot) -> None:
        rule = rules.rule_for(spot.generic)
        known, missing = ("A", "B") if b is None else ("B", "A")
        value = show_value(a if b is None else b, path=spot.generic)
        change = f"unknown on {missing}; {known}: {value}"
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
        return item_label(value)
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


def stable_segments(matched: Matched) -> Matched:
    """Pairs named by A's position alone (``compare``): "3", never "uuid=..." or "0~1"."""
    return Matched([(i, j, str(i)) for i, j, _ in matched.pairs], matched.only_a,
                   matched.only_b)


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


# A git checkout reads as its ``git describe`` ("b5308"), else its commit.
_LABEL_FIELDS = ("name", "model_name", "path", "version", "backend", "uuid", "index",
                 "describe", "commit")


def item_label(item: Any) -> Any:
    if item is None or not attrs.has(type(item)):
        return item
    for name in _LABEL_FIELDS:
        value = getattr(item, name, None)
        if value not in (None, ""):
            return value
    return type(item).__name__


def _labels(items: list[Any]) -> list[Any]:
    return [item_label(item) for item in items]


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


def show_value(value: Any, *, unset: bool = False, path: str = "") -> str:
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

