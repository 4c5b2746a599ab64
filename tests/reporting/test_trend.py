"""``envstamp trend``: results ordered by llama.cpp build, steps beyond noise flagged with what
changed there, text and JSON output, ``--fail-on`` for CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envstamp.cli import main as cli
from envstamp.errors import CheckFailed, InputError
from envstamp.reporting.trend import trend_of_logs
from envstamp.reporting.trend_render import render_json, render_text, to_json
from tests.reporting.reporting_support import build_manifest, write_log
from tests.timing_support import open_recorder

# Three builds: b5100 made pp512 1.33x slower (spreads apart); tg128 moved within its noise
# there, and b5200 made tg128 1.30x faster.
SPEEDS = {
    5000: {"tg128": [99.0, 100.0, 101.0], "pp512": [1990.0, 2000.0, 2010.0]},
    5100: {"tg128": [99.5, 100.0, 100.5], "pp512": [1490.0, 1500.0, 1510.0]},
    5200: {"tg128": [129.0, 130.0, 131.0], "pp512": [1495.0, 1500.0, 1505.0]},
}
COMMITS = {5000: "aaaa1111", 5100: "bbbb2222", 5200: "cccc3333"}


@pytest.fixture
def three_builds(tmp_path: Path) -> list[str]:
    """The three logs, given out of order (b5200, b5000, b5100)."""
    paths = []
    for number in (5200, 5000, 5100):
        manifest = build_manifest(number, COMMITS[number])
        paths.append(str(write_log(tmp_path / f"b{number}.jsonl", manifest, SPEEDS[number])))
    return paths


EXPECTED_TEXT = """\
envstamp trend: 3 points ordered by build number; flagged: a move of 1.1x or more whose \
spreads (mean ± stddev) do not overlap

  #  llama.cpp build          captured                  results  from
  1  b5000 (commit aaaa1111)  2025-03-01T09:00:00.000Z  2        b5000.jsonl
  2  b5100 (commit bbbb2222)  2025-03-01T09:00:00.000Z  2        b5100.jsonl
  3  b5200 (commit cccc3333)  2025-03-01T09:00:00.000Z  2        b5200.jsonl

  test   1                      2                      3
  tg128  100.0 ± 1.0 t/s (n=3)  100.0 ± 0.5 t/s (n=3)  130.0 ± 1.0 t/s (n=3)
  pp512  2000 ± 10 t/s (n=3)    1500 ± 10 t/s (n=3)    1500 ± 5 t/s (n=3)

