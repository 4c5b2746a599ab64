"""``envstamp run`` on fake llama-bench / llama-cli / ollama commands, and the perf-line parsers."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.cli import main as cli
from envstamp.errors import ParseError
from envstamp.parsers.perf_lines import (
    parse_go_duration,
    parse_llama_chat_summary,
    parse_llama_perf,
    parse_ollama_verbose,
    parse_perf,
)
from envstamp.stamping.results import load_results, verify_log
from tests.timing_support import make_manifest

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the fake tools are shebang scripts (POSIX)"
)

TIMING = Path(__file__).parents[1] / "fixtures" / "timing"
VERSION = (
    "version: 4721 (3c8f2a1e)\n"
    "built with cc (Ubuntu 13.3.0-6ubuntu2) 13.3.0 for x86_64-linux-gnu\n"
)

TOOL = """#!{python}
import os, signal, sys, time
if "--version" in sys.argv[1:]:
    sys.stderr.write({version!r})
    sys.exit(0)
counter = {counter!r}
if counter:
    with open(counter, "a") as handle:
        handle.write("run\\n")
if {allocate}:
    block = bytearray({allocate})
    block[::4096] = b"x" * len(block[::4096])
    import time
    time.sleep(0.15)  # held long enough to be seen when rusage cannot be trusted (see childrun)
out, err = {stdout!r}, {stderr!r}
if out:
    sys.stdout.write(open(out, encoding="utf-8").read())
if err:
    sys.stderr.write(open(err, encoding="utf-8").read())
sys.stdout.flush()
if {signal_self!r}:
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGILL would dump core
    os.kill(os.getpid(), getattr(signal, {signal_self!r}))
sys.exit({code})
"""


def make_tool(
    bin_dir: Path,
    name: str,
    *,
    stdout: str | None = None,
    stderr: str | None = None,
    code: int = 0,
    counter: Path | None = None,
    allocate: int = 0,
    signal_self: str = "",
) -> Path:
    """A fake command: prints fixture files, exits with ``code``, answers --version."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(
        TOOL.format(
            python=sys.executable,
            version=VERSION,
            counter=str(counter) if counter else "",
            allocate=allocate,
            stdout=str(TIMING / stdout) if stdout else "",
            stderr=str(TIMING / stderr) if stderr else "",
            signal_self=signal_self,
            code=code,
        ),
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:{Path(sys.executable).parent}:/usr/bin:/bin")
    return folder


