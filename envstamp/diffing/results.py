"""The results side of a diff: tests matched by name and parameters, speed ratios with their
spread, and the headline that ties them to the ranked environment differences.

Result records come from :mod:`envstamp.stamping.results`; :func:`result_view` is the one
adapter that reads them (attribute or mapping access alike), so the rest of this module depends
only on the small :class:`ResultView` shape: a test name, its parameters, and a metric summary.

Three kinds of record never become a speed:

* a **failed** run (``Result.failed``, or for logs written before that field a non-zero
  ``exit_code``): its timings are how long it took to crash.  It is listed apart as a
  :class:`~envstamp.diffing.model.FailedRun` ("failed: exit 132 (SIGILL)");
* the wrapper's own result of ``envstamp run`` (``origin="run"``) when the same command also
  printed the benchmark's own results (``origin="run:<parser>"``): its whole-process wall
  time, model load included, is **context**, compared but never the headline;
* a parameter one side does not know (an output format that omits it) is "unknown on A",
  never a change; values read from rounded text compare within their precision
  (``Result.param_tolerance``).
"""

from __future__ import annotations

import json
import math
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from envstamp.diffing import rules
from envstamp.diffing.model import Difference, DiffReport, FailedRun, Spread, TestComparison
from envstamp.diffing.walk import Spot, make_difference, show_value

_T = TypeVar("_T")

# Throughput metrics, most preferred first; higher is better.  Other names ending in one of
# THROUGHPUT_SUFFIXES count as throughput too.
THROUGHPUT_METRICS = (
    "tokens_per_s",
    "tokens_per_second",
    "avg_ts",
    "eval_tps",
    "gen_tps",
    "tg_tps",
    "prompt_tps",
    "pp_tps",
    "output_throughput",  # vllm bench serve's generated tokens/s (its max_ is a peak)
)
THROUGHPUT_SUFFIXES = ("_per_s", "_per_second", "_tps", "_ts", "/s", "_throughput")

# Identifiers within one log (a llama-server request's task_id): they find the result again
# in that log and say nothing of how it ran, so they neither match tests nor differ.
_IDENTIFIER_PARAMS = frozenset({"task_id", "date"})  # "date": a harness's own run time
# Parameters that say how a test was run but never which test it is.
_NON_MATCHING_PARAMS = (
    # pytest-benchmark's rounds and iterations: how often it ran, chosen anew each session
    frozenset({"n_reps", "repetitions", "repeat", "warmup", "rounds", "iterations"})
    | _IDENTIFIER_PARAMS
)
# Origin of the wrapper's own result of ``envstamp run``; the benchmark's own results carry
# "run:<parser>".
WRAPPER_ORIGIN = "run"


@attrs.define
class ResultView:
    """One result record, reduced to what the diff needs."""

    name: str
    params: dict[str, Any]
    metric: str
    higher_is_better: bool
    samples: list[float]
    spread: Spread | None
    tolerance: dict[str, float] = attrs.field(factory=dict)
    origin: str | None = None
    context: bool = False
    setup: int | None = None
    unsigned: bool = False  # checked, and no signed head vouches for it: never pooled


@attrs.define
class SideResults:
    """One side's records, sorted: what can be compared as speed, and what failed."""

    views: list[ResultView] = attrs.field(factory=list)
    failed: list[FailedRun] = attrs.field(factory=list)


@attrs.define
class ResultsComparison:
    """What the results of two sides say: tests, parameter changes, unknowns, failures."""

    tests: list[TestComparison] = attrs.field(factory=list)
    differences: list[Difference] = attrs.field(factory=list)
    unknown: list[Difference] = attrs.field(factory=list)
    failed: list[FailedRun] = attrs.field(factory=list)


# ------------------------------------------------------------------------------ adapter


