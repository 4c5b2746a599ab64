"""docs/cli.md shows what the CLI really prints (issue 15): scripts/make-cli-docs writes its
"What each verb prints" part from real runs, and this test fails when the page and the
output drift apart."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from envstamp.cli.main import VERBS

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "make-cli-docs"


def _script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("make_cli_docs", str(SCRIPT))
    spec = importlib.util.spec_from_loader("make_cli_docs", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


make_cli_docs = _script()


@pytest.mark.slow
def test_docs_cli_md_is_what_the_cli_prints() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr + "\n(regenerate: scripts/make-cli-docs)"


def test_every_verb_is_shown() -> None:
    shown = {argv[0] for _, argv, _ in make_cli_docs.STEPS}
    assert set(VERBS) <= shown, f"add an example of {sorted(set(VERBS) - shown)} to STEPS"


def test_the_page_has_one_generated_part() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page.count(make_cli_docs.BEGIN) == 1 and page.count(make_cli_docs.END) == 1
    assert page.index(make_cli_docs.BEGIN) < page.index(make_cli_docs.END)


def test_splice_replaces_only_the_generated_part() -> None:
    begin, end = make_cli_docs.BEGIN, make_cli_docs.END
    page = f"# head\n\n{begin}\nold\n{end}\n\ntail\n"
    assert make_cli_docs.splice(page, "new\n") == f"# head\n\n{begin}\nnew\n{end}\n\ntail\n"
    assert make_cli_docs.splice("# head\n", "new\n") == f"# head\n\n{begin}\nnew\n{end}\n"


def test_normaliser_keeps_shapes_and_links_short_and_long_digests(tmp_path: Path) -> None:
    keep = "a050837d85070582" + "0" * 48
    normal = make_cli_docs.Normaliser(tmp_path, keep)
    long = "sha256:" + "9c25e1ebd607" + "1" * 52
    text = (
        f"captured 2026-12-06T07:31:18.785Z, digest sha256:9c25e1ebd607 ({long}); "
        f"key a050837d85070582; other key 59b1b9a7f77f1112; wall 3.66 ms, 0.0037 s; "
        f"file {tmp_path}/work/results.jsonl, key in {tmp_path}/home/.config"
    )
    once, again = normal(text), normal(text)
    assert once == again  # the same value, the same stand-in
    short_out, long_out = (word for word in once.split() if word.startswith(("sha256:", "(sha")))
    assert long_out.strip("();").startswith(short_out)  # one digest, one prefix
    assert len(long_out.strip("();")) == len(long)
    assert "9c25e1ebd607" not in once and "59b1b9a7f77f1112" not in once
    assert "key a050837d85070582;" in once  # the fixed test key's id stays
    assert "captured 2026-01-01T12:00:01.000Z" in once
    assert "wall 1.23 ms, 0.0012 s" in once
    assert "file results.jsonl, key in ~/.config" in once


def test_significant_digits() -> None:
    assert make_cli_docs._significant_digits("41.20 s") == "12.34 s"
    assert make_cli_docs._significant_digits("0.0037 s") == "0.0012 s"