@pytest.fixture
def quick_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the real capture where the test is about the command, not the machine."""
    from envstamp.stamping import timing

    monkeypatch.setattr(timing, "_capture", lambda options, runner: make_manifest())


def envstamp_run(*args: str) -> int:
    return cli.main(["run", *args])


# ------------------------------------------------------------------------------ llama-bench


def test_llama_bench_markdown_becomes_results_and_fingerprints_the_binary(
    tmp_path: Path, bin_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    binary = make_tool(bin_dir, "llama-bench", stdout="llama-bench-radeon-vulkan.md")
    out = tmp_path / "r.jsonl"
    code = envstamp_run("--repeat", "2", "-o", str(out), "--", "llama-bench", "-m", "q.gguf")
    captured = capfd.readouterr()
    assert code == 0, captured.err
    assert captured.out.count("| qwen2 7B Q4_K - Medium") == 4  # echoed, both runs
    loaded = load_results(out)
    # The benchmark's own tests first, then the wrapper's whole-process result.
    assert [r.name for r in loaded] == ["pp512", "tg128", "llama-bench"]
    assert [r.origin for r in loaded] == ["run:llama-bench", "run:llama-bench", "run"]
    pp, tg, command = loaded
    assert command.command == ["llama-bench", "-m", "q.gguf"] and len(command.wall_s) == 2
    assert pp.metrics["tokens_per_s"] == pytest.approx(2874.31)
    # Markdown prints mean ± stddev of llama-bench's repetitions (-r, default 5): two runs of
    # five repetitions each, pooled; no samples were printed, so none are invented.
    summary = pp.summary["tokens_per_s"]
    assert (summary.n, summary.median, summary.min, summary.max) == (10, None, None, None)
    assert summary.stddev == pytest.approx(21.07 * (8 / 9) ** 0.5)
    assert pp.metric_samples == {} and pp.wall_s == []
    assert pp.params["model_type"] == "qwen2 7B Q4_K - Medium"
    assert pp.params["n_gpu_layers"] == 99 and pp.params["n_prompt"] == 512
    # "4.36 GiB" and "7.62 B" are rounded: half the last printed digit is their precision.
    assert pp.param_tolerance == {"model_size": 0.005 * 1024**3, "n_params": 0.005e9}
    assert tg.summary["tokens_per_s"].stddev == pytest.approx(0.62 * (8 / 9) ** 0.5)
    assert "stddev_ts" not in tg.metrics
    assert not any(r.failed for r in loaded)
    manifest = command.manifest
    assert manifest is not None
    build = next(b for b in manifest.llamacpp if b.path == str(binary))
    assert build.build_number == 4721 and build.commit == "3c8f2a1e"
    assert verify_log(out).ok
    assert "3 results appended" in captured.err
    assert "only 1 sample" not in captured.err and "only 2 sample" not in captured.err


@pytest.mark.parametrize(
    ("fixture", "pp_tps", "samples_per_run"),
    [
        ("llama-bench-a4000-cuda.json", 2345.012774, 3),
        ("llama-bench-cpu.jsonl", 78.735241, 3),
        ("llama-bench-m2pro-metal.csv", 493.962109, 0),
    ],
)
def test_every_llama_bench_output_format(
    tmp_path: Path, bin_dir: Path, quick_capture: None, fixture: str, pp_tps: float,
    samples_per_run: int,
) -> None:
    make_tool(bin_dir, "llama-bench", stdout=fixture)
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench", "-r", "3") == 0
    by_name = {r.name: r for r in load_results(out)}
    pp = by_name["pp512"]
    assert pp.metrics["tokens_per_s"] == pytest.approx(pp_tps)
    assert pp.summary["tokens_per_s"].n == 3  # the samples printed, or -r 3
    assert len(pp.metric_samples.get("tokens_per_s", [])) == samples_per_run
    assert "tg128" in by_name and pp.origin == "run:llama-bench"
    if samples_per_run == 3:  # json: each repetition's time, from samples_ns
        assert len(pp.wall_s) == 3 and 0 < pp.wall_s[0] < 10
    else:  # csv: the mean and stddev of the repetitions' times, in ns
        assert pp.wall_s == [] and pp.summary["wall_s"].n == 3
        assert pp.summary["wall_s"].mean == pytest.approx(1.03651125)


# ------------------------------------------------------------------------- perf lines


@pytest.mark.parametrize(
    ("tool", "fixture", "expected"),
    [
        ("llama-cli", "llama-cli-perf-b4600.txt", {"prompt_tps": 248.19, "tokens_per_s": 45.72}),
        # (a server's timing lines sum its requests, which are results of their own: see
        # test_run_llamacpp_real.test_server_perf_lines_are_no_result_of_the_wrapper)
        ("ollama", "ollama-run-verbose.txt", {"prompt_tps": 240.65, "tokens_per_s": 38.58}),
    ],
)
def test_perf_lines_become_metrics(
    tmp_path: Path, bin_dir: Path, quick_capture: None, tool: str, fixture: str,
    expected: dict[str, float],
) -> None:
    make_tool(bin_dir, tool, stderr=fixture)
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "--repeat", "3", "-o", str(out), "--", tool, "run", "x") == 0
    (result,) = load_results(out)
    assert result.name == tool and result.origin == "run"
    for key, value in expected.items():
        assert result.metrics[key] == pytest.approx(value, rel=1e-3)
        assert len(result.metric_samples[key]) == 3
        assert result.summary[key].n == 3


# --------------------------------------------------------------------------- the command


def test_exit_code_digest_and_params(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    make_tool(bin_dir, "bench.sh", stdout="llama-cli-perf-b4600.txt", code=3)
    out = tmp_path / "r.jsonl"
    code = envstamp_run(
        "-q", "-n", "smoke", "--param", "ctx=4096", "-o", str(out), "--", "bench.sh"
    )
    assert code == 3
    assert load_results(out) == []  # a failed run is not a result unless asked for
    (result,) = load_results(out, include_failed=True)
    assert result.name == "smoke" and result.exit_code == 3
    assert result.failed and result.exit_signal is None
    assert result.params == {"ctx": "4096"}
    digest = hashlib.sha256((TIMING / "llama-cli-perf-b4600.txt").read_bytes()).hexdigest()
    assert result.output_digest == "sha256:" + digest


def test_a_command_killed_by_a_signal_exits_like_a_shell(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    make_tool(bin_dir, "crash", signal_self="SIGTERM")
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "crash") == 143
    (result,) = load_results(out, include_failed=True)
    assert (result.exit_code, result.exit_signal, result.failed) == (143, "SIGTERM", True)


def test_warmup_runs_are_run_but_not_recorded(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    counter = tmp_path / "count.txt"
    make_tool(bin_dir, "tick", counter=counter)
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-w", "2", "-r", "3", "-o", str(out), "--", "tick") == 0
    assert counter.read_text().count("run") == 5
    (result,) = load_results(out)
    assert len(result.wall_s) == 3 and result.summary["wall_s"].n == 3
    assert not any(a.code == "few_samples" for a in result.advice)


def test_child_peak_memory_comes_from_the_os(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    if not hasattr(__import__("os"), "wait4"):
        pytest.skip("wait4 is POSIX-only")
    make_tool(bin_dir, "hungry", allocate=96 << 20)
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "hungry") == 0
    memory = load_results(out)[0].memory
    assert memory is not None and memory.child_rss_peak_bytes is not None
    assert memory.child_rss_peak_bytes >= 96 << 20
    assert memory.source is not None
    assert memory.source.split("+")[0] in ("rusage", "procfs")


def test_missing_command_fails_before_capturing(
    tmp_path: Path, bin_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-o", str(out), "--", "no-such-benchmark") == 2
    assert "command not found: no-such-benchmark" in capfd.readouterr().err
    assert not out.exists()
    assert envstamp_run("-o", str(out)) == 2
    assert envstamp_run("--repeat", "0", "--", "true") == 2
    assert envstamp_run("--param", "novalue", "--", "true") == 2


def test_output_that_is_not_llama_bench_is_just_a_command(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    make_tool(bin_dir, "llama-bench", stdout="ollama-run-verbose.txt")
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench") == 0
    assert [r.name for r in load_results(out)] == ["llama-bench"]


def test_quiet_does_not_echo(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    make_tool(bin_dir, "llama-bench", stdout="llama-bench-radeon-vulkan.md")
    assert envstamp_run("-q", "-o", str(tmp_path / "r.jsonl"), "--", "llama-bench") == 0
    assert "qwen2" not in capfd.readouterr().out


def test_results_file_shows_in_show(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    make_tool(bin_dir, "llama-bench", stdout="llama-bench-radeon-vulkan.md")
    out = tmp_path / "r.jsonl"
    envstamp_run("-q", "-o", str(out), "--", "llama-bench")
    capfd.readouterr()
    assert cli.main(["show", str(out)]) == 0
    shown = capfd.readouterr().out
    assert "results log, 3 results" in shown
    assert "2874.31" in shown and " t/s" in shown and "peak memory" in shown
    assert cli.main(["show", "--markdown", str(out)]) == 0
    assert "| pp512 (" in capfd.readouterr().out


# ------------------------------------------------------------------------------ parsers


def test_go_durations() -> None:
    assert parse_go_duration("3.2189043s") == pytest.approx(3.2189043)
    assert parse_go_duration("18.5213ms") == pytest.approx(0.0185213)
    assert parse_go_duration("1m2.5s") == pytest.approx(62.5)
    assert parse_go_duration("850µs") == pytest.approx(0.00085)
    assert parse_go_duration("1h0m1s") == pytest.approx(3601.0)
    assert parse_go_duration("soon") is None and parse_go_duration("") is None


def test_old_and_new_llama_timing_lines() -> None:
    old = parse_llama_perf((TIMING / "llama-old-print-timings.txt").read_text())
    assert (old.prompt_tokens, old.gen_tokens) == (87, 63)
    assert old.tokens_per_s == pytest.approx(15.83, rel=1e-3)
    assert old.load_s == pytest.approx(2.31042)
    server = parse_llama_perf((TIMING / "llama-server-two-requests.txt").read_text())
    assert server.blocks == 2 and server.prompt_tokens == 150 and server.gen_tokens == 80


# ------------------------------------------------------- the chat llama-cli's rate summary

REAL_NEW = Path(__file__).parents[1] / "fixtures" / "llamacpp-real" / "0.5.0-dev-0c1e57098"
REAL_OLD = Path(__file__).parents[1] / "fixtures" / "llamacpp-real" / "b5308-8733e0cf6"


def test_chat_llama_cli_summary_becomes_metrics(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    """llama.cpp 0.5.0-dev's llama-cli prints ``[ Prompt: 34017.6 t/s | Generation: 4696.3
    t/s ]`` and no timing lines: the wrapper's result records both rates."""
    make_tool(bin_dir, "llama-cli", stdout=str(REAL_NEW / "cli.txt"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "3", "-o", str(out), "--", "llama-cli", "-m", "tiny.gguf",
                        "-p", "hello world", "-n", "16", "--single-turn", "--simple-io") == 0
    (result,) = load_results(out)
    assert result.origin == "run" and result.name == "llama-cli"
    assert result.metrics == {"prompt_tps": 34017.6, "tokens_per_s": 4696.3}
    assert result.metric_samples["tokens_per_s"] == [4696.3] * 3
    assert result.summary["prompt_tps"].n == 3


@pytest.mark.parametrize(
    ("folder", "fixture", "expected"),
    [
        # the rate summary only
        (REAL_NEW, "cli.txt", {"prompt_tps": 34017.6, "tokens_per_s": 4696.3}),
        # -lv 3 adds the slot's timing lines: their counts, and their printed rates (the
        # summary rounds the same rates to one decimal)
        (REAL_NEW, "cli-lv3.txt", {"prompt_tps": 35452.32, "tokens_per_s": 5001.67,
                                   "prompt_tokens": 58.0, "gen_tokens": 16.0}),
        # the older completion tool's llama_perf_context_print lines: the rates it printed,
        # not 3 tokens / 0.25 ms = 12000 recomputed from the rounded milliseconds
        (REAL_OLD, "cli.txt", {"prompt_tps": 11904.76, "tokens_per_s": 1625.66,
                               "prompt_tokens": 3.0, "gen_tokens": 15.0}),
    ],
    ids=["0.5.0-dev", "0.5.0-dev-lv3", "b5308"],
)
def test_real_llama_cli_outputs_give_the_rates_they_printed(
    folder: Path, fixture: str, expected: dict[str, float]
) -> None:
    stats = parse_perf((folder / fixture).read_text(encoding="utf-8"))
    assert stats is not None and stats.metrics() == expected


SUMMARY_PARTS = {
    "Prompt": "prompt_tps", "prompt eval": "prompt_tps", "Prefill": "prompt_tps",
    "Generation": "tokens_per_s", "Eval": "tokens_per_s", "Decode": "tokens_per_s",
}
UNITS = ["t/s", "tokens/s", "tok/s", "T/S", "tokens / s"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(sorted(SUMMARY_PARTS)), min_size=1, max_size=2, unique_by=lambda
             label: SUMMARY_PARTS[label]),
    st.lists(st.floats(min_value=0.1, max_value=1e6), min_size=2, max_size=2),
    st.sampled_from(UNITS),
    st.lists(st.sampled_from(["Context: 58 tokens", "Total: 4.63 ms", "Cached: 0 tokens"]),
             max_size=2),
    st.booleans(),
    st.text(alphabet="abc xyz.", max_size=20),
)
def test_a_rate_summary_is_read_by_its_parts(
    labels: list[str], rates: list[float], unit: str, others: list[str], padded: bool,
    before: str,
) -> None:
    """Labels mean what they say whatever their order; other ``Label: N unit`` parts (a
    future build's context size or total time) are left alone; text may come before it on
    the line (a model's answer printed without a newline)."""
    parts = [f"{label}: {rate:.1f} {unit}" for label, rate in zip(labels, rates, strict=False)]
    parts += others
    gap = " " if padded else ""
    line = f"{before}[{gap}{' | '.join(parts)}{gap}]"
    stats = parse_llama_chat_summary("loading...\n" + line + "\n\nExiting...\n")
    expected = {SUMMARY_PARTS[label]: float(f"{rate:.1f}")
                for label, rate in zip(labels, rates, strict=False)}
    assert stats.metrics() == expected


