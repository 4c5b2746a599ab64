"""``envstamp diff A B``: rank the differences between two captures or stamped results."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from envstamp.cli.shared import add_format_flags, add_output_flag

if TYPE_CHECKING:
    from envstamp.diffing.differ import DiffReport

IMPACT_CHOICES = ("high", "medium", "low")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="manifest, signed envelope or results log (- for stdin)")
    parser.add_argument("b", help="manifest, signed envelope or results log")
    add_format_flags(parser)
    add_output_flag(parser)
    parser.add_argument(
        "--all",
        action="store_true",
        help="list every difference without speed impact and every one-sided field",
    )
    add_redact_flag(parser)
    add_gate_flags(parser)
    from envstamp.cli.verify import add_require_valid_flag

    add_require_valid_flag(parser)


def add_redact_flag(parser: argparse.ArgumentParser) -> None:
    """--no-redact: --markdown is made to be pasted, so it is redacted unless asked not to."""
    parser.add_argument(
        "--no-redact",
        action="store_true",
        help="keep hostnames, serials and home paths in --markdown output (redacted by default)",
    )


def add_gate_flags(parser: argparse.ArgumentParser) -> None:
    """--fail-on LEVEL and --include-state, shared with ``check``."""
    parser.add_argument(
        "--fail-on",
        choices=IMPACT_CHOICES,
        metavar="LEVEL",
        help="exit 1 when a difference of impact LEVEL (high, medium, low) or above exists",
    )
    parser.add_argument(
        "--include-state",
        action="store_true",
        help="let state at capture (temperatures, AC power...) count for --fail-on",
    )


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import load_input
    from envstamp.diffing.differ import diff

    doc_a, doc_b = load_input(args.a), load_input(args.b)
    if args.require_valid:
        from envstamp.cli.verify import require_valid

        require_valid([doc_a, doc_b], strict=True)
    report = diff(doc_a, doc_b)
    shown = report
    if args.format == "markdown" and not args.no_redact:
        from envstamp.manifest.redact import current_home, shareable_document

        home = current_home()  # the gate below still judges the unredacted inputs
        shown = diff(shareable_document(doc_a, home=home), shareable_document(doc_b, home=home))
    emit_report(shown, args, original=report)
    return gate(report, args)


def emit_report(report: DiffReport, args: argparse.Namespace, *,
                title: str | None = None, original: DiffReport | None = None) -> None:
    """The report in the chosen format, to stdout or -o FILE (``original``: the unredacted
    report when ``report`` is the redacted one; its digests are printed)."""
    from envstamp.cli.shared import emit, use_color
    from envstamp.output import views

    colour = args.format == "text" and args.output in (None, "-") and use_color()
    text = views.diff(report, args.format, title=title or views.DIFF_TITLE, colour=colour,
                      show_all=args.all, original=original)
    emit(text, args.output)


def gate(report: DiffReport, args: argparse.Namespace) -> int:
    """0, or CheckFailed (exit 1) when --fail-on finds a difference at or above its level."""
    from envstamp.errors import CheckFailed

    if not args.fail_on:
        return 0
    from envstamp.diffing.manifests import distinct

    hits = distinct(report.at_or_above(args.fail_on, include_state=args.include_state))
    if hits:
        top = hits[0]
        more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
        from envstamp.output.views import plural

        raise CheckFailed(
            f"{plural(len(hits), 'difference')} at or above {args.fail_on}: "
            f"{top.label} {top.change}{more}"
        )
    return 0
