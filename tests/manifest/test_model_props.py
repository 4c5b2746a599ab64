"""manifest/model.fill_missing, which combines a better source with a fallback (GPU entries of
several tools, a probe's primary and secondary readings), as properties over every record class
the probes merge with it.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.manifest.model import (
    Cpu,
    Frontends,
    Gpu,
    GpuState,
    LlamaCppBuild,
    Memory,
    OperatingSystem,
    Runtimes,
    fill_missing,
    utc_now,
)
from tests.diffing.test_diff_props import strategy_for

CLASSES = [Gpu, GpuState, Cpu, Memory, OperatingSystem, Runtimes, LlamaCppBuild, Frontends]
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def filled_from_fallback(mine: Any, theirs: Any) -> bool:
    """Null takes whatever the fallback knows (an empty list too: LlamaCppBuild.backends = []
    says every backend is off, which null does not); an empty list or mapping takes a
    non-empty one."""
    if theirs is None:
        return False
    return mine is None or (isinstance(mine, (list, dict)) and not mine and bool(theirs))


def pairs(cls: type) -> st.SearchStrategy[tuple[Any, Any]]:
    return st.tuples(strategy_for(cls), strategy_for(cls))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_field_is_the_primarys_when_known_else_the_fallbacks(cls: type) -> None:
    @SETTINGS
    @given(pairs(cls))
    def check(pair: tuple[Any, Any]) -> None:
        primary, secondary = pair
        merged = fill_missing(primary, secondary)
        assert type(merged) is cls
        for a in attrs.fields(cls):
            mine, theirs = getattr(primary, a.name), getattr(secondary, a.name)
            got = getattr(merged, a.name)
            if filled_from_fallback(mine, theirs):
                assert got == theirs, a.name
            elif attrs.has(type(mine)) and type(mine) is type(theirs):
                assert got == fill_missing(mine, theirs), a.name  # nested records fill too
            else:
                assert got == mine, a.name

    check()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_filling_is_associative_and_idempotent(cls: type) -> None:
    """Three sources merged in order give one answer however they are grouped; filling from
    the same fallback twice, or from itself, changes nothing."""

    @SETTINGS
    @given(st.tuples(strategy_for(cls), strategy_for(cls), strategy_for(cls)))
    def check(values: tuple[Any, Any, Any]) -> None:
        a, b, c = values
        assert fill_missing(fill_missing(a, b), c) == fill_missing(a, fill_missing(b, c))
        once = fill_missing(a, b)
        assert fill_missing(once, b) == once
        assert fill_missing(a, a) == a

    check()


@SETTINGS
@given(strategy_for(Gpu))
def test_none_on_either_side(gpu: Gpu) -> None:
    assert fill_missing(None, gpu) is gpu
    assert fill_missing(gpu, None) is gpu


def test_the_primary_object_comes_back_when_there_is_nothing_to_fill() -> None:
    gpu = Gpu(index=0, name="NVIDIA H200", uuid="GPU-1")
    assert fill_missing(gpu, Gpu()) is gpu  # no copy made


def test_zero_and_false_are_known_values_not_holes() -> None:
    primary = GpuState(index=0, fan_pct=0.0, throttle_reasons=[])
    secondary = GpuState(index=0, fan_pct=35.0, throttle_reasons=["sw_power_cap"])
    merged = fill_missing(primary, secondary)
    assert merged.fan_pct == 0.0  # a stopped fan is a reading
    assert merged.throttle_reasons == ["sw_power_cap"]  # an empty list is not
    assert fill_missing(Gpu(persistence_mode=False), Gpu(persistence_mode=True)).persistence_mode \
        is False


def test_plain_values_are_not_merged() -> None:
    assert fill_missing("nvml", "nvidia-smi") == "nvml"
    assert fill_missing([1], [2]) == [1]


def test_utc_now_is_rfc3339_with_milliseconds() -> None:
    import re

    stamp = utc_now()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", stamp)