@pytest.mark.parametrize(
    "text",
    [
        "[ Prompt: 34017.6 t/s | Generation: fast ]",  # a part of another shape
        "[ Speed: 34017.6 t/s ]",  # a rate nobody can place
        "[ Prompt: 58 tokens | Generation: 16 tokens ]",  # counts, not rates
        "[INFO] Prompt: 12.5 t/s",  # not inside the brackets
        "[ Prompt: 0.0 t/s ]",  # zero is no rate
    ],
)
def test_brackets_that_are_no_rate_summary(text: str) -> None:
    try:
        stats = parse_llama_chat_summary(text)
    except ParseError:
        return
    assert stats.metrics() == {}


def test_several_answers_rates_are_not_averaged() -> None:
    """Two answers' rates without their counts cannot make one rate: unknown, not a mean."""
    text = "[ Prompt: 100.0 t/s | Generation: 10.0 t/s ]\n> again\n" \
           "[ Prompt: 300.0 t/s | Generation: 30.0 t/s ]\n"
    stats = parse_llama_chat_summary(text)
    assert stats.blocks == 2 and stats.metrics() == {}


def test_ollama_stats_summed_over_answers() -> None:
    one = (TIMING / "ollama-run-verbose.txt").read_text()
    stats = parse_ollama_verbose(one + "\n>>> again\n" + one)
    assert stats.blocks == 2 and stats.gen_tokens == 242
    assert stats.tokens_per_s == pytest.approx(38.58, rel=1e-3)
    assert stats.metrics()["gen_tokens"] == 242.0


