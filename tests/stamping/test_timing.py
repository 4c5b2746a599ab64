"""The timing API: Recorder, timers (sync and async), repeats, bench, @timed."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import envstamp
from envstamp.errors import InputError
from envstamp.manifest.model import GpuState, Volatile
from envstamp.stamping.results import load_results, verify_log
from envstamp.stamping.timing import Recorder, timed
from tests.timing_support import kinds_of, open_recorder


@pytest.fixture
def rec(tmp_path: Path) -> Any:
    recorder = open_recorder(tmp_path / "results.jsonl")
    yield recorder
    recorder.close()


def test_public_names_are_exported() -> None:
    assert envstamp.Recorder is Recorder
    assert envstamp.timed is timed
    assert envstamp.load_results is load_results


def test_timer_elapsed_grows_inside_and_is_fixed_after(rec: Recorder) -> None:
    with rec.timer("pp512", model="qwen2-7b.gguf") as t:
        first = t.elapsed
        time.sleep(0.01)
        second = t.elapsed
        t.metrics["tokens_per_s"] = 512 / second
    assert 0 <= first < second
    after = t.elapsed
    time.sleep(0.005)  # a clock still running would have moved on by now
    assert after >= second and t.elapsed == after
    assert t.result is not None
    assert t.result.wall_s == [t.elapsed]
    assert t.result.params == {"model": "qwen2-7b.gguf"}
    assert t.result.metrics["tokens_per_s"] == pytest.approx(512 / second)
    assert t.result.origin == "timer" and t.result.hash is not None


def test_a_region_that_raises_is_recorded_as_failed(rec: Recorder) -> None:
    with pytest.raises(ZeroDivisionError), rec.timer("broken", n_ctx=512) as t:
        _ = 1 / 0
    with rec.timer("fine"):
        pass
    rec.close()
    assert t.result is not None and t.result.failed
    assert [r.name for r in load_results(rec.path)] == ["fine"]  # failed ones left out
    broken, fine = load_results(rec.path, include_failed=True)
    assert broken.failed and broken.params == {"n_ctx": 512} and len(broken.wall_s) == 1
    assert not fine.failed
    lines = [x for x in rec.path.read_bytes().split(b"\n") if b'"kind":"result"' in x]
    assert b'"failed":true' in lines[0] and b"failed" not in lines[1]


def test_an_async_and_a_watched_region_that_raise_are_failed(tmp_path: Path) -> None:
    async def broken() -> None:
        async with recorder.timer("async"):
            raise ValueError("no")

    with open_recorder(tmp_path / "r.jsonl", state=True) as recorder:
        with pytest.raises(ValueError, match="no"):
            asyncio.run(broken())
        with pytest.raises(KeyError), recorder.timer("watched"):
            raise KeyError("x")
    loaded = load_results(recorder.path, include_failed=True)
    assert [(r.name, r.failed) for r in loaded] == [("async", True), ("watched", True)]
    assert load_results(recorder.path) == []


def test_a_lap_that_raises_makes_its_series_failed(rec: Recorder) -> None:
    def work(n: int) -> None:
        if n == 2:
            raise RuntimeError("out of memory")

    counter = iter(range(10))
    with pytest.raises(RuntimeError, match="out of memory"):
        rec.bench(lambda: work(next(counter)), name="gen", repeat=4, warmup=1)
    rec.close()
    (result,) = load_results(rec.path, include_failed=True)
    # warm-up (0) dropped; laps 1 and 2 timed, the second of them raised
    assert result.failed and result.name == "gen" and len(result.wall_s) == 2
    assert result.metrics == {} and not any(a.code == "few_samples" for a in result.advice)
    assert load_results(rec.path) == []


def test_a_timed_call_that_raises_is_failed(rec: Recorder) -> None:
    @timed("step", recorder=rec)
    def step(fail: bool) -> None:
        if fail:
            raise OSError("disk")

    step(False)
    with pytest.raises(OSError, match="disk"):
        step(True)
    step(False)
    rec.close()
    loaded = load_results(rec.path, include_failed=True)
    assert sorted(r.failed for r in loaded) == [False, False, True]
    assert len(load_results(rec.path)) == 2


def test_record_of_a_failed_measurement(rec: Recorder) -> None:
    rec.record("tg128", metrics={"tokens_per_s": 3.0}, failed=True)
    rec.record("tg128", wall_s=[1.0, 1.1], failed=True)
    rec.record("pp512", metrics={"tokens_per_s": 300.0})
    rec.close()
    assert [r.name for r in load_results(rec.path)] == ["pp512"]
    assert [r.failed for r in load_results(rec.path, include_failed=True)] == [True, True, False]


def test_a_write_error_does_not_replace_the_regions_exception(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.errors import EnvstampError

    def refuse(item: object) -> None:
        raise EnvstampError("disk full")

    monkeypatch.setattr(rec, "_queue", refuse)
    with pytest.raises(ZeroDivisionError) as caught, rec.timer("broken"):
        _ = 1 / 0
    if sys.version_info >= (3, 11):
        assert any("disk full" in note for note in caught.value.__notes__)


def test_async_timers_in_concurrent_tasks(rec: Recorder) -> None:
    async def one(name: str, delay: float) -> float:
        async with rec.timer(name) as t:
            await asyncio.sleep(delay)
        return t.elapsed

    async def main() -> list[float]:
        return list(await asyncio.gather(one("slow", 0.05), one("fast", 0.01)))

    slow, fast = asyncio.run(main())
    assert slow >= 0.05 and 0.01 <= fast < slow
    rec.close()
    by_name = {r.name: r for r in load_results(rec.path)}
    assert by_name["slow"].wall_s == [slow] and by_name["fast"].wall_s == [fast]


def test_repeat_keeps_every_sample_and_summarises(rec: Recorder) -> None:
    series = rec.repeat("tg128", repeat=3, warmup=2, n_gpu_layers=99)
    for i, lap in enumerate(series):
        with lap:
            lap.metrics["tokens_per_s"] = 50.0 + i
    result = series.result_now()
    assert len(result.wall_s) == 3
    assert result.metric_samples["tokens_per_s"] == [52.0, 53.0, 54.0]
    assert result.metrics["tokens_per_s"] == pytest.approx(53.0)
    summary = result.summary["tokens_per_s"]
    assert (summary.n, summary.min, summary.max, summary.median) == (3, 52.0, 54.0, 53.0)
    assert summary.stddev == pytest.approx(1.0)
    assert result.summary["wall_s"].n == 3
    assert result.params == {"n_gpu_layers": 99, "repeat": 3, "warmup": 2}


def test_a_lap_must_be_used_as_a_context_manager(rec: Recorder) -> None:
    with pytest.raises(InputError, match="context manager"):
        for _lap in rec.repeat("x", repeat=2, warmup=0):
            pass


def test_bench_with_a_metrics_callback(rec: Recorder) -> None:
    calls: list[int] = []

    def work(n: int) -> int:
        calls.append(n)
        return n

    result = rec.bench(
        work, 128, name="gen", repeat=4, warmup=1, metrics=lambda out, s: {"tokens": float(out)}
    )
    assert calls == [128] * 5
    assert result.metric_samples["tokens"] == [128.0] * 4
    assert result.summary["wall_s"].n == 4 and result.origin == "bench"
    assert rec.bench(work, 1).name.endswith("work")


def test_abench_times_a_coroutine(rec: Recorder) -> None:
    async def nap() -> None:
        await asyncio.sleep(0.002)

    result = asyncio.run(rec.abench(nap, repeat=3, warmup=0))
    assert len(result.wall_s) == 3 and min(result.wall_s) >= 0.002


def test_timed_records_each_call(rec: Recorder) -> None:
    @timed("load_model", recorder=rec, quant="q4_k_m")
    def load(x: int) -> int:
        return x * 2

    assert load(21) == 42 and load(1) == 2
    assert load.__name__ == "load"
    rec.close()
    loaded = load_results(rec.path)
    assert [r.name for r in loaded] == ["load_model", "load_model"]
    assert loaded[0].params == {"quant": "q4_k_m"} and loaded[0].origin == "timed"
    assert len(loaded[0].wall_s) == 1


def test_timed_async_function(rec: Recorder) -> None:
    @timed(recorder=rec)
    async def fetch() -> str:
        await asyncio.sleep(0.001)
        return "ok"

    assert asyncio.run(fetch()) == "ok"
    rec.close()
    (result,) = load_results(rec.path)
    assert result.name.endswith("fetch") and result.wall_s[0] >= 0.001


def test_bare_timed_names_no_recorder_and_is_refused_when_decorating(tmp_path: Path) -> None:
    """Issue 15: a bare @timed used to bind to the most recently opened Recorder."""
    with open_recorder(tmp_path / "a.jsonl"), pytest.raises(InputError) as refused:

        @timed  # type: ignore[arg-type]
        def step() -> None:
            pass

    assert str(refused.value) == (
        "@timed 'test_bare_timed_names_no_recorder_and_is_refused_when_decorating.<locals>."
        "step' names no recorder: write @rec.timed (rec = envstamp.Recorder(...)), "
        "@envstamp.timed(recorder=rec) or @envstamp.timed(path='results.jsonl')"
    )
    with pytest.raises(InputError, match=r"^@timed 'load' names no recorder"):
        timed("load")


def test_rec_timed_records_into_its_own_recorder_whatever_opened_later(
    tmp_path: Path,
) -> None:
    """The bug of issue 15: results landed in the file of an implicit timed(path=...)
    Recorder opened after the user's own."""
    mine = open_recorder(tmp_path / "mine.jsonl")

    @mine.timed
    def step() -> int:
        return 7

    @mine.timed("load", quant="q4")
    def load() -> None:
        pass

    other = tmp_path / "other.jsonl"

    @timed("elsewhere", path=other)
    def elsewhere() -> None:
        pass

    later = open_recorder(tmp_path / "later.jsonl")
    assert step() == 7
    load()
    elsewhere()
    for recorder in (mine, later):
        recorder.close()
    from envstamp.stamping.timing import recorder_for_path

    recorder_for_path(other).close()
    names = [(r.name, r.params, r.origin) for r in load_results(mine.path)]
    assert names == [
        ("test_rec_timed_records_into_its_own_recorder_whatever_opened_later.<locals>.step",
         {}, "timed"),
        ("load", {"quant": "q4"}, "timed"),
    ]
    assert [r.name for r in load_results(other)] == ["elsewhere"]
    assert list(load_results(later.path)) == []