2 flagged (1 slower, 1 faster):
  pp512  1 -> 2: 1.33x slower  2000 ± 10 t/s (n=3) -> 1500 ± 10 t/s (n=3)
    changed: llama.cpp build: b5000 (commit aaaa1111) -> b5100 (commit bbbb2222) (100 builds \
apart, point 2 newer)
  tg128  2 -> 3: 1.30x faster  100.0 ± 0.5 t/s (n=3) -> 130.0 ± 1.0 t/s (n=3)
    changed: llama.cpp build: b5100 (commit bbbb2222) -> b5200 (commit cccc3333) (100 builds \
apart, point 3 newer)
"""


def test_text_orders_by_build_number_and_flags_steps_beyond_noise(
    three_builds: list[str],
) -> None:
    assert render_text(trend_of_logs(three_builds)) == EXPECTED_TEXT


def test_json_holds_points_series_and_every_step(three_builds: list[str]) -> None:
    trend = trend_of_logs(three_builds)
    data = json.loads(render_json(trend))
    assert data == to_json(trend)
    assert data["schema"] == "envstamp.trend/1"
    assert (data["order"], data["factor"]) == ("build number", 1.1)
    assert [p["build_number"] for p in data["points"]] == [5000, 5100, 5200]
    assert [p["commit"] for p in data["points"]] == ["aaaa1111", "bbbb2222", "cccc3333"]
    assert [p["sources"] for p in data["points"]] == [
        ["b5000.jsonl"], ["b5100.jsonl"], ["b5200.jsonl"]
    ]
    assert data["points"][0]["identity_digest"] == build_manifest(5000, "aaaa1111").identity_digest
    tg = data["series"][0]
    assert tg["test"] == "tg128" and tg["unit"] == "t/s" and tg["higher_is_better"] is True
    assert [v["mean"] for v in tg["values"]] == [100.0, 100.0, 130.0]
    assert [v["n"] for v in tg["values"]] == [3, 3, 3]
    steps = {(s["test"], s["before"]): s for s in data["steps"]}
    assert len(steps) == 4  # two tests, two steps each: every step, flagged or not
    assert steps[("pp512", 1)] == {
        "test": "pp512", "metric": "tokens_per_s", "unit": "t/s", "before": 1, "after": 2,
        "a": {"mean": 2000.0, "stddev": 10.0, "n": 3},
        "b": {"mean": 1500.0, "stddev": 10.0, "n": 3},
        "speedup": 0.75, "direction": "slower", "factor": 1.3333, "within_noise": False,
        "flagged": True,
        "changes": ["llama.cpp build: b5000 (commit aaaa1111) -> b5100 (commit bbbb2222) "
                    "(100 builds apart, point 2 newer)"],
    }  # fmt: skip
    within = steps[("tg128", 1)]
    assert (within["flagged"], within["within_noise"], within["speedup"]) == (False, True, 1.0)
    small = steps[("pp512", 2)]  # 1500 -> 1500: no move at all
    assert small["flagged"] is False and small["direction"] == "faster"
    assert data["failed"] == []


def test_a_big_move_inside_the_spread_is_not_flagged_nor_a_small_one_outside(
    tmp_path: Path,
) -> None:
    logs = [
        write_log(tmp_path / "a.jsonl", build_manifest(1, "a1"),
                  {"noisy": [85.0, 100.0, 115.0], "steady": [100.0, 100.1, 99.9]}),
        write_log(tmp_path / "b.jsonl", build_manifest(2, "b2"),
                  {"noisy": [70.0, 85.0, 100.0], "steady": [98.0, 98.1, 97.9]}),
    ]  # fmt: skip
    trend = trend_of_logs([str(p) for p in logs])
    by_test = {s.test: s for s in trend.steps}
    noisy, steady = by_test["noisy"], by_test["steady"]
    assert noisy.factor == pytest.approx(100 / 85) and noisy.within_noise is True
    assert steady.factor == pytest.approx(100 / 98) and steady.within_noise is False
    assert not noisy.flagged and not steady.flagged  # beyond 1.1x AND spreads apart: neither
    assert "no step beyond noise (2 compared)" in render_text(trend)
    looser = trend_of_logs([str(p) for p in logs], factor=1.01)
    assert [s.test for s in looser.flagged] == ["steady"]  # the factor is the user's


def test_a_single_reading_is_flagged_by_the_factor_alone_and_says_so(tmp_path: Path) -> None:
    logs = [
        write_log(tmp_path / "a.jsonl", build_manifest(10, "a1"), {"tg128": [100.0]}),
        write_log(tmp_path / "b.jsonl", build_manifest(11, "b2"), {"tg128": [50.0]}),
    ]
    trend = trend_of_logs([str(p) for p in logs])
    (step,) = trend.flagged
    assert step.within_noise is None and step.phrase == "2.00x slower"
    assert ("  tg128  1 -> 2: 2.00x slower (spread unknown: the factor alone)  "
            "100.0 t/s (n=1) -> 50.00 t/s (n=1)") in render_text(trend).splitlines()


def test_without_build_numbers_capture_time_orders_and_equal_builds_too(
    tmp_path: Path,
) -> None:
    later = build_manifest(None, "beef", captured_at="2025-05-01T00:00:00.000Z")
    earlier = build_manifest(None, "cafe", captured_at="2025-04-01T00:00:00.000Z")
    logs = [write_log(tmp_path / "later.jsonl", later, {"tg": [60.0, 61.0, 59.0]}),
            write_log(tmp_path / "earlier.jsonl", earlier, {"tg": [80.0, 81.0, 79.0]})]
    trend = trend_of_logs([str(p) for p in logs])
    assert trend.order == "capture time"
    assert [p.commit for p in trend.points] == ["cafe", "beef"]
    text = render_text(trend)
    assert text.startswith("envstamp trend: 2 points ordered by capture time (not every build "
                           "has a build number); ")  # fmt: skip
    assert "  tg  1 -> 2: 1.33x slower  80.00 ± 1.00 t/s (n=3) -> 60.00 ± 1.00 t/s (n=3)" in text
    assert "changed: llama.cpp build: commit cafe -> commit beef" in text
    # One build number on both: equal builds go by capture time
    same_a = build_manifest(7, "abc", captured_at="2025-06-02T00:00:00.000Z",
                            env={"GGML_VK_DISABLE_F16": "1"})  # fmt: skip
    same_b = build_manifest(7, "abc", captured_at="2025-06-01T00:00:00.000Z")
    logs = [write_log(tmp_path / "x.jsonl", same_a, {"tg": [50.0, 51.0, 49.0]}),
            write_log(tmp_path / "y.jsonl", same_b, {"tg": [80.0, 81.0, 79.0]})]
    trend = trend_of_logs([str(p) for p in logs])
    assert trend.order == "build number"
    assert [p.sources for p in trend.points] == [["y.jsonl"], ["x.jsonl"]]
    (step,) = trend.flagged
    assert step.slower and step.changes == [
        "ggml setting GGML_VK_DISABLE_F16: unset -> 1"
    ]


def test_parameters_that_changed_at_a_step_are_named(tmp_path: Path) -> None:
    logs = [
        write_log(tmp_path / "a.jsonl", build_manifest(1, "a1"), {"tg": [100.0, 101.0, 99.0]},
                  params={"tg": {"n_gpu_layers": 99}}),
        write_log(tmp_path / "b.jsonl", build_manifest(2, "b2"), {"tg": [40.0, 41.0, 39.0]},
                  params={"tg": {"n_gpu_layers": 20}}),
    ]  # fmt: skip
    (step,) = trend_of_logs([str(p) for p in logs]).flagged
    assert step.changes == [
        "llama.cpp build: b1 (commit a1) -> b2 (commit b2) (1 build apart, point 2 newer)",
        "GPU layers (ngl): 99 -> 20",
    ]


def test_a_setting_changed_under_one_build_is_no_step(tmp_path: Path) -> None:
    """Points are builds (setups): the same build and machine run with other parameters is
    one point, its two runs told apart by their parameters."""
    logs = [
        write_log(tmp_path / "a.jsonl", build_manifest(1, "a1"), {"tg": [100.0, 101.0, 99.0]},
                  params={"tg": {"n_gpu_layers": 99}}),
        write_log(tmp_path / "b.jsonl", build_manifest(1, "a1"), {"tg": [40.0, 41.0, 39.0]},
                  params={"tg": {"n_gpu_layers": 20}}),
    ]  # fmt: skip
    trend = trend_of_logs([str(p) for p in logs])
    assert [p.sources for p in trend.points] == [["a.jsonl", "b.jsonl"]]
    assert trend.steps == []


def test_several_runs_of_one_test_at_a_point_are_told_apart(tmp_path: Path) -> None:
    for number in (1, 2):
        with open_recorder(tmp_path / f"{number}.jsonl",
                           manifest=build_manifest(number, f"c{number}")) as rec:
            for layers, speed in ((0, 10.0), (99, 100.0 if number == 1 else 50.0)):
                rec.record("pp512", metric_samples={"tokens_per_s": [speed - 1, speed,
                                                                     speed + 1]},
                           params={"n_gpu_layers": layers})  # fmt: skip
    trend = trend_of_logs([str(tmp_path / "1.jsonl"), str(tmp_path / "2.jsonl")])
    assert [s.test for s in trend.series] == ["pp512 n_gpu_layers=0", "pp512 n_gpu_layers=99"]
    assert [s.test for s in trend.flagged] == ["pp512 n_gpu_layers=99"]


# ----------------------------------------------------------------------------- the CLI


def test_fail_on_exits_1_on_a_slowdown_and_names_it(
    three_builds: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["trend", *three_builds, "--fail-on", "1.2"]) == 1
    captured = capsys.readouterr()
    assert captured.out == EXPECTED_TEXT
    assert captured.err == (
        "envstamp trend: slower by 1.2x or more: pp512 at 1 -> 2 (1.33x slower)\n"
    )
    # 1.33x slower is below 1.5: CI passes; speed-ups never fail it
    assert cli.main(["trend", *three_builds, "--fail-on", "1.5"]) == 0
    assert capsys.readouterr().err == ""
    assert cli.main(["trend", *three_builds]) == 0


def test_cli_json_and_output_file(
    three_builds: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trend.json"
    assert cli.main(["trend", *three_builds, "--json", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text()) == to_json(trend_of_logs(three_builds))


def test_bad_factors_and_inputs_are_one_line_errors(
    three_builds: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["trend", *three_builds, "--fail-on", "0.9"]) == 2
    assert capsys.readouterr().err == (
        "envstamp trend: error: --fail-on takes a factor above 1, got 0.9\n"
    )
    assert cli.main(["trend", *three_builds, "--factor", "1"]) == 2
    assert "the factor must be above 1, got 1" in capsys.readouterr().err
    with pytest.raises(InputError):
        trend_of_logs(three_builds, factor=0.5)


def test_a_tampered_log_is_refused(three_builds: list[str]) -> None:
    path = Path(three_builds[0])
    path.write_text(path.read_text().replace("129.0", "329.0", 1))
    with pytest.raises(CheckFailed, match=r"b5200\.jsonl"):
        trend_of_logs(three_builds)


def test_the_cli_refuses_a_tampered_log_in_one_line(
    three_builds: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(three_builds[0])
    path.write_text(path.read_text().replace("129.0", "329.0", 1))
    assert cli.main(["trend", *three_builds]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"envstamp trend: error: {path}: line ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert cli.main(["trend", str(path.with_name("missing.jsonl"))]) == 2
    assert "missing.jsonl" in capsys.readouterr().err


def test_failed_runs_are_listed_never_trended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = []
    for number in (1, 2):
        path = tmp_path / f"{number}.jsonl"
        with open_recorder(path, manifest=build_manifest(number, f"c{number}")) as rec:
            rec.record("tg", metric_samples={"tokens_per_s": [10.0, 11.0, 9.0]})
            rec.record("crash", metrics={"tokens_per_s": 1.0}, failed=True)
        logs.append(str(path))
    trend = trend_of_logs(logs)
    assert [s.test for s in trend.series] == ["tg"]
    assert [(f.side, f.name) for f in trend.failed] == [("point 1", "crash"),
                                                        ("point 2", "crash")]
    assert render_text(trend).endswith(
        "failed runs (never a speed): point 1 crash failed; point 2 crash failed\n"
    )


def test_one_log_is_one_point_without_steps(tmp_path: Path) -> None:
    log = write_log(tmp_path / "a.jsonl", build_manifest(1, "a1"), {"tg": [1.0, 2.0, 3.0]})
    trend = trend_of_logs([str(log)])
    assert len(trend.points) == 1 and trend.steps == []
    (series,) = trend.series
    assert series.values[0] is not None and series.values[0].mean == 2.0
    assert render_text(trend).endswith("no step to compare (a test must run at two points)\n")


# ------------------------------------------------------------------ the two real builds


OLD_LOG, NEW_LOG = "b5308-8733e0cf6.jsonl", "0.5.0-dev-0c1e57098.jsonl"


def test_the_two_real_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real llama-bench JSON of b5308 (built without git: no commit, no number) and
    0c1e57098, stamped as envstamp run stamps them."""
    from tests.exporting.export_support import NEW, OLD, stamped_log

    old, new = (stamped_log(tmp_path, monkeypatch, b) for b in (OLD, NEW))
    trend = trend_of_logs([str(old), str(new)])
    assert trend.order == "capture time"  # neither build knows its number
    # equal capture times (one hand-made manifest each): the order of the inputs
    assert [p.sources for p in trend.points] == [[f"{OLD}.jsonl"], [f"{NEW}.jsonl"]]
    assert render_text(trend) == REAL_TEXT
    # the same logs the other way round: the same order, the same step reversed
    reverse = trend_of_logs([str(new), str(old)])
    assert [p.sources for p in reverse.points] == [[f"{NEW}.jsonl"], [f"{OLD}.jsonl"]]
    assert [(s.test, s.phrase) for s in reverse.flagged] == [("tg8", "2.19x slower")]
    assert cli.main(["trend", str(new), str(old), "--fail-on", "2"]) == 1


