"""Advice as data: which conditions give which codes, and when none is given."""

from __future__ import annotations

import io
import threading

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.manifest.model import GpuState, Volatile
from envstamp.stamping import advice
from envstamp.stamping.results import Advice, Summary, summarize
from tests.timing_support import make_manifest

SERIES = st.lists(st.floats(0.01, 1e4, allow_nan=False), min_size=1, max_size=8)


def _codes(found: list[Advice]) -> list[str]:
    return [a.code for a in found]


# ---------------------------------------------------------------------------- samples


@given(st.dictionaries(st.sampled_from(["wall_s", "tokens_per_s", "prompt_ms"]), SERIES,
                       min_size=1, max_size=3))
def test_sample_advice_follows_the_spread_and_the_count(series: dict[str, list[float]]) -> None:
    summaries = {name: summarize(values) for name, values in series.items()}
    codes = _codes(advice.sample_advice(summaries))
    few = min(len(values) for values in series.values()) < advice.MIN_SAMPLES
    wide = any(s.stddev is not None and s.stddev / abs(s.mean) > advice.SPREAD_LIMIT
               for s in summaries.values())
    assert codes == [code for code, present in (("few_samples", few), ("spread", wide))
                     if present]


def test_the_spread_is_relative_to_the_mean() -> None:
    tight = Summary(mean=1000.0, median=None, stddev=90.0, min=None, max=None, n=5)
    loose = Summary(mean=10.0, median=None, stddev=1.5, min=None, max=None, n=5)
    assert advice.sample_advice({"tokens_per_s": tight}) == []
    found = advice.sample_advice({"tokens_per_s": tight, "wall_s": loose})
    assert _codes(found) == ["spread"] and "wall_s" in found[0].message
    assert "15%" in found[0].message
    assert "tokens_per_s" not in found[0].message


def test_only_the_named_series_are_judged() -> None:
    one = summarize([5.0])
    wide = summarize([1.0, 2.0, 3.0])
    assert advice.sample_advice({"wall_s": one, "x": wide}, ["x"]) == [
        a for a in advice.sample_advice({"x": wide}) if a.code == "spread"]
    assert advice.sample_advice({"wall_s": one}, ["missing"]) == []


def test_a_zero_mean_gives_no_spread_and_no_division() -> None:
    zero = Summary(mean=0.0, median=0.0, stddev=1.0, min=-1.0, max=1.0, n=5)
    assert advice.sample_advice({"delta": zero}) == []


def test_few_samples_names_the_smallest_count() -> None:
    found = advice.sample_advice({"a": summarize([1.0, 1.0]), "b": summarize([1.0])})
    assert found == [advice.few_samples(1)]
    assert found[0].message.startswith("only 1 sample")


# ------------------------------------------------------------------------------ state


def _state(*reasons: str, ac: bool | None = True) -> Volatile:
    return Volatile(ac_online=ac, gpus=[GpuState(index=0, throttle_reasons=list(reasons))])


def test_only_reasons_that_cost_speed_are_throttling() -> None:
    assert advice.state_advice([_state("gpu_idle", "applications_clocks_setting")]) == []
    found = advice.state_advice([_state("gpu_idle", "sw_power_cap"),
                                 _state("hw_thermal_slowdown", "sw_power_cap"), None])
    assert _codes(found) == ["throttling"]
    message = found[0].message
    assert message.index("sw_power_cap") < message.index("hw_thermal_slowdown")  # first seen
    assert "gpu_idle" not in message


def test_battery_seen_before_or_after_the_region() -> None:
    assert _codes(advice.state_advice([_state(ac=True), _state(ac=False)])) == ["battery"]
    assert advice.state_advice([_state(ac=None), None]) == []  # unknown is not battery


@pytest.mark.parametrize(
    ("governor", "ac", "expected"),
    [("performance", True, []), ("PERFORMANCE", None, []), ("powersave", True, ["governor"]),
     ("schedutil", False, ["governor", "battery"]), (None, False, ["battery"])],
)
def test_manifest_advice(governor: str | None, ac: bool | None, expected: list[str]) -> None:
    manifest = make_manifest()
    manifest = attrs.evolve(manifest, cpu=attrs.evolve(manifest.cpu, governor=governor),
                            power=attrs.evolve(manifest.power, ac_online=ac))
    assert _codes(advice.manifest_advice(manifest)) == expected


def test_battery_at_capture_time_counts_too() -> None:
    manifest = make_manifest()
    manifest = attrs.evolve(manifest, volatile=attrs.evolve(manifest.volatile, ac_online=False))
    assert _codes(advice.manifest_advice(manifest)) == ["battery"]


def test_gpu_advice_lists_distinct_pids_in_order_at_most_five() -> None:
    assert advice.gpu_advice([]) == []
    (found,) = advice.gpu_advice([9, 3, 3, 7, 12, 5, 8, 1])
    assert found.code == "gpu_shared"
    assert "1, 3, 5, 7, 8" in found.message
    assert "9" not in found.message and "12" not in found.message


@given(st.lists(st.lists(st.sampled_from(["spread", "battery", "governor", "few_samples"]),
                         max_size=4), max_size=4))
def test_merge_keeps_the_first_of_each_code_in_first_seen_order(groups: list[list[str]]) -> None:
    made = [[Advice(code=c, message=f"{g}:{i}") for i, c in enumerate(group)]
            for g, group in enumerate(groups)]
    merged = advice.merge(*made)
    flat = [a for group in made for a in group]
    assert _codes(merged) == list(dict.fromkeys(a.code for a in flat))
    for item in merged:
        assert item is next(a for a in flat if a.code == item.code)


# ---------------------------------------------------------------------------- printing


def test_the_printer_prints_each_code_once_across_threads() -> None:
    stream = io.StringIO()
    printer = advice.AdvicePrinter(stream)
    items = [advice.battery(), advice.few_samples(2)]
    threads = [threading.Thread(target=printer.show, args=(items,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stream.getvalue().splitlines()
    assert sorted(lines) == sorted(f"envstamp: advice: {a.message}" for a in items)


def test_a_disabled_printer_prints_nothing() -> None:
    stream = io.StringIO()
    advice.AdvicePrinter(stream, enabled=False).show([advice.battery()])
    assert stream.getvalue() == ""
