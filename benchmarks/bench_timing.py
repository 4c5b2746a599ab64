"""Stamped timing (issue 6 targets), as ratios against baselines measured in the same run.

    python benchmarks/bench_timing.py [--repeat N] [--records N] [--sampler-seconds S]

* ``with rec.timer(...)`` vs a minimal hand-written ``__slots__`` timer (target <= 1.5x),
  excluding I/O: records are buffered and written outside the timed region.  Two views:
  the cost per use (state and memory sampling off, as for tight loops), and what each adds
  *inside* the measured interval with the defaults (state and memory sampling on; they
  happen outside the interval, so the interval must cost the same);
* ``@timed`` vs a minimal two-clock-reads decorator (target <= 1.5x);
* appending records to one file without fsync (target >= 50,000/s), and with durable=True;
* verifying a 1,000,000-record log (target >= 200,000 records/s), next to a plain
  ``json.loads`` of every line as a reference;
* the memory sampler's CPU time at 10 Hz over a 10-second region (target < 1 % of a core).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from time import perf_counter
from typing import Any

from _harness import interleaved

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the tests' manifest builder

from timing_support import make_manifest  # noqa: E402

from envstamp.stamping.timing import Recorder  # noqa: E402

LOOPS = 20_000


# ------------------------------------------------------------------------------ baselines


class MinimalTimer:
    """The hand-written timer to beat: a name, two clock reads, the result kept."""

    __slots__ = ("elapsed", "name", "start")

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> MinimalTimer:
        self.start = perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = perf_counter() - self.start
        KEPT.append(self)


KEPT: list[Any] = []


def minimal_decorator(fn: Any) -> Any:
    """The hand-written decorator to beat: two clock reads around the call, kept."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = perf_counter()
        value = fn(*args, **kwargs)
        KEPT.append(perf_counter() - start)
        return value

    return wrapper


# ------------------------------------------------------------------------------- helpers


def recorder(folder: Path, name: str, **options: Any) -> Recorder:
    settings: dict[str, Any] = {"manifest": make_manifest(), "advice": False}
    settings.update(options)
    return Recorder(folder / name, **settings)


def per_use(loop: Any, loops: int = LOOPS) -> float:
    """Seconds per iteration of ``loop(loops)``."""
    start = perf_counter()
    loop(loops)
    return (perf_counter() - start) / loops


def discard(rec: Recorder) -> None:
    """Drop queued records unwritten: the timer benchmark excludes I/O."""
    rec._pending.clear()


# -------------------------------------------------------------------------------- timers


def bench_timer(folder: Path, repeat: int) -> None:
    lean = recorder(folder, "lean.jsonl", state=False, memory=False, buffer=10**9)

    def minimal(n: int) -> None:
        for _ in range(n):
            with MinimalTimer("pp512"):
                pass
        KEPT.clear()

    def ours(n: int) -> None:
        for _ in range(n):
            with lean.timer("pp512"):
                pass
        discard(lean)

    samples = interleaved(
        {
            "minimal __slots__ timer": lambda: per_use(minimal),
            "rec.timer (state/memory off, buffered)": lambda: per_use(ours),
        },
        repeat,
    )
    report("timer cost per use (excluding I/O)", samples, "minimal __slots__ timer")

    full = recorder(folder, "full.jsonl", state=True, memory=True, buffer=10**9)

    def inside(factory: Any, n: int = 2000) -> float:
        values = []
        for _ in range(n):
            with factory() as t:
                pass
            values.append(t.elapsed)
        KEPT.clear()
        discard(full)
        return statistics.median(values)

    samples = interleaved(
        {
            "minimal __slots__ timer": lambda: inside(lambda: MinimalTimer("x")),
            "rec.timer (defaults: state+memory on)": lambda: inside(lambda: full.timer("x")),
        },
        repeat,
    )
    report(
        "what the timer adds inside the measured interval (median elapsed of an empty region)",
        samples,
        "minimal __slots__ timer",
    )
    full.close()
    lean.close()


def bench_decorator(folder: Path, repeat: int) -> None:
    lean = recorder(folder, "timed.jsonl", state=False, memory=False, buffer=10**9)
    from envstamp.stamping.timing import timed

    def work(x: int) -> int:
        return x

    baseline = minimal_decorator(work)
    ours = timed("work", recorder=lean)(work)

    def run_baseline(n: int) -> None:
        for i in range(n):
            baseline(i)
        KEPT.clear()

    def run_ours(n: int) -> None:
        for i in range(n):
            ours(i)
        discard(lean)

    samples = interleaved(
        {
            "minimal two-clock-reads decorator": lambda: per_use(run_baseline),
            "@envstamp.timed (state/memory off, buffered)": lambda: per_use(run_ours),
        },
        repeat,
    )
    report("decorator cost per call", samples, "minimal two-clock-reads decorator")
    lean.close()


