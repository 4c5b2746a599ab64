"""``envstamp show FILE``: a one-screen summary of a manifest, envelope or results file."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from envstamp.cli.shared import add_format_flags, emit


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
    from envstamp.manifest.serialize import to_json
    from envstamp.output import render

    doc = load_input(args.file)
    if args.require_valid:
        from envstamp.cli.verify import require_valid

        require_valid([doc], strict=True)
    manifest = doc.manifest
    if args.format == "json":
        if doc.kind == "results":  # every setup with its results (show.v1.schema.json)
            from envstamp.output import show_json

            emit(show_json.to_json(show_json.shown_log(doc)), None)
            return 0
        emit(to_json(manifest), None)
        return 0
    if args.format == "markdown":
        if not args.no_redact:  # the manifests, and the results' names, params and commands
            doc = _shareable(doc)
            manifest = doc.manifest
        emit(render.to_markdown(manifest, note=doc.note) + _results(doc, markdown=True), None)
        return 0
    emit(render.to_text(manifest, note=doc.note) + _results(doc, markdown=False), None)
    return 0


def _shareable(doc: Any) -> Any:
    """The document as --markdown shares it: redacted."""
    from envstamp.manifest.redact import current_home, shareable_document

    return shareable_document(doc, home=current_home())


def _results(doc: object, *, markdown: bool, view: Callable[[Any], Any] | None = None) -> str:
    """A results log's results after its manifest: one table, or one per setup when the log
    holds several (``view`` redacts their manifests for shareable output)."""
    from envstamp.output.results_render import results_section

    return results_section(getattr(doc, "results", []), markdown=markdown, view=view)
