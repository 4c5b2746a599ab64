"""What two real llama.cpp builds printed parses to the exact values in the files.

tests/fixtures/llamacpp-real/ holds one folder per build, recorded by
scripts/record-llamacpp-fixtures (each folder's README says how every file was made):

* ``0.5.0-dev-0c1e57098``: llama.cpp 0c1e57098 from the llama-cpp-python 0.3.36 sdist, which
  prints the current banner ``version: 0.5.0-dev (build 0, commit 0c1e57098)``;
* ``b5308-8733e0cf6``: llama.cpp 8733e0cf6 (release b5308) from the 0.3.9 sdist, which prints
  the old banner ``version: 0 (unknown)``.

Both were built without git, so both print build 0: unknown, recorded as null.  Every number
below was read off the files by eye; the timings are whatever the recording machine measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envstamp.errors import ParseError
from envstamp.parsers.kinds import parse, parse_to_data
from envstamp.parsers.llama_batched_bench import BatchedBenchRow, parse_batched_bench
from envstamp.parsers.llama_server import (
    ServerTiming,
    parse_metrics,
    parse_props,
    parse_response_timings,
    parse_server_log_timings,
)
from envstamp.parsers.llamacpp_log import parse_llama_log
from envstamp.probes.llm.llamacpp_build import backends_from_flags, parse_cmake_cache

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real"
NEW = REAL / "0.5.0-dev-0c1e57098"
OLD = REAL / "b5308-8733e0cf6"


def read(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def test_every_folder_says_how_its_files_were_made() -> None:
    for folder in (NEW, OLD):
        readme = read(folder, "README.md")
        for path in folder.iterdir():
            if path.name != "README.md":
                assert f"`{path.name}`" in readme, f"{folder.name}/{path.name} is not described"
        assert "scripts/make-tiny-gguf" in readme and "llama-cpp-python" in readme
        # no path of the recording machine: placeholders only
        for path in folder.iterdir():
            text = path.read_text(encoding="utf-8")
            for root in ("/work/", "/root/", "/tmp/", "/home/"):
                assert root not in text, f"{folder.name}/{path.name} holds a machine path"


# ---------------------------------------------------------------------------- identity


def test_current_banner() -> None:
    build = parse_llama_log(read(NEW, "version.txt"))
    assert (build.version, build.build_number, build.commit) == ("0.5.0-dev", None, "0c1e57098")
    assert (build.compiler, build.target) == ("GNU 12.2.0", "Linux x86_64")


def test_old_banner_of_a_build_without_git() -> None:
    build = parse_llama_log(read(OLD, "version.txt"))
    assert (build.version, build.build_number, build.commit) == (None, None, None)
    assert build.compiler == "cc (Debian 12.2.0-14+deb12u1) 12.2.0"
    assert build.target == "x86_64-linux-gnu"


@pytest.mark.parametrize("folder", [NEW, OLD], ids=["0.5.0-dev", "b5308"])
def test_list_devices_of_a_cpu_build_names_no_device(folder: Path) -> None:
    listed = read(folder, "list-devices.txt")
    assert listed.startswith("Available devices:")
    # the header alone is a list that names no device (review item 10g): devices [],
    # no backend and no identity, not "nothing recognised"
    alone = parse_llama_log(listed)
    assert (alone.devices, alone.version, alone.commit) == ([], None, None)
    assert not alone.backends
    build = parse_llama_log(read(folder, "version.txt") + listed)
    assert build.devices == []


@pytest.mark.parametrize("folder", [NEW, OLD], ids=["0.5.0-dev", "b5308"])
def test_parse_command_reads_a_list_of_no_device(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.cli.main import main

    assert main(["parse", "llama-version", str(folder / "list-devices.txt")]) == 0
    data = json.loads(capsys.readouterr().out)
    (build,) = data["llamacpp"]
    assert build["devices"] == []


def test_a_device_list_header_is_not_text_without_it() -> None:
    with pytest.raises(ParseError):
        parse_llama_log("Available memory: 12 GiB\n(none)\n")


@pytest.mark.parametrize(
    ("folder", "commit_flag", "source_dir"),
    [
        (NEW, "0c1e57098", "<build-root>/llama_cpp_python-0.3.36/vendor/llama.cpp"),
        (OLD, None, "<build-root>/llama_cpp_python-0.3.9/vendor/llama.cpp"),
    ],
    ids=["0.5.0-dev", "b5308"],
)
def test_build_options_say_cpu_backend(
    folder: Path, commit_flag: str | None, source_dir: str
) -> None:
    cache = parse_cmake_cache(read(folder, "CMakeCache.txt"))
    assert backends_from_flags(cache.flags) == ["CPU"]
    assert cache.flags["GGML_CPU"] == "ON"
    assert cache.flags["GGML_NATIVE"] == "OFF"  # scripts/build-llamacpp: no -march=native
    assert cache.flags["CMAKE_BUILD_TYPE"] == "Release"
    assert (cache.flags["GGML_CUDA"], cache.flags["GGML_VULKAN"]) == ("OFF", "OFF")
    assert cache.flags.get("LLAMA_BUILD_COMMIT") == commit_flag
    assert cache.source_dir == source_dir


def test_old_start_up_logs_carry_the_banner_and_the_cpu_backend() -> None:
    for name in ("server.log", "cli.txt", "batched-bench.txt.stderr.txt"):
        build = parse_llama_log(read(OLD, name))
        assert (build.build_number, build.commit) == (None, None), name
        assert build.compiler == "cc (Debian 12.2.0-14+deb12u1) 12.2.0", name
        assert build.target == "x86_64-linux-gnu", name
    # system_info: "... | CPU : SSE3 = 1 | ..." names the CPU backend
    assert parse_llama_log(read(OLD, "server.log")).backends == ["CPU"]


def test_new_chat_cli_banner_names_its_build_info() -> None:
    build = parse_llama_log(read(NEW, "cli.txt"))  # "build      : b0-0c1e57098"
    assert (build.build_number, build.commit) == (None, "0c1e57098")


def test_new_server_log_prints_no_banner_at_its_default_verbosity() -> None:
    with pytest.raises(ParseError):
        parse_llama_log(read(NEW, "server.log"))


# ---------------------------------------------------------------------------- llama-bench

# (test, avg_ts, stddev_ts, samples_ts) per format, read off the files
BENCH: dict[tuple[str, str], list[tuple[str, float, float, list[float] | None]]] = {
    ("new", "md"): [("pp16", 55252.96, 15402.17, None), ("tg8", 10481.84, 8343.04, None)],
    ("new", "csv"): [
        ("pp16", 60723.687052, 10192.5162, None),
        ("tg8", 14152.028595, 2427.12557, None),
    ],
    ("new", "json"): [
        ("pp16", 60657.317444, 9421.137819, [49858.8, 64915.3, 67197.8]),
        ("tg8", 15345.706388, 329.615203, [14993.3, 15397.3, 15646.5]),
    ],
    ("new", "jsonl"): [
        ("pp16", 62135.57148, 8197.387198, [52687.0, 66368.8, 67350.8]),
        ("tg8", 14331.118927, 1692.444044, [15135.9, 12386.5, 15471.0]),
    ],
    ("new", "sql"): [
        ("pp16", 64610.017569, 3923.130095, None),
        ("tg8", 14324.790779, 533.052354, None),
    ],
    ("old", "md"): [("pp16", 53508.07, 5427.81, None), ("tg8", 7480.47, 505.71, None)],
    ("old", "csv"): [
        ("pp16", 51021.110026, 5752.748615, None),
        ("tg8", 7651.295318, 407.938624, None),
    ],
    ("old", "json"): [
        # the first repetition of pp16 stalled: 101 t/s, as measured
        ("pp16", 35368.543778, 30901.669629, [101.317, 48303.2, 57701.1]),
        ("tg8", 7017.092119, 945.106927, [7528.17, 7596.61, 5926.49]),
    ],
    ("old", "jsonl"): [
        ("pp16", 32123.744745, 28601.062999, [152.03, 40941.8, 55277.4]),
        ("tg8", 7477.464309, 399.764352, [7070.09, 7493.14, 7869.16]),
    ],
    ("old", "sql"): [
        ("pp16", 55461.539551, 6310.055163, None),
        ("tg8", 7090.317507, 762.493851, None),
    ],
}
FOLDERS = {"new": NEW, "old": OLD}
COMMITS = {"new": "0c1e57098", "old": None}


@pytest.mark.parametrize(("build", "fmt"), sorted(BENCH), ids=str)
def test_llama_bench_rows(build: str, fmt: str) -> None:
    rows = parse("llama-bench", read(FOLDERS[build], f"bench.{fmt}"))["results"]
    got = [(r.test, r.avg_ts, r.stddev_ts, r.samples_ts) for r in rows]
    assert got == BENCH[(build, fmt)]
    assert {r.build_commit for r in rows} == {COMMITS[build]}
    assert {r.n_prompt for r in rows} == {16, 0} and {r.n_gen for r in rows} == {0, 8}
    if fmt in ("json", "jsonl"):
        assert all(len(r.samples_ts or []) == 3 for r in rows)  # -r 3


NANOSECONDS = {
    ("new", "csv"): [(269078, 49965), (577859, 109947)],
    ("new", "json"): [(268494, 45588), (521479, 11304)],
    ("new", "jsonl"): [(260773, 37200), (563836, 71271)],
    ("new", "sql"): [(248271, 15598), (558982, 20545)],
    ("old", "csv"): [(316131, 33764), (1047619, 57538)],
    # the stalled first repetition: a mean of 52.8 ms with a stddev of 91 ms
    ("old", "json"): [(52843054, 90999855), (1155215, 168651)],
    ("old", "jsonl"): [(35307452, 60565209), (1071932, 57579)],
    ("old", "sql"): [(291155, 35176), (1137550, 129106)],
}


@pytest.mark.parametrize(("build", "fmt"), sorted(NANOSECONDS), ids=str)
def test_llama_bench_times_in_nanoseconds(build: str, fmt: str) -> None:
    rows = parse("llama-bench", read(FOLDERS[build], f"bench.{fmt}"))["results"]
    assert [(r.avg_ns, r.stddev_ns) for r in rows] == NANOSECONDS[(build, fmt)]


@pytest.mark.parametrize("build", ["new", "old"])
def test_llama_bench_build_number_zero_is_unknown(build: str) -> None:
    """Both builds print build number 0 (no git): unknown, never 0."""
    for fmt in ("csv", "json", "jsonl", "sql"):
        rows = parse("llama-bench", read(FOLDERS[build], f"bench.{fmt}"))["results"]
        assert {r.build_number for r in rows} == {None}, fmt


# ----------------------------------------------------------------------- batched-bench

Row = tuple[int, int, int, int, float, float, float, float, float, float]
BATCHED: dict[tuple[str, str], list[Row]] = {
    ("new", "txt"): [
        (128, 32, 1, 160, 0.001, 88093.60, 0.004, 8602.15, 0.005, 30929.83),
        (128, 32, 2, 320, 0.002, 121557.45, 0.006, 10335.92, 0.008, 38563.51),
        (256, 32, 1, 288, 0.002, 112035.02, 0.007, 4631.64, 0.009, 31324.78),
        (256, 32, 2, 576, 0.004, 117728.22, 0.009, 7220.22, 0.013, 43593.43),
    ],
    ("new", "jsonl"): [
        (128, 32, 1, 160, 0.00149, 85906.039062, 0.003844, 8324.662109, 0.005334, 29996.25),
        (128, 32, 2, 320, 0.002051, 124817.164062, 0.006071, 10541.920898, 0.008122,
         39399.164062),
        (256, 32, 1, 288, 0.002281, 112231.484375, 0.006908, 4632.310547, 0.009189,
         31341.820312),
        (256, 32, 2, 576, 0.004512, 113475.179688, 0.00875, 7314.285645, 0.013262,
         43432.363281),
    ],
    ("old", "txt"): [
        (128, 32, 1, 160, 0.002, 76784.64, 0.005, 6902.50, 0.006, 25384.74),
        (128, 32, 2, 320, 0.005, 54410.20, 0.007, 8685.03, 0.012, 26503.23),
        (256, 32, 1, 288, 0.004, 65523.42, 0.005, 6364.36, 0.009, 32232.79),
        (256, 32, 2, 576, 0.030, 17062.69, 0.009, 6960.30, 0.039, 14693.13),
    ],
    ("old", "jsonl"): [
        (128, 32, 1, 160, 0.001656, 77294.6875, 0.011569, 2766.012695, 0.013225,
         12098.298828),
        (128, 32, 2, 320, 0.012281, 20845.208984, 0.13974, 457.993408, 0.152021, 2104.972168),
        (256, 32, 1, 288, 0.004148, 61716.492188, 0.008906, 3593.083252, 0.013054,
         22062.203125),
        (256, 32, 2, 576, 0.045603, 11227.332031, 0.016421, 3897.448486, 0.062024,
         9286.728516),
    ],
}
SETTINGS: dict[str, dict[str, int | bool | str]] = {
    "new": {"n_kv_max": 1024, "n_batch": 512, "n_ubatch": 256, "flash_attn": -1,
            "is_pp_shared": False, "n_gpu_layers": -1, "n_threads": 2, "n_threads_batch": 2},
    "old": {"n_kv_max": 1024, "n_batch": 512, "n_ubatch": 256, "flash_attn": 0,
            "is_pp_shared": False, "n_gpu_layers": -1, "n_threads": 2, "n_threads_batch": 2},
}


def attrs_tuple(row: BatchedBenchRow) -> tuple[Any, ...]:
    return (row.pp, row.tg, row.pl, row.n_kv, row.t_pp, row.speed_pp, row.t_tg, row.speed_tg,
            row.t, row.speed)


@pytest.mark.parametrize(("build", "fmt"), sorted(BATCHED), ids=str)
def test_batched_bench_rows_and_settings(build: str, fmt: str) -> None:
    bench = parse_batched_bench(read(FOLDERS[build], f"batched-bench.{fmt}"))
    assert [attrs_tuple(row) for row in bench.rows] == BATCHED[(build, fmt)]
    expected = dict(SETTINGS[build])
    if (build, fmt) == ("new", "txt"):
        expected["is_tg_separate"] = False  # the newer settings line has it, jsonl not
    assert bench.settings == expected


def test_batched_bench_kind_is_plain_json() -> None:
    data = parse_to_data("llama-batched-bench", read(NEW, "batched-bench.jsonl"))
    assert data["batched_bench"]["rows"][3]["speed"] == 43432.363281
    assert data["batched_bench"]["settings"]["n_kv_max"] == 1024


def test_batched_bench_times_printed_as_zero_are_unknown() -> None:
    """The wide run's table prints phases under half a millisecond as 0.000: unknown, while
    the speed the tool computed from its own clock stays; every timing keeps its precision."""
    rows = parse_batched_bench(read(NEW, "batched-bench-wide.txt")).rows
    assert len(rows) == 8
    # |     8 |      4 |    1 |     12 |    0.001 | 12718.60 |    0.000 | 11142.06 | ...
    assert (rows[0].t_pp, rows[0].t_tg, rows[0].speed_tg) == (0.001, None, 11142.06)
    # |     8 |      4 |    2 |     24 |    0.000 | 51779.94 |    0.000 | 16913.32 |    0.001 |
    assert (rows[1].t_pp, rows[1].speed_pp, rows[1].t_tg, rows[1].t) == (
        None, 51779.94, None, 0.001
    )
    assert rows[0].tolerance == {"t_pp": 0.0005, "speed_pp": 0.005, "speed_tg": 0.005,
                                 "t": 0.0005, "speed": 0.005}  # no precision for no value
    assert (rows[7].t_tg, rows[7].tolerance["t_tg"]) == (7.174, 0.0005)
    jsonl = parse_batched_bench(read(NEW, "batched-bench-wide.jsonl")).rows
    assert (jsonl[0].t_pp, jsonl[0].t_tg) == (0.00058, 0.000351)  # six decimals: known
    assert jsonl[0].tolerance == pytest.approx(dict.fromkeys(jsonl[0].tolerance, 5e-7))
    assert len(jsonl[0].tolerance) == 6


def test_batched_bench_jsonl_rows_win_over_the_table() -> None:
    """Both forms in one text (a script that ran the tool twice): the finer print is kept."""
    both = read(NEW, "batched-bench-wide.txt") + read(NEW, "batched-bench-wide.jsonl")
    rows = parse_batched_bench(both).rows
    jsonl = parse_batched_bench(read(NEW, "batched-bench-wide.jsonl")).rows
    assert rows == jsonl
    # a row only the table printed is kept: the jsonl run without its last row
    cut = [line for line in read(NEW, "batched-bench-wide.jsonl").splitlines() if line][:-1]
    rows = parse_batched_bench("\n".join(cut) + "\n" + read(NEW, "batched-bench-wide.txt")).rows
    assert rows[:7] == jsonl[:7]
    assert (rows[7].pp, rows[7].tg, rows[7].pl, rows[7].t_tg) == (1024, 128, 2, 7.174)


# ------------------------------------------------------------------------------ server

# (task, prompt_n, prompt_ms, per token, per second, predicted_n, ms, per token, per second,
#  total_ms) of each task in the log
LOG_TIMINGS = {
    "new": [
        (0, 3, 0.58, 0.19, 5136.99, 8, 1.05, 0.15, 6635.07, 1.64),
        (9, 1, 4.12, 4.12, 242.66, 8, 1.56, 0.22, 4475.70, 5.69),
        (18, 57, 1.98, 0.03, 28802.43, 8, 9.60, 1.37, 729.32, 11.58),
        (27, 1, 0.64, 0.64, 1569.86, 8, 1.62, 0.23, 4329.00, 2.25),
    ],
    "old": [
        (0, 3, 1.14, 0.38, 2629.27, 8, 1.21, 0.15, 6606.11, 2.35),
        (9, 1, 0.25, 0.25, 4032.26, 8, 1.53, 0.19, 5228.76, 1.78),
        (18, 57, 5.03, 0.09, 11341.03, 8, 1.51, 0.19, 5312.08, 6.53),
        (27, 1, 0.40, 0.40, 2493.77, 8, 1.99, 0.25, 4016.06, 2.39),
    ],
}


def _log_tuple(t: ServerTiming) -> tuple[Any, ...]:
    return (t.task_id, t.prompt_n, t.prompt_ms, t.prompt_per_token_ms, t.prompt_per_second,
            t.predicted_n, t.predicted_ms, t.predicted_per_token_ms, t.predicted_per_second,
            t.total_ms)


@pytest.mark.parametrize("build", ["new", "old"])
def test_server_log_timing_lines_per_task(build: str) -> None:
    # new: every line carries "slot print_timing: id 0 | task N |"; old: a slot line, then
    # three bare lines
    timings = parse_server_log_timings(read(FOLDERS[build], "server.log"))
    assert [_log_tuple(t) for t in timings] == LOG_TIMINGS[build]
    assert {t.slot_id for t in timings} == {0}


def test_new_cli_at_verbosity_3_prints_the_server_timing_lines() -> None:
    # the answer has no newline: the first timing line follows the generated text
    (timing,) = parse_server_log_timings(read(NEW, "cli-lv3.txt"))
    assert _log_tuple(timing) == (0, 58, 1.64, 0.03, 35452.32, 16, 3.00, 0.20, 5001.67, 4.63)


def test_old_cli_perf_lines_are_not_server_timings() -> None:
    # llama_perf_context_print lines belong to llama-cli, not to a server task
    with pytest.raises(ParseError):
        parse_server_log_timings(read(OLD, "cli.txt"))


# (file, cache_n, prompt_n, prompt_ms, prompt_per_second, predicted_n, predicted_ms,
#  predicted_per_second)
RESPONSES = {
    "new": [
        ("completion.json", 0, 3, 0.584, 5136.986301369863, 8, 1.055, 6635.071090047393),
        ("completion-stream.txt", 2, 1, 4.121, 242.65954865323948, 8, 1.564, 4475.703324808184),
        ("chat.json", 1, 57, 1.979, 28802.42546740778, 8, 9.598, 729.3186080433422),
        ("chat-stream.txt", 57, 1, 0.637, 1569.8587127158555, 8, 1.617, 4329.0043290043295),
    ],
    "old": [
        ("completion.json", None, 3, 1.141, 2629.2725679228743, 8, 1.211, 6606.110652353426),
        ("completion-stream.txt", None, 1, 0.248, 4032.2580645161293, 8, 1.53,
         5228.75816993464),
        ("chat.json", None, 57, 5.026, 11341.026661360924, 8, 1.506, 5312.084993359894),
        ("chat-stream.txt", None, 1, 0.401, 2493.7655860349128, 8, 1.992, 4016.0642570281125),
    ],
}


@pytest.mark.parametrize("build", ["new", "old"])
def test_response_timings_plain_and_streamed(build: str) -> None:
    for name, cache_n, prompt_n, prompt_ms, prompt_ps, pred_n, pred_ms, pred_ps in RESPONSES[
        build
    ]:
        (timing,) = parse_response_timings(read(FOLDERS[build], name))  # the last event's
        got = (timing.cache_n, timing.prompt_n, timing.prompt_ms, timing.prompt_per_second,
               timing.predicted_n, timing.predicted_ms, timing.predicted_per_second)
        assert got == (cache_n, prompt_n, prompt_ms, prompt_ps, pred_n, pred_ms, pred_ps), name
        assert timing.total_ms == pytest.approx(prompt_ms + pred_ms)
        assert timing.task_id is None  # answers do not name their task


@pytest.mark.parametrize("build", ["new", "old"])
def test_response_timings_agree_with_the_log(build: str) -> None:
    """The answers and the log report the same four tasks, rounded to 2 places in the log."""
    logged = parse_server_log_timings(read(FOLDERS[build], "server.log"))
    answered = [
        parse_response_timings(read(FOLDERS[build], name))[0]
        for name in ("completion.json", "completion-stream.txt", "chat.json", "chat-stream.txt")
    ]
    for log, answer in zip(logged, answered, strict=True):
        assert (log.prompt_n, log.predicted_n) == (answer.prompt_n, answer.predicted_n)
        assert log.prompt_ms == pytest.approx(answer.prompt_ms, abs=0.005)
        assert log.predicted_ms == pytest.approx(answer.predicted_ms, abs=0.005)


def test_props_of_the_new_server() -> None:
    props = parse_props(json.loads(read(NEW, "props.json")))
    assert (props.build_info, props.build_number, props.commit) == ("b0-0c1e57098", None,
                                                                    "0c1e57098")
    assert (props.model_path, props.model_alias, props.model_ftype) == ("tiny.gguf",
                                                                       "tiny.gguf", "F16")
    assert (props.total_slots, props.n_ctx, props.chat_template) == (1, 512, True)
    assert props.modalities == []  # vision, video and audio all false


def test_props_of_the_old_server() -> None:
    props = parse_props(json.loads(read(OLD, "props.json")))
    assert (props.build_info, props.build_number, props.commit) == ("b0-unknown", None, None)
    assert (props.model_path, props.model_alias, props.model_ftype) == ("tiny.gguf", None, None)
    assert (props.total_slots, props.n_ctx, props.chat_template) == (1, 512, True)


def test_props_kind_gives_the_build() -> None:
    sections = parse("llama-server-props", read(NEW, "props.json"))
    (build,) = sections["llamacpp"]
    assert (build.commit, build.build_number, build.source) == ("0c1e57098", None, "/props")


METRICS = {
    "new": {
        "llamacpp:prompt_tokens_total": 62.0,
        "llamacpp:prompt_tokens_cached_total": 60.0,
        "llamacpp:prompt_seconds_total": 0.007121,
        "llamacpp:tokens_predicted_total": 32.0,
        "llamacpp:tokens_predicted_seconds_total": 0.013834,
        "llamacpp:n_decode_total": 32.0,
        "llamacpp:n_tokens_max": 65.0,
        "llamacpp:spec_decode_num_draft_tokens_total": 0.0,
        "llamacpp:spec_decode_num_accepted_tokens_total": 0.0,
        "llamacpp:spec_decode_num_drafts_total": 0.0,
        "llamacpp:prompt_tokens_seconds": 8706.64,
        "llamacpp:predicted_tokens_seconds": 2024.0,
        "llamacpp:requests_processing": 0.0,
        "llamacpp:requests_deferred": 0.0,
        "llamacpp:n_busy_slots_per_decode": 1.0,
    },
    "old": {
        "llamacpp:prompt_tokens_total": 62.0,
        "llamacpp:prompt_seconds_total": 0.006,
        "llamacpp:tokens_predicted_total": 32.0,
        "llamacpp:tokens_predicted_seconds_total": 0.004,
        "llamacpp:n_decode_total": 32.0,
        "llamacpp:n_busy_slots_per_decode": 1.0,
        "llamacpp:prompt_tokens_seconds": 10333.3,
        "llamacpp:predicted_tokens_seconds": 8000.0,
        "llamacpp:kv_cache_usage_ratio": 0.126953,
        "llamacpp:kv_cache_tokens": 65.0,
        "llamacpp:requests_processing": 0.0,
        "llamacpp:requests_deferred": 0.0,
    },
}


@pytest.mark.parametrize("build", ["new", "old"])
def test_metrics(build: str) -> None:
    assert parse_metrics(read(FOLDERS[build], "metrics.txt")) == METRICS[build]


@pytest.mark.parametrize("build", ["new", "old"])
def test_health_is_no_props(build: str) -> None:
    assert json.loads(read(FOLDERS[build], "health.json")) == {"status": "ok"}
    with pytest.raises(ParseError):
        parse("llama-server-props", read(FOLDERS[build], "health.json"))
