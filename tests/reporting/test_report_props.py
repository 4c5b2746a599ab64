"""Properties of the report's HTML and SVG: whatever a log says, the page holds only the
elements envstamp writes, shows the text as written, and draws inside its box."""

from __future__ import annotations

import itertools
import math
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.diffing.model import FailedRun, Spread
from envstamp.reporting import svg
from envstamp.reporting.data import (
    Bar,
    InputState,
    MemoryRow,
    Report,
    SetupInfo,
    SpeedChart,
)
from envstamp.reporting.html import render_html

# Every element the page is made of; anything else would have come from a log.
ELEMENTS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "nav",
    "ul", "li", "a", "section", "table", "thead", "tbody", "tr", "th", "td", "code", "span",
    "strong", "br", "figure", "figcaption", "footer", "svg", "g", "text", "rect", "line",
    "path", "circle", "polygon",
}  # fmt: skip

# Text a log may carry: anything printable, markup and quotes included.
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
)
hostile = st.sampled_from([
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</style><script>x</script>",
    "<!--", "]]>", "&amp;", "<svg onload=alert(1)>", "' onmouseover='x", "</title><b>",
])  # fmt: skip
any_text = st.one_of(texts, hostile)
spreads = st.builds(
    Spread,
    mean=st.floats(min_value=0.001, max_value=1e6),
    stddev=st.one_of(st.none(), st.floats(min_value=0, max_value=1e5)),
    n=st.one_of(st.none(), st.integers(min_value=1, max_value=100)),
    unit=st.sampled_from(["t/s", "s", None]),
)


class Collected(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: set[str] = set()
        self.handlers: list[str] = []
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]

    def handle_data(self, data: str) -> None:
        self.data.append(data)


def _report(name: str, variant: str, source: str, build: str, cpu: str, bars: list[Spread],
            failed: str) -> Report:  # fmt: skip
    setups = [
        SetupInfo(index=i + 1, build=build, columns={"cpu_model": cpu, "gpu_names": cpu},
                  results=1, sources=[source])
        for i in range(len(bars))
    ]
    chart = SpeedChart(name, "tokens_per_s", "t/s", True, False,
                      [Bar(setup=i + 1, variant=variant, spread=s) for i, s in enumerate(bars)])
    return Report(
        inputs=[InputState(source=source, verification="verified", signature=source,
                           signers=[source], results=1, per_result={"verified": 1},
                           charted=True)],
        setups=setups,
        tests=[chart],
        memory=[MemoryRow(test=name, setup=1, rss_peak_bytes=1 << 20, gpu_peak_mib=None,
                          source=source)],
        failed=[FailedRun(side="S1", name=name, summary=failed)],
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(name=any_text, variant=any_text, source=any_text, build=any_text, cpu=any_text,
       bars=st.lists(spreads, min_size=1, max_size=4), failed=any_text)  # fmt: skip
def test_nothing_from_a_log_becomes_markup(
    name: str, variant: str, source: str, build: str, cpu: str, bars: list[Spread], failed: str
) -> None:
    page = render_html(_report(name, variant, source, build, cpu, bars, failed))
    found = Collected()
    found.feed(page)
    assert found.elements <= ELEMENTS
    assert found.handlers == []
    text = "".join(found.data)
    for value in (name, source, build, cpu, failed):
        assert value.strip() in text or value.strip() == ""


@settings(max_examples=80, deadline=None)
@given(bars=st.lists(spreads, min_size=1, max_size=8))
def test_every_mark_is_drawn_inside_the_plot(bars: list[Spread]) -> None:
    chart = SpeedChart("t", "tokens_per_s", "t/s", True, False,
                      [Bar(setup=i + 1, variant="", spread=s) for i, s in enumerate(bars)])
    drawn = svg.chart(chart, {}, "c")
    right = svg.WIDTH - svg.VALUE_W
    widths = [float(w) for w in re.findall(r'class="bar" x="160" y="[\d.]+" width="([\d.]+)"',
                                           drawn)]  # fmt: skip
    assert len(widths) == len(bars)
    assert all(0 <= w <= right - svg.LABEL_W + 0.05 for w in widths)
    for lo, hi in re.findall(r'class="whisker" d="M([\d.]+) [\d.]+H([\d.]+)', drawn):
        assert svg.LABEL_W <= float(lo) <= float(hi) <= right + 0.05
    # the height grows with the rows, the viewBox says so
    height = svg.TOP + svg.ROW_H * len(bars) + svg.AXIS_H
    assert f'viewBox="0 0 {svg.WIDTH} {height}"' in drawn
    assert drawn.count('<g class="row">') == len(bars)


@given(top=st.floats(min_value=1e-9, max_value=1e12))
def test_ticks_start_at_zero_step_evenly_and_cover_the_top(top: float) -> None:
    ticks = svg.nice_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top
    assert 2 <= len(ticks) <= 12
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    step = ticks[1]
    assert all(math.isclose(s, step, rel_tol=1e-6) for s in steps)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))


@given(setup=st.integers(min_value=1, max_value=500), x=st.floats(0, 720), y=st.floats(0, 500))
def test_every_marker_is_one_closed_shape_in_its_colour(setup: int, x: float, y: float) -> None:
    drawn = svg.marker(setup, x, y)
    assert drawn.count("<") == 1 and drawn.endswith("/>")
    assert f'fill="{svg.colour(setup)}"' in drawn
    assert svg.colour(setup) in svg.PALETTE and svg.shape(setup) in svg.SHAPE_NAMES