def report(title: str, samples: dict[str, list[float]], baseline: str, unit: str = "ns") -> None:
    """Median and min per entry (nanoseconds) and both ratios to the baseline."""
    base_median = statistics.median(samples[baseline])
    base_min = min(samples[baseline])
    print(f"\n## {title}")
    print(f"{'':48} {'median':>9} {'min':>9} {'ratio(median)':>14} {'ratio(min)':>11}")
    for name, values in samples.items():
        median, low = statistics.median(values), min(values)
        print(
            f"{name:48} {median * 1e9:>7.0f}{unit} {low * 1e9:>7.0f}{unit} "
            f"{median / base_median:>13.2f}x {low / base_min:>10.2f}x"
        )


# ------------------------------------------------------------------------------- appends


def bench_appends(folder: Path, records: int) -> None:
    print("\n## appending records (rec.record, one file)")
    for label, options, count in (
        ("batched (buffer=1000), no fsync", {"buffer": 1000}, records),
        ("each record its own locked write (buffer=1), no fsync", {"buffer": 1}, records),
        ("durable=True, buffer=1 (fsync per record)", {"buffer": 1, "durable": True}, 2000),
        ("durable=True, buffer=1000", {"buffer": 1000, "durable": True}, records),
    ):
        rec = recorder(folder, f"append-{len(label)}.jsonl", state=False, memory=False, **options)
        start = perf_counter()
        for i in range(count):
            rec.record("tg128", metrics={"tokens_per_s": 40.0 + i % 7}, params={"ngl": 99})
        rec.flush()
        elapsed = perf_counter() - start
        rec.close()
        print(f"{label:58} {count / elapsed:>12,.0f} records/s")


# -------------------------------------------------------------------------------- verify


def bench_verify(folder: Path, records: int) -> None:
    from envstamp.stamping.results import verify_log

    path = folder / "million.jsonl"
    rec = recorder(folder, "million.jsonl", state=False, memory=False, buffer=5000)
    start = perf_counter()
    for i in range(records):
        rec.record("tg128", metrics={"tokens_per_s": 40.0 + i % 7}, wall_s=[0.5 + i % 3 / 100])
    rec.close()
    print(f"\n## verifying a {records:,}-record log ({path.stat().st_size / 1e6:.0f} MB)")
    print(f"(written in {perf_counter() - start:.1f} s)")
    verify_times, parse_times = [], []
    for _ in range(3):
        start = perf_counter()
        result = verify_log(path)
        verify_times.append(perf_counter() - start)
        assert result.ok, result.problems[:3]
        start = perf_counter()
        for line in path.read_bytes().split(b"\n")[:-1]:
            json.loads(line)
        parse_times.append(perf_counter() - start)
    best = min(verify_times)
    print(f"envstamp verify_log (chain, {result.heads} signed heads): "
          f"{records / best:>12,.0f} records/s ({best:.2f} s)")
    print(f"reference: json.loads of every line:   {records / min(parse_times):>12,.0f} lines/s")


# ------------------------------------------------------------------------------- sampler


def bench_sampler(seconds: float) -> None:
    from envstamp.runner import LiveRunner
    from envstamp.stamping.sampler import MemoryReader, MemorySampler

    reader = MemoryReader(LiveRunner())
    sampler = MemorySampler(reader, hz=10.0)
    region = sampler.open_region()
    cpu0, wall0 = time.process_time(), perf_counter()
    time.sleep(seconds)
    cpu = time.process_time() - cpu0
    wall = perf_counter() - wall0
    sampler.close_region(region, final=False)
    sampler.stop()
    print(f"\n## memory sampler at 10 Hz over {wall:.1f} s ({reader.source})")
    print(f"{region.samples} readings, process CPU {cpu * 1000:.1f} ms "
          f"= {cpu / wall * 100:.3f} % of one core (target < 1 %)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--records", type=int, default=200_000, help="for the append rates")
    parser.add_argument("--verify-records", type=int, default=1_000_000)
    parser.add_argument("--sampler-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ.setdefault("ENVSTAMP_CONFIG_DIR", str(Path(tmp) / "config"))
        folder = Path(tmp)
        bench_timer(folder, args.repeat)
        bench_decorator(folder, args.repeat)
        bench_appends(folder, args.records)
        bench_verify(folder, args.verify_records)
        bench_sampler(args.sampler_seconds)


if __name__ == "__main__":
    main()
