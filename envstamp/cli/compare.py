"""``envstamp compare F1 F2 ... FN``: a table of only the fields that vary across captures."""

from __future__ import annotations

import argparse

from envstamp.cli.shared import add_format_flags, add_output_flag


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="manifests, signed envelopes or results logs"
    )
    add_format_flags(parser)
    add_output_flag(parser)
    parser.add_argument(
        "--state", action="store_true", help="also show readings of the moment that vary"
    )
    parser.add_argument(
        "--unknown", action="store_true", help="also show fields known in some inputs only"
    )
    from envstamp.cli.diff import add_redact_flag
    from envstamp.cli.verify import add_require_valid_flag

    add_redact_flag(parser)
    add_require_valid_flag(parser)


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import emit
    from envstamp.diffing.compare import compare
    from envstamp.errors import InputError

    if len(args.files) < 2:
        raise InputError("compare needs at least two files")
    from envstamp.cli.shared import load_input

    inputs = [load_input(path) for path in args.files]
    if args.format == "markdown" and not args.no_redact:
        from envstamp.manifest.redact import current_home, shareable_document

        inputs = [shareable_document(doc, home=current_home()) for doc in inputs]
    report = compare(inputs)
    if args.require_valid:
        from envstamp.cli.verify import require_valid

        require_valid(inputs, strict=True)
    if args.format == "json":
        from envstamp.output.diff_render import to_json

        emit(to_json(report), args.output)
        return 0
    from envstamp.output.compare_render import shown_rows, to_markdown, to_text

    rows = shown_rows([
        r for r in report.rows if (args.state or not r.state) and (args.unknown or not r.unknown)
    ])
    if args.format == "markdown":
        emit(to_markdown(report, rows), args.output)
    else:
        emit(to_text(report, rows), args.output)
    return 0


