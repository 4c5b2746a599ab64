"""``envstamp report``: one self-contained HTML page - charts per test, setups, peak memory,
the setups' differences with diff's ranked causes, every input's signature state; every
string from a log escaped."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from envstamp.cli import main as cli
from envstamp.errors import InputError
from envstamp.reporting import svg
from envstamp.reporting.data import build_report
from envstamp.reporting.html import render_html
from tests.reporting.reporting_support import build_manifest, write_log
from tests.timing_support import open_recorder

HOSTILE = "<script>alert(1)</script>"
HOSTILE_PARAM = '"><img src=x onerror=alert(2)>'


class Page(HTMLParser):
    """The page's elements as (tag, attributes), and its text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def count(self, tag: str, cls: str | None = None) -> int:
        return sum(t == tag and (cls is None or a.get("class") == cls) for t, a in self.tags)


@pytest.fixture
def two_builds(tmp_path: Path) -> list[str]:
    a = write_log(tmp_path / "old.jsonl", build_manifest(5000, "aaaa1111"),
                  {"tg128": [99.0, 100.0, 101.0], "pp512": [1990.0, 2000.0, 2010.0],
                   HOSTILE: [50.0]}, params={HOSTILE: {"note": HOSTILE_PARAM}})  # fmt: skip
    b = write_log(tmp_path / "new.jsonl", build_manifest(5100, "bbbb2222"),
                  {"tg128": [79.0, 80.0, 81.0], "pp512": [1990.0, 2000.0, 2010.0],
                   HOSTILE: [50.0]}, params={HOSTILE: {"note": HOSTILE_PARAM}})  # fmt: skip
    return [str(a), str(b)]


def test_one_chart_per_test_one_row_per_setup(two_builds: list[str]) -> None:
    report = build_report(two_builds)
    assert [t.name for t in report.tests] == ["tg128", "pp512", HOSTILE]
    assert [s.label for s in report.setups] == ["S1", "S2"]
    assert [s.build for s in report.setups] == ["b5000 (commit aaaa1111)",
                                                "b5100 (commit bbbb2222)"]  # fmt: skip
    assert [s.sources for s in report.setups] == [["old.jsonl"], ["new.jsonl"]]
    page = Page(render_html(report))
    assert page.count("svg", "chart") == 3
    assert page.count("g", "row") == 6
    text = "".join(page.text)
    assert "100.0 ± 1.0 t/s (n=3)" in text and "80.00 ± 1.00 t/s (n=3)" in text
    assert "50.00 t/s (n=1), spread unknown" in text  # one sample: no whisker, and it says so
    tg = report.tests[0]
    assert [(b.setup, b.spread.mean, b.spread.stddev) for b in tg.bars] == [
        (1, 100.0, 1.0), (2, 80.0, 1.0)
    ]


def test_a_chart_exactly(two_builds: list[str]) -> None:
    """The SVG of one test: labels, bars to the mean, whiskers of ± one stddev, markers."""
    tg = build_report(two_builds).tests[0]
    chart = svg.chart(tg, {1: "S1", 2: "S2"}, "c1")
    # ticks 0..125 over the 350 px between the labels (160) and the values (510)
    assert re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', chart) == [
        "0", "25", "50", "75", "100", "125"
    ]
    assert re.findall(r'<text class="label"[^>]*>([^<]*)</text>', chart) == ["S1", "S2"]
    assert re.findall(r'class="bar" x="160" y="[\d.]+" width="([\d.]+)"', chart) == [
        "280.0", "224.0"  # 100 and 80 of 125, times 350 px
    ]
    assert re.findall(r'class="whisker" d="M([\d.]+) ', chart) == ["437.2", "381.2"]
    assert '<circle cx="440.0" cy="21.0" r="6.0" fill="#0072B2"' in chart  # S1: blue circle
    assert '<rect x="378.6" y="41.6" width="10.8" height="10.8" fill="#E69F00"' in chart  # S2
    assert chart.startswith('<svg class="chart" viewBox="0 0 720 90" width="100%" role="img" '
                            'aria-labelledby="c1-title"')  # fmt: skip
    assert ('<title id="c1-title">tg128: tokens_per_s (t/s) by setup, higher is better</title>'
            in chart)  # fmt: skip


