"""``envstamp run`` over real llama.cpp outputs: what each result says is what the tool did.

The fake tools print files recorded from the two real builds (tests/fixtures/llamacpp-real,
their READMEs say how each was made), so every value asserted here is one llama.cpp printed.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.stamping.results import load_results
from tests.cli.test_run_command import bin_dir, envstamp_run, make_tool, quick_capture

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real"
__all__ = ["bin_dir", "quick_capture"]  # fixtures shared with test_run_command
NEW = REAL / "0.5.0-dev-0c1e57098"
OLD = REAL / "b5308-8733e0cf6"


# ----------------------------------------------- the wrapper's result beside the tool's own


def test_batched_bench_perf_lines_are_no_result_of_the_wrapper(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    """llama-batched-bench b5308 ends with ``llama_perf_context_print`` lines summing every
    row (1296 prompt tokens at 21353.72 t/s): no test ran at that speed.  Its rows are the
    results; the wrapper keeps its wall time only, as context."""
    make_tool(bin_dir, "llama-batched-bench", stdout=str(OLD / "batched-bench.txt"),
              stderr=str(OLD / "batched-bench.txt.stderr.txt"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "2", "-o", str(out), "--", "llama-batched-bench") == 0
    *own, wrapper = load_results(out)
    assert {r.origin for r in own} == {"run:batched-bench"} and len(own) == 4 * 3
    assert wrapper.origin == "run"
    assert wrapper.metrics == {} and wrapper.metric_samples == {}
    assert set(wrapper.summary) == {"wall_s"} and len(wrapper.wall_s) == 2


@pytest.mark.parametrize("folder", [NEW, OLD], ids=["0.5.0-dev", "b5308"])
def test_server_perf_lines_are_no_result_of_the_wrapper(
    tmp_path: Path, bin_dir: Path, quick_capture: None, folder: Path
) -> None:
    """A server log's requests are the results; the perf lines llama-server prints at exit
    sum them all (62 prompt tokens over four requests) and are kept nowhere."""
    make_tool(bin_dir, "llama-server", stderr=str(folder / "server.log"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-server", "-m", "tiny.gguf") == 0
    *requests, wrapper = load_results(out)
    assert [r.origin for r in requests] == ["run:server"] * 4
    assert sum(r.metrics["prompt_tokens"] for r in requests) == 62
    assert wrapper.origin == "run" and wrapper.metrics == {} and wrapper.metric_samples == {}


def test_the_context_row_of_two_batched_bench_runs_is_a_wall_time_on_both_sides(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    """The reviewer's case: b5308 (perf lines on stderr) against 0.5.0-dev (none).  Both
    wrappers' results are wall times, so the diff pairs them as one context row."""
    from envstamp.diffing.results import compare_results

    logs = []
    for folder, stderr in ((OLD, "batched-bench.txt.stderr.txt"), (NEW, None)):
        make_tool(bin_dir, "llama-batched-bench", stdout=str(folder / "batched-bench.txt"),
                  stderr=str(folder / stderr) if stderr else None)
        out = tmp_path / f"{folder.name}.jsonl"
        assert envstamp_run("-q", "-o", str(out), "--", "llama-batched-bench") == 0
        logs.append(load_results(out))
    found = compare_results(*logs)
    context = [t for t in found.tests if t.context]
    assert len(context) == 1
    (row,) = context
    assert row.name == "llama-batched-bench" and row.metric == "wall_s"
    assert row.a is not None and row.b is not None
    # and the benchmark's own rows pair with each other, prompt/generation/total per B
    assert sum(1 for t in found.tests if not t.context and t.a and t.b) == 4 * 3


