"""Issue 11's bad outputs, reproduced on real data: what diff, compare, check and show said
about real llama.cpp runs, and what they must say instead.

* one run printed as Markdown and as JSON is the same run, not "five HIGH differences";
* two CPU builds of llama.cpp differ by one build change, not by 46 "high" build options;
* the wrapper's whole-process wall time is context, not the headline;
* a crashed run is never a speed;
* a log with runs under two setups is compared setup by setup, naming what changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.diffing.differ import diff
from envstamp.manifest.model import LlamaCppBuild
from tests.diff_support import (
    BENCH,
    COMMAND,
    bench_results,
    cpu_build,
    speed,
    with_build,
    write_log,
)

# --------------------------------------------------------------- md against json of one run


def test_markdown_and_json_of_one_run_are_the_same_run(tmp_path: Path) -> None:
    manifest = with_build(cpu_build("0c1e570-cpu.json"))
    md = bench_results((BENCH / "pp64-tg16-r3.md").read_text(), markdown=True)
    js = bench_results((BENCH / "pp64-tg16-r3.json").read_text(), markdown=False)
    report = diff(write_log(tmp_path / "md.jsonl", [(manifest, md)]),
                  write_log(tmp_path / "json.jsonl", [(manifest, js)]))
    # the rounded "0.29 MiB" (304087 ± 5243) is the exact 300288 bytes; "0.15 M" is 149824
    assert report.differences == []
    assert report.max_impact == "none"
    # parameters Markdown leaves out are unknown on A, never a change
    unknown = {d.path: d.change for d in report.unknown}
    assert unknown["tests[pp64].params.n_gpu_layers"] == "unknown on A; B: -1"
    assert unknown["tests[pp64].params.n_batch"] == "unknown on A; B: 2048"
    assert not any(d.path.endswith(("model_size", "n_params")) for d in report.unknown)
    pp, tg = (t for t in report.tests if not t.context)
    assert (pp.name, tg.name) == ("pp64", "tg16")
    # the Markdown side keeps its printed mean ± stddev over 3 repetitions
    assert pp.a is not None and (pp.a.mean, pp.a.stddev, pp.a.n) == (183573.05, 13472.10, 3)
    assert pp.b is not None and pp.b.n == 3
    assert pp.within_noise is True and tg.faster is None
    assert report.headline == "no speed gap beyond noise"


# -------------------------------------------------------------- two real CPU builds of llama.cpp


def test_two_cpu_builds_differ_by_one_build_change() -> None:
    old, new = cpu_build("b5308-cpu.json"), cpu_build("0c1e570-cpu.json")
    report = diff(with_build(old), with_build(new))
    ranked = [d for d in report.differences if d.impact != "none"]
    high = [d for d in ranked if d.impact == "high"]
    assert [(d.path, d.label) for d in high] == [("llamacpp[0].build", "llama.cpp build")]
    assert high[0].change == (
        "b5308 (commit 8733e0cf6eef) -> commit 0c1e57098, version 0.5.0-dev"
    )
    assert report.counts["high"] == 1
    # no CUDA, HIP or SYCL option, and no option one version lacks, is ranked on its own
    assert not [d for d in ranked if ".build_flags." in d.path]
    (options,) = [d for d in ranked if d.path == "llamacpp[0].build_flags"]
    assert options.impact == "low" and options.under == "llamacpp[0].build"
    assert options.change.startswith("52 options: 3 only in A's version; 24 only in B's version;")
    assert "of backends off in both builds (CUDA, ET, HIP, Metal, MUSA, SYCL, " in options.change
    # the same compiler and target, as the two banners spell them, are no difference
    assert not [d for d in ranked if d.path.endswith((".compiler", ".target"))]


@pytest.mark.parametrize("origin", ["run:llama-bench", "run"], ids=["origins", "before-origins"])
def test_the_wrapper_wall_time_is_context_not_the_headline(tmp_path: Path, origin: str) -> None:
    """The benchmark's own rows are within noise; the wrapper's whole-process time (model
    load included) is 1.34x apart: the headline follows the benchmark."""
    common = {"command": COMMAND, "exit_code": 0, "output_digest": "sha256:" + "1" * 64}

    def run(wall: float, pp: list[float], tg: list[float]) -> list[dict[str, Any]]:
        own = [speed("pp64", pp, origin=origin, **common),
               speed("tg16", tg, origin=origin, **common)]
        wrapper = {"name": "llama-bench", "origin": "run", "wall_s": [wall], **common}
        # logs written before the run:* origins stored the wrapper's result first
        return [*own, wrapper] if origin != "run" else [wrapper, *own]

    log_a = write_log(tmp_path / "a.jsonl", [(with_build(cpu_build("b5308-cpu.json")), run(
        1.34, [180100.0, 171200.0, 190300.0], [26100.0, 27050.0, 25800.0]))])
    log_b = write_log(tmp_path / "b.jsonl", [(with_build(cpu_build("0c1e570-cpu.json")), run(
        1.0, [176000.0, 185000.0, 172500.0], [26400.0, 25700.0, 27100.0]))])
    report = diff(log_a, log_b)
    names = [(t.name, t.context) for t in report.tests]
    assert names == [("pp64", False), ("tg16", False), ("llama-bench", True)]
    wrapper = report.tests[-1]
    assert wrapper.faster == "B"  # still compared, as context
    assert "llama-bench" not in report.headline
    assert report.headline.startswith("no speed gap beyond noise; differences: llama.cpp build ")


# ------------------------------------------------------------------------ a crashed benchmark


@pytest.mark.parametrize("marked", [True, False], ids=["failed", "exit-code-only"])
def test_a_crashed_run_is_never_a_speed(tmp_path: Path, marked: bool) -> None:
    """B's -march=native build died with SIGILL (exit 132); a log written before
    Result.failed stores only the exit code."""
    manifest = with_build(cpu_build("0c1e570-cpu.json"))
    ok = bench_results((BENCH / "pp64-tg16-r3.json").read_text(), markdown=False)
    crash: dict[str, Any] = {"name": "llama-bench", "origin": "run", "command": COMMAND,
                             "exit_code": 132, "wall_s": [0.012]}
    if marked:
        crash.update(failed=True, exit_signal="SIGILL")
    report = diff(write_log(tmp_path / "a.jsonl", [(manifest, ok)]),
                  write_log(tmp_path / "b.jsonl", [(manifest, [crash])]))
    assert all(t.b is None for t in report.tests)
    assert all(t.ratio is None and t.faster is None for t in report.tests)
    (failed,) = report.failed
    assert (failed.side, failed.name, failed.exit_code) == ("B", "llama-bench", 132)
    assert failed.summary == ("failed: exit 132 (SIGILL)" if marked
                              else "failed: exit 132 (128+SIGILL)")
    assert "faster" not in report.headline
    assert report.headline.endswith(f"not compared as speed: 1 failed run (B llama-bench "
                                    f"{failed.summary})")


# --------------------------------------------------------------- a log with two setups


def test_a_log_with_two_setups_is_compared_setup_by_setup(tmp_path: Path) -> None:
    """B's log: one run as A's, then the same run with OMP_NUM_THREADS=3."""
    manifest = with_build(cpu_build("0c1e570-cpu.json"))
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    tg_a = [26100.0, 26900.0, 25800.0]
    log_a = write_log(tmp_path / "a.jsonl", [(manifest, [speed("tg16", tg_a)])])
    log_b = write_log(tmp_path / "b.jsonl", [
        (manifest, [speed("tg16", [26400.0, 25700.0, 27100.0])]),
        (threads, [speed("tg16", [9100.0, 9350.0, 8900.0])]),
    ])
    report = diff(log_a, log_b)
    assert [(s.side, s.index, s.changes, s.paired_with) for s in report.setups] == [
        ("B", 1, [], [1]),
        ("B", 2, ["env.OMP_NUM_THREADS: unset -> 3"], [1]),
    ]
    same, threaded = report.tests
    assert (same.setup_b, threaded.setup_b) == (1, 2)
    # no pooled spread over both setups: each has its own three samples
    assert same.b is not None and same.b.n == 3 and same.within_noise is True
    assert threaded.b is not None and threaded.b.n == 3 and threaded.faster == "A"
    assert report.headline.startswith("A is 2.88x faster on tg16 [B setup 2]; likely causes: "
                                      "OpenMP threads unset -> 3; ")
    assert report.headline.endswith("B's log holds 2 setups, compared apart "
                                    "(setup 2: env.OMP_NUM_THREADS: unset -> 3)")
    # the differences are those of the setup pair the headline compares (review gap 7):
    # A against B's setup 2, the cause it names among them, in the text and in JSON alike
    assert (report.setup_a, report.setup_b) == (None, 2)
    assert [(d.path, d.change) for d in report.differences] == [
        ("env.OMP_NUM_THREADS", "unset -> 3")]
    assert report.likely_causes == ["OpenMP threads unset -> 3"]


def test_the_headline_names_only_causes_the_report_holds(tmp_path: Path) -> None:
    """The review's case: A's log holds a run and one with OMP_NUM_THREADS=3; B is one run
    of the same machine with -o json.  The biggest gap is A's setup 2 against B: its cause
    is OpenMP threads, and the report lists that difference (text and JSON); when the gap
    is between the two same setups, no cause is named and none is listed."""
    from envstamp.output.diff_render import to_json, to_text

    manifest = with_build(cpu_build("0c1e570-cpu.json"))
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    md = bench_results((BENCH / "pp64-tg16-r3.md").read_text(), markdown=True)
    js = bench_results((BENCH / "pp64-tg16-r3.json").read_text(), markdown=False)
    slow = [dict(r, metrics={**r["metrics"], "tokens_per_s": r["metrics"]["tokens_per_s"] / 5})
            for r in md if r["name"] != "llama-bench"]
    two = write_log(tmp_path / "two.jsonl", [(manifest, md), (threads, slow)])
    report = diff(two, write_log(tmp_path / "json.jsonl", [(manifest, js)]))
    assert report.headline.startswith("B is 4.81x faster on pp64 [A setup 2]; likely causes: "
                                      "OpenMP threads 3 -> unset; ")
    assert (report.setup_a, report.setup_b) == (2, None)
    assert [d.change for d in report.differences] == ["3 -> unset"]
    assert report.likely_causes == ["OpenMP threads 3 -> unset"]
    data = json.loads(to_json(report))
    assert data["likely_causes"] == ["OpenMP threads 3 -> unset"]
    assert [d["path"] for d in data["differences"]] == ["env.OMP_NUM_THREADS"]
    assert (data["setup_a"], data["setup_b"]) == (2, None)
    text = to_text(report)
    assert "No identity or configuration differences" not in text
    assert "Differences (A setup 2 against B; 1 high):" in text
    # every cause the headline names is a difference the report lists
    for cause in report.likely_causes:
        assert any(cause == f"{d.label} {d.change}" for d in report.differences)

    # the same logs without the slow second setup: setup 1 against B, nothing to name
    one = write_log(tmp_path / "one.jsonl", [(manifest, md), (threads, md)])
    report = diff(one, tmp_path / "json.jsonl")
    assert report.likely_causes == [] and report.differences == []
    assert "likely causes" not in report.headline
    assert (report.setup_a, report.setup_b) == (1, None)


# ------------------------------------------ the team's recordings of both real builds

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real"


@pytest.mark.parametrize("build", ["b5308-8733e0cf6", "0.5.0-dev-0c1e57098"])
def test_each_real_build_md_and_json_runs_match(tmp_path: Path, build: str) -> None:
    manifest = with_build(cpu_build("0c1e570-cpu.json"))
    md = bench_results((REAL / build / "bench.md").read_text(), markdown=True)
    js = bench_results((REAL / build / "bench.json").read_text(), markdown=False)
    report = diff(write_log(tmp_path / "md.jsonl", [(manifest, md)]),
                  write_log(tmp_path / "json.jsonl", [(manifest, js)]))
    assert report.differences == []
    assert [(t.name, t.a is not None and t.b is not None) for t in report.tests] == [
        ("pp16", True), ("tg8", True), ("llama-bench", True)]
    assert {d.change for d in report.unknown if d.path.endswith("n_gpu_layers")} in (
        {"unknown on A; B: 99"}, {"unknown on A; B: -1"})


def test_real_cmake_caches_of_two_builds_give_one_build_finding() -> None:
    from envstamp.probes.llm.llamacpp_build import parse_cmake_cache

    def build(name: str, folder: str) -> LlamaCppBuild:
        flags = parse_cmake_cache((REAL / folder / "CMakeCache.txt").read_text()).flags
        return attrs.evolve(cpu_build(name), build_flags=flags)

    report = diff(with_build(build("b5308-cpu.json", "b5308-8733e0cf6")),
                  with_build(build("0c1e570-cpu.json", "0.5.0-dev-0c1e57098")))
    assert [d.path for d in report.differences if d.impact == "high"] == ["llamacpp[0].build"]
    assert [d.path for d in report.differences if d.impact != "none"] == [
        "llamacpp[0].build", "llamacpp[0].build_flags", "llamacpp[0].path"]


def batched_results(folder: str) -> list[dict[str, Any]]:
    """llama-batched-bench rows as ``envstamp run`` stores them: per row, one result for
    its prompt, generation and total speed (origin run:batched-bench)."""
    from envstamp.parsers.llama_batched_bench import parse_batched_bench

    bench = parse_batched_bench((REAL / folder / "batched-bench.txt").read_text())
    found = []
    for row in bench.rows:
        params = {**bench.settings, "pp": row.pp, "tg": row.tg, "pl": row.pl}
        for phase, metric, value in (("prompt", "prompt_tps", row.speed_pp),
                                     ("generation", "tokens_per_s", row.speed_tg),
                                     ("total", "total_tps", row.speed)):
            assert value is not None
            found.append({"name": f"pp{row.pp}+tg{row.tg} B{row.pl} {phase}",
                          "origin": "run:batched-bench", "params": {**params, "phase": phase},
                          "metrics": {metric: value}, "metric_samples": {metric: [value]}})
    return found


def test_batched_bench_rows_of_two_real_builds(tmp_path: Path) -> None:
    old = write_log(tmp_path / "old.jsonl", [(with_build(cpu_build("b5308-cpu.json")),
                                              batched_results("b5308-8733e0cf6"))])
    new = write_log(tmp_path / "new.jsonl", [(with_build(cpu_build("0c1e570-cpu.json")),
                                              batched_results("0.5.0-dev-0c1e57098"))])
    report = diff(old, new)
    assert len(report.tests) == 12  # 4 rows x prompt, generation, total: all paired
    assert all(t.a is not None and t.b is not None for t in report.tests)
    assert {t.metric for t in report.tests} == {"prompt_tps", "tokens_per_s", "total_tps"}
    # the old build printed flash_attn 0 (off), the new -1 (auto): a real setting change
    params = [(d.path.split(".params.")[1], d.change, d.impact) for d in report.differences
              if ".params." in d.path]
    assert params == [("flash_attn", "0 -> -1", "medium")]
    # a setting only the new build prints is unknown on A, never a change
    assert [d.change for d in report.unknown if d.path.endswith("is_tg_separate")] == [
        "unknown on A; B: no"]
    # one sample per side: the spreads are unknown, so no gap is called beyond noise
    assert all(t.within_noise is None for t in report.tests)


def test_setups_in_the_text_view(tmp_path: Path) -> None:
    from envstamp.output.diff_render import to_markdown, to_text

    manifest = with_build(cpu_build("0c1e570-cpu.json"))
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    log = write_log(tmp_path / "two.jsonl", [(manifest, [speed("tg16", [26400.0, 25700.0])]),
                                             (threads, [speed("tg16", [9100.0, 9350.0])])])
    text = to_text(diff(manifest, log))
    assert ("Setups (a results log holds runs under several; compared setup by setup):\n"
            "  B setup 1: 1 result; the log's first setup\n"
            "  B setup 2: 1 result; env.OMP_NUM_THREADS: unset -> 3\n") in text
    assert "  tg16 [B setup 2]  -  9225 ± 177 t/s (n=2)   only on B (no matching test on A)" \
        in text
    markdown = to_markdown(diff(manifest, log))
    assert "| B | 2 | 1 | env.OMP_NUM_THREADS: unset -> 3 |" in markdown
