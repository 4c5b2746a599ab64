"""Tiny benchmark harness: interleaved runs, medians, ratios against a same-run baseline.

Benchmarks never assert; they print what they measured and the ratio to a baseline measured in
the same run (interleaved, so drift on the machine affects both sides alike).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

PY = sys.executable

# Measure what users see: cached bytecode (some CI images set PYTHONDONTWRITEBYTECODE, which
# recompiles every module on every start and inflates import times several-fold).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The shortest of ``repeat`` timed calls of ``fn``, in seconds (in-process timings)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def key_folder_env(folder: str) -> dict[str, str]:
    """Environment that puts envstamp's keys in ``folder``, found the way a user's are.

    On Linux platformdirs reads XDG_CONFIG_HOME, so the key lookup a user pays is measured;
    elsewhere ENVSTAMP_CONFIG_DIR (which skips platformdirs) keeps the user's own keys safe.
    """
    if sys.platform.startswith("linux"):
        return {"XDG_CONFIG_HOME": folder, "ENVSTAMP_CONFIG_DIR": ""}
    return {"ENVSTAMP_CONFIG_DIR": folder}


def run_quiet(argv: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one process run, output discarded."""
    start = time.perf_counter()
    subprocess.run(
        list(argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**CHILD_ENV, **(env or {})},
        check=False,
    )
    return time.perf_counter() - start


class ProcessCpu:
    """Process CPU seconds (user + system, from the children's rusage) of the runs made through
    :meth:`measure`, by label: steadier than wall time on a shared or throttled machine."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def measure(
        self, label: str, argv: Sequence[str], env: dict[str, str] | None = None
    ) -> Callable[[], float]:
        """A measurement for :func:`interleaved` that returns wall seconds and logs CPU."""

        def run() -> float:
            import resource

            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = run_quiet(argv, env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            self.samples.setdefault(label, []).append(used)
            return wall

        return run

    def after_warmup(self, warmup: int = 2) -> dict[str, list[float]]:
        """The samples without the warm-up runs :func:`interleaved` made first."""
        return {label: values[warmup:] for label, values in self.samples.items()}


def interleaved(
    commands: dict[str, Callable[[], float]], repeat: int, warmup: int = 2
) -> dict[str, list[float]]:
    """Run each measurement ``repeat`` times, interleaved; return the samples."""
    for _ in range(warmup):
        for measure in commands.values():
            measure()
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, measure in commands.items():
            samples[name].append(measure())
    return samples


def report(title: str, samples: dict[str, list[float]], baseline: str, unit: str = "ms") -> None:
    """Print median and min per entry, the ratio of medians to the baseline, and the median of
    the ratios round by round ("paired"): the samples of :func:`interleaved` are taken in
    rounds, and a ratio within one round leaves out what the machine's load did between
    rounds, so it moves less from run to run than the ratio of medians on a shared machine."""
    scale = 1000.0 if unit == "ms" else 1.0
    base = statistics.median(samples[baseline])
    print(f"\n## {title}")
    print(f"{'':44} {'median':>10} {'min':>10} {'ratio':>7} {'paired':>7}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"{name:44} {median * scale:>8.2f}{unit:>2} {min(values) * scale:>8.2f}{unit:>2} "
            f"{median / base:>6.2f}x {paired_ratio(values, samples[baseline]):>6.2f}x"
        )


def paired_ratio(values: Sequence[float], baseline: Sequence[float]) -> float:
    """The median of ``values[i] / baseline[i]`` over the rounds both have."""
    return statistics.median(v / b for v, b in zip(values, baseline, strict=False) if b > 0)
