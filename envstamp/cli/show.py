"""``envstamp show FILE``: a one-screen summary of a manifest, envelope or results file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from envstamp.cli.shared import add_format_flags, emit

if TYPE_CHECKING:
    from envstamp.manifest.document import Document


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="manifest, signed envelope or results log (- for stdin)")
    add_format_flags(parser)
    parser.add_argument(
        "--no-redact",
        action="store_true",
        help="keep hostnames and serials in --markdown output (redacted by default)",
    )
    from envstamp.cli.verify import add_require_valid_flag

    add_require_valid_flag(parser)


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import load_input
    from envstamp.output import views

    doc = load_input(args.file)
    if args.require_valid:
        from envstamp.cli.verify import require_valid

        require_valid([doc], strict=True)
    # --markdown is made to be pasted: the manifests, and the results' names, params and
    # commands, redacted; the digests it prints stay the file's own.
    shown = _shareable(doc) if args.format == "markdown" and not args.no_redact else None
    emit(views.show(doc, args.format, shown=shown), None)
    return 0


def _shareable(doc: Document) -> Document:
    """The document as --markdown shares it: redacted."""
    from envstamp.manifest.redact import current_home, shareable_document

    return shareable_document(doc, home=current_home())