# What the recording machine measured (tiny model of random weights, a busy machine): pp16's
# spread is as wide as its mean, so its move is noise; tg8 moved beyond it.  The wrapper's
# whole-process time (context) is not trended.  b5308 was built without git: its build is
# known on one side only, which the step says; llama-bench's defaults changed between the two
# builds (ngl, flash attention), which it says too.
REAL_TEXT = f"""\
envstamp trend: 2 points ordered by capture time (not every build has a build number); \
flagged: a move of 1.1x or more whose spreads (mean ± stddev) do not overlap

  #  llama.cpp build                      captured                  results  from
  1  unknown                              2025-03-01T09:00:00.000Z  3        {OLD_LOG}
  2  commit 0c1e57098, version 0.5.0-dev  2025-03-01T09:00:00.000Z  3        {NEW_LOG}

  test  1                        2
  pp16  35369 ± 30902 t/s (n=3)  60657 ± 9421 t/s (n=3)
  tg8   7017 ± 945 t/s (n=3)     15346 ± 330 t/s (n=3)

1 flagged (0 slower, 1 faster):
  tg8  1 -> 2: 2.19x faster  7017 ± 945 t/s (n=3) -> 15346 ± 330 t/s (n=3)
    changed: llama.cpp build: unknown in point 1: commit, version; point 2: commit 0c1e57098, \
version 0.5.0-dev; GPU layers (ngl): 99 -> -1; flash attention: no -> auto
"""


