"""Properties of comparing results: ratios, which side is faster, noise, pooling, failures.

Results are plain mappings of a Result's shape (what ``result_view`` reads from an envelope)
or real :class:`Result` objects; no log is written, so these run in milliseconds.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.diffing import results as diff_results
from envstamp.diffing.model import Spread
from envstamp.stamping.results import Result, summarize

DIGEST = "sha256:" + "ab" * 32
SAMPLES = st.lists(st.floats(1.0, 1e4, allow_nan=False), min_size=1, max_size=6)


def _speed(name: str, samples: list[float], **params: Any) -> Result:
    return Result(manifest_digest=DIGEST, name=name, params=params,
                  metrics={"tokens_per_s": statistics.fmean(samples)},
                  metric_samples={"tokens_per_s": samples},
                  summary={"tokens_per_s": summarize(samples)})


def _timed(name: str, walls: list[float]) -> Result:
    return Result(manifest_digest=DIGEST, name=name, wall_s=walls,
                  summary={"wall_s": summarize(walls)})


def _only(comparison: diff_results.ResultsComparison) -> Any:
    (test,) = comparison.tests
    return test


# ------------------------------------------------------------------------------ ratios


@given(SAMPLES, SAMPLES)
def test_the_ratio_is_b_over_a_for_a_speed_and_mirrors(a: list[float], b: list[float]) -> None:
    forward = _only(diff_results.compare_results([_speed("tg128", a)], [_speed("tg128", b)]))
    backward = _only(diff_results.compare_results([_speed("tg128", b)], [_speed("tg128", a)]))
    expected = statistics.fmean(b) / statistics.fmean(a)
    assert forward.ratio == pytest.approx(round(expected, 4), abs=1e-9)
    assert backward.ratio == pytest.approx(round(1 / expected, 4), abs=1e-9)
    assert forward.higher_is_better and forward.metric == "tokens_per_s"
    assert forward.within_noise == backward.within_noise
    if forward.faster is None:
        assert backward.faster is None
    else:
        assert {forward.faster, backward.faster} == {"A", "B"}
        assert (forward.faster == "B") == (expected > 1)


@given(SAMPLES, SAMPLES)
def test_a_time_is_faster_when_it_is_shorter(a: list[float], b: list[float]) -> None:
    test = _only(diff_results.compare_results([_timed("load", a)], [_timed("load", b)]))
    assert test.metric == "wall_s" and not test.higher_is_better
    expected = statistics.fmean(a) / statistics.fmean(b)  # B took less: B is faster
    assert test.ratio == pytest.approx(round(expected, 4), abs=1e-9)
    if test.faster is not None:
        assert (test.faster == "B") == (expected > 1)


@given(SAMPLES, SAMPLES)
def test_a_gap_inside_the_spread_names_no_faster_side(a: list[float], b: list[float]) -> None:
    test = _only(diff_results.compare_results([_speed("pp", a)], [_speed("pp", b)]))
    sa, sb = summarize(a), summarize(b)
    if sa.stddev is None or sb.stddev is None:
        assert test.within_noise is None
    else:
        inside = abs(sa.mean - sb.mean) <= sa.stddev + sb.stddev
        assert test.within_noise is inside
        if inside:
            assert test.faster is None


def test_within_noise_is_unknown_without_a_spread() -> None:
    one = Spread(mean=10.0, stddev=None, n=1)
    two = Spread(mean=12.0, stddev=1.5, n=3)
    assert diff_results.within_noise(one, two) is None
    assert diff_results.within_noise(two, Spread(mean=14.9, stddev=1.5, n=3)) is True
    assert diff_results.within_noise(two, Spread(mean=15.1, stddev=1.5, n=3)) is False


# ----------------------------------------------------------------------------- pooling


@given(st.lists(SAMPLES, min_size=1, max_size=4))
def test_records_of_one_test_pool_into_the_spread_of_all_their_samples(
    groups: list[list[float]],
) -> None:
    views = [diff_results.result_view(_speed("tg", g)) for g in groups]
    pooled = diff_results.pool([v for v in views if v is not None])
    everything = [x for g in groups for x in g]
    assert pooled is not None and pooled.n == len(everything)
    assert pooled.mean == pytest.approx(statistics.fmean(everything), rel=1e-9)
    if len(everything) > 1:
        assert pooled.stddev == pytest.approx(statistics.stdev(everything), rel=1e-6,
                                              abs=1e-9)


def test_summaries_without_samples_pool_by_their_counts() -> None:
    a = Spread(mean=10.0, stddev=1.0, n=3, unit="t/s")
    b = Spread(mean=20.0, stddev=None, n=2, unit="t/s")
    views = [diff_results.ResultView("x", {}, "tokens_per_s", True, [], s) for s in (a, b)]
    pooled = diff_results.pool(views)
    assert pooled is not None and (pooled.mean, pooled.n) == (14.0, 5)
    assert pooled.stddev is None  # one of them has an unknown spread: so has the pool
    a2 = Spread(mean=10.0, stddev=1.0, n=3, unit="t/s")
    b2 = Spread(mean=20.0, stddev=2.0, n=2, unit="t/s")
    views = [diff_results.ResultView("x", {}, "tokens_per_s", True, [], s) for s in (a2, b2)]
    pooled = diff_results.pool(views)
    assert pooled is not None and pooled.mean == pytest.approx(14.0)
    assert pooled.stddev == pytest.approx(math.sqrt((2 * 1 + 1 * 4 + 3 * 16 + 2 * 36) / 4))


# ---------------------------------------------------------------------------- matching


def test_tests_match_by_parameters_before_by_name() -> None:
    a = [_speed("pp512", [100.0], n_gpu_layers=99), _speed("pp512", [50.0], n_gpu_layers=0)]
    b = [_speed("pp512", [40.0], n_gpu_layers=0), _speed("pp512", [120.0], n_gpu_layers=99)]
    found = diff_results.compare_results(a, b)
    pairs = {t.params["n_gpu_layers"]: t.ratio for t in found.tests}
    assert pairs == {99: 1.2, 0: 0.8}
    assert found.differences == []


def test_a_test_with_changed_parameters_is_compared_and_its_change_ranked() -> None:
    found = diff_results.compare_results([_speed("tg128", [50.0], n_threads=8)],
                                         [_speed("tg128", [60.0], n_threads=16)])
    assert _only(found).ratio == 1.2
    assert [(d.path, d.a, d.b) for d in found.differences] == [
        ("tests[tg128].params.n_threads", 8, 16)]


def test_a_test_on_one_side_only_has_no_ratio() -> None:
    found = diff_results.compare_results([_speed("pp512", [10.0])], [_speed("tg128", [5.0])])
    by_name = {t.name: t for t in found.tests}
    assert by_name["pp512"].b is None and by_name["pp512"].ratio is None
    assert by_name["tg128"].a is None and by_name["tg128"].faster is None


def test_a_failed_run_is_listed_apart_and_never_a_speed() -> None:
    crashed = Result(manifest_digest=DIGEST, name="tg128", wall_s=[0.2], failed=True,
                     exit_code=-4, exit_signal="SIGILL")
    found = diff_results.compare_results([_speed("tg128", [50.0])], [crashed])
    (failed,) = found.failed
    assert (failed.side, failed.name, failed.exit_code, failed.exit_signal) == (
        "B", "tg128", -4, "SIGILL")
    test = _only(found)
    assert test.b is None and test.ratio is None


@pytest.mark.parametrize(
    ("record", "failed"),
    [({"name": "x", "failed": True}, True), ({"name": "x", "exit_signal": "SIGKILL"}, True),
     ({"name": "x", "exit_code": 1}, True), ({"name": "x", "exit_code": 0}, False),
     ({"name": "x", "exit_code": True}, False), ({"name": "x"}, False)],
)
def test_what_counts_as_a_failed_run(record: dict[str, Any], failed: bool) -> None:
    assert diff_results.is_failed(record) is failed


@pytest.mark.parametrize(
    ("code", "signal_name", "expected"),
    [(-4, None, ("SIGILL",)), (132, None, ("128+SIGILL",)), (1, None, ()),
     (None, "SIGKILL", ("SIGKILL",)), (300, None, ())],
)
def test_a_signal_is_named_from_the_exit_code_where_none_was_stored(
    code: int | None, signal_name: str | None, expected: tuple[str, ...]
) -> None:
    text = diff_results.failure_text(code, signal_name)
    assert all(name in text for name in expected)
    assert ("SIG" in text) == bool(expected)


# -------------------------------------------------------------------------- the adapter


def test_a_mapping_and_a_result_read_alike() -> None:
    result = _speed("tg128", [40.0, 42.0, 44.0], n_gpu_layers=99)
    from envstamp.manifest.serialize import unstructure

    as_mapping = unstructure(result)
    assert diff_results.result_view(as_mapping) == diff_results.result_view(result)


def test_llama_bench_printed_mean_and_stddev_are_its_spread() -> None:
    record = {"name": "pp512", "metrics": {"avg_ts": 1200.5, "stddev_ts": 12.25},
              "params": {"n_reps": 5}}
    view = diff_results.result_view(record)
    assert view is not None and view.metric == "avg_ts"
    assert view.spread == Spread(mean=1200.5, stddev=12.25, n=5, unit="t/s")


@pytest.mark.parametrize("record", [{"name": ""}, {"name": "x"}, {"metrics": {"tps": 1.0}},
                                    {"name": "x", "wall_s": [math.nan, "1"]}])
def test_a_record_with_nothing_to_compare_gives_no_view(record: dict[str, Any]) -> None:
    assert diff_results.result_view(record) is None


def test_a_speed_that_is_not_a_number_is_never_compared() -> None:
    record = {"name": "tg", "metrics": {"tokens_per_s": math.nan}}
    view = diff_results.result_view(record)
    assert view is not None and view.spread is None
    test = _only(diff_results.compare_results([record], [_speed("tg", [5.0])]))
    assert test.ratio is None and test.faster is None and test.a is None
