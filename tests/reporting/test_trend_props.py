"""Properties of ``trend``: the order does not depend on the order of the inputs, a step is
flagged exactly when the asv-style rule says so (checked against statistics computed here,
independently), and ``--fail-on`` fails on exactly the slowdowns it names."""

from __future__ import annotations

import functools
import hashlib
import itertools
import statistics
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.manifest.model import Manifest
from envstamp.reporting.trend import trend_of
from envstamp.reporting.trend_render import render_text, to_json
from envstamp.stamping.results import Result, summarize
from tests.reporting.reporting_support import build_manifest


@functools.lru_cache(maxsize=64)
def _manifest(number: int) -> Manifest:
    return build_manifest(number, f"{number:08x}")


def _result(manifest: Manifest, name: str, samples: list[float]) -> Result:
    digest = "sha256:" + hashlib.sha256(str(manifest.identity_digest).encode()).hexdigest()
    result = Result(
        manifest_digest=digest,
        name=name,
        origin="record",
        metrics={"tokens_per_s": statistics.fmean(samples)},
        metric_samples={"tokens_per_s": samples},
        summary={"tokens_per_s": summarize(samples)},
    )
    result.manifest = manifest
    return result


samples = st.lists(st.floats(min_value=1.0, max_value=1000.0), min_size=1, max_size=5)
builds = st.lists(st.integers(min_value=1, max_value=9000), min_size=1, max_size=4, unique=True)


def _records(numbers: list[int], speeds: list[list[float]]) -> tuple[list[Any], dict[int, str]]:
    records = [_result(_manifest(n), "tg", s) for n, s in zip(numbers, speeds, strict=True)]
    return records, {id(r): f"b{n}.jsonl" for r, n in zip(records, numbers, strict=True)}


@settings(max_examples=25, deadline=None)
@given(data=st.data(), numbers=builds)
def test_the_order_is_the_builds_whatever_the_inputs_order(
    data: st.DataObject, numbers: list[int]
) -> None:
    speeds = [data.draw(samples) for _ in numbers]
    records, sources = _records(numbers, speeds)
    shuffled = data.draw(st.permutations(records))
    first, second = trend_of(records, sources), trend_of(shuffled, sources)
    assert [p.build_number for p in first.points] == sorted(numbers)
    assert to_json(first) == to_json(second)
    assert render_text(first) == render_text(second)


@settings(max_examples=40, deadline=None)
@given(numbers=st.lists(st.integers(1, 9000), min_size=2, max_size=4, unique=True),
       data=st.data(), factor=st.floats(min_value=1.01, max_value=3.0))  # fmt: skip
def test_a_step_is_flagged_exactly_when_factor_and_spreads_say_so(
    numbers: list[int], data: st.DataObject, factor: float
) -> None:
    speeds = [data.draw(samples) for _ in numbers]
    records, sources = _records(numbers, speeds)
    trend = trend_of(records, sources, factor=factor)
    by_number = dict(zip(numbers, speeds, strict=True))
    ordered = [by_number[n] for n in sorted(numbers)]
    assert len(trend.steps) == len(numbers) - 1
    for step, (before, after) in zip(trend.steps, itertools.pairwise(ordered), strict=True):
        ma, mb = statistics.fmean(before), statistics.fmean(after)
        assert abs(step.a.mean - ma) <= 1e-9 * ma and abs(step.b.mean - mb) <= 1e-9 * mb
        speedup = mb / ma
        assert abs(step.speedup - speedup) <= 1e-4 * max(1.0, speedup)  # diff rounds to 4
        if len(before) > 1 and len(after) > 1:
            spread = statistics.stdev(before) + statistics.stdev(after)
            apart = abs(mb - ma) > spread
            assert step.within_noise is (not apart) or abs(abs(mb - ma) - spread) < 1e-9
        else:
            assert step.within_noise is None
        beyond = step.speedup >= factor or step.speedup <= 1 / factor
        assert step.flagged == (beyond and step.within_noise is not True)


@settings(max_examples=40, deadline=None)
@given(numbers=st.lists(st.integers(1, 9000), min_size=2, max_size=4, unique=True),
       data=st.data(), at_least=st.floats(min_value=1.01, max_value=4.0))  # fmt: skip
def test_fail_on_fails_on_exactly_the_slowdowns_beyond_noise(
    numbers: list[int], data: st.DataObject, at_least: float
) -> None:
    speeds = [data.draw(samples) for _ in numbers]
    records, sources = _records(numbers, speeds)
    trend = trend_of(records, sources)
    failing = trend.slowdowns(at_least)
    for step in trend.steps:
        counts = step.speedup < 1 and 1 / step.speedup >= at_least and step.within_noise is not True
        assert (step in failing) == counts
    assert all(s.phrase.endswith("slower") for s in failing)
