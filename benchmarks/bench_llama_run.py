"""Does ``envstamp run -- llama-bench`` change the speed llama-bench reports? (issue 11, Speed)

    python benchmarks/bench_llama_run.py --bin DIR [--model FILE] [--pairs 10]
                                         [--prompt 512] [--gen 128] [--reps 2] [--json OUT]

``--bin`` is a folder holding ``llama-bench`` (a llama.cpp build's ``bin``; the environment
variable ``ENVSTAMP_LLAMA_CPP_BIN`` serves too).  Without ``--model`` a model is made with
``scripts/make-tiny-gguf --preset bench`` (~90 M parameters: one test takes well over half a
second on a CPU).

Bare and wrapped runs of the same llama-bench command (``-o json``) alternate in pairs, the
order swapped every pair (ABBA) so that drift on the machine falls on both sides alike.  The
speed compared is llama-bench's own: each run's ``avg_ts`` per test, read from what it printed
(``envstamp run`` echoes the child's output unchanged).  Reported per test: the median t/s of
each side, the ratio of medians (wrapped / bare) with a bootstrap 95 % interval, the
spread of the per-pair ratios, and the ratio of each side's fastest repetition (others' work
on a shared machine only slows runs down, so the fastest is the least disturbed figure).
Wall times show what envstamp adds around the command (the capture and signing before it,
the log after): outside llama-bench's own clock.

Then the memory sampler ``envstamp run`` starts (made the same way, in this process) watches
a few more llama-bench runs; its thread's own CPU clock over the wall time is its share of
one core (target < 1 %); so is that of the peak-memory watcher ``envstamp run`` starts beside
each child.  (CPython names no OS threads, so neither can be told apart from outside
``envstamp run``.)  The load average before and after is printed: others' work
on the machine widens every spread.  On Linux the CPU time ``envstamp run``'s whole process
spends while its child runs (``/proc/<pid>/stat``, read at 2 Hz) is reported too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _harness import CHILD_ENV, key_folder_env

HERE = Path(__file__).parent
SAMPLER_COMM = "envstamp-memory"  # the thread "envstamp-memory-sampler", as the kernel cuts it


# --------------------------------------------------------------------------------- runs


def llama_bench_speeds(stdout: str) -> dict[str, float]:
    """{test name: avg_ts, test name + " best": its fastest repetition} of llama-bench's
    JSON output (pp512, tg128, pp512+tg128...)."""
    start = stdout.find("[")
    tests, _ = json.JSONDecoder().raw_decode(stdout[start:])
    speeds = {}
    for test in tests:
        prompt, gen = int(test.get("n_prompt", 0)), int(test.get("n_gen", 0))
        name = "+".join(part for part in (prompt and f"pp{prompt}", gen and f"tg{gen}") if part)
        speeds[name] = float(test["avg_ts"])
        speeds[name + " best"] = max(float(v) for v in test.get("samples_ts") or [test["avg_ts"]])
    return speeds


def sampler_share(argv: list[str], runs: int) -> tuple[float, float] | None:
    """(sampler CPU seconds, region seconds) of ``envstamp run``'s memory sampler while
    llama-bench runs ``runs`` times: the sampler made as ``cli/run.py`` makes it (the
    command's process tree as "ours", no resident-memory reads, 10 Hz), its thread's own CPU
    clock read before it stops.  None where threads have no CPU clock (not POSIX)."""
    from envstamp.runner import LiveRunner
    from envstamp.stamping.sampler import MemoryReader, MemorySampler, ProcessTree

    if not hasattr(time, "pthread_getcpuclockid"):
        return None
    runner = LiveRunner()
    tree = ProcessTree(runner)
    sampler = MemorySampler(MemoryReader(runner, ours=tree, rss=False), hz=10.0)
    region = sampler.open_region()
    thread = next(t for t in threading.enumerate() if t.name == "envstamp-memory-sampler")
    clock = time.pthread_getcpuclockid(thread.ident or 0)
    cpu0, wall0 = time.clock_gettime(clock), time.perf_counter()
    for _ in range(runs):
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tree.root = child.pid
        child.wait()
    cpu, wall = time.clock_gettime(clock) - cpu0, time.perf_counter() - wall0
    sampler.close_region(region, final=False)
    sampler.stop()
    return cpu, wall


def run_bare(argv: list[str]) -> tuple[dict[str, float], float]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True, env=CHILD_ENV)
    return llama_bench_speeds(done.stdout), time.perf_counter() - start


class BusyWhileChild:
    """CPU time ``envstamp run``'s own process (all its threads: output pumps, memory sampler,
    peak-memory watcher) spends while its child runs, read from /proc at 2 Hz (Linux): often
    enough at clock-tick resolution over many runs, rarely enough not to slow the wrapped
    side itself."""

    def __init__(self, pid: int, argv: list[str], every: float = 0.5) -> None:
        self.proc = Path(f"/proc/{pid}")
        self.cmdline = "\0".join(argv) + "\0"  # the measured run, not a --version asked before
        self.every = every
        self.ticks = 0
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _cpu_ticks(self) -> int:
        fields = (self.proc / "stat").read_text().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def _has_child(self) -> bool:
        children = [
            pid for task in (self.proc / "task").iterdir()
            for pid in (task / "children").read_text().split()
        ]
        for pid in children:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/cmdline").read_text() == self.cmdline:
                    return True
        return False

    def _poll(self) -> None:
        last: tuple[int, float] | None = None
        while not self._stop.wait(self.every):
            try:
                child, ticks, now = self._has_child(), self._cpu_ticks(), time.monotonic()
            except (OSError, ValueError, IndexError):
                return  # the process has ended
            if child and last is not None:
                self.ticks += ticks - last[0]
                self.seconds += now - last[1]
            last = (ticks, now) if child else None

    def stop(self) -> tuple[float, float]:
        """(CPU seconds, seconds watched) while the child ran."""
        self._stop.set()
        self._thread.join()
        return self.ticks / os.sysconf("SC_CLK_TCK"), self.seconds


def run_wrapped(
    argv: list[str], log: Path, env: dict[str, str]
) -> tuple[dict[str, float], float, tuple[float, float] | None]:
    command = [sys.executable, "-m", "envstamp", "run", "-o", str(log), "--", *argv]
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    watch = BusyWhileChild(proc.pid, argv) if sys.platform.startswith("linux") else None
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    busy = watch.stop() if watch else None
    if proc.returncode != 0:
        raise SystemExit(f"envstamp run failed ({proc.returncode}): {err[-2000:]}")
    return llama_bench_speeds(out), wall, busy


# ----------------------------------------------------------------------------- numbers


def ratio_interval(
    wrapped: list[float], bare: list[float], rounds: int = 2000
) -> tuple[float, float]:
    """Bootstrap 95 % interval of median(wrapped) / median(bare) (seeded: reproducible)."""
    pick = random.Random(11)
    ratios = sorted(
        statistics.median(pick.choices(wrapped, k=len(wrapped)))
        / statistics.median(pick.choices(bare, k=len(bare)))
        for _ in range(rounds)
    )
    return ratios[int(rounds * 0.025)], ratios[int(rounds * 0.975) - 1]


def spread(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4)
    return f"IQR {quartiles[0]:.3f}-{quartiles[2]:.3f}, range {min(values):.3f}-{max(values):.3f}"


def report(samples: dict[str, Any]) -> None:
    bare, wrapped = samples["bare"], samples["wrapped"]
    print(f"\n## llama-bench's own t/s, bare vs envstamp run ({len(bare)} pairs, interleaved)")
    print(f"{'test':12} {'bare median':>12} {'wrapped median':>15} {'ratio':>7}  95% CI"
          "           per-pair ratios")
    for test in [name for name in bare[0]["speeds"] if not name.endswith(" best")]:
        b = [run["speeds"][test] for run in bare]
        w = [run["speeds"][test] for run in wrapped]
        low, high = ratio_interval(w, b)
        pairs = [x / y for x, y in zip(w, b, strict=True)]
        print(f"{test:12} {statistics.median(b):>12.2f} {statistics.median(w):>15.2f} "
              f"{statistics.median(w) / statistics.median(b):>7.3f}  {low:.3f}-{high:.3f}"
              f"    median {statistics.median(pairs):.3f}, {spread(pairs)}")
        cv_b = statistics.stdev(b) / statistics.mean(b) * 100
        cv_w = statistics.stdev(w) / statistics.mean(w) * 100
        print(f"{'':12} run-to-run spread (stddev / mean): bare {cv_b:.1f} %, wrapped {cv_w:.1f} %")
        # Others' work on a shared machine only ever slows a run down: the fastest repetition
        # of each side is the figure it disturbs least.
        best_b = max(run["speeds"][test + " best"] for run in bare)
        best_w = max(run["speeds"][test + " best"] for run in wrapped)
        print(f"{'':12} fastest repetition: bare {best_b:.2f}, wrapped {best_w:.2f}, "
              f"ratio {best_w / best_b:.3f}")
    wall_b = statistics.median(run["wall_s"] for run in bare)
    wall_w = statistics.median(run["wall_s"] for run in wrapped)
    print(f"\nwall time per run, median: bare {wall_b:.2f} s, wrapped {wall_w:.2f} s "
          f"(+{wall_w - wall_b:.2f} s: capture, signing and the log, outside llama-bench's clock)")
    busy = [run["busy"] for run in wrapped if run.get("busy")]
    if busy and sum(b[1] for b in busy) > 0:
        cpu, wall = sum(b[0] for b in busy), sum(b[1] for b in busy)
        print(f"envstamp run's own process while llama-bench ran: {cpu * 1000:.0f} ms CPU over "
              f"{wall:.1f} s = {cpu / wall * 100:.2f} % of one core (all its threads)")
    if samples["sampler"]:
        cpu, wall = samples["sampler"]
        print(f"memory sampler thread (as envstamp run makes it, 10 Hz, {samples['source']}): "
              f"{cpu * 1000:.1f} ms CPU over {wall:.1f} s of llama-bench = "
              f"{cpu / wall * 100:.3f} % of one core (target < 1 %)")
    else:
        print("memory sampler thread: not measured (threads have no CPU clock here)")
    if samples.get("watcher"):
        cpu, wall = samples["watcher"]
        print(f"peak-memory watcher thread (childrun, beside each child): {cpu * 1000:.1f} ms "
              f"CPU over {wall:.1f} s of llama-bench = {cpu / wall * 100:.3f} % of one core")
    loads = ", ".join(f"{value:.1f}" for value in samples["load"])
    print(f"1-minute load after each pair: {loads} (before: {samples['load_before'][0]:.1f}); "
          f"{os.cpu_count()} CPUs")


def watcher_share(argv: list[str], runs: int) -> tuple[float, float] | None:
    """(CPU seconds, seconds) of the peak-memory watcher ``envstamp run`` starts beside each
    child (``childrun._HighWaterWatcher``: it polls the child's VmHWM), over ``runs`` runs of
    llama-bench.  None where there is no such watcher or no thread CPU clock."""
    from envstamp.runner import childrun

    watcher_class = getattr(childrun, "_HighWaterWatcher", None)  # internal: may change
    if watcher_class is None or not hasattr(time, "pthread_getcpuclockid"):
        return None
    cpu = wall = 0.0
    for _ in range(runs):
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        watcher = watcher_class(child.pid)
        thread = getattr(watcher, "_thread", None)
        if thread is None:
            child.wait()
            return None
        clock = time.pthread_getcpuclockid(thread.ident or 0)
        cpu0, wall0 = time.clock_gettime(clock), time.perf_counter()
        child.wait()
        cpu += time.clock_gettime(clock) - cpu0
        wall += time.perf_counter() - wall0
        watcher.stop()
    return cpu, wall


def _reader_source() -> str:
    """What the sampler reads here ("nvml", "amdgpu sysfs" or nothing)."""
    from envstamp.runner import LiveRunner
    from envstamp.stamping.sampler import MemoryReader

    reader = MemoryReader(LiveRunner(), rss=False)
    reader.read()
    return reader.source


# --------------------------------------------------------------------------------- main


def make_model(folder: Path) -> Path:
    model = folder / "bench.gguf"
    script = HERE.parent / "scripts" / "make-tiny-gguf"
    subprocess.run([sys.executable, str(script), str(model), "--preset", "bench"], check=True)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.environ.get("ENVSTAMP_LLAMA_CPP_BIN"),
                        help="folder holding llama-bench (default: $ENVSTAMP_LLAMA_CPP_BIN)")
    parser.add_argument("--model", help="GGUF model (default: make one, --preset bench)")
    parser.add_argument("--pairs", type=int, default=10, help="at least 2")
    parser.add_argument("--prompt", type=int, default=512, help="llama-bench -p")
    parser.add_argument("--gen", type=int, default=128, help="llama-bench -n")
    parser.add_argument("--reps", type=int, default=2, help="llama-bench -r")
    parser.add_argument("--sampler-runs", type=int, default=3,
                        help="llama-bench runs under the in-process sampler measurement")
    parser.add_argument("--json", help="write every sample to this file")
    args, _ = parser.parse_known_args()  # benchmarks/run.py hands every script its options
    args.pairs = max(args.pairs, 2)
    if not args.bin:
        print("skipped: no llama.cpp build named (--bin DIR or ENVSTAMP_LLAMA_CPP_BIN)")
        return
    bench = Path(args.bin) / "llama-bench"
    if not bench.exists():
        parser.error(f"no llama-bench in {args.bin}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = Path(args.model) if args.model else make_model(folder)
        argv = [str(bench), "-m", str(model), "-p", str(args.prompt), "-n", str(args.gen),
                "-r", str(args.reps), "-o", "json"]
        env = {**CHILD_ENV, **key_folder_env(str(folder / "config"))}
        samples: dict[str, Any] = {"argv": argv, "bare": [], "wrapped": [],
                                   "load_before": os.getloadavg(), "load": []}
        run_bare(argv)  # warm-up: the model file into the page cache
        for pair in range(args.pairs):
            order = ("bare", "wrapped") if pair % 2 == 0 else ("wrapped", "bare")
            for side in order:
                if side == "bare":
                    speeds, wall = run_bare(argv)
                    samples["bare"].append({"speeds": speeds, "wall_s": wall})
                else:
                    log = folder / f"run-{pair}.jsonl"
                    speeds, wall, busy = run_wrapped(argv, log, env)
                    samples["wrapped"].append({"speeds": speeds, "wall_s": wall, "busy": busy})
            samples["load"].append(os.getloadavg()[0])
            print(f"pair {pair + 1}/{args.pairs} done, load {samples['load'][-1]:.2f}",
                  file=sys.stderr, flush=True)
        samples["sampler"] = sampler_share(argv, args.sampler_runs)
        samples["watcher"] = watcher_share(argv, args.sampler_runs)
        samples["source"] = _reader_source()
        samples["load_after"] = os.getloadavg()
    report(samples)
    if args.json:
        Path(args.json).write_text(json.dumps(samples, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