def test_rates_only_still_count() -> None:
    stats = parse_ollama_verbose("eval rate:     12.5 tokens/s\n")
    assert stats.tokens_per_s == 12.5 and stats.gen_tokens is None


@pytest.mark.parametrize("text", ["", "hello\nworld", "| test | t/s |\n", "\x00\xff", "eval time"])
def test_perf_parsers_refuse_what_is_not_theirs(text: str) -> None:
    with pytest.raises(ParseError):
        parse_llama_perf(text)
    with pytest.raises(ParseError):
        parse_ollama_verbose(text)
    assert parse_perf(text) is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_perf_parsers_raise_only_parse_errors(text: str) -> None:
    for parser in (parse_llama_perf, parse_llama_chat_summary, parse_ollama_verbose):
        try:
            stats = parser(text)
        except ParseError:
            continue
        json.dumps(stats.metrics(), allow_nan=False)
    parse_go_duration(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "prompt eval time = ", "eval time =", " ms / ", "12", "0", "3.5", " tokens (", " runs",
    "ms per token, ", "inf", " tokens per second)", "\n", "eval rate: ", "eval count: ",
    "prompt eval duration: ", "1m", "5s", "ms", " token(s)", "nan",
    "[ ", " ]", "Prompt: ", "Generation: ", " | ", " t/s", "-", "1e999",
]), max_size=30))
def test_perf_parsers_on_near_misses(parts: list[str]) -> None:
    text = "".join(parts)
    stats = parse_perf(text)
    if stats is not None:
        json.dumps(stats.metrics(), allow_nan=False)  # rates are finite, never inf/nan


