"""Advice: conditions that make a number less trustworthy.  Printed once, stored, never acted
on - envstamp never changes the system it measures.

* CPU governor not ``performance``;
* running on battery;
* GPU clocks throttled (thermal or power) before or after the region;
* spread above 10 % of the mean (sample standard deviation / mean, any series);
* fewer than 3 samples;
* another process using the GPU during the region.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

from envstamp.manifest.model import Manifest, Volatile
from envstamp.stamping.results import Advice, Summary

SPREAD_LIMIT = 0.10
MIN_SAMPLES = 3
# Throttle reasons that mean lost speed; "idle" and "applications clocks" settings do not.
_SLOWING = ("thermal", "power", "slowdown", "brake", "sync_boost")


def manifest_advice(manifest: Manifest) -> list[Advice]:
    """What the manifest alone says (governor, battery); computed once per recorder."""
    found: list[Advice] = []
    governor = manifest.cpu.governor
    if governor and governor.lower() != "performance":
        found.append(
            Advice(
                code="governor",
                message=f"CPU governor is {governor!r}, not 'performance': clocks may vary",
            )
        )
    if manifest.power.ac_online is False or manifest.volatile.ac_online is False:
        found.append(battery())
    return found


def battery() -> Advice:
    return Advice(code="battery", message="running on battery: clocks and power limits may drop")


def state_advice(states: Iterable[Volatile | None]) -> list[Advice]:
    """Battery and throttling seen in the readings around a region."""
    found: list[Advice] = []
    reasons: dict[str, None] = {}
    on_battery = False
    for state in states:
        if state is None:
            continue
        on_battery = on_battery or state.ac_online is False
        for gpu in state.gpus:
            for reason in gpu.throttle_reasons:
                if any(word in reason.lower() for word in _SLOWING):
                    reasons[reason] = None
    if on_battery:
        found.append(battery())
    if reasons:
        found.append(
            Advice(
                code="throttling",
                message=f"GPU throttling seen during the run ({', '.join(reasons)})",
            )
        )
    return found


def sample_advice(summaries: Mapping[str, Summary], series: Sequence[str] = ()) -> list[Advice]:
    """Spread above 10 % of the mean, or fewer than 3 samples, in any measured series."""
    found: list[Advice] = []
    names = list(series) or list(summaries)
    few = [summaries[name].n for name in names if name in summaries]
    if few and min(few) < MIN_SAMPLES:
        found.append(few_samples(min(few)))
    wide = []
    for name in names:
        summary = summaries.get(name)
        if summary and summary.stddev is not None and summary.mean:
            relative = summary.stddev / abs(summary.mean)
            if relative > SPREAD_LIMIT:
                wide.append(f"{name} {relative:.0%}")
    if wide:
        found.append(
            Advice(
                code="spread",
                message=f"spread above {SPREAD_LIMIT:.0%} of the mean ({', '.join(wide)})",
            )
        )
    return found


@functools.lru_cache(maxsize=8)
def few_samples(n: int) -> Advice:
    """The few-samples advice for ``n`` samples (one shared object per n: results are made
    by the thousand and advice is never modified)."""
    return Advice(
        code="few_samples",
        message=f"only {count(n, 'sample')}: repeat at least {MIN_SAMPLES} times to see spread",
    )


def count(n: int, noun: str) -> str:
    """ "1 sample", "2 samples": a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def gpu_advice(other_pids: Iterable[int]) -> list[Advice]:
    """Another process on the GPU during the region."""
    pids = sorted(set(other_pids))
    if pids:
        shown = ", ".join(str(p) for p in pids[:5])
        return [
            Advice(
                code="gpu_shared",
                message=f"other processes used the GPU during the run (pid {shown})",
            )
        ]
    return []


def merge(*groups: Iterable[Advice]) -> list[Advice]:
    """Advice lists joined, one entry per code (first wins)."""
    seen: dict[str, Advice] = {}
    for group in groups:
        for advice in group:
            seen.setdefault(advice.code, advice)
    return list(seen.values())


class AdvicePrinter:
    """Prints each distinct piece of advice once to a stream (stderr by default)."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self._printed: set[str] = set()
        self._lock = threading.Lock()

    def mute(self, *codes: str) -> None:
        """Never print these codes (a caller that says them its own way); still stored."""
        with self._lock:
            self._printed.update(codes)

    def show(self, advice: Iterable[Advice]) -> None:
        if not self.enabled:
            return
        for item in advice:
            with self._lock:
                if item.code in self._printed:
                    continue
                self._printed.add(item.code)
            stream = self.stream or sys.stderr
            try:
                stream.write(f"envstamp: advice: {item.message}\n")
                stream.flush()
            except (OSError, ValueError):
                self.enabled = False
                return
