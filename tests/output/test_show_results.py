"""``envstamp show`` of a results log: a status column, failed runs shown as failed (never
with a speed), every setup of a log listed with its own results, and repeated runs of one
test pooled into one row as diff pools them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.cli.main import main
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


def show(capsys: pytest.CaptureFixture[str], path: Path, *flags: str) -> str:
    assert main(["show", str(path), *flags]) == 0
    return capsys.readouterr().out


def table_row(out: str, start: str) -> str:
    (row,) = [line for line in out.splitlines() if line.startswith(start)]
    return row


@pytest.mark.parametrize("marked", [True, False], ids=["failed", "exit-code-only"])
def test_a_crashed_run_shows_as_failed(tmp_path: Path, manifest: Any, marked: bool,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    crash: dict[str, Any] = {"name": "llama-bench", "origin": "run", "command": COMMAND,
                             "exit_code": 132, "wall_s": [0.012],
                             "metrics": {"tokens_per_s": 812.5}}
    if marked:
        crash.update(failed=True, exit_signal="SIGILL")
    from envstamp.stamping.results import summarize

    crash["summary"] = {"wall_s": summarize([0.012])}
    log = write_log(tmp_path / "crash.jsonl", [(manifest, [crash])])
    out = show(capsys, log)
    header = table_row(out, "result ")
    assert header.split() == ["result", "status", "n", "wall", "(median)", "speed", "peak",
                              "memory", "advice"]
    row = table_row(out, "llama-bench ")
    status = "failed: exit 132 (SIGILL)" if marked else "failed: exit 132 (128+SIGILL)"
    assert f"{status} after 12.00 ms" in row
    assert "812" not in row and "tokens_per_s" not in row  # a crash has no speed


def test_ok_runs_show_their_exit_status(tmp_path: Path, manifest: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    results = bench_results((BENCH / "pp64-tg16-r3.md").read_text(), markdown=True)
    out = show(capsys, write_log(tmp_path / "md.jsonl", [(manifest, results)]))
    row = table_row(out, "pp64 ")
    assert "ok (exit 0)" in row
    assert "183573.05 ± 13472.10 t/s" in row  # the stddev llama-bench printed
    out = show(capsys, write_log(tmp_path / "md2.jsonl", [(manifest, results)]), "--markdown")
    assert "| result | status | n | wall (median) | speed | peak memory | advice |" in out
    assert "| ok (exit 0) |" in out


def test_every_setup_of_a_log_is_listed_with_its_results(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    log = write_log(tmp_path / "two.jsonl", [
        (manifest, [speed("tg16", [26400.0, 25700.0, 27100.0])]),
        (threads, [speed("tg16", [9100.0, 9350.0, 8900.0]), speed("pp64", [61000.0])]),
    ])
    out = show(capsys, log)
    assert "This log holds runs under 2 setups; each is listed with its results (the " \
           "manifest above is setup 1's)." in out
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Setup 1 ("))
    second = next(i for i, line in enumerate(lines) if line.startswith("Setup 2 ("))
    assert lines[first].endswith(": 1 result; the first setup")
    assert lines[second].endswith(": 2 results; differs from setup 1 in "
                                  "env.OMP_NUM_THREADS: unset -> 3")
    def rows(part: list[str]) -> list[str]:
        return [line.split()[0] for line in part if line.strip()]

    assert rows(lines[first + 1:second]) == ["result", "tg16"]
    assert rows(lines[second + 1:]) == ["result", "tg16", "pp64"]
    md = show(capsys, log, "--markdown")
    assert "#### Setup 2 (" in md and "differs from setup 1 in env.OMP_NUM_THREADS" in md


# ---------------------------------------------------- show --json of a results log (gap 8)


def _validator() -> Any:
    """A validator of show --json output against the committed schemas, its references to
    the manifest and result-line schemas resolved from the same folder."""
    import json

    import jsonschema
    from referencing import Registry, Resource

    folder = Path(__file__).parents[2] / "schemas"
    schemas = {name: json.loads((folder / name).read_text(encoding="utf-8"))
               for name in ("show.v1.schema.json", "manifest.v1.schema.json",
                            "results.v1.schema.json")}
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return jsonschema.Draft202012Validator(schemas["show.v1.schema.json"], registry=registry)


def test_show_json_of_a_log_gives_every_setup_with_its_results(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The review's two.jsonl: a run, then one with OMP_NUM_THREADS=3 (one of its results
    a crash).  Before, show --json printed setup 1's manifest alone, without results."""
    import json

    from envstamp.stamping.results import LOG_SCHEMA

    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    md = bench_results((BENCH / "pp64-tg16-r3.md").read_text(), markdown=True)
    crash = {"name": "llama-bench", "origin": "run", "command": COMMAND, "exit_code": 132,
             "failed": True, "exit_signal": "SIGILL", "wall_s": [0.012]}
    log = write_log(tmp_path / "two.jsonl", [(manifest, md), (threads, [md[0], crash])])
    data = json.loads(show(capsys, log, "--json"))
    _validator().validate(data)
    assert data["schema"] == "envstamp.show/1"
    assert (data["kind"], data["source"], data["log_schema"]) == ("results", str(log),
                                                                    LOG_SCHEMA)
    assert data["signature"].startswith("verified")
    assert data["results"] == 5
    one, two = data["setups"]
    assert (one["index"], two["index"]) == (1, 2)
    assert (one["changes"], two["changes"]) == ([], ["env.OMP_NUM_THREADS: unset -> 3"])
    # each setup: its identity digest first, the manifest digests its results name, its
    # manifest, and its results as the log stores them (failed ones marked)
    assert list(two)[:3] == ["index", "identity_digest", "manifest_digests"]
    assert two["manifest"]["env"]["OMP_NUM_THREADS"] == "3"
    assert two["identity_digest"] == two["manifest"]["identity_digest"]
    assert one["identity_digest"] != two["identity_digest"]
    assert [r["name"] for r in one["results"]] == ["pp64", "tg16", "llama-bench"]
    assert [r["name"] for r in two["results"]] == ["pp64", "llama-bench"]
    assert two["results"][1]["failed"] is True and two["results"][1]["exit_signal"] == "SIGILL"
    for setup in (one, two):
        assert {r["manifest_digest"] for r in setup["results"]} == set(
            setup["manifest_digests"])
    assert one["results"][0]["metrics"] == {"tokens_per_s": 183573.05, "stddev_ts": 13472.1}