def test_rec_timed_is_a_documented_method() -> None:
    import pydoc

    # spaces folded; Python 3.13's pydoc wraps a long signature inside its brackets
    text = " ".join(pydoc.plain(pydoc.render_doc(Recorder.timed)).split())
    text = text.replace("( ", "(").replace(" )", ")")
    assert ("timed(self, name: 'Any' = None, /, *, state: 'bool | None' = None, "
            "memory: 'bool | None' = None, **params: 'Any') -> 'Any'") in text
    assert "record each call of a function (sync or async) into this recorder" in text


def test_rec_timed_async_and_with_state(tmp_path: Path) -> None:
    with open_recorder(tmp_path / "a.jsonl", state=True) as recorder:
        recorder._read_state = lambda: Volatile(cpu_mhz=2000.0)  # type: ignore[method-assign]

        @recorder.timed("fetch")
        async def fetch() -> str:
            await asyncio.sleep(0)
            return "ok"

        assert asyncio.run(fetch()) == "ok"
    (result,) = load_results(recorder.path)
    assert result.name == "fetch" and result.origin == "timed"
    assert result.state_before is not None and result.state_before.cpu_mhz == 2000.0


def test_timed_with_state_goes_through_a_timer(tmp_path: Path) -> None:
    with open_recorder(tmp_path / "a.jsonl", state=True) as recorder:
        recorder._read_state = lambda: Volatile(cpu_mhz=3000.0)  # type: ignore[method-assign]

        @timed("f", recorder=recorder)
        def f() -> int:
            return 1

        f()
    (result,) = load_results(recorder.path)
    assert result.state_before is not None and result.state_before.cpu_mhz == 3000.0


