"""llama-server parsers: log timing lines in each era's layout, response timings, /props and
/metrics, rendered the way llama.cpp's C++ prints them and read back.  Real outputs of two
builds are checked value by value in tests/parsers/test_llamacpp_real.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.llama_server import (
    parse_metrics,
    parse_props,
    parse_response_timings,
    parse_server_log_timings,
    parse_timings,
)

PROMPT = "prompt eval time = %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)"
EVAL = "       eval time = %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)"
TOTAL = "      total time = %10.2f ms / %5d tokens"


@st.composite
def tasks(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "task": draw(st.integers(0, 10_000)),
        "slot": draw(st.integers(0, 7)),
        "prompt_n": draw(st.integers(1, 8192)),
        "prompt_ms": draw(st.floats(0.01, 1e5)),
        "predicted_n": draw(st.integers(1, 4096)),
        "predicted_ms": draw(st.floats(0.01, 1e5)),
    }


def lines_of(task: dict[str, Any]) -> tuple[str, str, str]:
    p_ms, p_n, g_ms, g_n = task["prompt_ms"], task["prompt_n"], task["predicted_ms"], task[
        "predicted_n"]
    return (
        PROMPT % (p_ms, p_n, p_ms / p_n, 1e3 * p_n / p_ms),
        EVAL % (g_ms, g_n, g_ms / g_n, 1e3 * g_n / g_ms),
        TOTAL % (p_ms + g_ms, p_n + g_n),
    )


def current_log(items: list[dict[str, Any]]) -> str:
    """Late 2025: each line carries the slot and the task (SLT_INF), timestamps in front."""
    out = []
    for t in items:
        prefix = f"0.00.203.843 I slot print_timing: id {t['slot']:2d} | task {t['task']} | "
        out += [prefix + line.strip() for line in lines_of(t)]
        out.append(prefix + "graphs reused =          7")
        out.append(f"0.00.203.900 I slot      release: id {t['slot']:2d} | task {t['task']} | "
                   "stop processing: n_tokens = 10, truncated = 0")
    return "\n".join(out)


def early_2025_log(items: list[dict[str, Any]]) -> str:
    """Early 2025: one slot line, then the three timing lines bare."""
    out = []
    for t in items:
        out.append(f"slot print_timing: id {t['slot']:2d} | task {t['task']} | ")
        out += list(lines_of(t))
        out.append("srv  update_slots: all slots are idle")
    return "\n".join(out)


def json_log(items: list[dict[str, Any]]) -> str:
    """The 2024 JSON log: the text in msg, the ids beside it."""
    out = []
    for t in items:
        for line in lines_of(t):
            out.append(json.dumps({"tid": "1", "level": "INFO", "function": "print_timings",
                                   "msg": line.replace("       eval", "generation eval"),
                                   "id_slot": t["slot"], "id_task": t["task"]}))
    return "\n".join(out)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([current_log, early_2025_log, json_log]),
       st.lists(tasks(), min_size=1, max_size=5))
def test_each_log_layout_gives_one_timing_per_task(
    render: Any, items: list[dict[str, Any]]
) -> None:
    timings = parse_server_log_timings(render(items))
    assert [(t.task_id, t.slot_id) for t in timings] == [(i["task"], i["slot"]) for i in items]
    for got, item in zip(timings, items, strict=True):
        assert (got.prompt_n, got.predicted_n) == (item["prompt_n"], item["predicted_n"])
        assert got.prompt_ms == pytest.approx(item["prompt_ms"], abs=0.005 + 1e-9)
        assert got.predicted_ms == pytest.approx(item["predicted_ms"], abs=0.005 + 1e-9)
        assert got.total_ms == pytest.approx(item["prompt_ms"] + item["predicted_ms"], abs=0.01)


def test_zero_generated_tokens_print_rates_that_are_unknown() -> None:
    log = ("slot print_timing: id  0 | task 3 | prompt eval time =  5.00 ms / 10 tokens "
           "(0.50 ms per token, 2000.00 tokens per second)\n"
           "slot print_timing: id  0 | task 3 |        eval time =  0.00 ms /  0 tokens "
           "(    -nan ms per token,      inf tokens per second)\n")
    (timing,) = parse_server_log_timings(log)
    assert (timing.predicted_n, timing.predicted_ms) == (0, 0.0)
    assert (timing.predicted_per_token_ms, timing.predicted_per_second) == (None, None)


def test_llama_cli_perf_lines_are_not_server_tasks() -> None:
    with pytest.raises(ParseError):
        parse_server_log_timings(
            "llama_perf_context_print: prompt eval time =  0.25 ms / 3 tokens "
            "(0.08 ms per token, 11904.76 tokens per second)\n"
            "llama_perf_context_print:        eval time = 9.23 ms / 15 runs "
            "(0.62 ms per token, 1625.66 tokens per second)\n"
        )


timing_values = st.fixed_dictionaries({
    "prompt_n": st.integers(0, 10**6),
    "prompt_ms": st.floats(0, 1e6),
    "prompt_per_second": st.floats(0, 1e7),
    "predicted_n": st.integers(0, 10**6),
    "predicted_ms": st.floats(0, 1e6),
    "predicted_per_second": st.floats(0, 1e7),
}, optional={"cache_n": st.integers(0, 10**6), "draft_n": st.integers(0, 100),
             "draft_n_accepted": st.integers(0, 100)})


@settings(max_examples=100, deadline=None)
@given(timing_values, st.booleans())
def test_response_timings_read_back_plain_or_streamed(
    values: dict[str, Any], stream: bool
) -> None:
    body = {"content": "x", "stop": True, "timings": values}
    text = (f'data: {{"content": "a", "stop": false}}\n\ndata: {json.dumps(body)}\n\n'
            "data: [DONE]\n" if stream else json.dumps(body))
    (timing,) = parse_response_timings(text)
    assert (timing.prompt_n, timing.predicted_n) == (values["prompt_n"], values["predicted_n"])
    assert (timing.prompt_ms, timing.predicted_per_second) == (
        values["prompt_ms"], values["predicted_per_second"])
    assert timing.cache_n == values.get("cache_n")
    assert timing.draft_n_accepted == values.get("draft_n_accepted")


def test_timings_object_alone_or_inside_its_response() -> None:
    inner = {"prompt_n": 3, "prompt_ms": 1.5, "predicted_n": 8, "predicted_ms": 2.5}
    assert parse_timings(inner) == parse_timings({"timings": inner})
    assert parse_timings(inner).total_ms == 4.0
    with pytest.raises(ParseError):
        parse_timings({"content": "no timings here"})


@pytest.mark.parametrize(
    ("build_info", "expected"),
    [("b7123-0c1e57098", (7123, "0c1e57098")), ("b0-unknown", (None, None)),
     ("b0-0c1e57098", (None, "0c1e57098")), ("custom", (None, None))],
)
def test_props_build_info(build_info: str, expected: tuple[Any, ...]) -> None:
    props = parse_props({"build_info": build_info, "total_slots": 4, "model_path": "m.gguf",
                         "default_generation_settings": {"n_ctx": 4096},
                         "modalities": {"vision": True, "audio": False}})
    assert (props.build_number, props.commit) == expected
    assert (props.total_slots, props.n_ctx, props.modalities) == (4, 4096, ["vision"])


def test_something_else_is_no_props() -> None:
    with pytest.raises(ParseError):
        parse_props({"status": "ok"})


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.from_regex(r"llamacpp:[a-z_]{1,20}", fullmatch=True),
                       st.floats(-1e9, 1e9), min_size=1, max_size=12))
def test_metrics_read_back(values: dict[str, float]) -> None:
    lines = []
    for name, value in values.items():
        lines += [f"# HELP {name} something", f"# TYPE {name} gauge", f"{name} {value!r}"]
    assert parse_metrics("\n".join(lines)) == values


def test_metrics_labels_kept_and_non_finite_values_left_out() -> None:
    text = ('llamacpp:requests_processing{slot="0"} 1\nllamacpp:x NaN\nllamacpp:y +Inf\n'
            "llamacpp:z 3 1700000000000\n")
    assert parse_metrics(text) == {'llamacpp:requests_processing{slot="0"}': 1.0,
                                   "llamacpp:z": 3.0}
    with pytest.raises(ParseError):
        parse_metrics("# HELP only comments\n")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_timings_or_a_parse_error(text: str) -> None:
    for parser in (parse_server_log_timings, parse_response_timings, parse_metrics):
        try:
            result: Any = parser(text)
        except ParseError:
            continue
        assert result  # a parser that does not raise found something


@pytest.mark.parametrize(
    "name",
    [
        "text/lscpu/intel-i7-12700h-util-linux-2.39.txt",  # "Model:  154", "BogoMIPS:  5376.00"
        "amd/amd-smi-text-mi210x2.txt",  # "GPU: 1"
        "nvidia/a100-mig-2gpu-535-q.txt",  # "Device  1"
    ],
)
def test_metrics_refuse_other_tools_lines_that_have_a_samples_shape(name: str) -> None:
    text = (Path(__file__).parents[1] / "fixtures" / name).read_text(encoding="utf-8")
    with pytest.raises(ParseError):
        parse_metrics(text)


def test_metrics_keep_only_llama_servers_namespace() -> None:
    text = ("process_cpu_seconds_total 4.5\nModel: 154\n"
            'llamacpp:requests_deferred{slot="1"} 2\n')
    assert parse_metrics(text) == {'llamacpp:requests_deferred{slot="1"}': 2.0}
