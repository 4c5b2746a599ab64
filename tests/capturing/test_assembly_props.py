"""capturing/assembly as algebra: how probes' sections merge must not depend on how the merging
is grouped, and says exactly "the first known value wins, lists add up".

Records come from the model-derived strategies of tests/diffing/test_diff_props.py, so every
section class of the manifest is exercised, nested ones included.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp._version import __version__
from envstamp.capturing.assembly import assemble, build_manifest, combine
from envstamp.manifest.model import (
    Cpu,
    Frontends,
    Gpu,
    Memory,
    OperatingSystem,
    ProbeRecord,
    Runtimes,
)
from envstamp.manifest.serialize import identity_digest
from envstamp.probes.context import Outcome
from tests.diffing.test_diff_props import strategy_for

SECTION_CLASSES = [Cpu, Memory, OperatingSystem, Runtimes, Frontends]
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def three_of(cls: type) -> st.SearchStrategy[tuple[Any, Any, Any]]:
    each = st.one_of(st.none(), strategy_for(cls))
    return st.tuples(each, each, each)


@pytest.mark.parametrize("cls", SECTION_CLASSES, ids=lambda c: c.__name__)
def test_combining_is_associative(cls: type) -> None:
    """Probes merge one after another: ((a b) c) must equal (a (b c))."""

    @SETTINGS
    @given(three_of(cls))
    def check(values: tuple[Any, Any, Any]) -> None:
        a, b, c = values
        assert combine(combine(a, b), c) == combine(a, combine(b, c))

    check()


@pytest.mark.parametrize("cls", SECTION_CLASSES, ids=lambda c: c.__name__)
def test_nothing_is_the_neutral_contribution(cls: type) -> None:
    @SETTINGS
    @given(strategy_for(cls))
    def check(value: Any) -> None:
        assert combine(None, value) == value
        assert combine(value, None) == value

    check()


@SETTINGS
@given(first=strategy_for(Cpu), second=strategy_for(Cpu))
def test_the_first_known_value_wins_field_by_field(first: Cpu, second: Cpu) -> None:
    merged = combine(first, second)
    assert isinstance(merged, Cpu)
    for a in attrs.fields(Cpu):
        mine, theirs = getattr(first, a.name), getattr(second, a.name)
        if isinstance(mine, list):
            assert getattr(merged, a.name) == mine + theirs, a.name
        else:
            assert getattr(merged, a.name) == (theirs if mine is None else mine), a.name


def test_mappings_keep_the_first_value_of_a_key_and_every_key() -> None:
    assert combine({"A": "1", "B": "2"}, {"B": "9", "C": "3"}) == {"A": "1", "B": "2", "C": "3"}


def test_values_of_different_classes_keep_the_first() -> None:
    assert combine(Cpu(vendor="x"), Memory(total_bytes=1)) == Cpu(vendor="x")
    assert combine("first", "second") == "first"
    assert combine(0, 5) == 0  # zero is a value, not unknown


# ------------------------------------------------------------------------------ assemble


def outcome(**sections: Any) -> Outcome:
    return Outcome(sections=sections)


def test_assemble_merges_in_probe_order_and_consolidates_gpus() -> None:
    bus = "0000:00:06.0"
    outcomes = [
        outcome(cpu=Cpu(vendor="AuthenticAMD"), gpus=[Gpu(pci_bus_id=bus, source="nvml")]),
        Outcome(status="timeout", detail="timed out"),  # a failed probe contributes nothing
        outcome(cpu=Cpu(vendor="other", logical_cpus=2), env={"OMP_NUM_THREADS": "2"}),
        outcome(gpus=[Gpu(pci_bus_id="00000000:00:06.0", memory_total_mib=143771,
                          source="nvidia-smi")]),
    ]
    merged = assemble(outcomes)
    assert merged["cpu"] == Cpu(vendor="AuthenticAMD", logical_cpus=2)
    assert merged["env"] == {"OMP_NUM_THREADS": "2"}
    (gpu,) = merged["gpus"]
    assert (gpu.source, gpu.pci_bus_id, gpu.memory_total_mib) == ("nvml", bus, 143771)


@SETTINGS
@given(st.lists(st.one_of(st.none(), strategy_for(Cpu)), max_size=5))
def test_assembling_equals_folding_combine(cpus: list[Cpu | None]) -> None:
    outcomes = [outcome(cpu=c) if c is not None else outcome() for c in cpus]
    expected: Any = None
    for cpu in cpus:
        expected = combine(expected, cpu)
    assert assemble(outcomes).get("cpu") == expected


def test_build_manifest_keeps_the_model_sections_and_digests_them() -> None:
    records = [ProbeRecord(name="cpu", status="ok")]
    sections = {"cpu": Cpu(vendor="AuthenticAMD"), "results": ["not a manifest section"]}
    manifest = build_manifest(sections, records, "2026-12-06T08:00:00.000Z")
    assert manifest.cpu == Cpu(vendor="AuthenticAMD")
    assert (manifest.envstamp_version, manifest.captured_at) == (__version__,
                                                                 "2026-12-06T08:00:00.000Z")
    assert manifest.probes == records
    assert manifest.identity_digest == identity_digest(manifest)
    assert not hasattr(manifest, "results")
