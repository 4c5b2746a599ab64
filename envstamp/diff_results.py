"""The results side of a diff: tests matched by name and parameters, speed ratios with their
spread, and the headline that ties them to the ranked environment differences.

Result records come from :mod:`envstamp.results`; :func:`result_view` is the one adapter that
reads them (attribute or mapping access alike), so the rest of this module depends only on
the small :class:`ResultView` shape: a test name, its parameters, and a metric summary.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from envstamp import rules
from envstamp.diff_model import Difference, DiffReport, Spread, TestComparison
from envstamp.diff_walk import Spot, make_difference, show_value

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
)
THROUGHPUT_SUFFIXES = ("_per_s", "_per_second", "_tps", "_ts", "/s")
TIME_METRICS = ("wall_s", "wall_time_s", "seconds", "time_s", "duration_s")

# Parameters that say how a test was run but never which test it is.
_NON_MATCHING_PARAMS = frozenset({"n_reps", "repetitions", "repeat", "warmup"})


@attrs.define
class ResultView:
    """One result record, reduced to what the diff needs."""

    name: str
    params: dict[str, Any]
    metric: str
    higher_is_better: bool
    samples: list[float]
    spread: Spread | None


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

    Reads ``envstamp.results.Result`` (name, params, metrics, metric_samples, wall_s,
    summary per series) and plain mappings of the same shape (results inside an envelope),
    plus llama-bench's avg_ts / stddev_ts.
    """
    name = _get(record, "name")
    if not isinstance(name, str) or not name:
        return None
    params = _mapping(_get(record, "params"))
    metrics = _mapping(_get(record, "metrics"))
    metric_samples = _mapping(_get(record, "metric_samples"))
    wall, per_metric = _summaries(record)
    metric = _choose_metric(metrics, per_metric)
    if metric is not None:
        samples = _metric_values(metric_samples.get(metric))
        spread = _spread(per_metric.get(metric), "t/s") or _llama_bench_spread(metrics, params)
        if spread is None:
            # A single reading is one sample; several records of a test pool into a spread.
            samples = samples or _metric_values(metrics.get(metric))
            spread = _from_samples(samples, "t/s")
        return ResultView(name, params, metric, True, samples, spread)
    samples = _metric_values(_get(record, "wall_s") or _get(record, "samples"))
    spread = _spread(wall, "s") or _from_samples(samples, "s")
    if spread is None:
        return None
    return ResultView(name, params, "wall_s", False, samples, spread)


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _llama_bench_spread(metrics: Mapping[str, Any], params: Mapping[str, Any]) -> Spread | None:
    mean = _number(metrics.get("avg_ts"))
    if mean is None:
        return None
    n = params.get("n_reps") or params.get("repetitions")
    return Spread(
        mean=mean,
        stddev=_number(metrics.get("stddev_ts")),
        n=n if isinstance(n, int) else None,
        unit="t/s",
    )


# ---------------------------------------------------------------------------- matching


def _key(view: ResultView) -> str:
    params = {k: v for k, v in view.params.items() if k not in _NON_MATCHING_PARAMS}
    return json.dumps([view.name, view.metric, params], sort_keys=True, default=str)


def pool(views: list[ResultView]) -> Spread | None:
    """One spread for several records of the same test on one side."""
    if len(views) == 1:
        return views[0].spread
    if all(v.samples for v in views):
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


def _group(records: Iterable[Any]) -> dict[str, list[ResultView]]:
    groups: dict[str, list[ResultView]] = {}
    for record in records:
        view = result_view(record)
        if view is not None:
            groups.setdefault(_key(view), []).append(view)
    return groups


def compare_results(
    a: list[Any], b: list[Any]
) -> tuple[list[TestComparison], list[Difference]]:
    """Tests matched by name and parameters (then by name alone, reporting the parameters
    that differ), each with its speed ratio and spread."""
    groups_a, groups_b = _group(a), _group(b)
    tests: list[TestComparison] = []
    param_diffs: list[Difference] = []
    for key in [k for k in groups_a if k in groups_b]:
        tests.append(compare_test(groups_a.pop(key), groups_b.pop(key)))
    for key_a in list(groups_a):
        first = groups_a[key_a][0]
        key_b = next(
            (k for k, views in groups_b.items()
             if views[0].name == first.name and views[0].metric == first.metric),
            None,
        )
        if key_b is None:
            continue
        views_a, views_b = groups_a.pop(key_a), groups_b.pop(key_b)
        tests.append(compare_test(views_a, views_b))
        param_diffs.extend(param_differences(first.name, first.params, views_b[0].params))
    tests += [one_sided(views, "A") for views in groups_a.values()]
    tests += [one_sided(views, "B") for views in groups_b.values()]
    return tests, dedupe(param_diffs)


