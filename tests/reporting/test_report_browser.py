"""The report in a real browser: Debian's ``chromium``, headless.

It renders the page (with a test named ``<script>alert(1)</script>``), and the test checks
that the DOM the browser built holds every chart and no script, that the console stayed
silent (a control page proves console messages do reach the log this reads), and that a
screenshot is written (``ENVSTAMP_REPORT_SCREENSHOT=path.png`` keeps a copy to look at).
Skipped, saying why, where no chromium is installed (``apt-get install chromium``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from envstamp.reporting.data import build_report
from envstamp.reporting.html import render_html
from tests.reporting.reporting_support import build_manifest, write_log

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="needs Debian's chromium (apt-get install chromium) to render the report",
    ),
]

# Chromium logs a page's console messages as INFO lines "CONSOLE(<line>)" with
# --enable-logging=stderr --v=0; its own noise (dbus, GPU) is not the page's.
_CONSOLE = re.compile(r"CONSOLE|Uncaught|Content Security Policy|Refused to")


def _chromium(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    argv = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
            "--v=0", f"--user-data-dir={tmp_path / 'profile'}", *extra, page.as_uri()]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_chromium_renders_every_chart_with_a_clean_console(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    logs = [
        write_log(tmp_path / f"b{n}.jsonl", build_manifest(n, f"c{n}"),
                  {"tg128": [s - 1, s, s + 1], "pp512": [20 * s - 9, 20 * s, 20 * s + 9],
                   hostile: [s / 2]})
        for n, s in ((5000, 100.0), (5100, 80.0), (5200, 120.0))
    ]
    report = build_report([str(p) for p in logs])
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")

    # the control: a console message does reach the log we read
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><script>console.log('envstamp-control')</script>")
    assert "envstamp-control" in _chromium(tmp_path, control, "--dump-dom").stderr

    dumped = _chromium(tmp_path, page, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert dom.count('<svg class="chart"') == len(report.tests) == 3
    assert dom.count('<g class="row">') == 9  # three setups in each chart
    assert "<script" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    noise = [line for line in dumped.stderr.splitlines() if _CONSOLE.search(line)]
    assert noise == []

    shot = tmp_path / "shot.png"
    taken = _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1280,2000",
                      "--hide-scrollbars")  # fmt: skip
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [line for line in taken.stderr.splitlines() if _CONSOLE.search(line)] == []
    keep = os.environ.get("ENVSTAMP_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
