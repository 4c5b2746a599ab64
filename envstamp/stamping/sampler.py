"""Memory use during a measurement, and the volatile state around it.

* :class:`MemorySampler` - a background thread that reads resident memory and GPU memory
  (NVML through the runner, or amdgpu's sysfs counters) at 10 Hz by default while at least
  one region is open, and keeps each open region's peaks.  It sleeps when no region is open.
* :func:`volatile_state` - one reading of the moment (clocks, temperatures, power, load, AC)
  from the volatile probes, taken before and after a timed region, never inside it.

Everything goes through a :class:`~envstamp.runner.Runner`, so a recorded host can be
replayed.  Unknown is ``None``: a machine without NVML or amdgpu has no GPU figures, and a
system without ``/proc`` has only the resident high-water mark (``ru_maxrss``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.runner import NvmlCall, Runner
from envstamp.runner.system import max_rss_self

if TYPE_CHECKING:
    from envstamp.manifest.model import Volatile
    from envstamp.stamping.results import MemoryUse

DEFAULT_HZ = 10.0
_MIB = 1 << 20


@attrs.define
class Reading:
    """One look at memory."""

    rss_bytes: int | None = None
    gpu_total_mib: int | None = None
    gpu_ours_mib: int | None = None
    other_gpu_pids: frozenset[int] = frozenset()


# --------------------------------------------------------------------------------- reading


class MemoryReader:
    """Reads resident memory and GPU memory through a runner.

    ``ours(pid)`` decides which GPU processes count as the measured ones (default: this
    process).  ``rss`` False skips resident memory (``envstamp run`` takes the child's
    from the OS when it exits).
    """

    def __init__(
        self,
        runner: Runner,
        *,
        ours: Callable[[int], bool | None] | None = None,
        rss: bool = True,
        gpu: bool = True,
    ) -> None:
        self.runner = runner
        self.ours = ours or this_process
        self.want_rss = rss
        self.want_gpu = gpu
        self._gpu_source: str | None = None  # "nvml", "amdgpu sysfs" or "" (none)
        self._nvml_count = 0
        self._amd_files: list[str] = []
        self._page = _page_size()

    @property
    def source(self) -> str:
        """What answers, e.g. "proc+nvml"."""
        parts = []
        if self.want_rss:
            parts.append("proc" if _has_proc() else "rusage")
        if self._gpu_source:
            parts.append(self._gpu_source)
        return "+".join(parts) or "none"

    def read(self) -> Reading:
        reading = Reading()
        if self.want_rss:
            reading.rss_bytes = self._rss()
        if self.want_gpu:
            self._read_gpu(reading)
        return reading

    def _rss(self) -> int | None:
        answer = self.runner.read_text("/proc/self/statm") if _has_proc() else None
        if answer is not None and answer.ok and answer.text:
            parts = answer.text.split()
            if len(parts) > 1 and parts[1].isdigit():
                return int(parts[1]) * self._page
        return max_rss_self()

    # -- GPUs ----------------------------------------------------------------------------

    def _read_gpu(self, reading: Reading) -> None:
        if self._gpu_source is None:
            self._gpu_source = self._find_gpu_source()
        if self._gpu_source == "nvml":
            self._read_nvml(reading)
        elif self._gpu_source == "amdgpu sysfs":
            self._read_amd(reading)

    def _find_gpu_source(self) -> str:
        answer = self.runner.nvml([NvmlCall("nvmlDeviceGetCount")])
        if answer.status == "ok" and answer.answers and "value" in answer.answers[0]:
            count = answer.answers[0]["value"]
            if isinstance(count, int) and count > 0:
                self._nvml_count = count
                return "nvml"
        self._amd_files = self._amd_counters()
        return "amdgpu sysfs" if self._amd_files else ""

    def _amd_counters(self) -> list[str]:
        names = self.runner.list_dir("/sys/class/drm") or []
        found = []
        for name in names:
            if name.startswith("card") and name[4:].isdigit():
                path = f"/sys/class/drm/{name}/device/mem_info_vram_used"
                if self.runner.read_text(path).ok:
                    found.append(path)
        return found

    def _read_nvml(self, reading: Reading) -> None:
        calls = []
        for index in range(self._nvml_count):
            calls += [
                NvmlCall("nvmlDeviceGetMemoryInfo", index),
                NvmlCall("nvmlDeviceGetComputeRunningProcesses", index),
                NvmlCall("nvmlDeviceGetGraphicsRunningProcesses", index),
            ]
        # Already on the sampler's own thread: no watchdog thread per tick.
        answer = self.runner.nvml(calls, watchdog=False)
        if answer.status != "ok" or len(answer.answers) != len(calls):
            return
        total = ours = 0
        seen_total = seen_ours = unknown_ours = False
        others: set[int] = set()
        for index in range(self._nvml_count):
            memory, compute, graphics = answer.answers[index * 3 : index * 3 + 3]
            used = _get(memory.get("value"), "used")
            if isinstance(used, int):
                total += used
                seen_total = True
            for pid, used_bytes in _processes(compute) + _processes(graphics):
                mine = self.ours(pid)
                if mine and used_bytes is None:  # WDDM keeps per-process figures to itself
                    unknown_ours = True
                elif mine and used_bytes is not None:
                    seen_ours = True
                    ours += used_bytes
                elif mine is False:
                    others.add(pid)
        reading.gpu_total_mib = total // _MIB if seen_total else None
        if seen_ours:
            reading.gpu_ours_mib = ours // _MIB
        elif seen_total and not unknown_ours:
            reading.gpu_ours_mib = 0  # none of the listed processes is ours
        reading.other_gpu_pids = frozenset(others)

    def _read_amd(self, reading: Reading) -> None:
        total, seen = 0, False
        for path in self._amd_files:
            answer = self.runner.read_text(path)
            text = (answer.text or "").strip() if answer.ok else ""
            if text.isdigit():
                total += int(text)
                seen = True
        reading.gpu_total_mib = total // _MIB if seen else None


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _processes(answer: Mapping[str, Any]) -> list[tuple[int, int | None]]:
    """(pid, used bytes) of an NVML process-list answer."""
    found: list[tuple[int, int | None]] = []
    value = answer.get("value")
    if not isinstance(value, list):
        return found
    for entry in value:
        pid = _get(entry, "pid")
        used = _get(entry, "usedGpuMemory")
        if isinstance(pid, int):
            found.append((pid, used if isinstance(used, int) else None))
    return found


def this_process(pid: int) -> bool:
    """``ours(pid)`` for timers: only this process counts as measured."""
    return pid == os.getpid()


class ProcessTree:
    """``ours(pid)`` for ``envstamp run``: the command's process tree (``root`` is set once
    it has started), plus processes named like ``names`` (an ``ollama run`` client's work is
    done by the ``ollama`` server).  True: ours; False: another process; None: not visible
    from here (another PID namespace)."""

    def __init__(self, runner: Runner, names: Sequence[str] = ()) -> None:
        self.runner = runner
        self.names = tuple(n for n in names if n)
        self.root: int | None = None

    def __call__(self, pid: int) -> bool | None:
        if pid == self.root:
            return True
        if not _has_proc():
            return False
        current = pid
        for _ in range(64):  # a parent chain is short; never loop forever
            answer = self.runner.read_text(f"/proc/{current}/stat")
            if not answer.ok or not answer.text:
                return None if current == pid else False
            text = answer.text
            if current == pid and self.names:
                comm = text[text.find("(") + 1 : text.rfind(")")]
                if comm.startswith(self.names):
                    return True
            fields = text.rpartition(")")[2].split()  # state ppid pgrp session ...
            if len(fields) < 2 or not fields[1].isdigit():
                return False
            parent = int(fields[1])
            if self.root is not None and parent == self.root:
                return True
            if parent <= 1:
                return False
            current = parent
        return False


def _has_proc() -> bool:
    return sys.platform.startswith("linux")


def _page_size() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 4096


# -------------------------------------------------------------------------------- sampling


@attrs.define(eq=False)
class Region:
    """Peaks seen since a region opened."""

    start: Reading
    rss_peak: int | None = None
    gpu_ours_peak: int | None = None
    gpu_total_peak: int | None = None
    samples: int = 0
    other_gpu_pids: set[int] = attrs.field(factory=set)

    def add(self, reading: Reading) -> None:
        self.samples += 1
        self.rss_peak = _max(self.rss_peak, reading.rss_bytes)
        self.gpu_ours_peak = _max(self.gpu_ours_peak, reading.gpu_ours_mib)
        self.gpu_total_peak = _max(self.gpu_total_peak, reading.gpu_total_mib)
        self.other_gpu_pids |= reading.other_gpu_pids


def _max(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


class MemorySampler:
    """Reads memory in a background thread while regions are open; keeps their peaks."""

    def __init__(
        self, reader: MemoryReader, *, hz: float = DEFAULT_HZ, linger: float = 1.0
    ) -> None:
        if not hz > 0:
            raise ValueError("the sampling rate must be positive")
        self.reader = reader
        self.interval = 1.0 / hz
        self.linger = linger  # seconds of reading on after the last region closed
        self._regions: set[Region] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._latest: tuple[float, Reading] | None = None  # (monotonic time, reading)
        self._active_until = 0.0  # keep reading until then: regions come and go in loops

    def open_region(self) -> Region:
        """Start tracking peaks.  The baseline is the thread's latest reading when it is
        fresh (a region often starts right after another); otherwise one is taken now.

        Reading here means system calls just before the region's clock starts, and the
        caches they cool cost the region's first microsecond; the thread's reading does not.
        """
        latest = self._latest
        now = time.monotonic()
        if latest is not None and now - latest[0] <= 2 * self.interval:
            start = latest[1]
        else:
            start = self.reader.read()
            self._latest = (now, start)
        region = Region(start=start)
        region.add(start)
        with self._cond:
            self._regions.add(region)
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._loop, name="envstamp-memory-sampler", daemon=True
                )
                self._thread.start()
        # No notify: waking the thread here would make it compete for the GIL just as the
        # region's clock starts.  It ticks on its own and picks the region up.
        return region

    def close_region(self, region: Region, *, final: bool = True) -> Region:
        """Stop tracking (one last reading first, unless ``final`` is False)."""
        if final:
            reading = self.reader.read()
            region.add(reading)
            self._latest = (time.monotonic(), reading)
        with self._cond:
            self._regions.discard(region)
            self._active_until = time.monotonic() + self.linger
        return region

    def stop(self) -> None:
        """End the thread (idempotent)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def _wait_for_tick(self, next_at: float) -> bool | None:
        """Sleep until the next tick; None: stop, True: read (a region is open or one
        closed less than a second ago), False: idle."""
        with self._cond:
            delay = next_at - time.monotonic()
            if delay > 0 and not self._stopped:
                self._cond.wait(delay)
            if self._stopped:
                return None
            return bool(self._regions) or time.monotonic() < self._active_until

    def _loop(self) -> None:
        # Ticks at the sampling rate while the sampler lives; reads while regions come and
        # go.  An idle tick costs a lock and a clock read.
        next_at = time.monotonic() + self.interval
        while True:
            due = self._wait_for_tick(next_at)
            if due is None:
                return
            next_at = max(next_at + self.interval, time.monotonic())
            if not due:
                continue
            try:
                reading = self.reader.read()
            except Exception:  # noqa: BLE001 - a sampler must never take the program down
                reading = Reading()
            self._latest = (time.monotonic(), reading)
            with self._cond:
                for region in list(self._regions):
                    region.add(reading)