def test_llama_cli_perf_lines_stay_the_wrappers_one_measurement(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    """llama-cli prints no results of its own: its timing lines are the measurement."""
    make_tool(bin_dir, "llama-cli", stdout=str(OLD / "cli.txt"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-cli", "-m", "tiny.gguf") == 0
    (result,) = load_results(out)
    assert result.origin == "run"
    assert result.metrics == {"prompt_tps": 11904.76, "tokens_per_s": 1625.66,
                              "prompt_tokens": 3.0, "gen_tokens": 15.0}


# ------------------------------------------------------------------------- server requests


@pytest.mark.parametrize("folder", [NEW, OLD], ids=["0.5.0-dev", "b5308"])
def test_server_requests_keep_the_logs_task_ids(
    tmp_path: Path, bin_dir: Path, quick_capture: None, folder: Path
) -> None:
    """Each request keeps the task id the log printed (``task 9``) beside its order, so a
    result can be found again in the server's log; both builds numbered them 0, 9, 18, 27."""
    make_tool(bin_dir, "llama-server", stderr=str(folder / "server.log"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-server", "-m", "tiny.gguf") == 0
    requests = [r for r in load_results(out) if r.origin == "run:server"]
    assert [r.params for r in requests] == [
        {"request": 1, "task_id": 0}, {"request": 2, "task_id": 9},
        {"request": 3, "task_id": 18}, {"request": 4, "task_id": 27},
    ]


def test_a_log_without_task_ids_keeps_the_request_order_only(tmp_path: Path) -> None:
    """The 2023 server's ``print_timings:`` lines name no task: no task param, never a
    made-up one."""
    from envstamp.cli.run import server_results
    from tests.timing_support import open_recorder

    log = (
        "print_timings: prompt eval time =     140.00 ms /   100 tokens (    1.40 ms per "
        "token,   714.29 tokens per second)\n"
        "print_timings:        eval time =     500.00 ms /    20 tokens (   25.00 ms per "
        "token,    40.00 tokens per second)\n"
        "print_timings:       total time =     640.00 ms\n"
    )  # hand-made in the 2023 server's shape (examples/server, print_timings)
    with open_recorder(tmp_path / "r.jsonl") as rec:
        (result,) = server_results(rec, ["server"], [log], {})
    assert result.params == {"request": 1}
    assert result.metrics["tokens_per_s"] == 40.0


def test_task_ids_neither_match_requests_nor_differ(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    """Another client's requests number the server's tasks otherwise: the diff pairs the
    requests by their order and reports no parameter change for the ids."""
    from envstamp.diffing.results import compare_results

    renumbered = tmp_path / "server.log"  # the real log, its tasks 9, 18, 27 renamed 3, 6, 12
    text = (NEW / "server.log").read_text(encoding="utf-8")
    for old, new in (("task 9 ", "task 3 "), ("task 18 ", "task 6 "), ("task 27 ", "task 12 ")):
        text = text.replace(old, new)
    renumbered.write_text(text, encoding="utf-8")
    logs = []
    for log in (NEW / "server.log", renumbered):
        make_tool(bin_dir, "llama-server", stderr=str(log))
        out = tmp_path / f"{len(logs)}.jsonl"
        assert envstamp_run("-q", "-o", str(out), "--", "llama-server") == 0
        logs.append(load_results(out))
    assert [r.params.get("task_id") for r in logs[1]][:4] == [0, 3, 6, 12]
    found = compare_results(*logs)
    requests = [t for t in found.tests if not t.context]
    assert [(t.a.mean, t.b.mean) for t in requests if t.a and t.b] == [
        (rate, rate) for rate in (6635.07, 4475.70, 729.32, 4329.00)
    ]
    assert found.differences == [] and found.unknown == []


# ----------------------------------------------------------------- llama-bench, several models

MODELS = ("tiny.gguf", "tiny-seed2.gguf", "tiny-128.gguf")  # see the folders' READMEs
MODELS_ARGS = ("-m", ",".join(MODELS), "-r", "3", "-p", "16", "-n", "8")


@pytest.mark.parametrize("folder", [NEW, OLD], ids=["0.5.0-dev", "b5308"])
def test_json_rows_of_several_models_stay_apart(
    tmp_path: Path, bin_dir: Path, quick_capture: None, folder: Path
) -> None:
    """Three models, two of one shape: each test of each model is its own result, holding
    exactly the three samples of its json row, its model named by its file."""
    import json

    make_tool(bin_dir, "llama-bench", stdout=str(folder / "bench-models.json"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench", *MODELS_ARGS, "-o",
                        "json") == 0
    own = [r for r in load_results(out) if r.origin == "run:llama-bench"]
    printed = json.loads((folder / "bench-models.json").read_text(encoding="utf-8"))
    assert [(r.name, r.params["model"]) for r in own] == [
        (test, model) for model in MODELS for test in ("pp16", "tg8")
    ]
    assert [r.metric_samples["tokens_per_s"] for r in own] == [p["samples_ts"] for p in printed]
    assert all(r.summary["tokens_per_s"].n == 3 for r in own)


@pytest.mark.parametrize("folder", [NEW, OLD], ids=["0.5.0-dev", "b5308"])
def test_markdown_rows_of_several_models_are_placed_by_the_m_list(
    tmp_path: Path, bin_dir: Path, quick_capture: None, folder: Path
) -> None:
    """Markdown names no file and prints identical rows for tiny.gguf and tiny-seed2.gguf:
    llama-bench runs its tests model after model in -m order, so the row's place names it."""
    from envstamp.parsers.llama_bench import parse_llama_bench

    make_tool(bin_dir, "llama-bench", stdout=str(folder / "bench-models.md"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "2", "-o", str(out), "--", "llama-bench", *MODELS_ARGS) == 0
    own = [r for r in load_results(out) if r.origin == "run:llama-bench"]
    rows, _ = parse_llama_bench((folder / "bench-models.md").read_text(encoding="utf-8"))
    assert [(r.name, r.params["model"]) for r in own] == [
        (test, model) for model in MODELS for test in ("pp16", "tg8")
    ]
    # two runs of -r 3: n=6, each model's own printed mean (the same each run)
    assert [r.summary["tokens_per_s"].n for r in own] == [6] * 6
    assert [r.metrics["tokens_per_s"] for r in own] == [pytest.approx(r.avg_ts) for r in rows]
    assert [r.params["model_size"] for r in own][-1] == round(0.67 * 1024**2)


def test_a_markdown_m_list_that_does_not_fit_the_rows_names_no_model(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    """Two -m models for six rows of three models' shapes: the blocks hold other tests
    (pp16, tg8, pp16 | tg8, pp16, tg8), so no row is given a model it may not have run -
    and the same test printed twice still stays two results."""
    make_tool(bin_dir, "llama-bench", stdout=str(NEW / "bench-models.md"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench", "-m", "a.gguf,b.gguf",
                        "-r", "3") == 0
    own = [r for r in load_results(out) if r.origin == "run:llama-bench"]
    assert all("model" not in r.params for r in own)
    assert [(r.name, r.params.get("instance"), r.params["model_size"]) for r in own] == [
        ("pp16", None, 304087), ("tg8", None, 304087),
        ("pp16", 2, 304087), ("tg8", 2, 304087),
        ("pp16", None, 702546), ("tg8", None, 702546),
    ]


def test_markdown_through_a_script_never_pools_two_models(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    """A script hides llama-bench's -m: the second identical row of one output is another
    instance of the test (another model of that shape), kept apart from the first."""
    make_tool(bin_dir, "llama-bench", stdout=str(NEW / "bench-models.md"))
    script = bin_dir / "bench.sh"
    script.write_text("#!/bin/sh\nllama-bench \"$@\"\n", encoding="utf-8")
    script.chmod(0o755)
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "2", "-o", str(out), "--", "bench.sh") == 0
    own = [r for r in load_results(out) if r.origin == "run:llama-bench"]
    assert len(own) == 6
    # the -r of a hidden llama-bench is unknown: each printed mean is one sample, per run
    assert all(len(r.metric_samples["tokens_per_s"]) == 2 for r in own)
    assert own[0].metric_samples["tokens_per_s"] == [54485.12] * 2
    assert own[2].metric_samples["tokens_per_s"] == [95499.34] * 2


def test_models_sharing_a_file_name_are_named_by_their_path(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    make_tool(bin_dir, "llama-bench", stdout=str(NEW / "bench-models.md"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench", "-m", "a/m.gguf",
                        "--model", "b/m.gguf,/models/x.gguf", "-r", "3") == 0
    own = [r for r in load_results(out) if r.origin == "run:llama-bench"]
    assert [r.params["model"] for r in own] == [
        "a/m.gguf", "a/m.gguf", "b/m.gguf", "b/m.gguf", "x.gguf", "x.gguf"
    ]


def test_show_tells_the_models_apart(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.cli import main as cli

    make_tool(bin_dir, "llama-bench", stdout=str(NEW / "bench-models.json"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench", *MODELS_ARGS, "-o",
                        "json") == 0
    capsys.readouterr()
    assert cli.main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    labels = [line.split("  ")[0] for line in shown.splitlines()
              if line.startswith(("pp16 ", "tg8 "))]
    assert len(labels) == 6 and len(set(labels)) == 6, shown
    assert all(f"model={model}" in shown for model in MODELS)


@settings(max_examples=200, deadline=None)
@given(
    tests=st.lists(st.sampled_from(["pp16", "tg8", "pp512", "tg128", "pp16+tg8"]),
                   min_size=1, max_size=4, unique=True),
    shapes=st.lists(st.sampled_from(["llama 7B Q4_0", "qwen2 1B F16"]), min_size=1,
                    max_size=4),
    data=st.data(),
)
def test_a_row_is_given_only_the_model_it_ran(
    tests: list[str], shapes: list[str], data: st.DataObject
) -> None:
    """Whole outputs get each row's model; an output cut anywhere gets its rows' own models
    or none at all - never another model's."""
    from envstamp.parsers.llama_bench import BenchRow, models_by_block

    models = [f"m{i}.gguf" for i in range(len(shapes))]
    rows = [BenchRow(test=test, model_type=shape) for shape in shapes for test in tests]
    truth = [model for model in models for _ in tests]
    assert models_by_block(rows, models) == truth
    cut = data.draw(st.integers(min_value=0, max_value=len(rows)))
    found = models_by_block(rows[:cut], models)
    assert found in ([None] * cut, truth[:cut])


# --------------------------------------------------------------- peak memory under a wrapper

ALLOCATE = """
import time
block = bytearray(24 << 20)
block[::4096] = b"x" * len(block[::4096])
time.sleep(0.3)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM and zombies of /proc")
def test_a_wrapper_shells_own_peak_is_never_the_trees(
    tmp_path: Path, quick_capture: None
) -> None:
    """``sh -c 'BENCH; true'``: the shell waits for the benchmark (24 MiB here), so its
    rusage holds the benchmark's peak - but under the peak this process reached, which a
    fork carries into it.  The shell's own VmHWM (a MiB or two) is not the tree's peak:
    stored is the tree's peak or null."""
    script = tmp_path / "alloc.py"
    script.write_text(ALLOCATE, encoding="utf-8")
    ballast = bytearray(96 << 20)  # this process clearly above the benchmark
    ballast[::4096] = b"x" * len(ballast[::4096])
    out = tmp_path / "r.jsonl"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}; true"
    assert envstamp_run("-q", "-r", "2", "-o", str(out), "--", "sh", "-c", command) == 0
    del ballast
    (result,) = load_results(out)
    assert result.memory is not None
    peak = result.memory.child_rss_peak_bytes
    assert peak is None or peak >= 24 << 20, peak
    assert (peak is None) == (result.memory.source is None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="zombies of /proc")
@pytest.mark.parametrize(
    ("command", "waited"),
    [
        (["sh", "-c", "/bin/true; true"], True),  # the shell ran a program and waited for it
        (["sh", "-c", "true"], False),  # a builtin: the shell alone
        ([sys.executable, "-c", "pass"], False),
    ],
)
def test_whether_a_command_waited_for_processes_of_its_own(
    command: list[str], waited: bool
) -> None:
    import subprocess

    from envstamp.runner import childrun

    proc = subprocess.Popen(command)
    try:
        assert childrun._waited_for_others(proc.pid) is waited
    finally:
        proc.wait()


def test_trusted_peak_of_a_command_that_waited_for_others() -> None:
    from envstamp.runner.childrun import trusted_peak

    # rusage above anything inherited: the largest process of the tree, children included
    assert trusted_peak(500, 100, 7, True) == (500, "rusage")
    # under it: the command's own VmHWM is not its children's peak
    assert trusted_peak(100, 100, 7, True) == (None, None)
    assert trusted_peak(100, 100, 7, None) == (None, None)  # not known whether it had any
    assert trusted_peak(100, 100, 7, False) == (7, "procfs")  # alone: its peak is the tree's
