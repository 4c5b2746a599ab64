"""``compare`` of results logs: one run's two output formats are one test, failed runs are
never speeds, a log's setups are columns of their own, the wrapper's time is context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.cli.main import main
from envstamp.diffing.compare import compare
from tests.diff_support import (
    BENCH,
    COMMAND,
    bench_results,
    cpu_build,
    speed,
    with_build,
    write_log,
)


@pytest.fixture
def manifest() -> Any:
    return with_build(cpu_build("0c1e570-cpu.json"))


def test_markdown_and_json_runs_are_one_test(tmp_path: Path, manifest: Any) -> None:
    md = bench_results((BENCH / "pp64-tg16-r3.md").read_text(), markdown=True)
    js = bench_results((BENCH / "pp64-tg16-r3.json").read_text(), markdown=False)
    report = compare([write_log(tmp_path / "md.jsonl", [(manifest, md)]),
                      write_log(tmp_path / "json.jsonl", [(manifest, js)])])
    assert [(t.name, t.context) for t in report.tests] == [
        ("pp64", False), ("tg16", False), ("llama-bench", True)]
    pp = report.tests[0]
    assert [v.n if v else None for v in pp.values] == [3, 3]
    assert pp.values[0] is not None and pp.values[0].stddev == 13472.10
    assert report.rows == [] and report.failed == []


def test_failed_runs_are_listed_apart(tmp_path: Path, manifest: Any,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    wall = {"name": "llama-bench", "origin": "run", "command": COMMAND}
    good = write_log(tmp_path / "good.jsonl", [(manifest, [{**wall, "wall_s": [1.2, 1.3]}])])
    crash = write_log(tmp_path / "crash.jsonl", [(manifest, [
        {**wall, "wall_s": [0.01], "exit_code": 132, "failed": True, "exit_signal": "SIGILL"}])])
    also = write_log(tmp_path / "also.jsonl", [(manifest, [{**wall, "wall_s": [1.25, 1.2]}])])
    report = compare([good, crash, also])
    (test,) = report.tests
    assert test.values[1] is None  # the crash is no speed
    assert test.values[0] is not None and test.values[2] is not None
    assert [(f.side, f.name, f.summary) for f in report.failed] == [
        ("2", "llama-bench", "failed: exit 132 (SIGILL)")]
    assert report.summary.endswith("; 1 failed run not compared")
    assert main(["compare", str(good), str(crash), str(also)]) == 0
    out = capsys.readouterr().out
    assert "Failed runs (their times are not speeds; never compared):\n" \
           "  2  llama-bench: failed: exit 132 (SIGILL)" in out


def test_a_log_with_two_setups_is_two_columns(tmp_path: Path, manifest: Any,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    one = write_log(tmp_path / "one.jsonl", [(manifest, [speed("tg16", [26100.0, 26900.0])])])
    two = write_log(tmp_path / "two.jsonl", [
        (manifest, [speed("tg16", [26400.0, 25700.0])]),
        (threads, [speed("tg16", [9100.0, 9350.0])]),
    ])
    report = compare([one, two])
    assert [i.side for i in report.inputs] == ["1", "2.1", "2.2"]
    assert report.setups == ["2 holds 2 setups: 2.1, 2.2"]
    assert report.summary == ("the only difference between these runs is the OpenMP threads: "
                              "unset -> 3; 2 holds 2 setups: 2.1, 2.2 (one column each)")
    (row,) = report.rows
    assert (row.path, row.values) == ("env.OMP_NUM_THREADS", [None, None, "3"])
    (test,) = report.tests
    means = [v.mean if v else None for v in test.values]
    assert means == [26500.0, 26050.0, 9225.0]  # never pooled across setups
    assert main(["compare", str(one), str(two)]) == 0
    out = capsys.readouterr().out
    assert "  impact  field           1      2.1    2.2" in out


def test_check_never_reads_a_failed_baseline_run_as_speed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from envstamp.capturing.capture import capture

    host = sorted((Path(__file__).parents[1] / "fixtures" / "hosts").glob("linux-*"))[0]
    captured = capture(replay=str(host))
    crash = {"name": "llama-bench", "origin": "run", "command": COMMAND, "exit_code": 132,
             "wall_s": [0.012]}
    baseline = write_log(tmp_path / "baseline.jsonl", [
        (captured, [speed("pp64", [61000.0, 60500.0]), crash])])
    assert main(["check", str(baseline), "--replay", str(host), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in data["tests"]] == ["pp64"]
    assert [(f["name"], f["summary"]) for f in data["failed"]] == [
        ("llama-bench", "failed: exit 132 (128+SIGILL)")]
    assert "not compared as speed: 1 failed run" in data["headline"]


# --------------------------------------------- a column shows only what its setup has (gap 6)


def test_a_column_shows_only_what_its_setup_has(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The review's case: crash.jsonl holds a run of a wrapped llama-bench (a lone copy of the
    binary, ./crashbin) that died with SIGILL, then a shell command under a setup with no
    llama.cpp build at all; md.jsonl is a plain run of the build in its build folder."""
    from envstamp.parsers.llamacpp_log import parse_llama_log

    real = Path(__file__).parents[1] / "fixtures" / "llamacpp-real" / "0.5.0-dev-0c1e57098"
    copy = attrs.evolve(parse_llama_log((real / "version.txt").read_text()),
                        path="./crashbin/llama-bench", source="--version")
    full = cpu_build("0c1e570-cpu.json")
    crashed = with_build(copy)
    shell = attrs.evolve(crashed, llamacpp=[], models=[])
    died = {"origin": "run", "exit_code": 132, "failed": True, "exit_signal": "SIGILL",
            "wall_s": [0.08]}
    crash = write_log(tmp_path / "crash.jsonl", [
        (crashed, [{"name": "llama-bench", "command": ["./crashbin/llama-bench"], **died}]),
        (shell, [{"name": "sh", "command": ["sh", "-c", "echo hi; kill -ILL $$"], **died}]),
    ])
    md = write_log(tmp_path / "md.jsonl", [(with_build(full), bench_results(
        (BENCH / "pp64-tg16-r3.md").read_text(), markdown=True))])
    report = compare([crash, md])
    assert [i.side for i in report.inputs] == ["1.1", "1.2", "2"]
    rows = {r.path: r for r in report.rows}
    # the shell's setup has no build: none of its cells holds the crashed build's values
    path = rows["llamacpp[0].path"]
    assert path.values == ["./crashbin/llama-bench", None, full.path]
    assert path.absent == [1]
    assert rows["llamacpp[0].source"].values == ["--version", None,
                                                 "--version+CMakeCache.txt+git"]
    # md.jsonl's build is its own, not the crashed copy it never ran; the shell's is absent
    assert rows["llamacpp[0]"].values == ["./crashbin/llama-bench", None, full.path]
    assert rows["llamacpp[0]"].absent == [1]
    # the copy and the build folder are one build: no build row, and no row that does not vary
    assert "llamacpp[0].build" not in rows
    for row in report.rows:
        shown = [repr(v) for i, v in enumerate(row.values) if i not in row.absent]
        assert len(set(shown)) > 1 or row.absent, row
    assert main(["compare", str(crash), str(md)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "llama.cpp path" in x)
    # a column without the item reads "none found", as show says of a machine without GPUs
    assert line.split() == ["low", "llama.cpp", "path", "./crashbin/llama-bench", "none",
                            "found", full.path]
    line = next(x for x in out.splitlines() if x.startswith("  high    llama.cpp build "))
    assert line.split()[-4:] == ["./crashbin/llama-bench", "none", "found", full.path]


def test_list_items_keep_the_first_inputs_positions_in_every_column() -> None:
    """Input 2 holds a second build before the first input's one (matched by its path at
    another position); input 3 holds the first input's build at a newer commit.  Each row
    names one build in every column."""
    build = cpu_build("0c1e570-cpu.json")
    other = attrs.evolve(cpu_build("b5308-cpu.json"), path="~/old/build")
    newer = attrs.evolve(build, commit="1a2b3c4d5", git=None)
    report = compare([with_build(build), attrs.evolve(with_build(build), llamacpp=[other, build]),
                      with_build(newer)])
    rows = {r.path: r for r in report.rows}
    # the second build is the extra item of input 2, after the first input's positions
    assert rows["llamacpp[1]"].values == [None, "~/old/build", None]
    assert rows["llamacpp[1]"].absent == [0, 2]
    # input 2 holds the first input's build unchanged; input 3 a newer commit of it
    assert rows["llamacpp[0].build"].values == [
        "commit 0c1e57098, version 0.5.0-dev", "commit 0c1e57098, version 0.5.0-dev",
        "commit 1a2b3c4d5, version 0.5.0-dev"]
    assert not [p for p in rows if "path=" in p or "~" in p.split("]")[0]]


def test_the_same_build_at_another_path_is_named_as_a_path() -> None:
    """A lone copy of a binary and its build folder: the only difference is where it lives
    (review gap 1), and the summary says the path, not "the llama.cpp build"."""
    from envstamp.parsers.llamacpp_log import parse_llama_log

    real = Path(__file__).parents[1] / "fixtures" / "llamacpp-real" / "0.5.0-dev-0c1e57098"
    copy = attrs.evolve(parse_llama_log((real / "version.txt").read_text()),
                        path="./copybin/llama-bench", source="--version")
    full = cpu_build("0c1e570-cpu.json")
    report = compare([with_build(copy), with_build(full)])
    assert report.only_difference == f"llama.cpp path: ./copybin/llama-bench -> {full.path}"
    assert not [r for r in report.rows if r.impact == "high" and not r.unknown]