def memory_use(region: Region, source: str) -> MemoryUse:
    """A region's peaks as a result's memory section."""
    from envstamp.stamping.results import MemoryUse

    growth = None
    if region.rss_peak is not None and region.start.rss_bytes is not None:
        growth = max(0, region.rss_peak - region.start.rss_bytes)
    return MemoryUse(
        rss_peak_bytes=region.rss_peak,
        rss_growth_bytes=growth,
        gpu_process_peak_mib=region.gpu_ours_peak,
        gpu_total_peak_mib=region.gpu_total_peak,
        samples=region.samples,
        source=source,
    )


# ---------------------------------------------------------------------------------- state


def volatile_state(runner: Runner | None = None, *, deadline: float = 1.0) -> Volatile | None:
    """Readings of the moment from the volatile probes; None when none answered."""
    from envstamp.capturing.capture import capture_volatile

    return capture_volatile(runner, deadline=deadline)


class StateCache:
    """Volatile state, re-read only when the last reading is older than ``max_age`` seconds,
    so a loop of short timed regions does not spend its time reading clocks."""

    def __init__(self, read: Callable[[], Volatile | None], *, max_age: float = 1.0) -> None:
        self._read = read
        self.max_age = max_age
        self._at = -1e18
        self._value: Volatile | None = None
        self._lock = threading.Lock()

    def seed(self, value: Volatile | None) -> None:
        """Use a reading taken just now (the capture's own) as the current one."""
        with self._lock:
            self._value, self._at = value, time.monotonic()

    def get(self) -> Volatile | None:
        now = time.monotonic()
        with self._lock:
            if now - self._at <= self.max_age:
                return self._value
        value = self._read()
        with self._lock:
            self._value, self._at = value, time.monotonic()
        return value