def test_json_exactly(tmp_path: Path) -> None:
    old = build_manifest(41, "0ld")
    new = build_manifest(42, "4ew")
    logs = [str(write_log(tmp_path / "41.jsonl", old, {"tg": [10.0, 11.0, 12.0]})),
            str(write_log(tmp_path / "42.jsonl", new, {"tg": [5.0, 5.5, 6.0]}))]
    assert json.loads(render_json(trend_of_logs(logs, factor=1.5))) == {
        "schema": "envstamp.trend/1",
        "order": "build number",
        "factor": 1.5,
        "points": [
            {"index": 1, "build": "b41 (commit 0ld)", "build_number": 41, "commit": "0ld",
             "version": None, "captured_at": "2025-03-01T09:00:00.000Z",
             "identity_digest": old.identity_digest, "results": 1, "sources": ["41.jsonl"]},
            {"index": 2, "build": "b42 (commit 4ew)", "build_number": 42, "commit": "4ew",
             "version": None, "captured_at": "2025-03-01T09:00:00.000Z",
             "identity_digest": new.identity_digest, "results": 1, "sources": ["42.jsonl"]},
        ],
        "series": [
            {"test": "tg", "metric": "tokens_per_s", "unit": "t/s", "higher_is_better": True,
             "values": [{"mean": 11.0, "stddev": 1.0, "n": 3},
                        {"mean": 5.5, "stddev": 0.5, "n": 3}]},
        ],
        "steps": [
            {"test": "tg", "metric": "tokens_per_s", "unit": "t/s", "before": 1, "after": 2,
             "a": {"mean": 11.0, "stddev": 1.0, "n": 3}, "b": {"mean": 5.5, "stddev": 0.5, "n": 3},
             "speedup": 0.5, "direction": "slower", "factor": 2.0, "within_noise": False,
             "flagged": True,
             "changes": ["llama.cpp build: b41 (commit 0ld) -> b42 (commit 4ew) (1 build apart, "
                         "point 2 newer)"]},
        ],
        "failed": [],
    }  # fmt: skip


