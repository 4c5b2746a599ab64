"""Advice: printed once, stored with every result, never acted on."""

from __future__ import annotations

import io
from pathlib import Path

from envstamp.manifest.model import Cpu, GpuState, Power, Volatile
from envstamp.stamping import advice
from envstamp.stamping.results import Advice, load_results, summarize
from tests.timing_support import make_manifest, open_recorder


def codes(found: list[Advice]) -> set[str]:
    return {a.code for a in found}


def test_governor_and_battery_from_the_manifest() -> None:
    manifest = make_manifest(cpu=Cpu(governor="powersave"), power=Power(ac_online=False))
    found = advice.manifest_advice(manifest)
    assert codes(found) == {"governor", "battery"}
    assert "powersave" in found[0].message
    assert advice.manifest_advice(make_manifest()) == []  # performance, on AC


def test_unknown_governor_gives_no_advice() -> None:
    assert advice.manifest_advice(make_manifest(cpu=Cpu(governor=None))) == []


def test_throttling_and_battery_seen_around_a_region() -> None:
    before = Volatile(ac_online=True, gpus=[GpuState(throttle_reasons=["idle"])])
    after = Volatile(ac_online=False, gpus=[GpuState(throttle_reasons=["hw_power_brake"])])
    found = advice.state_advice([before, after, None])
    assert codes(found) == {"battery", "throttling"}
    assert "hw_power_brake" in found[1].message
    assert advice.state_advice([before]) == []  # idle is not throttling


def test_spread_and_few_samples() -> None:
    tight = {"wall_s": summarize([1.0, 1.01, 0.99])}
    assert advice.sample_advice(tight) == []
    wide = {"tokens_per_s": summarize([100.0, 60.0, 140.0])}
    found = advice.sample_advice(wide)
    assert codes(found) == {"spread"} and "tokens_per_s 40%" in found[0].message
    few = advice.sample_advice({"wall_s": summarize([1.0, 1.2])})
    assert codes(few) == {"few_samples", "spread"}


def test_other_gpu_processes() -> None:
    assert advice.gpu_advice([]) == []
    found = advice.gpu_advice([33, 11, 22, 11])
    assert codes(found) == {"gpu_shared"} and "11, 22, 33" in found[0].message


def test_merge_keeps_one_entry_per_code() -> None:
    first = Advice(code="spread", message="a")
    merged = advice.merge([first], [Advice(code="spread", message="b"), advice.battery()])
    assert merged == [first, advice.battery()]


def test_printed_once_stored_every_time(tmp_path: Path) -> None:
    stream = io.StringIO()
    manifest = make_manifest(cpu=Cpu(governor="schedutil"))
    with open_recorder(tmp_path / "r.jsonl", manifest=manifest, advice=stream) as rec:
        for _ in range(3):
            rec.record("load", wall_s=[1.0])
    printed = stream.getvalue().splitlines()
    assert sum("governor" in line for line in printed) == 1
    assert sum("only 1 sample" in line for line in printed) == 1
    for result in load_results(tmp_path / "r.jsonl"):
        assert codes(result.advice) == {"governor", "few_samples"}


def test_silent_advice_is_still_stored(tmp_path: Path, capsys: object) -> None:
    manifest = make_manifest(power=Power(ac_online=False))
    with open_recorder(tmp_path / "r.jsonl", manifest=manifest, advice=False) as rec:
        result = rec.record("x", metrics={"tokens_per_s": 1.0})
    assert codes(result.advice) == {"battery"}


def test_a_closed_stream_does_not_break_recording(tmp_path: Path) -> None:
    stream = io.StringIO()
    stream.close()
    manifest = make_manifest(cpu=Cpu(governor="powersave"))
    with open_recorder(tmp_path / "r.jsonl", manifest=manifest, advice=stream) as rec:
        rec.record("x", wall_s=[1.0, 1.0, 1.0])
    assert len(load_results(tmp_path / "r.jsonl")) == 1
