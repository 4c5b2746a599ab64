"""The memory sampler (NVML, amdgpu sysfs, /proc through a runner) and state readings."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from envstamp.runner import FileResult, NvmlCall, NvmlResult, ReplayRunner, Runner, system
from envstamp.stamping import sampler
from envstamp.stamping.sampler import MemoryReader, MemorySampler, ProcessTree, Reading, Region
from tests.timing_support import open_recorder

MIB = 1 << 20


class FakeRunner(Runner):
    """Answers NVML calls, files and folder listings from tables; counts what was asked."""

    def __init__(
        self,
        *,
        gpus: list[dict[str, Any]] | None = None,
        files: dict[str, str] | None = None,
        folders: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.gpus = gpus
        self.files = files or {}
        self.folders = folders or {}
        self.nvml_batches = 0

    def nvml(
        self,
        calls: Sequence[NvmlCall],
        *,
        timeout: float | None = None,
        cache: bool = False,
        watchdog: bool = True,
    ) -> NvmlResult:
        self.nvml_batches += 1
        if self.gpus is None:
            return NvmlResult(status="absent", detail="NVML library not found")
        return NvmlResult(status="ok", answers=tuple(self._one(c) for c in calls))

    def _one(self, call: NvmlCall) -> dict[str, Any]:
        assert self.gpus is not None
        if call.fn == "nvmlDeviceGetCount":
            return {"value": len(self.gpus)}
        gpu = self.gpus[call.index or 0]
        if call.fn == "nvmlDeviceGetMemoryInfo":
            return {"value": {"total": 24 << 30, "free": 0, "used": gpu["used"]}}
        if call.fn == "nvmlDeviceGetComputeRunningProcesses":
            return {"value": [{"pid": p, "usedGpuMemory": u} for p, u in gpu["compute"]]}
        if call.fn == "nvmlDeviceGetGraphicsRunningProcesses":
            return {"error": "Not Supported"}
        return {"error": "unknown function"}

    def read_text(self, path: Any, *, limit: int = 1 << 20) -> FileResult:
        text = self.files.get(str(path))
        if text is None:
            return FileResult(path=str(path), status="absent", detail="not found")
        return FileResult(path=str(path), status="ok", text=text)

    def list_dir(self, path: Any) -> list[str] | None:
        return self.folders.get(str(path))


def stat_line(pid: int, comm: str, ppid: int) -> str:
    return f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 0 0 0 0\n"


# ------------------------------------------------------------------------------ reading


def test_nvml_totals_ours_and_other_processes() -> None:
    me = os.getpid()
    runner = FakeRunner(
        gpus=[
            {"used": 9000 * MIB, "compute": [(me, 6000 * MIB), (4242, 2000 * MIB)]},
            {"used": 1000 * MIB, "compute": [(me, None)]},  # WDDM: per-process unknown
        ]
    )
    reading = MemoryReader(runner, rss=False).read()
    assert reading.gpu_total_mib == 10000
    assert reading.gpu_ours_mib == 6000
    assert reading.other_gpu_pids == {4242}


def test_gpu_use_of_ours_is_unknown_when_the_driver_hides_it() -> None:
    me = os.getpid()
    hidden = FakeRunner(gpus=[{"used": 500 * MIB, "compute": [(me, None)]}])
    assert MemoryReader(hidden, rss=False).read().gpu_ours_mib is None
    idle = FakeRunner(gpus=[{"used": 500 * MIB, "compute": [(4242, 400 * MIB)]}])
    assert MemoryReader(idle, rss=False).read().gpu_ours_mib == 0


def test_process_tree_and_server_names_decide_what_counts_as_ours() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the process tree is read from /proc on Linux")
    files = {
        "/proc/501/stat": stat_line(501, "llama-bench", 500),  # child of the run
        "/proc/502/stat": stat_line(502, "python3", 501),  # grandchild
        "/proc/900/stat": stat_line(900, "ollama", 1),  # a server named like the tool
        "/proc/777/stat": stat_line(777, "blender", 1),  # somebody else
        "/proc/500/stat": stat_line(500, "envstamp", 1),
    }
    tree = ProcessTree(FakeRunner(files=files), names=["ollama"])
    tree.root = 500
    assert tree(500) is True
    assert tree(501) is True and tree(502) is True
    assert tree(900) is True
    assert tree(777) is False
    assert tree(31337) is None  # not visible here (another PID namespace)
    assert ProcessTree(FakeRunner(files=files))(900) is False


def test_amdgpu_sysfs_when_there_is_no_nvml() -> None:
    runner = FakeRunner(
        files={
            "/sys/class/drm/card0/device/mem_info_vram_used": "1073741824\n",
            "/sys/class/drm/card2/device/mem_info_vram_used": "536870912\n",
        },
        folders={"/sys/class/drm": ["card0", "card0-DP-1", "card1", "card2", "renderD128"]},
    )
    reader = MemoryReader(runner, rss=False)
    reading = reader.read()
    assert reading.gpu_total_mib == 1536
    assert reading.gpu_ours_mib is None
    assert reader.source == "amdgpu sysfs"


def test_no_gpu_and_no_proc_leave_unknowns() -> None:
    reader = MemoryReader(FakeRunner(), gpu=True, rss=True)
    reading = reader.read()
    assert reading.gpu_total_mib is None and reading.gpu_ours_mib is None
    if sys.platform.startswith("linux"):
        # /proc/self/statm is not in the fake: the high-water mark is the fallback
        assert reading.rss_bytes == system.max_rss_self()


def test_resident_memory_from_statm() -> None:
    page = sampler._page_size()
    runner = FakeRunner(files={"/proc/self/statm": "50000 12345 3000 100 0 9000 0\n"})
    if sys.platform.startswith("linux"):
        assert MemoryReader(runner, gpu=False).read().rss_bytes == 12345 * page


def test_ru_maxrss_units(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert system.rusage_bytes(2048) == 2048 * 1024
    monkeypatch.setattr(sys, "platform", "darwin")
    assert system.rusage_bytes(2048) == 2048


# ------------------------------------------------------------------------------ sampling


class ScriptedReader:
    """A reader that returns prepared readings, then repeats the last one."""

    def __init__(self, readings: Iterable[Reading]) -> None:
        self.readings = list(readings)
        self.reads = 0
        self.source = "scripted"
        self.lock = threading.Lock()

    def read(self) -> Reading:
        with self.lock:
            self.reads += 1
            index = min(self.reads - 1, len(self.readings) - 1)
            return self.readings[index]


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_region_keeps_the_peaks_it_saw() -> None:
    reader = ScriptedReader(
        [
            Reading(rss_bytes=100, gpu_total_mib=10, gpu_ours_mib=0),
            Reading(
                rss_bytes=500, gpu_total_mib=90, gpu_ours_mib=80, other_gpu_pids=frozenset({7})
            ),
            Reading(rss_bytes=300, gpu_total_mib=20, gpu_ours_mib=5),
        ]
    )
    memory = MemorySampler(reader, hz=200.0)  # type: ignore[arg-type]
    region = memory.open_region()
    _wait(lambda: reader.reads >= 3)
    memory.close_region(region)
    memory.stop()
    assert (region.rss_peak, region.gpu_total_peak, region.gpu_ours_peak) == (500, 90, 80)
    assert region.other_gpu_pids == {7}
    use = sampler.memory_use(region, "scripted")
    assert use.rss_growth_bytes == 400 and use.samples == region.samples >= 3


def test_the_sampler_sleeps_without_regions_and_stops() -> None:
    reader = ScriptedReader([Reading(rss_bytes=1)])
    memory = MemorySampler(reader, hz=200.0, linger=0.05)  # type: ignore[arg-type]
    region = memory.open_region()
    _wait(lambda: reader.reads >= 3)
    memory.close_region(region, final=False)
    time.sleep(0.03)
    assert reader.reads > 3  # it lingers: regions often come one after another
    time.sleep(0.05)
    idle_reads = reader.reads
    time.sleep(0.1)
    assert reader.reads <= idle_reads + 1  # at most one reading already under way
    thread = memory._thread
    memory.stop()
    assert thread is not None and not thread.is_alive()


def test_an_exploding_reader_never_kills_the_sampler() -> None:
    class Broken:
        source = "broken"
        calls = 0

        def read(self) -> Reading:
            Broken.calls += 1
            if Broken.calls > 1:
                raise OSError("sysfs vanished")
            return Reading(rss_bytes=5)

    memory = MemorySampler(Broken(), hz=200.0)  # type: ignore[arg-type]
    region = memory.open_region()
    _wait(lambda: Broken.calls >= 3)
    memory.close_region(region, final=False)
    memory.stop()
    assert region.rss_peak == 5 and region.samples >= 3


def test_the_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MemorySampler(ScriptedReader([Reading()]), hz=0)  # type: ignore[arg-type]


def test_a_timer_records_gpu_peaks_and_another_gpu_process(tmp_path: Path) -> None:
    me = os.getpid()
    runner = FakeRunner(gpus=[{"used": 12000 * MIB, "compute": [(me, 7000 * MIB), (4242, 1)]}])
    with open_recorder(tmp_path / "g.jsonl", memory=True, runner=runner) as rec:
        with rec.timer("prefill") as t:
            pass
    assert t.result is not None and t.result.memory is not None
    assert t.result.memory.gpu_process_peak_mib == 7000
    assert t.result.memory.gpu_total_peak_mib == 12000
    assert "nvml" in (t.result.memory.source or "")
    assert "gpu_shared" in {a.code for a in t.result.advice}


def test_memory_use_without_resident_readings() -> None:
    region = Region(start=Reading())
    region.add(Reading(gpu_total_mib=3))
    use = sampler.memory_use(region, "nvml")
    assert use.rss_growth_bytes is None and use.gpu_total_peak_mib == 3


# --------------------------------------------------------------------------------- state


def test_volatile_state_tolerates_probes_that_cannot_answer(tmp_path: Path) -> None:
    empty = tmp_path / "empty-recording"
    empty.mkdir()
    assert sampler.volatile_state(ReplayRunner(empty), deadline=0.5) is None


def test_state_cache_reuses_a_fresh_reading() -> None:
    from envstamp.manifest.model import Volatile

    calls: list[int] = []
    cache = sampler.StateCache(lambda: calls.append(1) or Volatile(), max_age=60.0)
    cache.get()
    cache.get()
    assert len(calls) == 1
    cache.max_age = -1.0
    cache.get()
    assert len(calls) == 2


def test_nvml_process_lists_survive_the_runner() -> None:
    # pynvml returns process lists as plain attribute bags, not ctypes structures.
    from envstamp.runner.nvml import _nvml_value

    bag = type("nvmlFriendlyObject", (), {})()
    bag.pid, bag.usedGpuMemory, bag.gpuInstanceId = 4242, 3 * MIB, None
    assert _nvml_value([bag]) == [{"pid": 4242, "usedGpuMemory": 3 * MIB, "gpuInstanceId": None}]


@pytest.mark.gpu
def test_live_nvml_reading() -> None:
    from envstamp.runner import LiveRunner

    runner = LiveRunner()
    count = runner.nvml([NvmlCall("nvmlDeviceGetCount")])
    if count.status != "ok" or not count.answers or not count.answers[0].get("value"):
        pytest.skip(f"no NVIDIA GPU with a working driver here ({count.detail or count.status})")
    reader = MemoryReader(runner)
    reading = reader.read()
    assert reader.source.endswith("nvml")
    assert isinstance(reading.gpu_total_mib, int) and reading.gpu_total_mib >= 0
    assert reading.gpu_ours_mib in (0, None)  # this process has no CUDA context
    memory = MemorySampler(reader, hz=20.0)
    region = memory.open_region()
    time.sleep(0.3)
    memory.close_region(region)
    memory.stop()
    assert region.samples >= 3 and region.gpu_total_peak is not None