def test_times_count_lower_as_faster(tmp_path: Path) -> None:
    """A result without a throughput is trended by its wall time: more time is slower."""
    logs = []
    for number, walls in ((1, [1.0, 1.1, 0.9]), (2, [2.0, 2.1, 1.9])):
        path = tmp_path / f"{number}.jsonl"
        with open_recorder(path, manifest=build_manifest(number, f"c{number}")) as rec:
            rec.record("load", wall_s=walls)
        logs.append(str(path))
    trend = trend_of_logs(logs)
    (series,) = trend.series
    assert (series.metric, series.unit, series.higher_is_better) == ("wall_s", "s", False)
    (step,) = trend.flagged
    assert step.slower and step.phrase == "2.00x slower"
    assert "  load  1 -> 2: 2.00x slower  1.00 ± 0.10 s (n=3) -> 2.00 ± 0.10 s (n=3)" in (
        render_text(trend).splitlines())


def test_one_build_on_one_machine_is_one_point_across_logs(tmp_path: Path) -> None:
    """Two captures of one build on one machine, a day apart: one setup, as diff sees it."""
    first = build_manifest(3, "c3", captured_at="2025-01-01T00:00:00.000Z")
    later = build_manifest(3, "c3", captured_at="2025-01-02T00:00:00.000Z")
    logs = [str(write_log(tmp_path / "1.jsonl", first, {"tg": [10.0, 10.1, 9.9]})),
            str(write_log(tmp_path / "2.jsonl", later, {"tg": [5.0, 5.1, 4.9]}))]
    trend = trend_of_logs(logs)
    # the same build on the same machine is one point: its runs pool, nothing to step over
    assert len(trend.points) == 1 and trend.steps == []
    assert trend.points[0].sources == ["1.jsonl", "2.jsonl"]


