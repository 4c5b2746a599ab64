"""The sampler's data: region peaks, memory use, whose GPU memory is whose, state caching.

The runner is the fake of ``test_sampler.py`` (NVML, files and folder listings from tables).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.manifest.model import Volatile
from envstamp.stamping import sampler
from envstamp.stamping.sampler import MemoryReader, ProcessTree, Reading, Region, StateCache
from tests.stamping.test_sampler import MIB, FakeRunner, stat_line

MAYBE = st.one_of(st.none(), st.integers(0, 1 << 40))
READINGS = st.builds(
    Reading,
    rss_bytes=MAYBE,
    gpu_total_mib=MAYBE,
    gpu_ours_mib=MAYBE,
    other_gpu_pids=st.frozensets(st.integers(2, 99), max_size=3),
)


def _peak(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


# --------------------------------------------------------------------------- regions


@given(READINGS, st.lists(READINGS, max_size=8))
def test_a_region_keeps_the_largest_known_value_of_each_figure(
    start: Reading, later: list[Reading]
) -> None:
    region = Region(start=start)
    for reading in [start, *later]:
        region.add(reading)
    seen = [start, *later]
    assert region.samples == len(seen)
    assert region.rss_peak == _peak([r.rss_bytes for r in seen])
    assert region.gpu_ours_peak == _peak([r.gpu_ours_mib for r in seen])
    assert region.gpu_total_peak == _peak([r.gpu_total_mib for r in seen])
    assert region.other_gpu_pids == set().union(*(r.other_gpu_pids for r in seen))


@given(READINGS, st.lists(READINGS, max_size=5))
def test_memory_use_never_reports_a_negative_growth(start: Reading, later: list[Reading]) -> None:
    region = Region(start=start)
    for reading in [start, *later]:
        region.add(reading)
    use = sampler.memory_use(region, "proc")
    if start.rss_bytes is None or region.rss_peak is None:
        assert use.rss_growth_bytes is None
    else:
        assert use.rss_growth_bytes == region.rss_peak - start.rss_bytes >= 0
    assert (use.rss_peak_bytes, use.gpu_process_peak_mib, use.gpu_total_peak_mib) == (
        region.rss_peak, region.gpu_ours_peak, region.gpu_total_peak)
    assert use.samples == len(later) + 1 and use.source == "proc"


def test_growth_is_measured_from_the_regions_start_not_from_zero() -> None:
    region = Region(start=Reading(rss_bytes=500 * MIB))
    for rss in (500 * MIB, 740 * MIB, 610 * MIB):
        region.add(Reading(rss_bytes=rss))
    use = sampler.memory_use(region, "proc")
    assert (use.rss_peak_bytes, use.rss_growth_bytes) == (740 * MIB, 240 * MIB)


# ------------------------------------------------------------------------------ NVML


def _reader(gpus: list[dict[str, Any]], ours: Any) -> MemoryReader:
    return MemoryReader(FakeRunner(gpus=gpus), ours=ours, rss=False)


def test_gpu_memory_is_summed_over_gpus_and_split_into_ours_and_others() -> None:
    gpus = [{"used": 3000 * MIB, "compute": [(10, 1000 * MIB), (11, 500 * MIB)]},
            {"used": 5000 * MIB, "compute": [(10, 2000 * MIB), (12, 100 * MIB)]}]
    reading = _reader(gpus, lambda pid: pid == 10).read()
    assert reading.gpu_total_mib == 8000
    assert reading.gpu_ours_mib == 3000
    assert reading.other_gpu_pids == {11, 12}


def test_a_process_of_unknown_ownership_is_neither_ours_nor_anothers() -> None:
    # None: the process is not visible from here (another PID namespace)
    gpus = [{"used": 800 * MIB, "compute": [(40, 300 * MIB), (41, 200 * MIB)]}]
    reading = _reader(gpus, lambda pid: None if pid == 40 else False).read()
    assert reading.gpu_ours_mib == 0
    assert reading.other_gpu_pids == {41}


def test_our_memory_is_unknown_when_our_process_hides_its_figure() -> None:
    gpus = [{"used": 800 * MIB, "compute": [(7, None), (8, 100 * MIB)]}]
    reading = _reader(gpus, lambda pid: pid == 7).read()
    assert reading.gpu_total_mib == 800 and reading.gpu_ours_mib is None
    assert reading.other_gpu_pids == {8}


def test_malformed_process_entries_are_skipped() -> None:
    answer = {"value": [{"pid": 5, "usedGpuMemory": 7 * MIB}, {"pid": "6"}, "junk",
                        {"usedGpuMemory": 1}, {"pid": 9, "usedGpuMemory": "lots"}]}
    assert sampler._processes(answer) == [(5, 7 * MIB), (9, None)]
    assert sampler._processes({"error": "Not Supported"}) == []


def test_the_gpu_source_is_looked_for_once() -> None:
    runner = FakeRunner(gpus=[{"used": 1 * MIB, "compute": []}])
    reader = MemoryReader(runner, rss=False)
    for _ in range(3):
        reader.read()
    assert runner.nvml_batches == 4  # one count, then one batch per reading
    assert reader.source == "nvml"


def test_amdgpu_counters_of_several_cards_are_summed_and_junk_ignored() -> None:
    files = {"/sys/class/drm/card0/device/mem_info_vram_used": str(300 * MIB),
             "/sys/class/drm/card1/device/mem_info_vram_used": f"{200 * MIB}\n",
             "/sys/class/drm/card2/device/mem_info_vram_used": "n/a"}
    folders = {"/sys/class/drm": ["card0", "card0-DP-1", "card1", "card2", "renderD128"]}
    reader = MemoryReader(FakeRunner(files=files, folders=folders), rss=False)
    assert reader.read().gpu_total_mib == 500
    assert reader.source == "amdgpu sysfs"


def test_no_gpu_figure_is_zero_when_nothing_answers() -> None:
    reader = MemoryReader(FakeRunner(), rss=False)
    reading = reader.read()
    assert (reading.gpu_total_mib, reading.gpu_ours_mib) == (None, None)
    assert reader.source == "none"


# ------------------------------------------------------------------------ process tree


@pytest.fixture
def linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sampler, "_has_proc", lambda: True)


def test_a_command_name_with_spaces_and_parentheses_is_read_whole(linux: None) -> None:
    files = {"/proc/30/stat": stat_line(30, "ollama (runner) x", 1)}
    tree = ProcessTree(FakeRunner(files=files), names=["ollama"])
    assert tree(30) is True
    other = ProcessTree(FakeRunner(files=files), names=["llama-server"])
    assert other(30) is False  # its parent is init: not ours, and visible


def test_a_descendant_of_the_root_is_ours_at_any_depth(linux: None) -> None:
    files = {f"/proc/{pid}/stat": stat_line(pid, "worker", pid - 1) for pid in range(101, 110)}
    tree = ProcessTree(FakeRunner(files=files))
    tree.root = 100
    assert all(tree(pid) is True for pid in range(101, 110))
    assert tree(100) is True


def test_a_parent_loop_ends(linux: None) -> None:
    files = {"/proc/50/stat": stat_line(50, "a", 51), "/proc/51/stat": stat_line(51, "b", 50)}
    tree = ProcessTree(FakeRunner(files=files))
    tree.root = 7
    assert tree(50) is False


def test_a_process_gone_midway_is_not_ours(linux: None) -> None:
    files = {"/proc/60/stat": stat_line(60, "child", 59)}  # 59 has exited
    tree = ProcessTree(FakeRunner(files=files))
    tree.root = 7
    assert tree(60) is False
    assert tree(61) is None  # unreadable from the start: not visible from here


# ------------------------------------------------------------------------------ state


def test_a_seeded_state_is_used_while_fresh_and_read_again_once_old() -> None:
    reads: list[Volatile] = []

    def read() -> Volatile:
        reads.append(Volatile(load_1m=float(len(reads))))
        return reads[-1]

    seeded = Volatile(load_1m=9.0)
    fresh = StateCache(read, max_age=3600.0)
    fresh.seed(seeded)
    assert fresh.get() is seeded and fresh.get() is seeded
    assert reads == []
    stale = StateCache(read, max_age=-1.0)  # every reading is already too old
    stale.seed(seeded)
    assert stale.get() is reads[0] and stale.get() is reads[1]


def test_a_state_that_could_not_be_read_is_cached_as_unknown() -> None:
    calls: list[int] = []

    def read() -> Volatile | None:
        calls.append(1)
        return None

    cache = StateCache(read, max_age=60.0)
    assert cache.get() is None and cache.get() is None
    assert len(calls) == 1