def test_buffered_records_are_written_in_batches(tmp_path: Path) -> None:
    rec = open_recorder(tmp_path / "b.jsonl", buffer=3)
    for i in range(2):
        rec.record("x", metrics={"i": float(i)})
    assert kinds_of(rec.path).count("result") == 0
    rec.record("x", metrics={"i": 2.0})
    assert kinds_of(rec.path).count("result") == 3
    rec.record("x", metrics={"i": 3.0})
    rec.close()  # flushes what is left
    assert kinds_of(rec.path).count("result") == 4


def test_state_is_read_outside_the_measured_interval(tmp_path: Path) -> None:
    reads: list[float] = []

    def slow_state() -> Volatile:
        reads.append(time.perf_counter())
        time.sleep(0.05)
        return Volatile(load_1m=0.5)

    with open_recorder(tmp_path / "s.jsonl", state=True, state_max_age=0.0) as rec:
        rec._read_state = slow_state  # type: ignore[method-assign]
        with rec.timer("empty") as t:
            pass
    assert len(reads) == 2
    assert t.elapsed < 0.05
    assert t.result is not None and t.result.state_before == Volatile(load_1m=0.5)
    assert t.result.state_after == Volatile(load_1m=0.5)


def test_short_regions_share_a_recent_state_reading(tmp_path: Path) -> None:
    reads: list[int] = []

    def state() -> Volatile:
        reads.append(1)
        return Volatile()

    with open_recorder(tmp_path / "s.jsonl", state=True, state_max_age=60.0) as rec:
        rec._read_state = state  # type: ignore[method-assign]
        for _ in range(5):
            with rec.timer("quick"):
                pass
    assert len(reads) == 1