def test_result_of_run_is_a_plain_record(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    make_tool(bin_dir, "ollama", stderr="ollama-run-verbose.txt")
    out = tmp_path / "r.jsonl"
    envstamp_run("-q", "-o", str(out), "--", "ollama", "run", "llama3.2", "--verbose")
    lines = out.read_bytes().split(b"\n")
    line: dict[str, Any] = json.loads(next(x for x in lines if b'"kind":"result"' in x))
    assert line["kind"] == "result" and line["origin"] == "run"
    assert line["command"] == ["ollama", "run", "llama3.2", "--verbose"]
    assert set(line["summary"]) >= {"wall_s", "tokens_per_s", "prompt_tps"}


def test_peak_rss_of_a_small_command_is_not_envstamps_own() -> None:
    """A fork inherits this process's high-water mark: it must not be reported as the child's."""
    import sys

    from envstamp.runner.childrun import run_child
    from envstamp.runner.system import max_rss_self

    ballast = bytearray(64 << 20)  # make this process clearly bigger than the child
    ballast[::4096] = b"x" * len(ballast[::4096])
    child = run_child([sys.executable, "-c", "import time; time.sleep(0.3)"], echo=False)
    own = max_rss_self()
    assert own is not None and own > 64 << 20
    assert child.rss_peak_bytes is not None
    assert child.rss_peak_bytes < own - (32 << 20)
    del ballast


def test_trusted_peak_rules() -> None:
    from envstamp.runner.childrun import trusted_peak

    # (a command that waited for no process of its own: its VmHWM is the tree's)
    assert trusted_peak(500, 100, 7, False) == (500, "rusage")  # above anything inherited
    assert trusted_peak(100, 100, 7, False) == (7, "procfs")  # could be inherited: watched
    assert trusted_peak(100, 100, None, False) == (None, None)
    assert trusted_peak(None, None, 9, False) == (9, "procfs")
    assert trusted_peak(5, None, 9, False) == (5, "rusage")


# ------------------------------------------------------------------- memory not observed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is read from /proc")
@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ([4096], None),  # read once, right after exec: the program had not even loaded
        ([4096, 3 << 20], 3 << 20),  # read again an interval later: its peak so far
        ([], None),  # never read
    ],
)
def test_a_start_up_reading_is_not_a_peak(
    monkeypatch: pytest.MonkeyPatch, readings: list[int], expected: int | None
) -> None:
    import os
    import time

    from envstamp.runner import childrun

    values = iter(readings)
    done = __import__("threading").Event()

    def fake_hwm(path: str) -> int | None:
        value = next(values, None)
        if value is None:
            done.set()
        return value

    monkeypatch.setattr(childrun, "_vm_hwm", fake_hwm)
    watcher = childrun._HighWaterWatcher(os.getpid())
    assert done.wait(10)
    time.sleep(childrun._HighWaterWatcher.INTERVAL)
    watcher.stop()
    assert watcher.seen_peak() == expected


