"""One llama.cpp build seen twice: once with its git checkout and CMake cache beside it, once
as a lone copy of the binary (issue 11 review, gap 1).

The copy knows what the binary printed (``--version``); the build folder also knows the
checkout's commit and ``git describe`` and the cache's options.  Only what both sides know is
compared: the same build is no build change, and what one side lacks is "unknown on A".
The lone copies are read from the real ``--version`` outputs of both builds
(fixtures/llamacpp-real), the full builds are the real captures of fixtures/diff/cpu-builds.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from envstamp.diffing.differ import diff
from envstamp.manifest.model import LlamaCppBuild
from envstamp.output.diff_render import to_text
from envstamp.parsers.llamacpp_log import parse_llama_log
from tests.diff_support import cpu_build, speed, with_build, write_log

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real"
BUILDS = {
    "0.5.0-dev": ("0.5.0-dev-0c1e57098", "0c1e570-cpu.json"),
    "b5308": ("b5308-8733e0cf6", "b5308-cpu.json"),
}


def lone_copy(folder: str) -> LlamaCppBuild:
    """The build as the probe sees a copy of its binary: only what ``--version`` printed."""
    build = parse_llama_log((REAL / folder / "version.txt").read_text(encoding="utf-8"))
    return attrs.evolve(build, path="copybin/llama-bench", source="--version")


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_a_build_against_a_copy_of_itself_is_no_build_change(name: str) -> None:
    folder, full = BUILDS[name]
    report = diff(with_build(lone_copy(folder)), with_build(cpu_build(full)))
    assert not [d for d in report.differences if d.impact == "high"]
    assert not [d for d in report.differences if d.path == "llamacpp[0].build"]
    assert report.max_impact == "low"  # the path, where each copy lives
    assert [d.path for d in report.differences if d.impact != "none"] == ["llamacpp[0].path"]
    assert report.likely_causes == []
    unknown = {d.path: d.change for d in report.unknown}
    assert unknown["llamacpp[0].build_flags"].startswith("unknown on A (no CMake cache")
    # the checkout reads as its git describe, not as "GitInfo"
    describe = "b5308" if name == "b5308" else "0c1e570"
    assert unknown["llamacpp[0].git"] == f"unknown on A; B: {describe}"
    # no part of the build's identity is listed as "unset" or changed
    assert not [p for p in unknown if ".build_flags." in p]


def test_the_current_build_knows_its_identity_without_git() -> None:
    """0.5.0-dev prints its commit and version: both sides know them, and they agree; the
    checkout adds nothing to the build's identity, so no identity part is unknown."""
    report = diff(with_build(lone_copy("0.5.0-dev-0c1e57098")),
                  with_build(cpu_build("0c1e570-cpu.json")))
    assert "llamacpp[0].build" not in {d.path for d in report.unknown}
    assert report.headline.startswith("1 difference that may change speed (1 low); "
                                      "top: llama.cpp path ")


def test_the_old_build_knows_its_identity_only_from_git() -> None:
    """b5308 printed "version: 0 (unknown)": its number and commit come from the checkout,
    so on the copy's side they are unknown, not changed."""
    report = diff(with_build(lone_copy("b5308-8733e0cf6")),
                  with_build(cpu_build("b5308-cpu.json")))
    (build,) = [d for d in report.unknown if d.path == "llamacpp[0].build"]
    assert build.change == ("unknown on A: build number, commit; "
                            "B: b5308 (commit 8733e0cf6eef)")
    assert build.impact == "high"  # ranked as what it is, but never counted
    assert report.counts["high"] == 0


def test_a_copy_of_one_build_against_another_build_is_a_build_change() -> None:
    """Both sides know the commit: they differ, so the build changed."""
    old = attrs.evolve(cpu_build("b5308-cpu.json"), path="copybin/llama-bench", git=None,
                       build_flags={}, commit="8733e0cf6")
    report = diff(with_build(old), with_build(lone_copy("0.5.0-dev-0c1e57098")))
    (build,) = [d for d in report.differences if d.impact == "high"]
    assert build.change == "commit 8733e0cf6 -> commit 0c1e57098, version 0.5.0-dev"


def test_the_text_view_puts_the_lacking_parts_under_unknown() -> None:
    text = to_text(diff(with_build(lone_copy("b5308-8733e0cf6")),
                        with_build(cpu_build("b5308-cpu.json"))))
    assert "HIGH" not in text
    assert "llama.cpp build:" not in text.split("Unknown on one side")[0]
    assert ("  llamacpp[0].build: unknown on A: build number, commit; "
            "B: b5308 (commit 8733e0cf6eef)\n") in text


def test_results_of_the_same_build_name_no_build_as_a_likely_cause(tmp_path: Path) -> None:
    """A gap between two runs of the same build (one from a copy of its binary) is not
    explained by "llama.cpp build: commit 0c1e57098 -> commit 0c1e57098"."""
    copy = with_build(lone_copy("0.5.0-dev-0c1e57098"))
    full = with_build(cpu_build("0c1e570-cpu.json"))
    log_a = write_log(tmp_path / "a.jsonl", [(copy, [speed("tg16", [27600.0, 27800.0, 27500.0])])])
    log_b = write_log(tmp_path / "b.jsonl", [(full, [speed("tg16", [26200.0, 26300.0, 26150.0])])])
    report = diff(log_a, log_b)
    assert report.headline == ("A is 1.05x faster on tg16; envstamp records no difference "
                               "that explains it")
    assert report.likely_causes == []
