"""``envstamp export LOG... -o FILE``: stamped results as rows for other tools.

One row per result (``--samples``: per repetition) with its setup's key fields flattened
beside it, the manifest digest and the signature state; CSV, JSON Lines, SQLite (plus
llama.cpp's own ``llama_bench`` table, which ``scripts/compare-llama-bench.py`` reads) or
Parquet (``pip install 'envstamp[parquet]'``).  docs/export.md shows the queries."""

from __future__ import annotations

import argparse
import sys

from envstamp.exporting.writers import FORMATS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "logs", nargs="+", metavar="LOG", help="results logs (envstamp run, Recorder)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="csv, jsonl, sqlite or parquet (default: from FILE's extension)",
    )
    parser.add_argument(
        "--samples", action="store_true", help="one row per repetition instead of per result"
    )
    parser.add_argument(
        "--no-failed",
        action="store_true",
        help="leave out results whose command failed (kept and marked by default)",
    )


def run(args: argparse.Namespace) -> int:
    from envstamp.exporting.export import export

    done = export(
        args.logs,
        args.output,
        fmt=args.format,
        samples=args.samples,
        include_failed=not args.no_failed,
    )
    states = ", ".join(f"{count} {state}" for state, count in sorted(done.signatures.items()))
    noun = "row" if done.rows == 1 else "rows"
    line = f"wrote {done.path} ({done.format}): {done.rows} {noun}"
    if states:
        line += f" ({states})"
    if done.llama_bench_rows is not None:
        tests = "test" if done.llama_bench_rows == 1 else "tests"
        line += f"; llama_bench table: {done.llama_bench_rows} llama-bench {tests}"
    print(line, file=sys.stderr)
    return 0