def test_the_peak_of_a_short_command_is_null_not_zero(
    tmp_path: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    """`true` ends within a millisecond: its peak is not seen, and is stored as unknown (it was
    stored as a start-up reading of a few KiB, shown as "RSS 0 MiB")."""
    out = tmp_path / "r.jsonl"
    for _ in range(5):
        assert envstamp_run("-q", "-o", str(out), "--", "true") == 0
    for result in load_results(out):
        memory = result.memory
        assert memory is not None
        peak = memory.child_rss_peak_bytes
        assert peak is None or peak >= 1 << 20, peak  # a loaded program, or unknown
        seen = memory.source is not None and ("rusage" in memory.source
                                              or "procfs" in memory.source)
        assert (peak is not None) == seen
    capfd.readouterr()
    assert cli.main(["show", str(out)]) == 0
    assert "RSS 0 MiB" not in capfd.readouterr().out
    from envstamp.runner.childrun import run_child

    for _ in range(30):  # cheap: each a millisecond or two
        peak = run_child(["true"], echo=False).rss_peak_bytes
        assert peak is None or peak >= 1 << 20, peak


def test_a_peak_unknown_for_one_run_is_unknown_for_all(
    tmp_path: Path, bin_dir: Path, quick_capture: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.runner import childrun

    make_tool(bin_dir, "tick")
    peaks = iter([5 << 20, None, 7 << 20])
    real = childrun.trusted_peak

    def one_unseen(*args: Any) -> tuple[int | None, str | None]:
        real(*args)
        peak = next(peaks)
        return peak, ("procfs" if peak else None)

    monkeypatch.setattr(childrun, "trusted_peak", one_unseen)
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "3", "-o", str(out), "--", "tick") == 0
    (result,) = load_results(out)
    assert result.memory is not None and result.memory.child_rss_peak_bytes is None


# ------------------------------------------------------------ what the manifest describes


@pytest.fixture
def seen_options(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The CaptureOptions each run captured with (the capture itself skipped)."""
    from envstamp.stamping import timing

    seen: list[Any] = []

    def fake_capture(options: Any, runner: Any) -> Any:
        seen.append(options)
        return make_manifest()

    monkeypatch.setattr(timing, "_capture", fake_capture)
    return seen


def test_a_llama_tools_models_are_fingerprinted_without_model(
    tmp_path: Path, bin_dir: Path, seen_options: list[Any]
) -> None:
    binary = make_tool(bin_dir, "llama-bench", stdout="llama-bench-radeon-vulkan.md")
    out = str(tmp_path / "r.jsonl")
    argv = ["llama-bench", "-m", "a.gguf,b.gguf", "--model", "c.gguf", "-r", "3"]
    extra = tmp_path / "extra.gguf"  # a --model envstamp is given must exist
    extra.write_bytes(b"GGUF")
    assert envstamp_run("-q", "--model", str(extra), "-o", out, "--", *argv) == 0
    (options,) = seen_options
    assert options.models == ("a.gguf", "b.gguf", "c.gguf", str(extra))
    assert options.llama_cpp == (str(binary),)


def test_ollama_run_names_its_model_for_the_ollama_probe(
    tmp_path: Path, bin_dir: Path, seen_options: list[Any]
) -> None:
    make_tool(bin_dir, "ollama", stderr="ollama-run-verbose.txt")
    out = str(tmp_path / "r.jsonl")
    assert envstamp_run("-q", "-o", out, "--", "ollama", "run", "llama3.2", "--verbose") == 0
    (options,) = seen_options
    assert options.ollama_models == ("llama3.2",) and options.models == ()


def test_vllm_model_is_fingerprinted_only_when_it_is_a_local_file(
    tmp_path: Path, bin_dir: Path, seen_options: list[Any]
) -> None:
    make_tool(bin_dir, "vllm")
    model = tmp_path / "q4.gguf"
    model.write_bytes(b"GGUF")
    folder = tmp_path / "hf-model"
    folder.mkdir()
    out = str(tmp_path / "r.jsonl")
    assert envstamp_run("-q", "-o", out, "--", "vllm", "serve", str(model)) == 0
    assert envstamp_run("-q", "-o", out, "--", "vllm", "serve", "Qwen/Qwen2.5-0.5B") == 0
    assert envstamp_run("-q", "-o", out, "--", "vllm", "serve", "--model", str(folder)) == 0
    assert [o.models for o in seen_options] == [(str(model),), (), ()]


# ------------------------------------------------------------------- failed runs


def test_a_crash_after_some_tests_marks_every_result_failed(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    """A -march=native build dying with SIGILL after printing its table: what it printed is
    kept for the record, but nothing of the run reads as a speed."""
    make_tool(bin_dir, "llama-bench", stdout="llama-bench-radeon-vulkan.md",
              signal_self="SIGILL")
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench", "-r", "3") == 132
    assert load_results(out) == []
    loaded = load_results(out, include_failed=True)
    assert [r.origin for r in loaded] == ["run:llama-bench", "run:llama-bench", "run"]
    for result in loaded:
        assert (result.failed, result.exit_code, result.exit_signal) == (True, 132, "SIGILL")
    assert "failed (exit 132, SIGILL)" in capfd.readouterr().err


def test_one_failed_repetition_fails_the_run(
    tmp_path: Path, bin_dir: Path, quick_capture: None
) -> None:
    counter = tmp_path / "count.txt"
    script = bin_dir / "flaky"
    script.write_text(
        f"#!/bin/sh\necho run >> {counter}\n"
        f'[ "$(wc -l < {counter})" -eq 2 ] && exit 7\nexit 0\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "3", "-o", str(out), "--", "flaky") == 7
    (result,) = load_results(out, include_failed=True)
    assert result.failed and result.exit_code == 7 and len(result.wall_s) == 3


def test_signal_names_from_shell_statuses() -> None:
    from envstamp.cli.run import signal_name

    assert signal_name(132, "linux") == "SIGILL"
    assert signal_name(137, "linux") == "SIGKILL"
    assert signal_name(1, "linux") is None and signal_name(128, "linux") is None
    assert signal_name(132, "win32") is None  # Windows exit codes are not signals
    assert signal_name(300, "linux") is None


def test_advice_reads_llama_benchs_own_repetitions(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    make_tool(bin_dir, "llama-bench", stdout="llama-bench-radeon-vulkan.md")
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench", "-r", "1") == 0
    assert (  # -r 1: one repetition indeed
        "envstamp: advice: only 1 sample: --repeat 3 or more shows the spread (said once per "
        "results log)\n" in capfd.readouterr().err
    )
    pp = load_results(out)[0]
    assert pp.summary["tokens_per_s"].n == 1 and pp.summary["tokens_per_s"].stddev is None
    assert [a.code for a in pp.advice] == ["few_samples"]
    assert envstamp_run("-q", "-o", str(out), "--", "llama-bench", "-r", "3") == 0
    assert "sample" not in capfd.readouterr().err
    assert not any(a.code == "few_samples" for r in load_results(out)[3:] for a in r.advice)


# ----------------------------------------------- llama-batched-bench and llama-server logs

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real" / "0.5.0-dev-0c1e57098"


@pytest.mark.parametrize("fixture", ["batched-bench.txt", "batched-bench.jsonl"])
def test_batched_bench_rows_become_prompt_generation_and_total_results(
    tmp_path: Path, bin_dir: Path, quick_capture: None, fixture: str
) -> None:
    make_tool(bin_dir, "llama-batched-bench", stdout=str(REAL / fixture))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "2", "-o", str(out), "--", "llama-batched-bench") == 0
    loaded = load_results(out)
    assert len(loaded) == 4 * 3 + 1 and loaded[-1].origin == "run"
    assert {r.origin for r in loaded[:-1]} == {"run:batched-bench"}
    prompt, generation, total = loaded[:3]
    assert [r.name for r in loaded[:3]] == [
        "pp128+tg32 B1 prompt", "pp128+tg32 B1 generation", "pp128+tg32 B1 total"
    ]
    expected = {  # S_PP, S_TG and S t/s of the first row, as each format prints them
        "batched-bench.txt": (88093.60, 8602.15, 30929.83),
        "batched-bench.jsonl": (85906.039062, 8324.662109, 29996.25),
    }[fixture]
    speeds = (
        prompt.metrics["prompt_tps"],
        generation.metrics["tokens_per_s"],
        total.metrics["total_tps"],
    )
    assert speeds == pytest.approx(expected)
    assert prompt.summary["prompt_tps"].n == 2  # two runs of the command
    assert prompt.params["pp"] == 128 and prompt.params["pl"] == 1
    assert prompt.params["n_kv_max"] == 1024 and prompt.params["flash_attn"] == -1
    assert prompt.params["is_pp_shared"] is False and prompt.params["phase"] == "prompt"
    assert loaded[-3].name == "pp256+tg32 B2 generation"


@pytest.mark.parametrize(
    ("fixture", "seconds"),
    [
        # T_PP of "8 4 1" printed 0.001 (50 % rounding), of "8 4 2" 0.000 (unknown), of
        # "8 128 2" 0.096; T_TG of "1024 128 2" 7.174: a time counts from 1 % precision on
        ("batched-bench-wide.txt", {"pp8+tg4 B1 prompt": [], "pp8+tg4 B2 prompt": [],
                                    "pp8+tg128 B2 prompt": [0.096] * 2,
                                    "pp1024+tg128 B2 generation": [7.174] * 2}),
        # jsonl prints six decimals: every time known
        ("batched-bench-wide.jsonl", {"pp8+tg4 B1 prompt": [0.00058] * 2,
                                      "pp8+tg4 B2 prompt": [0.144107] * 2,
                                      "pp8+tg128 B2 prompt": [0.008265] * 2,
                                      "pp1024+tg128 B2 generation": [0.78795] * 2}),
    ],
)
def test_batched_bench_times_are_samples_only_when_printed_precisely(
    tmp_path: Path, bin_dir: Path, quick_capture: None, fixture: str,
    seconds: dict[str, list[float]],
) -> None:
    make_tool(bin_dir, "llama-batched-bench", stdout=str(REAL / fixture))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "2", "-o", str(out), "--", "llama-batched-bench") == 0
    own = {r.name: r for r in load_results(out) if r.origin == "run:batched-bench"}
    assert len(own) == 8 * 3
    for name, expected in seconds.items():
        assert own[name].wall_s == expected, name
        assert ("wall_s" in own[name].summary) == bool(expected)
    # no rounded-away time is stored as a measurement, and every phase keeps its speed
    assert all(0.0 not in r.wall_s for r in own.values())
    assert own["pp8+tg4 B2 prompt"].metrics["prompt_tps"] == pytest.approx(
        {"batched-bench-wide.txt": 51779.94, "batched-bench-wide.jsonl": 111.02861}[fixture]
    )


def test_server_log_timing_lines_become_one_result_per_request(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    make_tool(bin_dir, "llama-server", stderr=str(REAL / "server.log"))
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "llama-server", "-m", "tiny.gguf") == 0
    *requests, wrapper = load_results(out)
    assert wrapper.origin == "run" and wrapper.name == "llama-server"
    assert [r.origin for r in requests] == ["run:server"] * 4
    assert [r.params["request"] for r in requests] == [1, 2, 3, 4]
    assert [r.metrics["tokens_per_s"] for r in requests] == [6635.07, 4475.70, 729.32, 4329.00]
    assert [r.metrics["prompt_tokens"] for r in requests] == [3.0, 1.0, 57.0, 1.0]
    assert requests[0].wall_s == [pytest.approx(0.00164)]
    assert "sample" not in capfd.readouterr().err  # a request is one event


def test_gpu_memory_counts_only_when_read_while_the_command_ran(tmp_path: Path) -> None:
    """The sampler's first reading comes before the command starts; a command that ended
    before the next one was never seen on the GPU: unknown, not that reading's 0 MiB."""
    from envstamp.cli.run import build_results
    from envstamp.runner.childrun import ChildRun
    from envstamp.stamping.sampler import Reading, Region
    from tests.timing_support import open_recorder

    child = ChildRun(
        argv=["bench"], wall_s=0.01, exit_code=0, stdout=b"", stderr=b"",
        stdout_sha256="sha256:" + "0" * 64, rss_peak_bytes=None,
    )
    before = Reading(gpu_total_mib=1200, gpu_ours_mib=0)
    with open_recorder(tmp_path / "r.jsonl") as rec:
        unseen = Region(start=before)
        unseen.add(before)
        (result,) = build_results(rec, ["bench"], [child], name=None, params={},
                                  states=(None, None), region=unseen, gpu_source="nvml")
        assert result.memory is not None
        assert (result.memory.gpu_process_peak_mib, result.memory.gpu_total_peak_mib) == (
            None, None
        )
        assert result.memory.source is None
        seen = Region(start=before)
        seen.add(before)
        seen.add(Reading(gpu_total_mib=5200, gpu_ours_mib=4000))
        (result,) = build_results(rec, ["bench"], [child], name=None, params={},
                                  states=(None, None), region=seen, gpu_source="nvml")
        assert result.memory is not None
        assert (result.memory.gpu_process_peak_mib, result.memory.gpu_total_peak_mib) == (
            4000, 5200
        )
        assert result.memory.source == "nvml"


# ------------------------------------------------------------------ few samples (issue 15)

FEW_ONCE = (
    "envstamp: advice: only 1 sample: --repeat 3 or more shows the spread (said once per "
    "results log)\n"
)


def test_one_run_by_default_is_said_once_per_results_log(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    make_tool(bin_dir, "bench")
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(out), "--", "bench") == 0
    first = capfd.readouterr().err
    assert first.count(FEW_ONCE) == 1 and "sample(s)" not in first
    assert f"envstamp run: 1 result appended to {out} (" in first
    assert envstamp_run("-q", "-o", str(out), "--", "bench") == 0
    again = capfd.readouterr().err
    assert "sample" not in again  # the log holds the advice; the reader was told once
    assert f"envstamp run: 1 result appended to {out} (" in again
    # stored with every result all the same
    assert [[a.code for a in r.advice] for r in load_results(out)] == [["few_samples"]] * 2


def test_a_chosen_repeat_below_three_is_advised_every_time(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    make_tool(bin_dir, "bench")
    out = tmp_path / "r.jsonl"
    for _ in range(2):
        assert envstamp_run("-q", "-r", "2", "-o", str(out), "--", "bench") == 0
        err = capfd.readouterr().err
        assert err.count("envstamp: advice: only 2 samples: --repeat 3 or more shows the "
                         "spread\n") == 1, err
    assert envstamp_run("-q", "-r", "3", "-o", str(out), "--", "bench") == 0
    assert "sample" not in capfd.readouterr().err


def test_counts_are_plural_only_when_more_than_one() -> None:
    from envstamp.cli.run import few_samples_line
    from envstamp.stamping.advice import count, few_samples

    assert [count(n, "result") for n in (0, 1, 2)] == ["0 results", "1 result", "2 results"]
    assert few_samples(1).message == "only 1 sample: repeat at least 3 times to see spread"
    assert few_samples(2).message == "only 2 samples: repeat at least 3 times to see spread"
    assert few_samples_line(2, once=False) == (
        "envstamp: advice: only 2 samples: --repeat 3 or more shows the spread\n"
    )


def test_a_llama_cpp_tool_not_found_says_how_to_name_it(
    bin_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A new user following README (`envstamp run -- llama-bench -m model.gguf`) without
    llama.cpp on PATH learns how to point at the build (issue 15, item 7)."""
    assert envstamp_run("--", "llama-bench", "-m", "model.gguf") == 2
    assert capfd.readouterr().err == (
        "envstamp run: error: command not found: llama-bench (a llama.cpp tool: give its "
        "path, as in envstamp run -- ~/llama.cpp/build/bin/llama-bench ..., or add its folder "
        "to PATH)\n"
    )


def test_run_says_what_it_measured(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    """Before: run ended with "1 result(s) appended" and no number; what it measured took a
    second command (issue 15, item 7)."""
    make_tool(bin_dir, "llama-bench", stdout="llama-bench-radeon-vulkan.md")
    out = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-r", "2", "-o", str(out), "--", "llama-bench") == 0
    lines = capfd.readouterr().err.splitlines()
    assert [line for line in lines if "run: measured" in line] == lines[-2:-1], lines
    # the benchmark's own tests, never the wrapper's whole-process time beside them
    assert "envstamp run: measured pp512 2874 t/s (n=10), tg128 101.5 t/s (n=10)" in lines
    make_tool(bin_dir, "bench")
    assert envstamp_run("-q", "-o", str(out), "--", "bench") == 0
    measured = [line for line in capfd.readouterr().err.splitlines() if "run: measured" in line]
    assert len(measured) == 1
    assert re.fullmatch(r"envstamp run: measured bench \d+\.\d\d (ms|us) \(n=1\)|"
                        r"envstamp run: measured bench \d\.\d{3} s \(n=1\)", measured[0])


def test_a_failed_run_measured_nothing(
    tmp_path: Path, bin_dir: Path, quick_capture: None, capfd: pytest.CaptureFixture[str]
) -> None:
    make_tool(bin_dir, "bench", code=3)
    assert envstamp_run("-q", "-o", str(tmp_path / "r.jsonl"), "--", "bench") == 3
    err = capfd.readouterr().err
    assert "run: measured" not in err and "the command failed (exit 3)" in err
