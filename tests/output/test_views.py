"""Output formats in one seam (issue 13): every verb's text, Markdown and JSON come from
``envstamp.output.views``, and the helpers every view shares live once, in
``envstamp.output.formatting``."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.cli.main import main
from envstamp.diffing.compare import compare
from envstamp.diffing.differ import diff
from envstamp.documents import load_document
from envstamp.output import formatting, views
from tests.diff_support import RENDER_NODE, WORKSTATION

ROOT = Path(__file__).parents[2]
VERBS = ("show", "diff", "compare", "check")


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    main(list(argv))
    return capsys.readouterr().out


def _output_imports(path: Path) -> set[str]:
    """The envstamp.output modules a file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "envstamp.output":
                found |= {f"envstamp.output.{a.name}" for a in node.names}
            elif node.module.startswith("envstamp.output"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("envstamp.output")}
    return found


@pytest.mark.parametrize("verb", VERBS)
def test_the_verbs_reach_output_only_through_the_seam(verb: str) -> None:
    assert _output_imports(ROOT / "envstamp" / "cli" / f"{verb}.py") == {"envstamp.output.views"}


def test_shared_helpers_are_defined_once() -> None:
    """bytes, Markdown cells, digests, durations and plurals: one definition, in formatting."""
    helpers = ("human_bytes", "md_cell", "short_digest", "identity_text", "seconds", "plural",
               "_seconds", "_md_cell", "_code")
    for module in (ROOT / "envstamp" / "output").glob("*.py"):
        defined = {node.name for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
                   if isinstance(node, ast.FunctionDef)}
        if module.name != "formatting.py":
            assert not defined & set(helpers), module.name


@pytest.mark.parametrize("fmt", views.FORMATS)
def test_show_is_the_seams_show(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    flag = [] if fmt == "text" else [f"--{fmt}", "--no-redact"][: 1 if fmt == "json" else 2]
    doc = load_document(str(WORKSTATION))
    assert _cli(capsys, "show", str(WORKSTATION), *flag) == views.show(doc, fmt)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", views.FORMATS)
def test_diff_and_compare_are_the_seams(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    flag = [] if fmt == "text" else [f"--{fmt}", "--no-redact"][: 1 if fmt == "json" else 2]
    a, b = str(WORKSTATION), str(RENDER_NODE)
    report = diff(load_document(a), load_document(b))
    assert _cli(capsys, "diff", a, b, *flag) == views.diff(report, fmt)  # type: ignore[arg-type]
    table = compare([load_document(a), load_document(b)])
    assert _cli(capsys, "compare", a, b, *flag) == views.compare(table, fmt)  # type: ignore[arg-type]


def test_every_format_of_every_view() -> None:
    """Text, Markdown and JSON of each view: JSON parses, Markdown has its heading, text
    its first line."""
    a, b = load_document(str(WORKSTATION)), load_document(str(RENDER_NODE))
    report, table = diff(a, b), compare([a, b])
    firsts = {
        "show": [views.show(a, fmt).splitlines()[0] for fmt in ("text", "markdown")],
        "diff": [views.diff(report, fmt).splitlines()[0] for fmt in ("text", "markdown")],
        "check": [views.diff(report, fmt, title=views.CHECK_TITLE).splitlines()[0]
                  for fmt in ("text", "markdown")],
        "compare": [views.compare(table, fmt).splitlines()[0] for fmt in ("text", "markdown")],
    }
    assert firsts["show"][0].startswith("envstamp manifest: captured ")
    assert firsts["show"][1].startswith("**envstamp** 0.1.0 · captured ")
    assert firsts["diff"] == ["envstamp diff", "### envstamp diff"]
    assert firsts["check"] == ["envstamp check", "### envstamp check"]
    assert firsts["compare"] == ["envstamp compare: 2 inputs", "### envstamp compare"]
    assert json.loads(views.show(a, "json"))["schema"] == "envstamp.manifest/1"
    assert json.loads(views.diff(report, "json"))["schema"] == "envstamp.diff/1"
    assert json.loads(views.compare(table, "json"))["schema"] == "envstamp.compare/1"


# ---------------------------------------------------------------------------- formatting


def test_plural() -> None:
    assert [formatting.plural(n, "difference") for n in (0, 1, 2)] == [
        "0 differences", "1 difference", "2 differences"]
    assert formatting.plural(1, "more result") == "1 more result"
    assert formatting.plural(3, "child", "children") == "3 children"


def test_digests_are_named_identity_first() -> None:
    identity, manifest = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    assert formatting.digests_text(identity, manifest) == (
        "identity digest sha256:aaaaaaaaaaaa, manifest digest sha256:bbbbbbbbbbbb")
    assert formatting.identity_text(None) == "identity digest unknown"
    assert formatting.manifest_digests_text([manifest, identity]) == (
        "manifest digests sha256:bbbbbbbbbbbb, sha256:aaaaaaaaaaaa")
    assert formatting.manifest_digests_text([]) == ""


def test_cells_durations_and_times() -> None:
    assert formatting.md_cell("a|b\nc") == "a\\|b c"
    assert formatting.md_code("x|y") == "`x\\|y`" and formatting.md_code("") == ""
    assert [formatting.seconds(v) for v in (1.25, 0.012, 0.00085)] == [
        "1.250 s", "12.00 ms", "850.0 us"]
    assert formatting.timestamp(None) == "unknown"
    assert formatting.timestamp("2025-03-14T09:12:44.201Z") == "2025-03-14T09:12:44.201Z"


@given(st.integers(min_value=0, max_value=1 << 62))
def test_sizes_read_as_the_diff_reads_them(value: int) -> None:
    from envstamp.diffing.rules import human_bytes

    assert formatting.human_bytes(value) == human_bytes(value)


_TEXT = st.text(alphabet=st.sampled_from("ab-/, x0"), max_size=120)


@given(_TEXT, st.integers(min_value=8, max_value=60))
def test_wrap_fits_and_keeps_every_character(text: str, width: int) -> None:
    lines = formatting.wrap(text, width, "")
    assert all(len(line) <= width for line in lines)
    assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", text)


@given(st.lists(st.lists(_TEXT, min_size=3, max_size=3), min_size=1, max_size=6))
def test_a_wrapped_table_fits_or_says_it_cannot(body: list[list[str]]) -> None:
    lines = formatting.wrapped_table(["impact", "x", "y"], body, fixed=1, width=60)
    if lines is not None:
        assert all(len(line) <= 60 for line in lines)
        assert lines[0].split() == ["impact", "x", "y"]
