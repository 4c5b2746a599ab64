"""Speed of ``envstamp report``: 10,000 results to one HTML page (issue 14: < 3 s).

Writes five logs of 2,000 results each once (five llama.cpp builds of one machine; four
llama-bench-like tests with five repetitions each, as ``envstamp run -- llama-bench -r 5``
records them), then times the report (load and verify, group, pool, diff each setup against
the first, render the HTML) with a baseline run alongside: ``load_results`` of the same logs
alone, the floor any reader of them pays.  Also times ``trend`` of the same logs.
Run: ``python benchmarks/bench_report.py [N]``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _harness import best_of

SETUPS = 5
TESTS = (("pp512", 512, 0, 2000.0), ("tg128", 0, 128, 100.0), ("pp2048", 2048, 0, 1800.0),
         ("tg512", 0, 512, 95.0))  # fmt: skip


def _write_logs(folder: Path, count: int) -> list[str]:
    import attrs

    from envstamp.manifest.model import LlamaCppBuild
    from envstamp.manifest.serialize import with_digest
    from envstamp.stamping.timing import Recorder
    from tests.timing_support import make_manifest

    paths = []
    for setup in range(SETUPS):
        build = LlamaCppBuild(path="/opt/llama.cpp/bin/llama-bench", build_number=5000 + setup,
                              commit=f"{setup:x}" * 8, backends=["CUDA"])  # fmt: skip
        manifest = with_digest(attrs.evolve(make_manifest(llamacpp=[build])))
        path = folder / f"b{5000 + setup}.jsonl"
        with Recorder(path, manifest=manifest, state=False, memory=False, advice=False,
                      buffer=10_000) as rec:  # fmt: skip
            for index in range(count // SETUPS):
                name, n_prompt, n_gen, speed = TESTS[index % len(TESTS)]
                base = speed * (1 + 0.02 * setup)
                rec.record(
                    name,
                    params={"model": "m.gguf", "n_prompt": n_prompt, "n_gen": n_gen,
                            "n_threads": 8, "n_gpu_layers": 99},
                    metric_samples={"tokens_per_s": [base + d for d in (-2, -1, 0, 1, 2)]},
                    origin="run:llama-bench",
                )  # fmt: skip
        paths.append(str(path))
    return paths


def main(count: int) -> None:
    from envstamp.reporting.data import build_report
    from envstamp.reporting.html import render_html
    from envstamp.reporting.trend import trend_of_logs
    from envstamp.stamping.results import load_results

    with tempfile.TemporaryDirectory() as folder:
        logs = _write_logs(Path(folder), count)
        baseline = best_of(lambda: [load_results(p, require_signed=False) for p in logs])
        report = best_of(lambda: render_html(build_report(logs)))
        trend = best_of(lambda: trend_of_logs(logs))
        size = len(render_html(build_report(logs)).encode())
        print(f"{count} results in {SETUPS} logs; baseline load_results: {baseline:.2f} s")
        print(f"report: {report:.2f} s ({report / baseline:.2f}x the load alone), "
              f"{size / 1024:.0f} KiB of HTML")  # fmt: skip
        print(f"trend : {trend:.2f} s ({trend / baseline:.2f}x the load alone)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