def _get(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _spread(summary: Any, unit: str | None) -> Spread | None:
    """A Spread from a summary object or mapping with mean / stddev / n."""
    if summary is None:
        return None
    mean = _number(_get(summary, "mean"))
    if mean is None:
        return None
    stddev = _number(_get(summary, "stddev"))
    n = _get(summary, "n")
    return Spread(mean=mean, stddev=stddev, n=n if isinstance(n, int) else None, unit=unit)


def _from_samples(samples: list[float], unit: str | None) -> Spread | None:
    if not samples:
        return None
    mean = sum(samples) / len(samples)
    stddev = None
    if len(samples) > 1:
        stddev = math.sqrt(sum((x - mean) ** 2 for x in samples) / (len(samples) - 1))
    return Spread(mean=mean, stddev=stddev, n=len(samples), unit=unit)


def is_throughput(name: str) -> bool:
    lowered = name.lower()
    return lowered in THROUGHPUT_METRICS or lowered.endswith(THROUGHPUT_SUFFIXES)


def _choose_metric(metrics: Mapping[str, Any], summaries: Mapping[str, Any]) -> str | None:
    names = [*summaries, *metrics]
    for preferred in THROUGHPUT_METRICS:
        if preferred in names:
            return preferred
    for name in names:
        if is_throughput(name) and not name.lower().startswith("stddev"):
            return name
    return None


def _summaries(record: Any) -> tuple[Any, dict[str, Any]]:
    """(wall-time summary, {metric: summary}) from whichever shape the record uses."""
    summary = _get(record, "summary")
    per_metric: dict[str, Any] = {}
    for key in ("metric_summaries", "metrics_summary", "summaries"):
        found = _get(record, key)
        if isinstance(found, Mapping):
            per_metric.update(found)
    if isinstance(summary, Mapping) and "mean" not in summary:
        per_metric.update({k: v for k, v in summary.items() if _get(v, "mean") is not None})
        summary = summary.get("wall_s") or summary.get("wall")
    return summary, per_metric


def _metric_values(value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for x in (_number(v) for v in value) if x is not None]
    number = _number(value)
    return [] if number is None else [number]


def result_view(record: Any) -> ResultView | None:
    """The adapter: any result record -> ResultView, or None when it has nothing to compare.

    Reads ``envstamp.stamping.results.Result`` (name, params, metrics, metric_samples, wall_s,
    summary per series, param_tolerance, origin) and plain mappings of the same shape
    (results inside an envelope), plus llama-bench's avg_ts / stddev_ts.  Whether the record
    failed is not its business: :func:`read_side` sorts failed records out first.
    """
    name = _get(record, "name")
    if not isinstance(name, str) or not name:
        return None
    params = _mapping(_get(record, "params"))
    metrics = _mapping(_get(record, "metrics"))
    metric_samples = _mapping(_get(record, "metric_samples"))
    wall, per_metric = _summaries(record)
    metric = _choose_metric(metrics, per_metric)
    origin = _get(record, "origin")
    origin = origin if isinstance(origin, str) else None
    tolerance = _tolerance(record)
    if metric is not None:
        samples = _metric_values(metric_samples.get(metric))
        spread = _spread(per_metric.get(metric), "t/s")
        if spread is None or spread.stddev is None:
            # llama-bench's Markdown and CSV print the mean and stddev of -r repetitions
            spread = _printed_spread(metric, metrics, params) or spread
        if spread is None:
            # A single reading is one sample; several records of a test pool into a spread.
            samples = samples or _metric_values(metrics.get(metric))
            spread = _from_samples(samples, "t/s")
        return ResultView(name, params, metric, True, samples, spread, tolerance, origin)
    samples = _metric_values(_get(record, "wall_s") or _get(record, "samples"))
    spread = _spread(wall, "s") or _from_samples(samples, "s")
    if spread is None:
        return None
    return ResultView(name, params, "wall_s", False, samples, spread, tolerance, origin)


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _tolerance(record: Any) -> dict[str, float]:
    """``Result.param_tolerance``: half the last printed unit of values read from text."""
    found = _mapping(_get(record, "param_tolerance"))
    return {str(k): float(v) for k, v in found.items() if _number(v) is not None and v >= 0}


def _printed_spread(
    metric: str, metrics: Mapping[str, Any], params: Mapping[str, Any]
) -> Spread | None:
    """Mean and stddev as llama-bench printed them, n from its repetitions."""
    if metric not in ("avg_ts", "tokens_per_s"):
        return None
    mean = _number(metrics.get(metric))
    stddev = _number(metrics.get("stddev_ts"))
    if mean is None or stddev is None:
        return None
    n = params.get("n_reps") or params.get("repetitions")
    return Spread(mean=mean, stddev=stddev, n=n if isinstance(n, int) else None, unit="t/s")


# ----------------------------------------------------------------------------- failures


def is_failed(record: Any) -> bool:
    """The measured command failed: ``failed`` set, a signal, or (logs written before those
    fields) a non-zero exit code."""
    if _get(record, "failed") is True or _get(record, "exit_signal"):
        return True
    code = _get(record, "exit_code")
    return isinstance(code, int) and not isinstance(code, bool) and code != 0


def failure_text(exit_code: int | None, exit_signal: str | None) -> str:
    """ "failed: exit 132 (SIGILL)", "failed: killed by SIGKILL", "failed: exit 1"."""
    if exit_code is None:
        return f"failed: killed by {exit_signal}" if exit_signal else "failed"
    name = exit_signal or _signal_name(exit_code)
    return f"failed: exit {exit_code} ({name})" if name else f"failed: exit {exit_code}"


def _signal_name(code: int) -> str | None:
    """SIGILL for -4 (Python's way) or 132 (a shell's 128 + 4), where no signal was stored."""
    number = -code if code < 0 else code - 128 if 128 < code < 128 + 65 else None
    if number is None:
        return None
    try:
        name = signal.Signals(number).name
    except ValueError:
        return None
    return name if code < 0 else f"128+{name}"


def failed_run(record: Any, side: str, setup: int | None = None) -> FailedRun:
    code = _get(record, "exit_code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    sig = _get(record, "exit_signal")
    sig = sig if isinstance(sig, str) and sig else None
    name = _get(record, "name")
    return FailedRun(
        side=side,
        name=name if isinstance(name, str) and name else "result",
        params=_mapping(_get(record, "params")),
        exit_code=code,
        exit_signal=sig,
        setup=setup,
        summary=failure_text(code, sig),
    )


# ------------------------------------------------------------------------------ sorting


def read_side(records: Iterable[Any], side: str, setup: int | None = None) -> SideResults:
    """Views of what can be compared as speed; failed records apart; the wrapper's result
    marked as context where the benchmark printed its own."""
    records = list(records)
    context = context_records(records)
    found = SideResults()
    for record in records:
        if is_failed(record):
            found.failed.append(failed_run(record, side, setup))
            continue
        view = _side_view(record, context, setup)
        if view is not None:
            found.views.append(view)
    return found


def _side_view(record: Any, context: set[int], setup: int | None) -> ResultView | None:
    """A record's view as one side of a diff reads it (context, setup, unsigned marked)."""
    view = result_view(record)
    if view is None:
        return None
    view.context = id(record) in context
    view.setup = setup
    view.unsigned = is_unsigned(record)
    return view


@attrs.define
class RecordGroup:
    """Records of one log (one setup) that are one test, as a diff pools them; ``views``
    are theirs, one for one, and empty for a failed record or one with nothing to compare
    (such a record is a group of its own)."""

    records: list[Any]
    views: list[ResultView]


def group_records(records: Iterable[Any]) -> list[RecordGroup]:
    """The records of one setup grouped as :func:`compare_sides` pools them (same name,
    metric, context, signed state and parameters), in the order each test first appears:
    ``envstamp show`` prints one row per group, with the numbers diff would print."""
    records = list(records)
    context = context_records(records)
    read = [(r, None if is_failed(r) else _side_view(r, context, None)) for r in records]
    return [
        RecordGroup([r for r, _ in group], [v for _, v in group if v is not None])
        for group in _pooled(read, lambda pair: pair[1])
    ]


def is_unsigned(record: Any) -> bool:
    """A result whose log was checked with a trusted key and that no signed head vouches
    for (``signed_by == ()``): anyone may have written its numbers.  Not one whose log
    nothing could check (``signed_by`` None): the log's label says that once."""
    signed_by = _get(record, "signed_by")
    return isinstance(signed_by, tuple) and not signed_by


def context_records(records: Sequence[Any]) -> set[int]:
    """ids of the wrapper's own results that are context: ``origin="run"`` beside results
    the same command printed (``origin="run:<parser>"``).  Logs written before those origins
    store every result of a run with ``origin="run"``, the wrapper's first: a group of them
    with other names after the first is read the same way."""
    groups: dict[str, list[Any]] = {}
    for record in records:
        origin = _get(record, "origin")
        if isinstance(origin, str) and (origin == WRAPPER_ORIGIN or origin.startswith("run:")):
            key = json.dumps([_get(record, "command"), _get(record, "output_digest")],
                             default=str)
            groups.setdefault(key, []).append(record)
    found: set[int] = set()
    for members in groups.values():
        if any(_get(m, "origin") != WRAPPER_ORIGIN for m in members):
            found.update(id(m) for m in members if _get(m, "origin") == WRAPPER_ORIGIN)
        elif any(_get(m, "name") != _get(members[0], "name") for m in members[1:]):
            found.add(id(members[0]))
    return found


# ---------------------------------------------------------------------------- matching


def _matching(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in _NON_MATCHING_PARAMS}


def same_param(key: str, x: Any, y: Any, tol_a: Mapping[str, float] | None = None,
               tol_b: Mapping[str, float] | None = None) -> bool:
    """Equal, or within the precision of the text they were read from (tol_a + tol_b)."""
    if x == y and type(x) is type(y):
        return True
    if isinstance(x, bool) or isinstance(y, bool):
        return False
    nx, ny = _number(x), _number(y)
    if nx is not None and ny is not None:
        allowed = (tol_a or {}).get(key, 0.0) + (tol_b or {}).get(key, 0.0)
        if abs(nx - ny) <= allowed:
            return True
    return rules.equal(rules.rule_for(f"tests[].params.{key}"), x, y)


def same_test(a: ResultView, b: ResultView) -> bool:
    """The same test, and both signed or both unsigned: an unsigned number is never pooled
    with signed ones, nor compared with them; unsigned ones are compared apart."""
    return (
        a.name == b.name
        and a.metric == b.metric
        and a.context == b.context
        and a.unsigned == b.unsigned
    )


def params_same(a: ResultView, b: ResultView) -> bool:
    """The same parameters, each within its precision."""
    pa, pb = _matching(a.params), _matching(b.params)
    return pa.keys() == pb.keys() and all(
        same_param(k, pa[k], pb[k], a.tolerance, b.tolerance) for k in pa
    )


def params_compatible(a: ResultView, b: ResultView) -> bool:
    """No parameter known on both sides differs (one side may not know some)."""
    pa, pb = _matching(a.params), _matching(b.params)
    return all(
        same_param(k, pa[k], pb[k], a.tolerance, b.tolerance)
        for k in pa.keys() & pb.keys()
        if pa[k] is not None and pb[k] is not None
    )


def group_views(views: list[ResultView]) -> list[list[ResultView]]:
    """Records of one test on one side, pooled: same name, metric and parameters (diff
    compares such groups, show prints one row each, report draws one bar each)."""
    return _pooled(views, lambda view: view)


def _pooled(items: list[_T], view_of: Callable[[_T], ResultView | None]) -> list[list[_T]]:
    """``items`` grouped by :func:`_same_row` of their views, in the order each group first
    appears; an item without a view is a group of its own."""
    groups: list[list[_T]] = []
    for item in items:
        view = view_of(item)
        home = None
        if view is not None:
            home = next((g for g in groups if _same_row_or_none(view_of(g[0]), view)), None)
        if home is None:
            groups.append([item])
        else:
            home.append(item)
    return groups


def _same_row_or_none(a: ResultView | None, b: ResultView) -> bool:
    return a is not None and _same_row(a, b)


def _same_row(a: ResultView, b: ResultView) -> bool:
    """Two records of one test that a side pools: same test and parameters."""
    return same_test(a, b) and params_same(a, b)


def pool(views: list[ResultView]) -> Spread | None:
    """One spread for several records of the same test on one side."""
    if len(views) == 1:
        return views[0].spread
    if all(v.samples for v in views) and all(
        v.spread is None or v.spread.n is None or v.spread.n == len(v.samples) for v in views
    ):
        samples = [x for v in views for x in v.samples]
        return _from_samples(samples, views[0].spread.unit if views[0].spread else None)
    spreads = [v.spread for v in views if v.spread is not None]
    if not spreads:
        return None
    weights = [s.n or 1 for s in spreads]
    total = sum(weights)
    mean = sum(s.mean * w for s, w in zip(spreads, weights, strict=True)) / total
    if total < 2 or any(s.stddev is None for s in spreads):
        return Spread(mean=mean, stddev=None, n=total, unit=spreads[0].unit)
    within = sum((w - 1) * (s.stddev or 0.0) ** 2 for s, w in zip(spreads, weights, strict=True))
    between = sum(w * (s.mean - mean) ** 2 for s, w in zip(spreads, weights, strict=True))
    stddev = math.sqrt((within + between) / (total - 1))
    return Spread(mean=mean, stddev=stddev, n=total, unit=spreads[0].unit)


def compare_results(a: Iterable[Any], b: Iterable[Any]) -> ResultsComparison:
    """Tests matched by name and parameters (then by parameters compatible within their
    precision, then by name alone, reporting the parameters that differ), each with its
    speed ratio and spread; failed runs apart."""
    return compare_sides(read_side(a, "A"), read_side(b, "B"))


def compare_sides(side_a: SideResults, side_b: SideResults) -> ResultsComparison:
    groups_a, groups_b = group_views(side_a.views), group_views(side_b.views)
    found = ResultsComparison(failed=[*side_a.failed, *side_b.failed])
    pairs: list[tuple[list[ResultView], list[ResultView]]] = []
    for fits in (params_same, params_compatible, lambda _a, _b: True):
        for group_a in list(groups_a):
            group_b = next(
                (g for g in groups_b if same_test(group_a[0], g[0]) and fits(group_a[0], g[0])),
                None,
            )
            if group_b is not None:
                groups_a.remove(group_a)
                groups_b.remove(group_b)
                pairs.append((group_a, group_b))
    for views_a, views_b in pairs:
        found.tests.append(compare_test(views_a, views_b))
        diffs, unknown = param_report(views_a[0], views_b[0])
        found.differences += diffs
        found.unknown += unknown
    found.tests += [one_sided(views, "A", side_b.failed) for views in groups_a]
    found.tests += [one_sided(views, "B", side_a.failed) for views in groups_b]
    # the benchmark's own results first, the wrapper's whole-process time after them
    found.tests.sort(key=lambda t: t.context)
    found.differences = dedupe(found.differences)
    found.unknown = dedupe(found.unknown)
    return found


def compare_setups(
    sides_a: Sequence[SideResults], sides_b: Sequence[SideResults],
    pairs: Iterable[tuple[int, int]],
) -> ResultsComparison:
    """Results of logs that hold several setups, compared setup with paired setup: a test
    only on one side of a pair but compared in another pair is not "only on" anywhere."""
    found = ResultsComparison(failed=[f for side in (*sides_a, *sides_b) for f in side.failed])
    lonely: list[TestComparison] = []
    compared: set[str] = set()
    for i, j in pairs:
        side_a = SideResults(views=sides_a[i].views, failed=sides_a[i].failed)
        side_b = SideResults(views=sides_b[j].views, failed=sides_b[j].failed)
        part = compare_sides(side_a, side_b)
        for t in part.tests:
            if t.a is not None and t.b is not None:
                found.tests.append(t)
                compared.update((_test_key(t, "A"), _test_key(t, "B")))
            else:
                lonely.append(t)
        found.differences += part.differences
        found.unknown += part.unknown
    seen: set[str] = set()
    for t in lonely:
        key = _test_key(t, "A" if t.a is not None else "B")
        if key not in compared and key not in seen:
            seen.add(key)
            found.tests.append(t)
    found.tests.sort(key=lambda t: t.context)
    found.differences = dedupe(found.differences)
    found.unknown = dedupe(found.unknown)
    return found


def _test_key(t: TestComparison, side: str) -> str:
    setup = t.setup_a if side == "A" else t.setup_b
    return json.dumps([side, setup, t.name, t.metric, t.context], default=str)


def param_report(a: ResultView, b: ResultView) -> tuple[list[Difference], list[Difference]]:
    """Parameters that differ (ranked), and those one side does not know (never ranked)."""
    changed: list[Difference] = []
    unknown: list[Difference] = []
    for name in sorted(set(a.params) | set(b.params)):
        x, y = a.params.get(name), b.params.get(name)
        if (x is None and y is None) or name in _IDENTIFIER_PARAMS:
            continue
        generic = f"tests[].params.{name}"
        rule = rules.rule_for(generic)
        spot = Spot(f"tests[{a.name}].params.{name}", generic)
        if x is None or y is None:
            side, value = ("A", y) if x is None else ("B", x)
            other = "B" if side == "A" else "A"
            change = f"unknown on {side}; {other}: {_show(value, _tol(name, a, b, other))}"
            unknown.append(make_difference(rule, spot, x, y, change=change))
            continue
        if same_param(name, x, y, a.tolerance, b.tolerance):
            continue
        change = f"{_show(x, a.tolerance.get(name))} -> {_show(y, b.tolerance.get(name))}"
        detail = rules.detail_for(rule, x, y)
        changed.append(make_difference(rule, spot, x, y, change=change, detail=detail))
    return changed, unknown


def _tol(name: str, a: ResultView, b: ResultView, side: str) -> float | None:
    return (a if side == "A" else b).tolerance.get(name)


def dedupe(found: list[Difference]) -> list[Difference]:
    """One entry per parameter change, however many tests share it."""
    seen: set[tuple[str, str]] = set()
    kept: list[Difference] = []
    for d in found:
        key = (d.pattern, d.change)
        if key not in seen:
            seen.add(key)
            kept.append(d)
    return kept


def _show(value: Any, tolerance: float | None = None) -> str:
    text = show_value(value, unset=True)
    if tolerance:
        return f"{text} ± {tolerance:g}"
    return text


# ------------------------------------------------------------------------------ ratios


def compare_test(views_a: list[ResultView], views_b: list[ResultView]) -> TestComparison:
    first, other = views_a[0], views_b[0]
    shared = {
        k: v for k, v in first.params.items()
        if k in other.params and same_param(k, v, other.params[k], first.tolerance,
                                            other.tolerance)
    }
    spread_a, spread_b = pool(views_a), pool(views_b)
    comparison = TestComparison(
        name=first.name,
        params=shared,
        metric=first.metric,
        higher_is_better=first.higher_is_better,
        a=spread_a,
        b=spread_b,
        context=first.context,
        setup_a=first.setup,
        setup_b=other.setup,
        unsigned=first.unsigned,
    )
    if spread_a is None or spread_b is None or spread_a.mean <= 0 or spread_b.mean <= 0:
        comparison.summary = f"{test_label(comparison)}: no usable numbers on both sides"
        return comparison
    ratio = spread_b.mean / spread_a.mean
    if not first.higher_is_better:
        ratio = 1 / ratio
    comparison.ratio = round(ratio, 4)
    comparison.within_noise = within_noise(spread_a, spread_b)
    if comparison.within_noise is not True and ratio != 1:
        comparison.faster = "B" if ratio > 1 else "A"
    comparison.summary = summary_line(comparison)
    return comparison


def within_noise(a: Spread, b: Spread) -> bool | None:
    """The gap between the means is inside the sum of the standard deviations."""
    if a.stddev is None or b.stddev is None:
        return None
    return abs(a.mean - b.mean) <= a.stddev + b.stddev


def one_sided(views: list[ResultView], side: str, failed_other: Sequence[FailedRun] = ()
              ) -> TestComparison:
    first = views[0]
    spread = pool(views)
    other = "B" if side == "A" else "A"
    t = TestComparison(
        name=first.name,
        params=dict(first.params),
        metric=first.metric,
        higher_is_better=first.higher_is_better,
        a=spread if side == "A" else None,
        b=spread if side == "B" else None,
        context=first.context,
        setup_a=first.setup if side == "A" else None,
        setup_b=first.setup if side == "B" else None,
        unsigned=first.unsigned,
    )
    crashed = next((f for f in failed_other if f.name == first.name), None)
    why = f"{other}'s run {crashed.summary}" if crashed else f"no matching test on {other}"
    t.summary = f"{test_label(t)}: only on {side} ({why})"
    return t


def format_spread(spread: Spread | None) -> str:
    if spread is None:
        return "-"
    unit = f" {spread.unit}" if spread.unit else ""
    places = _places(spread.mean)
    sd = f" ± {spread.stddev:.{places}f}" if spread.stddev is not None else ""
    n = f" (n={spread.n})" if spread.n is not None else ""
    return f"{spread.mean:.{places}f}{sd}{unit}{n}"


def _places(value: float) -> int:
    """Decimals that show a mean to about four significant digits."""
    size = abs(value)
    if size >= 1000:
        return 0
    if size >= 100:
        return 1
    if size >= 1:
        return 2
    return 4


def test_label(t: TestComparison) -> str:
    """ "tg128", or "tg128 [B setup 2]" when a side's log holds several setups."""
    setups = [f"{side} setup {n}" for side, n in (("A", t.setup_a), ("B", t.setup_b))
              if n is not None]
    label = f"{t.name} [{', '.join(setups)}]" if setups else t.name
    return f"{label} [unsigned]" if t.unsigned else label


def speed_phrase(t: TestComparison) -> str:
    """ "B is 1.34x faster on tg128" / "tg128 within noise (1.01x)"."""
    if t.ratio is None:
        return t.summary
    label = test_label(t)
    if t.faster is None:
        noise = "within noise" if t.within_noise else "no difference"
        return f"{label}: {noise} (B/A {t.ratio:.2f}x)"
    factor = t.ratio if t.faster == "B" else 1 / t.ratio
    unsure = "" if t.within_noise is False else " (spread unknown)"
    return f"{t.faster} is {factor:.2f}x faster on {label}{unsure}"


def summary_line(t: TestComparison) -> str:
    return f"{speed_phrase(t)}; A {format_spread(t.a)}, B {format_spread(t.b)}"


# ---------------------------------------------------------------------------- headline

MAX_CAUSES = 5


def likely_causes(report: DiffReport) -> list[str]:
    """The top identity differences (high, then medium), one per component (a new build
    changes its number and its commit: one cause), then notable state at capture."""
    return causes_of(report.differences, report.state)


def causes_of(differences: list[Difference], state: list[Difference]) -> list[str]:
    """Likely causes from ranked differences and ranked state at capture."""
    causes = _per_component(differences)[:MAX_CAUSES]
    room = max(MAX_CAUSES - len(causes), 1)
    causes += ["at capture: " + c for c in _per_component(state)[:room]]
    return causes


def _per_component(entries: list[Difference]) -> list[str]:
    seen: set[str] = set()
    found = []
    for d in entries:
        if d.impact in ("high", "medium") and d.under is None and d.component not in seen:
            seen.add(d.component)
            found.append(f"{d.label} {d.change}")
    return found


def headline(report: DiffReport) -> str:
    """The one-line answer: the biggest real speed gap and its likely causes (those of the
    report: of the setup pair behind that gap when a log holds several); then what was not
    compared (failed runs) and how the logs' setups were paired."""
    speed = _speed_headline(report)
    return "; ".join(filter(None, (speed, failed_note(report.failed), setups_note(report))))


def top_gap(tests: Sequence[TestComparison]) -> TestComparison | None:
    """The benchmark's own test with the biggest speed gap, a gap beyond its spreads
    outranking one whose spread is unknown; None when no own test differs."""
    gaps = [t for t in headline_tests(tests) if t.faster is not None and t.ratio]
    sure = [t for t in gaps if t.within_noise is False] or gaps
    if not sure:
        return None
    return max(sure, key=lambda t: abs(math.log(t.ratio or 1.0)))


def headline_tests(tests: Sequence[TestComparison]) -> list[TestComparison]:
    """The tests a headline speaks of: the benchmark's own (not context), and of those the
    signed ones while any of them compares - unsigned results only when nothing else does
    (their label says "[unsigned]")."""
    own = [t for t in tests if not t.context]
    signed = [t for t in own if not t.unsigned]
    return signed if any(t.ratio for t in signed) or not any(t.ratio for t in own) else own


def _speed_headline(report: DiffReport) -> str:
    own = headline_tests(report.tests)
    causes = "; ".join(report.likely_causes)
    top = top_gap(report.tests)
    if top is not None:
        if causes:
            return f"{speed_phrase(top)}; likely causes: {causes}"
        return f"{speed_phrase(top)}; envstamp records no difference that explains it"
    if any(t.ratio for t in own):
        lead = "no speed gap beyond noise"
        return f"{lead}; differences: {causes}" if causes else lead
    if own:
        in_a = sum(t.b is None for t in own)
        in_b = sum(t.a is None for t in own)
        return (
            f"no test ran on both sides ({in_a} only on A, {in_b} only on B); "
            + _environment_headline(report)
        )
    if report.failed:
        return "no result to compare; " + _environment_headline(report)
    return _environment_headline(report)


def failed_note(failed: Sequence[FailedRun]) -> str:
    """ "not compared as speed: 1 failed run (B llama-bench failed: exit 132 (SIGILL))"."""
    if not failed:
        return ""
    shown = ", ".join(f"{f.side} {f.name} {f.summary}" for f in failed[:3])
    more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
    noun = "run" if len(failed) == 1 else "runs"
    return f"not compared as speed: {len(failed)} failed {noun} ({shown}{more})"


def setups_note(report: DiffReport) -> str:
    """ "B's log holds 2 setups, compared apart (setup 2: env.OMP_NUM_THREADS: unset -> 3)"."""
    notes = []
    for side in ("A", "B"):
        setups = [s for s in report.setups if s.side == side]
        if len(setups) < 2:
            continue
        changed = [f"setup {s.index}: {', '.join(s.changes[:3]) or 'no ranked difference'}"
                   for s in setups[1:]]
        notes.append(f"{side}'s log holds {len(setups)} setups, compared apart "
                     f"({'; '.join(changed)})")
    return "; ".join(notes)


def _environment_headline(report: DiffReport) -> str:
    if report.same_identity:
        states = [d for d in report.state if d.impact in ("high", "medium")]
        if states:
            return "no identity difference; state at capture differs: " + "; ".join(
                f"{d.label} {d.change}" for d in states[:3]
            )
        return "no identity difference"
    ranked = [f"{report.counts.get(i, 0)} {i}" for i in ("high", "medium", "low")
              if report.counts.get(i)]
    top = next(d for d in report.differences if d.under is None)
    total = sum(report.counts.get(i, 0) for i in ("high", "medium", "low"))
    noun = "difference" if total == 1 else "differences"
    return (f"{total} {noun} that may change speed ({', '.join(ranked)}); "
            f"top: {top.label} {top.change}")