def test_show_json_of_a_manifest_is_the_manifest(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from tests.diff_support import write

    data = json.loads(show(capsys, write(manifest, tmp_path / "m.json"), "--json"))
    assert data["schema"] == "envstamp.manifest/1"
    assert data["llamacpp"][0]["commit"] == "0c1e57098"


def test_a_setup_heading_names_setups_not_diff_sides(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review item 10d: a single-file view said "only on A: ./crashbin/llama-bench"; there
    is no A there.  What differs from setup 1 names setup 1 and this setup."""
    from envstamp.diffing.differ import diff

    shell = attrs.evolve(manifest, llamacpp=[])
    newer = attrs.evolve(manifest, llamacpp=[attrs.evolve(
        manifest.llamacpp[0], commit="1a2b3c4d5", build_number=None)])
    log = write_log(tmp_path / "crash.jsonl", [
        (manifest, [speed("tg16", [26400.0, 25700.0])]),
        (shell, [speed("sh", [1.0, 1.1])]),
        (newer, [speed("tg16", [26100.0, 25900.0])]),
    ])
    out = show(capsys, log)
    built = manifest.llamacpp[0].path
    assert f"differs from setup 1 in llamacpp[0]: only in setup 1: {built}" in out
    assert "only on A" not in out and "only on B" not in out
    report = diff(log, log)
    changes = [c for s in report.setups for c in s.changes]
    assert f"llamacpp[0]: only in setup 1: {built}" in changes
    assert not [c for c in changes if " on A" in c or " on B" in c]
    data = __import__("json").loads(show(capsys, log, "--json"))
    assert data["setups"][1]["changes"] == [f"llamacpp[0]: only in setup 1: {built}"]


@pytest.mark.parametrize(("text", "named"), [
    ("only on A: ./crashbin/llama-bench", "only in setup 1: ./crashbin/llama-bench"),
    ("only on A: CUDA; only on B: Vulkan", "only in setup 1: CUDA; only in setup 3: Vulkan"),
    ("b5308 -> b5311 (3 builds apart, B newer)", "b5308 -> b5311 (3 builds apart, setup 3 newer)"),
    ("52 options: 3 only in A's version; 24 only in B's version",
     "52 options: 3 only in setup 1's version; 24 only in setup 3's version"),
    ("on B (gen 3 x8 of gen 4 x16)", "in setup 3 (gen 3 x8 of gen 4 x16)"),
    ("AVX on BAR unset -> 3", "AVX on BAR unset -> 3"),  # no side named: unchanged
])
def test_setup_changes_name_the_setups(text: str, named: str) -> None:
    from envstamp.diffing.setups import name_sides

    assert name_sides(text, ("setup 1", "setup 3")) == named


def test_every_batched_bench_row_shows_its_speed(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review item 10e: the "total" rows of llama-batched-bench store total_tps, and show
    printed "-" for them.  Rows of the real recording of the current build."""
    from tests.e2e.test_diff_real_runs import batched_results

    results = batched_results("0.5.0-dev-0c1e57098")
    out = show(capsys, write_log(tmp_path / "bb.jsonl", [(manifest, results)]))
    totals = [line for line in out.splitlines() if " total (" in line]
    assert len(totals) == 4
    first_total = next(r for r in results if r["name"].endswith(" total"))
    value = first_total["metrics"]["total_tps"]
    assert f"{value:.2f} total_tps" in totals[0]
    rows = [line for line in out.splitlines() if line.startswith("pp")]
    assert len(rows) == 12
    assert all(re.search(r"\d\.\d\d (prompt_tps|t/s|total_tps) ", row) for row in rows)


# ------------------------------------------------- repeated runs of one test, pooled as diff


def _run(samples: list[float], wall: list[float], **fields: Any) -> dict[str, Any]:
    """One `envstamp run` of a tg16 test: its tokens/s samples and wall times."""
    from envstamp.stamping.results import summarize

    found = speed("tg16", samples, **fields)
    found["wall_s"] = wall
    found["summary"] = {**found["summary"], "wall_s": summarize(wall)}
    return found


def test_repeated_runs_of_a_test_are_one_row_with_the_numbers_diff_pools(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three runs of tg16 in one log were three rows of n=3 while diff said n=9: one row
    now, its n, median and spread those of all nine samples, as diff computes them."""
    import statistics

    from envstamp.diffing.differ import diff

    runs = [([26400.0, 25700.0, 27100.0], [0.61, 0.60, 0.62]),
            ([26100.0, 26300.0, 25900.0], [0.63, 0.61, 0.64]),
            ([24000.0, 24500.0, 24200.0], [0.66, 0.65, 0.67])]
    log = write_log(tmp_path / "rep.jsonl", [(manifest, [_run(s, w)]) for s, w in runs])
    out = show(capsys, log)
    (row,) = [line for line in out.splitlines() if line.startswith("tg16")]
    samples = [x for s, _ in runs for x in s]
    mean, stddev = statistics.fmean(samples), statistics.stdev(samples)
    assert row.split("  ")[0] == "tg16"
    cells = [c for c in row.split("  ") if c.strip()]
    assert [c.strip() for c in cells] == [
        "tg16", "ok", "9 (3 runs)", "630.00 ms", f"{mean:.2f} ± {stddev:.2f} t/s", "-", "-"]
    (test,) = diff(log, log).tests
    assert test.a is not None and test.a.n == 9
    assert f"{test.a.mean:.2f} ± {test.a.stddev:.2f} t/s" in row  # the number diff compares
    md = show(capsys, log, "--markdown")
    assert f"| tg16 | ok | 9 (3 runs) | 630.00 ms | {mean:.2f} ± {stddev:.2f} t/s | - | - |" in md


def test_pooled_runs_keep_the_highest_peak_and_every_advice(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.stamping.results import Advice, MemoryUse

    mib = 1 << 20
    first = _run([100.0, 102.0], [1.0, 1.1], memory=MemoryUse(child_rss_peak_bytes=800 * mib),
                 advice=[Advice(code="governor", message="powersave")])
    second = _run([99.0, 101.0], [1.2, 1.0],
                  memory=MemoryUse(rss_peak_bytes=900 * mib, gpu_process_peak_mib=5120),
                  advice=[Advice(code="throttling", message="hot"),
                          Advice(code="governor", message="powersave")])
    log = write_log(tmp_path / "mem.jsonl", [(manifest, [first]), (manifest, [second])])
    row = table_row(show(capsys, log), "tg16")
    assert "4 (2 runs)" in row and "1.050 s" in row  # the median of all four
    assert "RSS 900 MiB, GPU 5120 MiB" in row
    assert row.rstrip().endswith("governor, throttling")


def test_only_runs_of_the_same_test_pool(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Other parameters are another test; a crashed run is listed apart (diff lists it apart
    too); one run of a test stays as it was (n of its own samples, no run count)."""
    crash = {"name": "tg16", "failed": True, "exit_code": 132, "exit_signal": "SIGILL",
             "wall_s": [0.01]}
    log = write_log(tmp_path / "mixed.jsonl", [
        (manifest, [_run([10.0, 11.0], [1.0, 1.0], params={"threads": 2}),
                    _run([20.0, 21.0], [1.0, 1.0], params={"threads": 4})]),
        (manifest, [_run([12.0, 13.0], [1.0, 1.0], params={"threads": 2}), crash]),
    ])
    rows = [line for line in show(capsys, log).splitlines() if line.startswith("tg16")]
    assert len(rows) == 3
    assert rows[0].startswith("tg16 (threads=2)") and "4 (2 runs)" in rows[0]
    assert "11.50 ± 1.29 t/s" in rows[0]
    assert rows[1].startswith("tg16 (threads=4)") and " 2 " in rows[1] and "runs" not in rows[1]
    assert "20.50 ± 0.71 t/s" in rows[1]
    assert "failed: exit 132 (SIGILL)" in rows[2] and "runs" not in rows[2]


def test_runs_under_different_setups_never_pool(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    log = write_log(tmp_path / "two.jsonl", [
        (manifest, [_run([10.0, 11.0], [1.0, 1.0])]),
        (threads, [_run([20.0, 21.0], [1.0, 1.0])]),
        (manifest, [_run([12.0, 13.0], [1.0, 1.0])]),
    ])
    out = show(capsys, log)
    rows = [line for line in out.splitlines() if line.startswith("tg16")]
    assert len(rows) == 2
    assert "4 (2 runs)" in rows[0] and "11.50 ± 1.29 t/s" in rows[0]
    assert "runs" not in rows[1] and "20.50 ± 0.71 t/s" in rows[1]


def test_show_json_keeps_every_run_as_stored(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    log = write_log(tmp_path / "rep.jsonl", [(manifest, [_run([10.0, 11.0], [1.0, 1.0])]),
                                             (manifest, [_run([12.0, 13.0], [1.0, 1.0])])])
    data = json.loads(show(capsys, log, "--json"))
    (setup,) = data["setups"]
    assert [r["metric_samples"]["tokens_per_s"] for r in setup["results"]] == [
        [10.0, 11.0], [12.0, 13.0]]


def test_the_rows_a_table_leaves_out_count_their_runs(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.output.results_render import MAX_ROWS

    tests = [speed(f"t{i}", [10.0, 11.0]) for i in range(MAX_ROWS)]
    log = write_log(tmp_path / "many.jsonl", [
        (manifest, [*tests, speed("late", [1.0, 2.0])]),
        (manifest, [speed("late", [1.5, 2.5])]),
    ])
    out = show(capsys, log)
    assert out.splitlines()[-1] == "... and 2 more results"


def test_tests_that_redaction_makes_look_alike_are_not_pooled(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two users' models of one name read "~/m.gguf" in the shared view; they are two tests
    of the log all the same, and --markdown must not pool them into one number."""
    log = write_log(tmp_path / "two-homes.jsonl", [
        (manifest, [speed("tg16", [1.0, 2.0], params={"model": "/home/alice/m.gguf"})]),
        (manifest, [speed("tg16", [3.0, 4.0], params={"model": "/home/bob/m.gguf"})]),
    ])
    md = show(capsys, log, "--markdown")
    rows = [line for line in md.splitlines() if line.startswith("| tg16")]
    assert rows == ["| tg16 (model=~/m.gguf) | ok | 2 | - | 1.50 ± 0.71 t/s | - | - |",
                    "| tg16 (model=~/m.gguf) | ok | 2 | - | 3.50 ± 0.71 t/s | - | - |"]
    same = write_log(tmp_path / "one-home.jsonl", [
        (manifest, [speed("tg16", [1.0, 2.0], params={"model": "/home/alice/m.gguf"})]),
        (manifest, [speed("tg16", [3.0, 4.0], params={"model": "/home/alice/m.gguf"})]),
    ])
    (row,) = [line for line in show(capsys, same, "--markdown").splitlines()
              if line.startswith("| tg16")]
    assert row == "| tg16 (model=~/m.gguf) | ok | 4 (2 runs) | - | 2.50 ± 1.29 t/s | - | - |"
