"""``envstamp compare F1 F2 ... FN``: a table of only the fields that vary across captures."""

from __future__ import annotations

import argparse

from envstamp.cli.shared import add_format_flags, add_output_flag


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "A table of the fields that vary across the inputs and may change speed, fitted to "
        "100 columns (one column per input while it fits, else one block per field). Fields "
        "that vary without speed impact (host names, serials, UUIDs) are named in one line "
        "under it; readings of the moment and fields known in some inputs only are left "
        "out. --all shows every varying field with full values; --json always holds every row."
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="manifests, signed envelopes or results logs"
    )
    add_format_flags(parser)
    add_output_flag(parser)
    parser.add_argument(
        "--all",
        action="store_true",
        help="show every field that varies (without speed impact, readings of the moment, "
        "known in some inputs only), with whole lists and settings",
    )
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
    from envstamp.output import views

    text = views.compare(report, args.format, show_all=args.all, state=args.state,
                         unknown=args.unknown)
    emit(text, args.output)
    return 0
