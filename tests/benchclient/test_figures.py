"""benchclient/figures and prompts: per-request figures, level statistics, prompt sizes."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.benchclient import figures, prompts
from envstamp.benchclient.apis import ServerFigures, StreamReading


def test_request_figures_from_token_times() -> None:
    reading = StreamReading(
        token_times=[0.100, 0.110, 0.125, 0.130], done=True,
        figures=ServerFigures(source="timings", prompt_n=50, prompt_ms=90.0, predicted_n=4,
                              predicted_ms=40.0, cached_n=0),
    )
    result = figures.request_figures(reading, total_s=0.2, prompt_tokens_asked=64)
    assert result.ok and result.ttft_ms == pytest.approx(100.0)
    assert result.e2el_ms == pytest.approx(200.0)
    assert result.itl_ms == pytest.approx([10.0, 15.0, 5.0])
    assert result.tpot_ms == pytest.approx(10.0)
    assert result.tokens_per_s == pytest.approx(100.0)
    assert result.prompt_tokens == 50  # the server's count, not the one asked
    assert result.prompt_tps == pytest.approx(500.0)


def test_more_tokens_than_events_use_the_servers_count() -> None:
    reading = StreamReading(token_times=[0.1, 0.2], done=True,
                            figures=ServerFigures(predicted_n=5, prompt_n=10, cached_n=6))
    result = figures.request_figures(reading, total_s=0.3, prompt_tokens_asked=16)
    assert result.gen_tokens == 5 and result.prompt_tokens == 16
    assert result.tpot_ms == pytest.approx(25.0)


def test_without_server_figures_events_are_counted() -> None:
    reading = StreamReading(token_times=[0.1, 0.2, 0.3], done=True)
    result = figures.request_figures(reading, total_s=0.3, prompt_tokens_asked=16)
    assert (result.gen_tokens, result.prompt_tokens) == (3, 16)
    assert result.server is None


def test_an_answer_without_tokens_has_no_speeds() -> None:
    result = figures.request_figures(StreamReading(done=True), total_s=0.01,
                                     prompt_tokens_asked=8)
    assert result.ttft_ms is None and result.tokens_per_s is None and result.itl_ms == []


def test_level_metrics_count_only_completed_requests() -> None:
    good = [figures.RequestFigures(ttft_ms=t, tpot_ms=2.0, itl_ms=[1.0, 3.0], e2el_ms=50.0,
                                   gen_tokens=10, prompt_tokens=20) for t in (10.0, 20.0, 30.0)]
    bad = figures.failed_request("stall", "nothing more for 30 s")
    metrics = figures.level_metrics([*good, bad], wall_s=2.0)
    assert metrics["completed"] == 3 and metrics["failed_requests"] == 1
    assert metrics["request_throughput_per_s"] == pytest.approx(1.5)
    assert metrics["output_throughput_tps"] == pytest.approx(15.0)
    assert metrics["total_token_throughput_tps"] == pytest.approx(45.0)
    assert metrics["ttft_mean_ms"] == pytest.approx(20.0)
    assert metrics["ttft_median_ms"] == pytest.approx(20.0)
    assert metrics["ttft_p99_ms"] == pytest.approx(29.8)
    assert metrics["itl_median_ms"] == pytest.approx(2.0)


def test_a_level_where_everything_failed_has_no_speeds() -> None:
    metrics = figures.level_metrics([figures.failed_request("refused", None)], wall_s=1.0)
    assert metrics == {"completed": 0.0, "failed_requests": 1.0}


def test_samples_are_each_request_that_has_the_figure() -> None:
    one = figures.RequestFigures(ttft_ms=1.0, server=ServerFigures(prompt_ms=2.0))
    two = figures.RequestFigures(ttft_ms=None, server=None)  # no token event reached us
    three = figures.RequestFigures(ttft_ms=3.0, server=ServerFigures(prompt_ms=4.0))
    samples = figures.request_samples([one, two, figures.failed_request("x", None), three])
    assert samples["ttft_ms"] == [1.0, 3.0]
    assert samples["server_prompt_ms"] == [2.0, 4.0]
    assert "server_load_ms" not in samples  # no request has it


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 100))
def test_percentile_lies_between_order_statistics(values: list[float], pct: float) -> None:
    found = figures.percentile(values, pct)
    assert found is not None
    assert min(values) - 1e-6 <= found <= max(values) + 1e-6
    assert figures.percentile(values, 50) == pytest.approx(statistics.median(values))
    assert figures.percentile(values, 0) == min(values)
    assert figures.percentile(values, 100) == max(values)


def test_percentile_of_nothing_is_unknown() -> None:
    assert figures.percentile([], 99) is None


# -------------------------------------------------------------------------------- prompts


@given(st.integers(0, 3000), st.integers(0, 2**31), st.integers(0, 10**6))
def test_prompts_have_the_words_asked_and_are_reproducible(n: int, seed: int, request: int
                                                            ) -> None:
    text = prompts.make_prompt(n, seed=seed, request=request)
    assert len(text.split()) == n
    assert text == prompts.make_prompt(n, seed=seed, request=request)
    if n:
        assert text.split()[0] == str(request)


def test_two_requests_never_share_a_first_word() -> None:
    firsts = {prompts.make_prompt(8, seed=1, request=i).split()[0] for i in range(100)}
    assert len(firsts) == 100


@given(st.integers(1, 5000), st.integers(1, 5000), st.integers(1, 10000))
def test_corrected_words_scale_with_the_measured_ratio(target: int, words: int, measured: int
                                                        ) -> None:
    corrected = prompts.corrected_words(target, words, measured)
    assert corrected >= 1
    assert math.isclose(corrected, words * target / measured, abs_tol=0.5) or corrected == 1


def test_corrected_words_without_a_measure() -> None:
    assert prompts.corrected_words(64, 64, 0) == 64
    assert prompts.corrected_words(0, 64, 70) == 0


_TIMES = st.lists(st.floats(0.0, 100.0, allow_nan=False), min_size=1, max_size=40).map(sorted)


@given(_TIMES, st.one_of(st.none(), st.integers(1, 200)))
def test_request_figures_hold_together(times: list[float], counted: int | None) -> None:
    server = None if counted is None else ServerFigures(predicted_n=counted)
    reading = StreamReading(token_times=times, done=True, figures=server)
    result = figures.request_figures(reading, total_s=times[-1] + 0.5, prompt_tokens_asked=8)
    assert result.ttft_ms == pytest.approx(times[0] * 1000.0)
    assert sum(result.itl_ms) == pytest.approx((times[-1] - times[0]) * 1000.0, abs=1e-6)
    assert len(result.itl_ms) == len(times) - 1 and min(result.itl_ms, default=0) >= 0
    generated = counted if counted is not None else len(times)
    assert result.gen_tokens == generated
    if result.tpot_ms is not None:
        assert result.tpot_ms * (generated - 1) == pytest.approx(
            (times[-1] - times[0]) * 1000.0, rel=1e-9, abs=1e-9)
        assert result.tokens_per_s == pytest.approx(1000.0 / result.tpot_ms)
    else:
        assert generated <= 1 or times[-1] == times[0]


_REQUEST = st.builds(
    figures.RequestFigures,
    ttft_ms=st.one_of(st.none(), st.floats(0, 1e4)),
    tpot_ms=st.one_of(st.none(), st.floats(0, 1e3)),
    e2el_ms=st.one_of(st.none(), st.floats(0, 1e5)),
    itl_ms=st.lists(st.floats(0, 1e3), max_size=5),
    gen_tokens=st.one_of(st.none(), st.integers(0, 500)),
    prompt_tokens=st.one_of(st.none(), st.integers(0, 5000)),
)
_FAILED = st.builds(figures.failed_request, st.sampled_from(["stall", "refused"]), st.none())


@given(st.lists(st.one_of(_REQUEST, _FAILED), max_size=12), st.floats(0.001, 100.0))
def test_level_metrics_hold_together(requests: list[figures.RequestFigures],
                                     wall_s: float) -> None:
    metrics = figures.level_metrics(requests, wall_s)
    done = [r for r in requests if r.ok]
    assert metrics["completed"] + metrics["failed_requests"] == len(requests)
    for name in ("ttft", "tpot", "itl", "e2el"):
        if f"{name}_mean_ms" in metrics:
            low = metrics[f"{name}_median_ms"] - 1e-6
            assert metrics[f"{name}_p99_ms"] >= low
    if done:
        assert metrics["request_throughput_per_s"] == pytest.approx(len(done) / wall_s)
        assert metrics["total_token_throughput_tps"] >= metrics["output_throughput_tps"]
    else:
        assert "request_throughput_per_s" not in metrics
    samples = figures.request_samples(requests)
    assert all(values for values in samples.values())
    assert len(samples.get("ttft_ms", [])) == sum(r.ttft_ms is not None for r in done)
