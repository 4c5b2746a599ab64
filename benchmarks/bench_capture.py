"""Capture speed (issue 2, 3, 4 and 13 targets), as ratios against baselines run alongside.

    python benchmarks/bench_capture.py [--repeat N] [--waits]

pyperf comes with the dev extra (``pip install -e ".[dev]"``; alone: ``pip install pyperf``
into the same environment).  Children run with bytecode caching allowed, as users have it,
even where the shell sets PYTHONDONTWRITEBYTECODE (see ``_harness.CHILD_ENV``).


* cold ``envstamp capture -o FILE`` (new process, empty cache; signed, as by default, and
  with ``--no-sign``) and warm (disk cache filled) vs ``python -m pyperf collect_metadata``
  (target: ratio <= 1.0 in issue 4, <= 1.1x in issue 13; the "paired" column, the median of
  the ratios within each round, moves least between runs on a shared machine);
* ``python -c "import envstamp"`` vs ``python -c "import attrs, cattrs"`` (target <= 1.3x);
* a second in-process capture (target < 5 ms);
* the GPU probes' and LLM-stack probes' share of a cold capture: the same capture with and
  without them (targets: <= 30 ms and <= 15 ms on a machine without those tools).

``--waits`` puts stand-ins first on PATH for the tools a GPU and llama.cpp host answers
slowly (``nvidia-smi``, ``nvcc``, ``rocm-smi``, ``llama-cli``, ``llama-server``,
``llama-bench``, ``ollama``, ``lms``: each sleeps 30-100 ms and prints a line), so that the
probes wait on the system as they do there: the case the growing probe pool is for.
"""

from __future__ import annotations

import argparse
import shlex
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

# Stand-ins for slow tools (--waits): name -> (seconds it sleeps, the line it prints).
SLOW_TOOLS = {
    "nvidia-smi": (0.10, "NVIDIA-SMI has failed because it couldn't communicate with the "
                         "NVIDIA driver. Make sure that the latest NVIDIA driver is installed "
                         "and running."),
    "nvcc": (0.05, "Cuda compilation tools, release 12.4, V12.4.131"),
    "rocm-smi": (0.05, "ROCm System Management Interface"),
    "llama-cli": (0.04, "version: 4000 (abcdef0)"),
    "llama-server": (0.04, "version: 4000 (abcdef0)"),
    "llama-bench": (0.04, "version: 4000 (abcdef0)"),
    "ollama": (0.03, "ollama version is 0.5.1"),
    "lms": (0.05, "lms 0.3.0"),
}


def slow_tools_path(folder: Path) -> str:
    """A PATH with the slow stand-ins (POSIX shell scripts) first."""
    import os

    folder.mkdir(parents=True, exist_ok=True)
    for name, (seconds, line) in SLOW_TOOLS.items():
        tool = folder / name
        tool.write_text(f"#!/bin/sh\nsleep {seconds}\necho {shlex.quote(line)}\n")
        tool.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"

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
    parser.add_argument("--waits", action="store_true", help="slow tools first on PATH")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "m.json")
        config = key_folder_env(tmp + "/config")  # a temporary key, looked up as a user's is
        if args.waits:
            config["PATH"] = slow_tools_path(Path(tmp) / "slow-tools")
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
