"""Capture speed (issue 2, 3, 4 targets), as ratios against baselines run alongside.

    python benchmarks/bench_capture.py [--repeat N]

* cold ``envstamp capture -o FILE`` (new process, empty cache; signed, as by default, and
  with ``--no-sign``) and warm (disk cache filled) vs ``python -m pyperf collect_metadata``
  (target: ratio <= 1.0);
* ``python -c "import envstamp"`` vs ``python -c "import attrs, cattrs"`` (target <= 1.3x);
* a second in-process capture (target < 5 ms);
* the GPU probes' and LLM-stack probes' share of a cold capture: the same capture with and
  without them (targets: <= 30 ms and <= 15 ms on a machine without those tools).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _harness import (
    CHILD_ENV,
    PY,
    ProcessCpu,
    interleaved,
    key_folder_env,
    report,
    run_quiet,
)

GPU_PROBES = "gpu_nvidia,gpu_nvidia_state,gpu_amd,gpu_apple,gpu_windows,gpu_intel,runtimes"
STACK_PROBES = "llamacpp,ollama,lmstudio,jan,engines,models"

IN_PROCESS = """
import sys, time
t0 = time.perf_counter()
from envstamp.capturing.capture import capture
capture(skip=set(filter(None, sys.argv[1].split(","))))
print(time.perf_counter() - t0)
"""


def timed_capture(skip: str, cache_dir: str) -> float:
    """Seconds a fresh process spends importing envstamp and capturing (skip: probe names)."""
    import subprocess

    out = subprocess.run(
        [PY, "-c", IN_PROCESS, skip],
        capture_output=True,
        text=True,
        env={**CHILD_ENV, "ENVSTAMP_CACHE_DIR": cache_dir, "ENVSTAMP_NO_CACHE": "1"},
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def second_capture_ms(n: int) -> list[float]:
    """Milliseconds of repeated in-process captures after the first."""
    from envstamp.capturing.capture import capture

    capture()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        capture()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "m.json")
        config = key_folder_env(tmp + "/config")  # a temporary key, looked up as a user's is
        cold_env = {"ENVSTAMP_NO_CACHE": "1", **config}
        warm_env = {"ENVSTAMP_CACHE_DIR": tmp + "/cache", **config}
        envstamp = [PY, "-m", "envstamp", "capture", "-o", out]
        cpu = ProcessCpu()
        commands = {
            "python -m pyperf collect_metadata": ([PY, "-m", "pyperf", "collect_metadata"], None),
            "envstamp capture -o FILE (cold, no cache)": (envstamp, cold_env),
            "  the same, --no-sign": ([*envstamp, "--no-sign"], cold_env),
            "envstamp capture -o FILE (disk cache warm)": (envstamp, warm_env),
            "python -c pass": ([PY, "-c", "pass"], None),
        }
        samples = interleaved(
            {label: cpu.measure(label, argv, env) for label, (argv, env) in commands.items()},
            args.repeat,
        )
        baseline = "python -m pyperf collect_metadata"
        report("cold capture vs pyperf collect_metadata (wall time)", samples, baseline)
        report("the same runs, process CPU time", cpu.after_warmup(), baseline)

        samples = interleaved(
            {
                "import attrs, cattrs": lambda: run_quiet([PY, "-c", "import attrs, cattrs"]),
                "import envstamp": lambda: run_quiet([PY, "-c", "import envstamp"]),
            },
            args.repeat,
        )
        report("import time", samples, "import attrs, cattrs")

        samples = interleaved(
            {
                "capture, all probes": lambda: timed_capture("", tmp),
                "capture without GPU probes": lambda: timed_capture(GPU_PROBES, tmp),
                "capture without LLM-stack probes": lambda: timed_capture(STACK_PROBES, tmp),
            },
            args.repeat,
        )
        report("probe groups' share of a cold in-process capture", samples, "capture, all probes")
        full = statistics.median(samples["capture, all probes"])
        groups = (
            ("GPU", "capture without GPU probes"),
            ("LLM stack", "capture without LLM-stack probes"),
        )
        for name, group in groups:
            added = (full - statistics.median(samples[group])) * 1000
            print(f"{name} probes add {added:.1f} ms (median difference)")

    seconds = second_capture_ms(200)
    print("\n## second in-process capture")
    print(f"median {statistics.median(seconds):.2f} ms, p95 {sorted(seconds)[189]:.2f} ms")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