def test_strings_from_logs_are_inert(two_builds: list[str]) -> None:
    html = render_html(build_report(two_builds))
    page = Page(html)
    assert page.count("script") == 0 and page.count("img") == 0
    assert HOSTILE not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE in "".join(page.text)  # shown as text, as written
    # and the page forbids scripts itself, should anything ever slip through
    (csp,) = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp["content"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def test_the_page_needs_nothing_from_outside(two_builds: list[str]) -> None:
    html = render_html(build_report(two_builds))
    page = Page(html)
    urls = re.findall(r"https?://[^\s\"'<>)]+", html)
    assert set(urls) == {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched
    assert not any(t in ("link", "script", "iframe", "object", "img") for t, _ in page.tags)
    assert not any("src" in a or ("href" in a and not str(a["href"]).startswith("#"))
                   for _, a in page.tags)  # fmt: skip
    assert "@import" not in html and "url(" not in html
    assert "@media print" in html


def test_every_input_says_its_signature_state(two_builds: list[str], tmp_path: Path) -> None:
    from envstamp.signing.keys import load_signing_key

    keyid = load_signing_key(None).keyid
    tampered = tmp_path / "tampered.jsonl"
    text = Path(two_builds[1]).read_text()
    tampered.write_text(text.replace("79.0", "179.0", 1))
    report = build_report([*two_builds, str(tampered)])
    states = [(i.source, i.verification, i.per_result, i.charted) for i in report.inputs]
    assert states == [
        ("old.jsonl", "verified", {"verified": 3}, True),
        ("new.jsonl", "verified", {"verified": 3}, True),
        ("tampered.jsonl", "failed", {}, False),
    ]
    assert report.inputs[0].signers == [keyid]
    html = render_html(report)
    assert f"<code>{keyid[:16]}</code>" in html
    assert "not charted: its signatures or chain do not hold" in html
    assert "179.0" not in html  # a forged number never reaches a chart
    assert [s.sources for s in report.setups] == [["old.jsonl"], ["new.jsonl"]]


def test_differences_between_setups_come_from_diff(two_builds: list[str]) -> None:
    report = build_report(two_builds)
    (compared,) = report.comparisons
    assert (compared.base, compared.other) == (1, 2)
    assert compared.diff.headline == (
        "A is 1.25x faster on tg128; likely causes: llama.cpp build b5000 (commit aaaa1111) "
        "-> b5100 (commit bbbb2222) (100 builds apart, B newer)"
    )
    html = render_html(report)
    assert f'<p class="headline">{escape(compared.diff.headline)}</p>' in html
    row = ('<td><span class="impact-high">high</span></td><td>engine build</td>'
           "<td>llama.cpp build</td><td>b5000 (commit aaaa1111) -&gt; b5100 (commit bbbb2222) "
           "(100 builds apart, B newer)</td><td>kernels and defaults change between builds</td>"
           "</tr>")  # fmt: skip
    assert row in html
    assert "<li>A is 1.25x faster on tg128; A 100.0 ± 1.0 t/s (n=3), B 80.00 ± 1.00 t/s " \
           "(n=3)</li>" in html  # fmt: skip


def test_peak_memory_where_recorded(tmp_path: Path) -> None:
    from envstamp.stamping.results import MemoryUse, Result

    log = tmp_path / "m.jsonl"
    with open_recorder(log, manifest=build_manifest(1, "c1")) as rec:
        for peak in (3 << 30, 5 << 30):
            rec.add(Result(manifest_digest=rec.manifest_digest, name="llama-bench",
                           metrics={"tokens_per_s": 10.0},
                           memory=MemoryUse(child_rss_peak_bytes=peak, gpu_process_peak_mib=812,
                                            source="rusage")))  # fmt: skip
        rec.record("no-memory", metrics={"tokens_per_s": 1.0})
    report = build_report([str(log)])
    assert [(m.test, m.setup, m.rss_peak_bytes, m.gpu_peak_mib) for m in report.memory] == [
        ("llama-bench", 1, 5 << 30, 812)
    ]
    html = render_html(report)
    assert ("<tr><td>llama-bench</td><td>S1</td><td>5.0 GiB</td><td>812 MiB</td>"
            "<td>rusage</td></tr>") in html  # fmt: skip
    assert report.comparisons == []  # one setup: nothing to compare


def test_failed_runs_are_listed_not_charted(tmp_path: Path) -> None:
    log = tmp_path / "f.jsonl"
    with open_recorder(log, manifest=build_manifest(1, "c1")) as rec:
        rec.record("tg", metrics={"tokens_per_s": 10.0})
        rec.record("crash", metrics={"tokens_per_s": 1e6}, failed=True)
    report = build_report([str(log)])
    assert [t.name for t in report.tests] == ["tg"]
    assert [(f.side, f.name, f.summary) for f in report.failed] == [("S1", "crash", "failed")]
    assert "<tr><td>S1</td><td>crash</td><td>failed</td></tr>" in render_html(report)


def test_runs_of_one_test_with_other_parameters_are_bars_of_their_own(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    with open_recorder(log, manifest=build_manifest(1, "c1")) as rec:
        for layers in (0, 99):
            rec.record("pp512", metric_samples={"tokens_per_s": [10.0 + layers, 11.0 + layers]},
                       params={"n_gpu_layers": layers, "n_prompt": 512})  # fmt: skip
    (chart,) = build_report([str(log)]).tests
    assert [(b.setup, b.variant, b.spread.mean) for b in chart.bars] == [
        (1, "n_gpu_layers=0", 10.5), (1, "n_gpu_layers=99", 109.5)
    ]


def test_the_two_real_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real llama-bench JSON of two builds, stamped by envstamp run: their tests, the
    wrapper's whole-process time as context, the speeds llama-bench printed."""
    import json

    from tests.exporting.export_support import NEW, OLD, stamped_log

    logs = [str(stamped_log(tmp_path, monkeypatch, b)) for b in (OLD, NEW)]
    report = build_report(logs)
    assert [(t.name, t.context) for t in report.tests] == [
        ("pp16", False), ("tg8", False), ("llama-bench", True)
    ]
    printed = json.loads((Path(__file__).parents[1] / "fixtures" / "llamacpp-real" / NEW
                          / "bench.json").read_text())  # fmt: skip
    tg_new = next(b for b in report.tests[1].bars if b.setup == 2)
    assert tg_new.spread.mean == pytest.approx(printed[1]["avg_ts"])
    assert [s.build for s in report.setups] == ["unknown", "commit 0c1e57098, version 0.5.0-dev"]
    html = render_html(report)
    assert Page(html).count("svg", "chart") == 3
    assert "context: the wrapper&#x27;s whole-process time" in html


def test_the_command_writes_the_file_and_says_so(
    two_builds: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert cli.main(["report", *two_builds, "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out}: 3 tests, 2 setups, 6 results\n"
    assert out.read_text(encoding="utf-8") == render_html(build_report(two_builds))
    assert cli.main(["report", *two_builds, "-o", str(tmp_path / "no" / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_manifest_is_not_a_results_log(tmp_path: Path) -> None:
    from envstamp.manifest.serialize import to_json

    path = tmp_path / "m.json"
    path.write_text(to_json(build_manifest(1, "c1")))
    with pytest.raises(InputError, match=r"m\.json: a manifest, not a results log"):
        build_report([str(path)])


def test_ticks_are_round_and_cover_the_top() -> None:
    assert svg.nice_ticks(104.0) == [0.0, 25.0, 50.0, 75.0, 100.0, 125.0]
    assert svg.nice_ticks(0.8) == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert svg.nice_ticks(31_000.0) == [0.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0]
    assert svg.nice_ticks(0.0) == [0.0, 1.0]
    assert svg.tick_text(30_000.0) == "30,000" and svg.tick_text(0.25) == "0.25"


def test_each_setup_keeps_a_colour_and_a_shape_of_its_own() -> None:
    pairs = {(svg.colour(i), svg.shape(i)) for i in range(1, 25)}
    assert len(pairs) == 24  # colour and shape together tell 24 setups apart
    assert svg.colour(1) == "#0072B2" and svg.shape(1) == "circle"


def test_the_inputs_and_setups_tables_exactly(two_builds: list[str]) -> None:
    from envstamp.signing.keys import load_signing_key

    keyid = load_signing_key(None).keyid
    report = build_report(two_builds)
    html = render_html(report)
    assert (
        f'<tr><td><code>old.jsonl</code></td><td><span class="state-verified">verified</span>'
        f"</td><td>verified: 3 of 3 results signed by {keyid[:16]}</td>"
        f"<td><code>{keyid[:16]}</code></td><td>3</td><td>3 verified</td></tr>"
    ) in html
    digest = report.setups[1].columns["identity_digest"]
    assert isinstance(digest, str)
    assert (
        '<td>b5100 (commit bbbb2222)<br><span class="muted">Vulkan</span></td>'
        '<td>AMD Ryzen 9 7950X 16-Core Processor<br><span class="muted">Radeon RX 7900 XTX'
        '</span><br><span class="muted">Linux</span></td><td>—</td>'
        f"<td><code>{digest.removeprefix('sha256:')[:12]}</code></td>"
        '<td>3<br><span class="muted">new.jsonl</span></td></tr>'
    ) in html
    assert html.count('<span class="muted">square</span>') == 1  # S2's shape, in words too


def test_the_page_prints_to_stdout_with_dash(
    two_builds: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", *two_builds, "-o", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out == render_html(build_report(two_builds))
    assert captured.err == ""


def test_the_same_logs_give_the_same_page(two_builds: list[str]) -> None:
    """No time of generation, no random ids: a report can be diffed and archived."""
    assert render_html(build_report(two_builds)) == render_html(build_report(two_builds))
    page = render_html(build_report(two_builds))
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert re.findall(r'<section id="([a-z]+)">', page) == [
        "inputs", "setups", "speed", "differences"
    ]  # no memory recorded, nothing failed: those sections are left out
    assert re.findall(r'<li><a href="#([a-z]+)">', page) == [
        "inputs", "setups", "speed", "differences"
    ]


def test_a_colleagues_log_signed_by_a_key_you_do_not_trust_is_charted_not_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written under another key folder (a colleague's machine), read with your own keys:
    the loader says invalid (no trusted key signs it), but its chain holds, so it is read as
    by someone without keys - not verified, charted.  A tampered log stays failed."""
    monkeypatch.setenv("ENVSTAMP_CONFIG_DIR", str(tmp_path / "colleague"))
    theirs = write_log(tmp_path / "theirs.jsonl", build_manifest(5200, "cccc3333"),
                       {"tg128": [119.0, 120.0, 121.0]})  # fmt: skip
    forged = tmp_path / "forged.jsonl"
    forged.write_text(theirs.read_text().replace("119.0", "19.0", 1))
    monkeypatch.setenv("ENVSTAMP_CONFIG_DIR", str(tmp_path / "me"))
    from envstamp.signing.keys import load_signing_key

    load_signing_key(None)  # you have a key of your own: trusted keys exist
    report = build_report([str(theirs), str(forged)])
    states = [(i.source, i.verification, i.signature, i.per_result, i.charted)
              for i in report.inputs]  # fmt: skip
    assert states == [
        ("theirs.jsonl", "not verified",
         "not verified (intact, but signed by no key you trust)", {"not checked": 1}, True),
        ("forged.jsonl", "failed", states[1][2], {}, False),
    ]  # fmt: skip
    assert states[1][2].startswith("invalid: ")
    (chart,) = report.tests
    assert [(b.setup, b.spread.mean) for b in chart.bars] == [(1, 120.0)]


def test_a_result_forged_after_the_final_head_keeps_its_log_failed(tmp_path: Path) -> None:
    """Your own key signed the log; a result appended after its final head (chained
    correctly, as anyone can) makes it fail, and the keyless second look must not excuse it."""
    from envstamp.stamping import chainlog, results
    from envstamp.stamping.results import Result, load_results
    from tests.timing_support import lines_of, write_lines

    log = write_log(tmp_path / "mine.jsonl", build_manifest(1, "c1"), {"tg": [10.0, 11.0, 12.0]})
    digest = load_results(log)[0].manifest_digest
    lines = lines_of(log)
    body = results.result_body(
        Result(manifest_digest=digest, name="tg", metrics={"tokens_per_s": 1000.0})
    )
    lines.append(chainlog.chain_line(chainlog.line_hash(lines[-1]), body))
    write_lines(log, lines)
    report = build_report([str(log)])
    (state,) = report.inputs
    assert (state.verification, state.charted) == ("failed", False)
    assert "after its writer's final head" in state.signature
    assert report.tests == [] and report.setups == []
    html = render_html(report)
    assert "1000" not in html and "No result to chart." in html


def test_one_log_of_two_setups_and_two_logs_of_one(tmp_path: Path) -> None:
    """Setups follow the manifests, not the files: a second run into the same log with
    OMP_NUM_THREADS=3 is a setup of its own; a second log of the first setup pools with it."""
    plain = build_manifest(7, "c7")
    threads = build_manifest(7, "c7", env={"OMP_NUM_THREADS": "3"})
    shared = tmp_path / "shared.jsonl"
    write_log(shared, plain, {"tg": [50.0, 51.0, 49.0]})
    write_log(shared, threads, {"tg": [30.0, 31.0, 29.0]})
    other = write_log(tmp_path / "other.jsonl", plain, {"tg": [52.0, 53.0, 51.0]})
    report = build_report([str(shared), str(other)])
    assert [(s.label, s.sources, s.results) for s in report.setups] == [
        ("S1", ["shared.jsonl", "other.jsonl"], 2), ("S2", ["shared.jsonl"], 1)
    ]
    (chart,) = report.tests
    pooled = chart.bars[0].spread
    assert (pooled.mean, pooled.n) == (51.0, 6)  # six repetitions of S1, from two files
    (compared,) = report.comparisons
    assert compared.diff.headline == "A is 1.70x faster on tg; likely causes: OpenMP threads " \
        "unset -> 3"  # fmt: skip


def test_a_time_is_drawn_lower_is_better(tmp_path: Path) -> None:
    log = tmp_path / "t.jsonl"
    with open_recorder(log, manifest=build_manifest(1, "c1")) as rec:
        rec.record("load", wall_s=[0.5, 0.6, 0.4])
    (chart,) = build_report([str(log)]).tests
    assert (chart.metric, chart.unit, chart.higher_is_better) == ("wall_s", "s", False)
    drawn = svg.chart(chart, {1: "S1"}, "t")
    assert ">wall_s (s), lower is better</text>" in drawn
    assert ">0.5000 ± 0.1000 s (n=3)</text>" in drawn


def test_the_command_names_the_logs_it_did_not_chart(
    two_builds: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(Path(two_builds[1]).read_text().replace("79.0", "179.0", 1))
    out = tmp_path / "r.html"
    assert cli.main(["report", two_builds[0], str(tampered), "-o", str(out)]) == 0
    assert capsys.readouterr().err == (
        f"wrote {out}: 3 tests, 1 setup, 6 results (not charted, signatures do not hold: "
        "tampered.jsonl)\n"
    )


@pytest.mark.parametrize(
    ("peak", "shown"),
    [(512, "512 B"), (1536, "1.5 KiB"), (3 << 20, "3.0 MiB"), (5 << 30, "5.0 GiB"),
     (2048 << 30, "2048.0 GiB")],
)  # fmt: skip
def test_memory_sizes_read_as_people_write_them(peak: int, shown: str, tmp_path: Path) -> None:
    from envstamp.stamping.results import MemoryUse, Result

    log = tmp_path / "m.jsonl"
    with open_recorder(log, manifest=build_manifest(1, "c1")) as rec:
        rec.add(Result(manifest_digest=rec.manifest_digest, name="run", wall_s=[1.0],
                       memory=MemoryUse(rss_peak_bytes=peak, source="proc")))  # fmt: skip
    assert f"<td>run</td><td>S1</td><td>{shown}</td><td>—</td>" in render_html(
        build_report([str(log)])
    )
