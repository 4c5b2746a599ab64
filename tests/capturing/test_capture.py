"""Capture orchestration: concurrency, timeouts, deadline, merging, memo, digest."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import attrs
import pytest

from envstamp.capturing import capture as capture_module
from envstamp.capturing import pool
from envstamp.capturing.assembly import combine
from envstamp.capturing.capture import capture
from envstamp.manifest.model import Cpu, Frontends, Gpu, Memory, Ollama, Power, Volatile
from envstamp.manifest.serialize import identity_digest
from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.registry import ProbeSpec
from envstamp.runner import LiveRunner, ReplayRunner

CALLS: dict[str, int] = {}
_LOCK = threading.Lock()


def _count(name: str) -> None:
    with _LOCK:
        CALLS[name] = CALLS.get(name, 0) + 1


def probe_cpu(ctx: ProbeContext) -> Outcome:
    _count("cpu")
    return Outcome({"cpu": Cpu(model_name="Test CPU", logical_cpus=8)}, source="test")


def probe_cpu_fallback(ctx: ProbeContext) -> Outcome:
    return Outcome({"cpu": Cpu(model_name="ignored", max_mhz=4000)}, source="fallback")


def probe_absent(ctx: ProbeContext) -> Outcome:
    raise ProbeFailure("absent", "no such tool", "tool --version")


def probe_buggy(ctx: ProbeContext) -> Outcome:
    raise ZeroDivisionError("probe bug")


def probe_hangs(ctx: ProbeContext) -> Outcome:
    time.sleep(10)
    return Outcome({"memory": Memory(total_bytes=1)})


def probe_state(ctx: ProbeContext) -> Outcome:
    _count("state")
    return Outcome(
        {"volatile": Volatile(load_1m=float(CALLS["state"])), "power": Power(ac_online=True)}
    )


def _specs(*pairs: tuple[str, str, bool]) -> tuple[ProbeSpec, ...]:
    return tuple(ProbeSpec(name, f"{__name__}:{fn}", volatile=v) for name, fn, v in pairs)


@pytest.fixture
def fake_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    CALLS.clear()
    monkeypatch.setattr(
        capture_module,
        "PROBES",
        _specs(
            ("cpu", "probe_cpu", False),
            ("cpu2", "probe_cpu_fallback", False),
            ("tool", "probe_absent", False),
            ("buggy", "probe_buggy", False),
            ("state", "probe_state", True),
        ),
    )


def test_every_probe_leaves_a_record(fake_probes: None) -> None:
    manifest = capture()
    records = {r.name: r for r in manifest.probes}
    assert [r.name for r in manifest.probes] == ["cpu", "cpu2", "tool", "buggy", "state"]
    assert records["cpu"].status == "ok" and records["cpu"].source == "test"
    assert records["tool"].status == "absent" and records["tool"].detail == "no such tool"
    assert records["buggy"].status == "error"
    assert "ZeroDivisionError" in (records["buggy"].detail or "")
    assert all(r.duration_ms is not None for r in manifest.probes)


def test_sections_merge_first_source_wins(fake_probes: None) -> None:
    manifest = capture()
    assert manifest.cpu.model_name == "Test CPU"
    assert manifest.cpu.max_mhz == 4000  # filled by the later source
    assert manifest.power.ac_online is True
    assert manifest.identity_digest and manifest.identity_digest.startswith("sha256:")


def test_second_capture_reruns_only_volatile_probes(fake_probes: None) -> None:
    first = capture()
    second = capture()
    assert CALLS == {"cpu": 1, "state": 2}
    assert first.identity_digest == second.identity_digest
    assert first.volatile.load_1m == 1.0 and second.volatile.load_1m == 2.0
    capture(refresh=True)
    assert CALLS["cpu"] == 2


def test_hanging_probe_costs_the_deadline_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        capture_module,
        "PROBES",
        _specs(("cpu", "probe_cpu", False), ("hang", "probe_hangs", False)),
    )
    start = time.monotonic()
    manifest = capture(deadline=0.5)
    assert time.monotonic() - start < 2
    records = {r.name: r for r in manifest.probes}
    assert records["hang"].status == "timeout"
    assert records["cpu"].status == "ok"
    assert manifest.memory.total_bytes is None  # the late answer is not used


def test_a_blocked_probe_does_not_hold_up_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first worker is stuck in "hang"; the pool grows and runs the others.
    specs = _specs(("hang", "probe_hangs", False), ("cpu", "probe_cpu", False))
    monkeypatch.setattr(capture_module, "PROBES", (*specs, *_specs(("state", "probe_state", True))))
    CALLS.clear()
    records = {r.name: r for r in capture(deadline=1.0).probes}
    assert records["hang"].status == "timeout"
    assert records["hang"].detail == "did not finish before the capture deadline"
    assert records["cpu"].status == "ok" and records["state"].status == "ok"


def test_probes_not_begun_by_the_deadline_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "GROW_AFTER", 60.0)  # one worker only, stuck in "hang"
    monkeypatch.setattr(
        capture_module,
        "PROBES",
        _specs(("hang", "probe_hangs", False), ("cpu", "probe_cpu", False)),
    )
    records = {r.name: r for r in capture(deadline=0.3).probes}
    assert records["cpu"].status == "timeout"
    assert records["cpu"].detail == "not begun before the capture deadline"
    assert records["cpu"].duration_ms == 0.0


def test_model_hashing_queued_at_the_deadline_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "GROW_AFTER", 60.0)
    late = ProbeSpec("models", f"{__name__}:probe_cpu", outlives_deadline=True)
    monkeypatch.setattr(capture_module, "PROBES", (*_specs(("hang", "probe_hangs", False)), late))
    manifest = capture(deadline=0.3)
    records = {r.name: r for r in manifest.probes}
    assert records["models"].status == "ok"  # begun after the deadline, and waited for
    assert manifest.cpu.model_name == "Test CPU"


def test_skip_and_platform_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = (
        ProbeSpec("cpu", f"{__name__}:probe_cpu"),
        ProbeSpec("mac_only", f"{__name__}:probe_buggy", systems=("Darwin",)),
    )
    monkeypatch.setattr(capture_module, "PROBES", specs)
    manifest = capture(skip={"cpu"})
    if LiveRunner().platform()["system"] != "Darwin":
        records = {r.name: r for r in manifest.probes}
        assert records["mac_only"].status == "unsupported"
        assert "not applicable" in (records["mac_only"].detail or "")
    assert manifest.probes[0].status == "unsupported"
    assert manifest.probes[0].detail == "skipped by request"


def test_replay_of_a_folder_without_platform_answer_is_refused(tmp_path: Path) -> None:
    from envstamp.errors import InputError

    (tmp_path / "rec").mkdir()
    with pytest.raises(InputError, match="not in the recording"):
        capture(runner=ReplayRunner(tmp_path / "rec"))


def test_replay_answers_missing_for_one_probe_error_that_probe_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.runner import RecordingRunner

    monkeypatch.setattr(capture_module, "PROBES", _specs(("cpu", "probe_cpu", False)))
    RecordingRunner(tmp_path / "rec").platform()
    monkeypatch.setattr(capture_module, "PROBES", _specs(("which", "probe_which", False)))
    manifest = capture(runner=ReplayRunner(tmp_path / "rec"))
    assert manifest.probes[0].status == "error"
    assert "not in the recording" in (manifest.probes[0].detail or "")


def probe_which(ctx: ProbeContext) -> Outcome:
    ctx.runner.which("nvidia-smi")
    return Outcome()


def test_combine_rules() -> None:
    assert combine([Gpu(name="a")], [Gpu(name="b")]) == [Gpu(name="a"), Gpu(name="b")]
    assert combine({"A": "1"}, {"A": "2", "B": "3"}) == {"A": "1", "B": "3"}
    merged = combine(Frontends(ollama=Ollama(client_version="1")), Frontends(jan=None))
    assert merged.ollama.client_version == "1"
    assert combine(None, Cpu(vendor="x")) == Cpu(vendor="x")


def test_digest_ignores_volatile_and_tracks_identity(fake_probes: None) -> None:
    manifest = capture()
    moved = attrs.evolve(
        manifest,
        captured_at="2000-01-01T00:00:00Z",
        volatile=Volatile(load_1m=99.0),
        power=attrs.evolve(manifest.power, ac_online=False, battery_percent=12.0),
        probes=[],
    )
    assert identity_digest(moved) == manifest.identity_digest
    changed = attrs.evolve(manifest, cpu=attrs.evolve(manifest.cpu, governor="powersave"))
    assert identity_digest(changed) != manifest.identity_digest


def test_capture_options_are_hashable_and_keyword_friendly() -> None:
    options = CaptureOptions(models=["a.gguf"], llama_cpp=["x"], skip={"gpu_amd"})
    assert options.models == ("a.gguf",)
    assert hash(options) == hash(
        CaptureOptions(models=("a.gguf",), llama_cpp=("x",), skip={"gpu_amd"})
    )


def test_capture_takes_no_callers_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """``on_stall`` (a caller's task run once every probe waited) is retired: it could spare
    at most its one task (~5 ms of imports), only where probes wait, and reached across the
    capture, the pool and the CLI (docs/decisions.md)."""
    monkeypatch.setattr(capture_module, "PROBES", _specs(("cpu", "probe_cpu", False)))
    with pytest.raises(TypeError, match="on_stall"):
        capture(on_stall=lambda: None)


THREADS: list[str] = []


def probe_note_thread(ctx: ProbeContext) -> Outcome:
    THREADS.append(threading.current_thread().name)
    return Outcome()


def probe_note_thread_and_hang(ctx: ProbeContext) -> Outcome:
    probe_note_thread(ctx)
    return probe_hangs(ctx)


def test_probes_that_keep_finishing_share_one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "GROW_AFTER", 60.0)  # a loaded machine must not fake a wait
    specs = _specs(*((f"quick{i}", "probe_note_thread", False) for i in range(5)))
    monkeypatch.setattr(capture_module, "PROBES", specs)
    THREADS.clear()
    capture()
    assert THREADS == ["envstamp-probes-1"] * 5


def test_the_pool_grows_while_probes_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = _specs(*((f"hang{i}", "probe_note_thread_and_hang", False) for i in range(3)))
    monkeypatch.setattr(
        capture_module, "PROBES", (*specs, *_specs(("quick", "probe_note_thread", False)))
    )
    THREADS.clear()
    records = {r.name: r for r in capture(deadline=1.0).probes}
    assert [records[f"hang{i}"].status for i in range(3)] == ["timeout"] * 3
    assert records["quick"].status == "ok"  # a fourth worker took it while three waited
    assert len(set(THREADS)) == 4


BEGUN: list[str] = []


def probe_note_cpu(ctx: ProbeContext) -> Outcome:
    BEGUN.append("cpu")
    return Outcome()


def probe_note_gpu(ctx: ProbeContext) -> Outcome:
    BEGUN.append("gpu")
    return Outcome()


def test_probes_apt_to_wait_are_begun_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "GROW_AFTER", 60.0)  # one worker: the queue order shows
    specs = (
        ProbeSpec("cpu", f"{__name__}:probe_note_cpu"),
        ProbeSpec("gpu", f"{__name__}:probe_note_gpu", waits=True),
    )
    monkeypatch.setattr(capture_module, "PROBES", specs)
    BEGUN.clear()
    manifest = capture()
    assert BEGUN == ["gpu", "cpu"]
    assert [r.name for r in manifest.probes] == ["cpu", "gpu"]  # records keep PROBES order
