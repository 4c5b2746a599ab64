"""``envstamp import FILE... -o LOG``: another harness's results, stamped with this machine.

Run it on the machine that ran the benchmark, right after: the manifest describes the
machine as it is when importing.  docs/import.md."""

from __future__ import annotations

import argparse
import sys

from envstamp.stamping.importing import FORMATS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="result files (vllm bench serve --save-result)"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="LOG", help="results log to append to"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="vllm-bench",
        help="the files' format (default: vllm-bench)",
    )


def run(args: argparse.Namespace) -> int:
    from envstamp.stamping.importing import import_files
    from envstamp.stamping.timing import Recorder

    with Recorder(args.output, state=False, memory=False) as recorder:
        done = import_files(args.files, recorder, fmt=args.format)
    noun = "result" if done.results == 1 else "results"
    line = f"envstamp import: {done.results} {noun} appended to {done.path}"
    if done.failed:
        line += f" ({done.failed} of them failed: no request completed)"
    print(line + f"; check with 'envstamp verify {done.path}'", file=sys.stderr)
    return 0
