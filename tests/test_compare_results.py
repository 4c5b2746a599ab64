"""``compare`` of results logs: one run's two output formats are one test, failed runs are
never speeds, a log's setups are columns of their own, the wrapper's time is context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.cli import main
from envstamp.compare_table import compare
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

    from envstamp.collect import capture

    host = sorted((Path(__file__).parent / "fixtures" / "hosts").glob("linux-*"))[0]
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
