"""``envstamp report LOG... -o report.html``: one self-contained HTML page of stamped results.

Per test, the speed of each setup with its spread (inline SVG), peak memory where recorded,
each setup compared with the first as ``envstamp diff`` compares them (ranked likely causes),
and every input's signature state.  No script, no network: the file opens anywhere and can be
mailed or attached.  docs/report.md describes it."""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "logs", nargs="+", metavar="LOG", help="results logs (envstamp run, Recorder)"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE",
        help="the HTML file to write (written atomically); - prints it",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import check_output, emit
    from envstamp.reporting.data import build_report
    from envstamp.reporting.html import render_html

    check_output(args.output)
    report = build_report(args.logs)
    emit(render_html(report), args.output)
    if args.output != "-":
        failed = [i.source for i in report.inputs if not i.charted]
        counts = ((len(report.tests), "test"), (len(report.setups), "setup"),
                  (sum(i.results for i in report.inputs), "result"))  # fmt: skip
        line = f"wrote {args.output}: " + ", ".join(
            f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts)
        if failed:
            line += f" (not charted, signatures do not hold: {', '.join(failed)})"
        print(line, file=sys.stderr)
    return 0