def param_differences(
    test: str, a: dict[str, Any], b: dict[str, Any]
) -> list[Difference]:
    found = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name), b.get(name)
        generic = f"tests[].params.{name}"
        rule = rules.rule_for(generic)
        if x is not None and y is not None and rules.equal(rule, x, y):
            continue
        change = f"{_show(x)} -> {_show(y)}"
        spot = Spot(f"tests[{test}].params.{name}", generic)
        detail = rules.detail_for(rule, x, y)
        found.append(make_difference(rule, spot, x, y, change=change, detail=detail))
    return found


def dedupe(found: list[Difference]) -> list[Difference]:
    """One entry per parameter change, however many tests share it."""
    seen: dict[tuple[str, str], int] = {}
    kept: list[Difference] = []
    for d in found:
        key = (d.pattern, d.change)
        if key in seen:
            continue
        seen[key] = len(kept)
        kept.append(d)
    return kept


def _show(value: Any) -> str:
    return show_value(value, unset=True)


# ------------------------------------------------------------------------------ ratios


def compare_test(views_a: list[ResultView], views_b: list[ResultView]) -> TestComparison:
    first = views_a[0]
    shared = {k: v for k, v in first.params.items() if views_b[0].params.get(k) == v}
    spread_a, spread_b = pool(views_a), pool(views_b)
    comparison = TestComparison(
        name=first.name,
        params=shared,
        metric=first.metric,
        higher_is_better=first.higher_is_better,
        a=spread_a,
        b=spread_b,
    )
    if spread_a is None or spread_b is None or spread_a.mean <= 0 or spread_b.mean <= 0:
        comparison.summary = f"{first.name}: no usable numbers on both sides"
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


def one_sided(views: list[ResultView], side: str) -> TestComparison:
    first = views[0]
    spread = pool(views)
    other = "B" if side == "A" else "A"
    return TestComparison(
        name=first.name,
        params=dict(first.params),
        metric=first.metric,
        higher_is_better=first.higher_is_better,
        a=spread if side == "A" else None,
        b=spread if side == "B" else None,
        summary=f"{first.name}: only on {side} (no matching test on {other})",
    )


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


def speed_phrase(t: TestComparison) -> str:
    """ "B is 1.34x faster on tg128" / "tg128 within noise (1.01x)"."""
    if t.ratio is None:
        return t.summary
    if t.faster is None:
        noise = "within noise" if t.within_noise else "no difference"
        return f"{t.name}: {noise} (B/A {t.ratio:.2f}x)"
    factor = t.ratio if t.faster == "B" else 1 / t.ratio
    unsure = "" if t.within_noise is False else " (spread unknown)"
    return f"{t.faster} is {factor:.2f}x faster on {t.name}{unsure}"


def summary_line(t: TestComparison) -> str:
    return f"{speed_phrase(t)}; A {format_spread(t.a)}, B {format_spread(t.b)}"


# ---------------------------------------------------------------------------- headline

MAX_CAUSES = 5


def likely_causes(report: DiffReport) -> list[str]:
    """The top identity differences (high, then medium), one per component (a new build
    changes its number and its commit: one cause), then notable state at capture."""
    causes = _per_component(report.differences)[:MAX_CAUSES]
    room = max(MAX_CAUSES - len(causes), 1)
    causes += ["at capture: " + c for c in _per_component(report.state)[:room]]
    return causes


def _per_component(entries: list[Difference]) -> list[str]:
    seen: set[str] = set()
    found = []
    for d in entries:
        if d.impact in ("high", "medium") and d.component not in seen:
            seen.add(d.component)
            found.append(f"{d.label} {d.change}")
    return found


def headline(report: DiffReport) -> str:
    """The one-line answer: the biggest real speed gap and its likely causes."""
    gaps = [t for t in report.tests if t.faster is not None and t.ratio]
    causes = "; ".join(report.likely_causes)
    if gaps:
        top = max(gaps, key=lambda t: abs(math.log(t.ratio or 1.0)))
        if causes:
            return f"{speed_phrase(top)}; likely causes: {causes}"
        return f"{speed_phrase(top)}; envstamp records no difference that explains it"
    if report.tests and any(t.ratio for t in report.tests):
        lead = "no speed gap beyond noise"
        return f"{lead}; differences: {causes}" if causes else lead
    if report.tests:
        in_a = sum(t.b is None for t in report.tests)
        in_b = sum(t.a is None for t in report.tests)
        return (
            f"no test ran on both sides ({in_a} only on A, {in_b} only on B); "
            + _environment_headline(report)
        )
    return _environment_headline(report)


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
    top = report.differences[0]
    return (
        f"{sum(report.counts.get(i, 0) for i in ('high', 'medium', 'low'))} differences "
        f"that may change speed ({', '.join(ranked)}); top: {top.label} {top.change}"
    )