def test_throttling_seen_around_a_region_becomes_advice(tmp_path: Path) -> None:
    stream = io.StringIO()
    hot = Volatile(gpus=[GpuState(index=0, throttle_reasons=["sw_thermal", "idle"])])
    with open_recorder(tmp_path / "t.jsonl", state=True, advice=stream) as rec:
        rec._read_state = lambda: hot  # type: ignore[method-assign]
        with rec.timer("a"):
            pass
        with rec.timer("b"):
            pass
    loaded = load_results(rec.path)
    for result in loaded:
        assert {a.code for a in result.advice} >= {"throttling", "few_samples"}
    printed = stream.getvalue()
    assert printed.count("throttling seen") == 1  # printed once, stored every time
    assert "sw_thermal" in printed and "idle" not in printed.split("throttling")[1]


def test_memory_growth_of_a_region_is_recorded(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("resident memory is sampled from /proc on Linux only")
    with open_recorder(tmp_path / "m.jsonl", memory=True, sample_hz=50.0) as rec:
        with rec.timer("alloc") as t:
            block = bytearray(64 << 20)
            block[:: 4096] = b"x" * len(block[:: 4096])  # touch every page
            time.sleep(0.05)
        del block
    assert t.result is not None and t.result.memory is not None
    memory = t.result.memory
    assert memory.rss_growth_bytes is not None and memory.rss_growth_bytes >= 48 << 20
    assert memory.rss_peak_bytes is not None and memory.samples is not None
    assert memory.samples >= 2 and memory.source is not None and "proc" in memory.source


def test_a_forgotten_recorder_is_closed_at_exit(tmp_path: Path) -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[2])\n"
        "from tests.timing_support import open_recorder\n"
        "rec = open_recorder(sys.argv[1])\n"
        "rec.record('x', metrics={'a': 1.0})\n"
    )
    root = str(Path(__file__).parents[2])  # where the tests package is
    path = tmp_path / "exit.jsonl"
    subprocess.run([sys.executable, "-c", script, str(path), root], check=True, timeout=60)
    report = verify_log(path)
    assert report.ok and report.results == 1


def test_two_line_change_with_a_real_capture(tmp_path: Path) -> None:
    # The promise: a benchmark gains provenance with two lines.
    rec = envstamp.Recorder(tmp_path / "results.jsonl", advice=False)
    with rec.timer("pp512") as t:
        t.metrics["tokens_per_s"] = 512 / max(t.elapsed, 1e-9)
    rec.close()
    (result,) = envstamp.load_results(tmp_path / "results.jsonl")
    assert result.manifest is not None and result.manifest.probes  # a real capture ran
    assert result.manifest_digest == rec.manifest_digest
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result.at or "")
    assert verify_log(tmp_path / "results.jsonl").ok


def test_timed_with_a_path_opens_one_recorder_per_path(tmp_path: Path) -> None:
    from envstamp.stamping.timing import recorder_for_path

    path = tmp_path / "p.jsonl"

    @timed("a", path=path)
    def a() -> None:
        pass

    assert path.exists()  # the manifest is written when decorating, before any call
    shared = recorder_for_path(path)
    assert recorder_for_path(path) is shared
    a()
    shared.close()
    assert [r.name for r in load_results(path)] == ["a"]


def test_timed_calls_from_threads_keep_their_pairs(tmp_path: Path) -> None:
    import threading

    rec = open_recorder(tmp_path / "threads.jsonl", buffer=64)

    @timed("work", recorder=rec)
    def work() -> None:
        time.sleep(0)

    def loop() -> None:
        for _ in range(250):
            work()

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rec.close()
    loaded = load_results(rec.path)
    assert len(loaded) == 1000
    assert all(0 <= r.wall_s[0] < 1.0 for r in loaded)  # a split pair would be nonsense


def test_rec_timed_keeps_the_fast_path(tmp_path: Path) -> None:
    """With state and memory off, @rec.timed is the two-clock-reads path measured in
    docs/decisions.md (a call log of clock pairs, written at flush), as timed(recorder=)."""
    with open_recorder(tmp_path / "fast.jsonl", state=False, memory=False) as recorder:

        @recorder.timed
        def work() -> None:
            pass

        (log,) = recorder._call_logs
        work()
        assert len(log.times) == 0  # buffer=1: the pair was flushed right after the call
    (result,) = load_results(recorder.path)
    assert result.origin == "timed" and len(result.wall_s) == 1
