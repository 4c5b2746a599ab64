"""The one seam between the verbs and the views: what the library computed, in a format.

Each function takes what a verb has - a loaded document, a diff report, a compare report -
and a format (``"text"``, ``"markdown"`` or ``"json"``), and returns the text to print::

    views.show(doc, "markdown", shown=redacted_doc)
    views.diff(report, "text", colour=True, show_all=False)
    views.diff(report, "json", title=views.CHECK_TITLE)
    views.compare(report, "text", show_all=True)

The format modules behind it (``render``, ``diff_render``, ``compare_render``,
``results_render``, ``show_json``) share their helpers through ``formatting``.  A new format
is a branch in each function here and a module beside the others; a new view is a function
here.  Modules are imported on first use, so ``diff --json`` loads no text renderer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from envstamp.output.formatting import CHECK_TITLE, DIFF_TITLE, plural

if TYPE_CHECKING:
    from envstamp.diffing.compare import CompareReport
    from envstamp.diffing.model import DiffReport, InputInfo
    from envstamp.manifest.document import Document

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")
__all__ = ["CHECK_TITLE", "DIFF_TITLE", "FORMATS", "Format", "compare", "diff", "plural",
           "show"]


def show(doc: Document, fmt: Format, *, shown: Document | None = None) -> str:
    """``envstamp show``: a manifest's summary and a results log's results.

    ``shown``: the same document as a shareable view shows it (redacted); the digests
    printed are always ``doc``'s, so they name what the file holds, never a redacted copy.
    JSON is of ``doc``: the manifest, or for a results log every setup with its results."""
    if fmt == "json":
        if doc.kind == "results":
            from envstamp.output import show_json

            return show_json.to_json(show_json.shown_log(doc))
        from envstamp.manifest.serialize import to_json

        return to_json(doc.manifest)
    from envstamp.output import render
    from envstamp.output.results_render import results_section

    view = shown or doc
    markdown = fmt == "markdown"
    summary = render.to_markdown if markdown else render.to_text
    head = summary(view.manifest, note=view.note, original=doc.manifest)
    return head + results_section(doc.results, markdown=markdown, shown=view.results)


def diff(
    report: DiffReport,
    fmt: Format,
    *,
    title: str = DIFF_TITLE,
    colour: bool = False,
    show_all: bool = False,
    original: DiffReport | None = None,
) -> str:
    """``envstamp diff`` and ``envstamp check``: a ranked diff report.

    ``title`` names the verb ("envstamp check"); ``original``: the report of the unredacted
    inputs when ``report`` compares redacted copies - its inputs' identity digests are the
    ones printed."""
    from envstamp.output import diff_render

    if original is not None:
        report = _with_digests_of(report, original)
    if fmt == "json":
        return diff_render.to_json(report)
    if fmt == "markdown":
        return diff_render.to_markdown(report, title=title)
    return diff_render.to_text(report, colour=colour, show_all=show_all, title=title)


def _with_digests_of(report: DiffReport, original: DiffReport) -> DiffReport:
    import attrs

    def same(shown: InputInfo | None, real: InputInfo | None) -> InputInfo | None:
        if shown is None or real is None:
            return shown
        return attrs.evolve(shown, identity_digest=real.identity_digest)

    return attrs.evolve(report, a=same(report.a, original.a), b=same(report.b, original.b))


def compare(report: CompareReport, fmt: Format, *, show_all: bool = False,
            state: bool = False, unknown: bool = False) -> str:
    """``envstamp compare``: the fields that vary across inputs.  Text and Markdown show
    those that may change speed (``show_all``: every one; ``state``, ``unknown``: readings
    of the moment, fields known in some inputs only); JSON holds every row."""
    if fmt == "json":
        from envstamp.output.diff_render import to_json

        return to_json(report)
    from envstamp.output import compare_render

    rows = compare_render.RowChoice(show_all=show_all, state=state, unknown=unknown)
    if fmt == "markdown":
        return compare_render.to_markdown(report, rows)
    return compare_render.to_text(report, rows)