def test_a_step_with_no_recorded_change_says_so() -> None:
    from envstamp.diffing.model import Spread
    from envstamp.reporting.trend import Point, Step, step_changes
    from envstamp.reporting.trend_render import step_lines

    manifest = build_manifest(9, "c9")
    point = Point(index=1, build="b9", build_number=9, commit="c9", version=None,
                  captured_at=None, identity_digest=None, sources=[], results=0,
                  manifest=manifest)  # fmt: skip
    assert step_changes(point, point, []) == []
    step = Step(test="tg", metric="tokens_per_s", unit="t/s", before=1, after=2,
                a=Spread(mean=2.0, stddev=0.1, n=3, unit="t/s"),
                b=Spread(mean=1.0, stddev=0.1, n=3, unit="t/s"),
                speedup=0.5, within_noise=False, flagged=True)  # fmt: skip
    assert step_lines(step) == [
        "  tg  1 -> 2: 2.00x slower  2.00 ± 0.10 t/s (n=3) -> 1.00 ± 0.10 t/s (n=3)",
        "    changed: nothing envstamp records",
    ]


def test_one_log_holding_two_builds_gives_two_points(tmp_path: Path) -> None:
    log = tmp_path / "all.jsonl"
    write_log(log, build_manifest(20, "c20"), {"tg": [10.0, 10.5, 9.5]})
    write_log(log, build_manifest(19, "c19"), {"tg": [20.0, 20.5, 19.5]})
    trend = trend_of_logs([str(log)])
    assert [(p.build_number, p.sources) for p in trend.points] == [
        (19, ["all.jsonl"]), (20, ["all.jsonl"])
    ]
    (step,) = trend.flagged
    assert (step.before, step.after, step.phrase) == (1, 2, "2.00x slower")


def test_failed_runs_in_json(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    with open_recorder(path, manifest=build_manifest(1, "c1")) as rec:
        rec.record("crash", metrics={"tokens_per_s": 1.0}, failed=True)
    data = to_json(trend_of_logs([str(path)]))
    assert data["failed"] == [{"point": "point 1", "name": "crash", "exit_code": None,
                               "exit_signal": None, "summary": "failed"}]  # fmt: skip
    assert data["series"] == [] and data["steps"] == []


def test_a_test_missing_at_a_point_breaks_its_series_there(tmp_path: Path) -> None:
    """Steps compare consecutive points: a test that did not run at point 2 has no step
    1 -> 2 nor 2 -> 3, and its row shows a dash there."""
    logs = [
        write_log(tmp_path / "1.jsonl", build_manifest(1, "c1"),
                  {"tg": [10.0, 10.5, 9.5], "pp": [100.0, 101.0, 99.0]}),
        write_log(tmp_path / "2.jsonl", build_manifest(2, "c2"), {"pp": [100.0, 101.0, 99.0]}),
        write_log(tmp_path / "3.jsonl", build_manifest(3, "c3"),
                  {"tg": [5.0, 5.5, 4.5], "pp": [100.0, 101.0, 99.0]}),
    ]  # fmt: skip
    trend = trend_of_logs([str(p) for p in logs])
    assert [(s.test, s.before) for s in trend.steps] == [("pp", 1), ("pp", 2)]
    assert trend.flagged == []
    lines = render_text(trend).splitlines()
    assert "  tg    10.00 ± 0.50 t/s (n=3)  -                      5.00 ± 0.50 t/s (n=3)" in lines
