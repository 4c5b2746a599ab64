"""``envstamp trend LOG...``: results ordered by llama.cpp build, and the steps where a test's
speed moved beyond its noise, each with what changed in the manifest there.

``--fail-on FACTOR`` exits 1 when a slowdown of at least FACTOR (spreads apart) is found, for
CI.  docs/trend.md describes the rule."""

from __future__ import annotations

import argparse
import sys

from envstamp.reporting.trend import DEFAULT_FACTOR


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "logs", nargs="+", metavar="LOG", help="results logs of the builds (envstamp run)"
    )
    parser.add_argument(
        "--factor", type=float, default=DEFAULT_FACTOR, metavar="F",
        help=f"flag a step that moved by F times or more, spreads apart ({DEFAULT_FACTOR:g})",
    )  # fmt: skip
    parser.add_argument(
        "--fail-on", type=float, metavar="FACTOR",
        help="exit 1 when a test got FACTOR times slower or more at a step, spreads apart",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="JSON (envstamp.trend/1)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically)")


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import check_output, emit
    from envstamp.errors import InputError
    from envstamp.reporting.trend import trend_of_logs
    from envstamp.reporting.trend_render import render_json, render_text

    if args.fail_on is not None and args.fail_on <= 1:
        raise InputError(f"--fail-on takes a factor above 1, got {args.fail_on:g}")
    check_output(args.output)
    trend = trend_of_logs(args.logs, factor=args.factor)
    emit(render_json(trend) if args.json else render_text(trend), args.output)
    if args.fail_on is None:
        return 0
    slower = trend.slowdowns(args.fail_on)
    if not slower:
        return 0
    shown = "; ".join(f"{s.test} at {s.before} -> {s.after} ({s.phrase})" for s in slower[:5])
    more = f" and {len(slower) - 5} more" if len(slower) > 5 else ""
    print(f"envstamp trend: slower by {args.fail_on:g}x or more: {shown}{more}",
          file=sys.stderr)  # fmt: skip
    return 1
