"""Speed of ``envstamp export``: 100,000 results of one log to each format (issue 14: < 5 s).

Writes a log of N results (one manifest, llama-bench-like params and samples) once, then times
``export()`` to csv, jsonl and sqlite, with a baseline run alongside: reading the same log with
``load_results`` alone (export's floor: verification and loading), so the ratio says what the
rows and the writing add.  Run: ``python benchmarks/bench_export.py [N]``."""

from __future__ import annotations

import functools
import sys
import tempfile
from pathlib import Path

from _harness import best_of


def _write_log(path: Path, count: int) -> None:
    from envstamp.stamping.timing import Recorder
    from tests.timing_support import make_manifest

    with Recorder(path, manifest=make_manifest(), state=False, memory=False, advice=False,
                  buffer=10_000) as rec:  # fmt: skip
        for index in range(count):
            rec.record(
                f"pp{512 * (1 + index % 4)}",
                params={"model": "m.gguf", "n_prompt": 512, "n_gen": 0, "n_threads": 8,
                        "flash_attn": "auto", "run": index},
                metrics={"tokens_per_s": 1000.0 + index % 97},
            )  # fmt: skip


def main(count: int) -> None:
    from envstamp.exporting.export import export
    from envstamp.stamping.results import load_results

    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "r.jsonl"
        _write_log(log, count)
        baseline = best_of(lambda: load_results(log, require_signed=False))
        print(f"{count} results; baseline load_results: {baseline:.2f} s")
        for fmt in ("csv", "jsonl", "sqlite"):
            out = Path(folder) / f"out.{fmt}"
            took = best_of(functools.partial(export, [str(log)], str(out)))
            print(f"export {fmt:6}: {took:.2f} s  ({took / baseline:.2f}x the load alone)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
