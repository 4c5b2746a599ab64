"""The report as one self-contained HTML file: inline CSS, inline SVG, no script, no network.

A Content-Security-Policy in the page itself forbids scripts and every outside fetch, so even
a string that escaped escaping could not run or call out; and every string from a log is
escaped (:func:`html.escape`, quotes included).  The page fits a laptop's width (charts scale
with their box), and prints readably (``@media print``: no navigation, no page break inside
a chart or a table row)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from envstamp._version import __version__
from envstamp.diffing.model import Difference
from envstamp.reporting import svg
from envstamp.reporting.data import Report, SetupComparison, SetupInfo

MAX_FINDINGS = 8  # ranked differences shown per setup compared

CSS = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --rule: #d0d0d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1080px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
p.note, figcaption, .muted { color: var(--muted); font-size: .9rem; }
nav ul { display: flex; flex-wrap: wrap; gap: .2rem 1.2rem; padding: 0; list-style: none; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .4rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
         border-bottom: 1px solid var(--rule); overflow-wrap: break-word; }
th { background: #f2f2f2; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85em; }
.state-verified { font-weight: 600; }
.state-failed { font-weight: 600; text-decoration: underline wavy; }
.impact-high { font-weight: 700; }
figure { margin: .8rem 0 1.4rem; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 12px;
            font-family: system-ui, sans-serif; }
svg.chart .grid { stroke: #e3e3e3; stroke-width: 1; }
svg.chart .tick, svg.chart .axis { fill: var(--muted); font-size: 11px; }
svg.chart .label { fill: var(--ink); font-weight: 600; }
svg.chart .value { fill: var(--ink); font-size: 11.5px; }
svg.chart .bar { fill-opacity: .35; }
svg.chart .whisker { stroke: #1a1a1a; stroke-width: 1.6; fill: none; }
svg.key { vertical-align: -3px; margin-right: .3rem; }
.headline { font-weight: 600; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  th { background: none; }
  a { color: inherit; text-decoration: none; }
}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(report: Report) -> str:
    """The whole page."""
    sections = [
        _inputs(report),
        _setups(report.setups),
        _speed(report),
        _memory(report),
        _differences(report),
        _failed(report),
    ]
    nav = "".join(f'<li><a href="#{anchor}">{escape(title)}</a></li>'
                  for anchor, title, body in sections if body)  # fmt: skip
    body = "".join(
        f'<section id="{anchor}"><h2>{escape(title)}</h2>{content}</section>'
        for anchor, title, content in sections
        if content
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>envstamp report</title><style>{CSS}</style></head>"
        f"<body><main><h1>envstamp report</h1>{_lede(report)}"
        f'<nav aria-label="Contents"><ul>{nav}</ul></nav>{body}'
        f'<footer class="muted"><p>Written by envstamp {escape(__version__)}. A signature '
        "proves who wrote a log and that nobody edited it since, not that its numbers are "
        "true.</p></footer></main></body></html>\n"
    )


def _lede(report: Report) -> str:
    results = sum(i.results for i in report.inputs)
    return (
        f'<p class="lede">{_count(results, "result")} from {_count(len(report.inputs), "log")}; '
        f'{_count(len(report.setups), "setup")}; {_count(len(report.tests), "test")} charted.'
        "</p>"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table; the cells are HTML already (escape before)."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: object) -> str:
    """A cell: the value escaped, or a dash for unknown."""
    return "—" if value is None or value == "" else escape(str(value))


# ----------------------------------------------------------------------------- sections


def _inputs(report: Report) -> tuple[str, str, str]:
    rows = []
    for state in report.inputs:
        per = ", ".join(f"{n} {s}" for s, n in state.per_result.items()) or "—"
        signers = ", ".join(f"<code>{escape(k[:16])}</code>" for k in state.signers) or "—"
        verdict = f'<span class="state-{escape(state.verification.replace(" ", "-"))}">' \
                  f"{escape(state.verification)}</span>"  # fmt: skip
        if not state.charted:
            verdict += " — not charted: its signatures or chain do not hold"
        rows.append([f"<code>{escape(state.source)}</code>", verdict,
                     escape(state.signature), signers, str(state.results), escape(per)])
    note = ('<p class="note">verified: a trusted key\'s signed heads cover the results; '
            "unsigned: nothing signed them; not verified: signed, but no trusted key could "
            "check it; failed: a signature, the chain or the content does not hold.</p>")
    header = ["input", "state", "verification", "signers", "results", "per result"]
    return "inputs", "Inputs and signatures", note + _table(header, rows)


def _setups(setups: Sequence[SetupInfo]) -> tuple[str, str, str]:
    if not setups:
        return "setups", "Setups", ""
    rows = []
    for s in setups:
        c = s.columns
        rows.append([
            f"{svg.legend_marker(s.index)}<strong>{escape(s.label)}</strong>"
            f'<br><span class="muted">{escape(svg.SHAPE_NAMES[svg.shape(s.index)])}</span>',
            escape(s.build) + _muted(c.get("llamacpp_backends")),
            _text(c.get("cpu_model")) + _muted(c.get("gpu_names"))
            + _muted(c.get("gpu_driver"), "driver ") + _muted(c.get("os")),
            _text(c.get("model_name")) + _muted(c.get("model_quantization")),
            f"<code>{_text(_short(c.get('identity_digest')))}</code>",
            f"{s.results}" + _muted(", ".join(s.sources)),
        ])
    header = ["setup", "llama.cpp build", "machine", "model", "identity", "results"]
    note = ('<p class="note">A setup is one machine and configuration: results of manifests '
            "that differ in nothing that may change speed are one setup, across logs.</p>")
    return "setups", "Setups", note + _table(header, rows)


def _muted(value: object, prefix: str = "") -> str:
    if value is None or value == "":
        return ""
    return f'<br><span class="muted">{escape(prefix + str(value))}</span>'


def _short(digest: object) -> str | None:
    if not isinstance(digest, str):
        return None
    return digest.removeprefix("sha256:")[:12]


def _speed(report: Report) -> tuple[str, str, str]:
    if not report.tests:
        return "speed", "Speed by setup", '<p class="note">No result to chart.</p>'
    labels = {s.index: s.label for s in report.setups}
    figures = [
        '<p class="note">Each bar ends at the mean; the whisker spans the mean ± one sample '
        "standard deviation of the repetitions (results of one test and setup pooled, as "
        "<code>envstamp diff</code> pools them); n is the number of repetitions. A single "
        "sample has no whisker: its spread is unknown. Each setup keeps its colour, marker "
        "shape and label in every chart.</p>"
    ]
    for number, test in enumerate(report.tests, start=1):
        title = test.name + (" (context: the wrapper's whole-process time, model load "
                             "included)" if test.context else "")  # fmt: skip
        figures.append(
            f'<figure id="test-{number}"><h3>{escape(title)}</h3>'
            f"{svg.chart(test, labels, f'chart-{number}')}"
            f"<figcaption>{escape(test.metric)}"
            f"{escape(' in ' + test.unit if test.unit else '')}: mean ± stddev (n)"
            "</figcaption></figure>"
        )
    return "speed", "Speed by setup", "".join(figures)


def _memory(report: Report) -> tuple[str, str, str]:
    if not report.memory:
        return "memory", "Peak memory", ""
    labels = {s.index: s.label for s in report.setups}
    rows = [
        [escape(m.test), escape(labels.get(m.setup, str(m.setup))),
         _text(_bytes(m.rss_peak_bytes)), _text(f"{m.gpu_peak_mib} MiB" if m.gpu_peak_mib
                                                 is not None else None),
         _text(m.source)]
        for m in report.memory
    ]  # fmt: skip
    note = ('<p class="note">The highest peak seen over the results of a test and setup: '
            "resident memory of the measured process tree, GPU memory of the measured "
            "processes. A dash: not recorded.</p>")
    return "memory", "Peak memory", note + _table(
        ["test", "setup", "resident peak", "GPU peak", "read from"], rows)


def _bytes(value: int | None) -> str | None:
    if value is None:
        return None
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return None  # pragma: no cover


def _differences(report: Report) -> tuple[str, str, str]:
    if not report.comparisons:
        return "differences", "Differences between setups", ""
    setups = {s.index: s for s in report.setups}
    parts = ['<p class="note">Each setup against S1, as <code>envstamp diff</code> compares '
             "them (A is S1, B the other): the headline, each test's speed ratio, and the "
             f"differences ranked by how likely they move inference speed (the top "
             f"{MAX_FINDINGS}).</p>"]
    parts.extend(_comparison(c, setups) for c in report.comparisons)
    return "differences", "Differences between setups", "".join(parts)


def _comparison(c: SetupComparison, setups: dict[int, SetupInfo]) -> str:
    from envstamp.diffing.manifests import distinct

    a, b = setups[c.base], setups[c.other]
    head = (f"<h3>{svg.legend_marker(b.index)}{escape(b.label)} against "
            f"{svg.legend_marker(a.index)}{escape(a.label)}</h3>"
            f'<p class="muted">A = {escape(a.label)} ({escape(a.build)}, '
            f"{escape(a.hardware)}); B = {escape(b.label)} ({escape(b.build)}, "
            f"{escape(b.hardware)})</p>"
            f'<p class="headline">{escape(c.diff.headline)}</p>')  # fmt: skip
    tests = [t.summary for t in c.diff.tests if t.a is not None and t.b is not None]
    listed = "".join(f"<li>{escape(t)}</li>" for t in tests)
    findings = distinct(c.diff.differences)
    ranked = [d for d in findings if d.impact != "none"][:MAX_FINDINGS]
    rows = [[f'<span class="impact-{escape(d.impact)}">{escape(d.impact)}</span>',
             escape(d.category), escape(d.label), escape(d.change), escape(_why(d))]
            for d in ranked]  # fmt: skip
    more = len([d for d in findings if d.impact != "none"]) - len(ranked)
    table = _table(["impact", "category", "what", "change", "why"], rows) if rows else (
        '<p class="note">No difference that may change speed.</p>')
    tail = f'<p class="note">and {more} more (envstamp diff lists them all).</p>' if more > 0 \
        else ""  # fmt: skip
    return head + (f"<ul>{listed}</ul>" if listed else "") + table + tail


def _why(d: Difference) -> str:
    """The explanation of a reason, without the "label change: " the row shows already
    (as ``envstamp diff`` prints it; ``output`` is a sibling layer, so not imported)."""
    prefix = f"{d.label} {d.change}: "
    return d.reason[len(prefix):] if d.reason.startswith(prefix) else d.reason


def _failed(report: Report) -> tuple[str, str, str]:
    if not report.failed:
        return "failed", "Failed runs", ""
    rows = [[escape(f.side), escape(f.name), escape(f.summary)] for f in report.failed]
    note = ('<p class="note">A failed run\'s times are how long it took to fail: never '
            "charted as a speed.</p>")
    return "failed", "Failed runs", note + _table(["setup", "test", "how it ended"], rows)
