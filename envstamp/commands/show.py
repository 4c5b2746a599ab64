"""``envstamp show FILE``: a one-screen summary of a manifest, envelope or results file."""

from __future__ import annotations

import argparse

from envstamp.commands import add_format_flags, emit


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="manifest, signed envelope or results log (- for stdin)")
    add_format_flags(parser)
    parser.add_argument(
        "--no-redact",
        action="store_true",
        help="keep hostnames and serials in --markdown output (redacted by default)",
    )


def run(args: argparse.Namespace) -> int:
    from envstamp import render
    from envstamp.documents import load_document
    from envstamp.serialize import to_json

    doc = load_document(args.file)
    manifest = doc.manifest
    if args.format == "json":
        emit(to_json(manifest), None)
        return 0
    if args.format == "markdown":
        if not args.no_redact:
            from envstamp.redact import redact

            manifest = redact(manifest)
        emit(render.to_markdown(manifest, note=doc.note) + _results(doc, markdown=True), None)
        return 0
    emit(render.to_text(manifest, note=doc.note) + _results(doc, markdown=False), None)
    return 0


def _results(doc: object, *, markdown: bool) -> str:
    """A results log's results, as a table after its manifest."""
    from envstamp.results_render import results_table

    return results_table(getattr(doc, "results", []), markdown=markdown)
