"""benchclient/apis: what each API is asked, and how each stream is read - on the recorded
answers of a real llama-server (tests/fixtures/bench) and on streams written from the
Ollama, LM Studio and OpenAI field names (tests/benchclient/fake_server.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.benchclient import apis
from tests.benchclient import fake_server as fake

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bench"


def recorded_streams(folder: str, route: str) -> list[dict[str, Any]]:
    """The recorded answers of one route (POSTs of the benchmark requests)."""
    found = []
    for path in sorted((FIXTURES / folder).glob("http_stream-*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["key"]["url"].endswith(route) and record["key"]["method"] == "POST":
            found.append(record)
    assert found, (folder, route)
    return found


def timed(lines: list[str], step: float = 0.01) -> list[list[Any]]:
    return [[i * step, line] for i, line in enumerate(lines)]


def sse(events: list[Any], done: bool = True) -> list[list[Any]]:
    texts = ["data: " + (e if isinstance(e, str) else json.dumps(e)) for e in events]
    return timed(texts + (["data: [DONE]"] if done else []))


def ndjson(events: list[Any]) -> list[list[Any]]:
    return timed([json.dumps(e) for e in events])


# ------------------------------------------------------------------------------ requests


@pytest.mark.parametrize("api", apis.APIS)
def test_every_api_asks_a_stream_at_temperature_0_with_the_seed(api: str) -> None:
    spec = apis.build_request(api, prompt="one two", n_gen=16, seed=9, model="m")
    body = json.loads(spec.encoded())
    assert spec.path == apis.route(api) and body["stream"] is True
    options = body.get("options", body)
    assert options["temperature"] == 0 and options["seed"] == 9
    limit = options.get("n_predict", options.get("num_predict", options.get("max_tokens")))
    assert limit == 16
    text = body.get("prompt") or body["messages"][0]["content"]
    assert text == "one two"


def test_llama_server_is_asked_for_every_token_and_no_cache() -> None:
    body = apis.build_request("llama-completion", prompt="x", n_gen=4, seed=1, model=None).body
    assert body["ignore_eos"] is True and body["cache_prompt"] is False
    openai = apis.build_request("openai-completions", prompt="x", n_gen=4, seed=1, model="m",
                                server="llama-server").body
    assert openai["ignore_eos"] is True and openai["cache_prompt"] is False
    assert openai["stream_options"] == {"include_usage": True}


def test_other_servers_get_no_llama_fields() -> None:
    body = apis.build_request("openai-chat", prompt="x", n_gen=4, seed=1, model="m",
                              server="openai-compatible").body
    assert "ignore_eos" not in body and "cache_prompt" not in body
    vllm = apis.build_request("openai-completions", prompt="x", n_gen=4, seed=1, model="m",
                              server="vllm").body
    assert vllm["ignore_eos"] is True and "cache_prompt" not in vllm


def test_ollama_generate_is_raw_and_names_its_model() -> None:
    body = apis.build_request("ollama-generate", prompt="x", n_gen=4, seed=1,
                              model="llama3.2:1b").body
    assert body["model"] == "llama3.2:1b" and body["raw"] is True
    assert body["options"] == {"num_predict": 4, "temperature": 0, "seed": 1}


# ------------------------------------------------------------------- real llama-server


@pytest.mark.parametrize(
    ("folder", "route", "api"),
    [("llama-server-0c1e570-llama-completion", "/completion", "llama-completion"),
     ("llama-server-0c1e570-openai-completions", "/v1/completions", "openai-completions"),
     ("llama-server-0c1e570-openai-chat", "/v1/chat/completions", "openai-chat")],
)
def test_recorded_llama_server_streams_read_with_its_timings(
    folder: str, route: str, api: str
) -> None:
    for record in recorded_streams(folder, route):
        answer = record["answer"]
        reading = apis.read_stream(api, answer["lines"])
        assert reading.error is None and reading.done
        figures = reading.figures
        assert figures is not None and figures.source == "timings"
        # The body asked for 8 tokens, ignoring the end of sequence: the server says 8.
        assert json.loads(record["key"]["body"]).get("n_predict", 8) == 8
        assert figures.predicted_n == 8
        assert figures.prompt_ms is not None and figures.prompt_ms > 0
        assert 1 <= len(reading.token_times) <= 8
        assert reading.token_times == sorted(reading.token_times)
        assert reading.model == "tiny.gguf"


def test_llama_server_merges_tokens_that_split_a_character() -> None:
    """The recorded /completion answers hold fewer token events than tokens: llama-server
    holds back a token that ends inside a UTF-8 character and sends it with the next.  The
    count is the server's, the arrival times the events'."""
    readings = [apis.read_stream("llama-completion", r["answer"]["lines"])
                for r in recorded_streams("llama-server-0c1e570-llama-completion", "/completion")]
    assert any(len(r.token_times) < 8 for r in readings)
    assert all(r.figures is not None and r.figures.predicted_n == 8 for r in readings)


# -------------------------------------------------------------------- other APIs, faults


def test_ollama_generate_final_event_gives_counts_and_nanoseconds() -> None:
    reading = apis.read_stream("ollama-generate", ndjson(fake.ollama_generate_events(5)))
    assert reading.error is None and reading.done and len(reading.token_times) == 5
    figures = reading.figures
    assert figures is not None and figures.source == "ollama"
    assert (figures.prompt_n, figures.predicted_n) == (40, 5)
    assert figures.prompt_ms == pytest.approx(50.0) and figures.predicted_ms == pytest.approx(50.0)
    assert figures.load_ms == pytest.approx(20.0) and figures.total_ms == pytest.approx(250.0)
    assert figures.gen_tps == pytest.approx(100.0) and figures.prompt_tps == pytest.approx(800.0)


def test_ollama_chat_reads_message_content() -> None:
    reading = apis.read_stream("ollama-chat", ndjson(fake.ollama_chat_events(3)))
    assert reading.done and len(reading.token_times) == 3
    assert reading.figures is not None and reading.figures.predicted_n == 3


@pytest.mark.parametrize("api", ["lmstudio-completions", "lmstudio-chat"])
def test_lmstudio_stats_are_the_servers_figures(api: str) -> None:
    chunks = fake.openai_chunks(4, chat=api.endswith("chat"), model="m",
                                stats=fake.LMSTUDIO_STATS)
    reading = apis.read_stream(api, sse(chunks))
    assert reading.error is None and len(reading.token_times) == 4
    figures = reading.figures
    assert figures is not None and figures.source == "stats"
    assert figures.ttft_ms == pytest.approx(121.0) and figures.gen_tps == pytest.approx(51.5)
    assert figures.predicted_ms == pytest.approx(80.0)
    assert (figures.prompt_n, figures.predicted_n) == (33, 4)
    assert reading.extra["runtime"]["version"] == "1.52.1"


def test_openai_usage_alone_gives_counts() -> None:
    reading = apis.read_stream("openai-chat", sse(fake.openai_chunks(3, chat=True, model="m")))
    assert reading.figures is not None and reading.figures.source == "usage"
    assert reading.figures.predicted_n == 3 and reading.figures.gen_tps is None


def test_reasoning_deltas_are_tokens_too() -> None:
    events = [{"choices": [{"index": 0, "delta": {"reasoning_content": "hm"}}]},
              {"choices": [{"index": 0, "delta": {"content": "ok"}}]},
              {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
    assert len(apis.read_stream("openai-chat", sse(events)).token_times) == 2


@pytest.mark.parametrize(
    ("api", "lines", "kind"),
    [
        ("openai-chat", sse([{"choices": []}], done=False), "incomplete"),
        ("openai-completions", sse(["{not json"]), "malformed"),
        ("openai-completions", sse([[1, 2]]), "malformed"),
        ("openai-completions", sse([{"error": {"message": "model not loaded"}}]),
         "server_error"),
        ("llama-completion", sse(fake.llama_events(3)[:-1], done=False), "incomplete"),
        ("ollama-generate", ndjson(fake.ollama_generate_events(3)[:-1]), "incomplete"),
        ("ollama-generate", ndjson([{"error": "model 'x' not found"}]), "server_error"),
        ("ollama-chat", timed(["garbage"]), "malformed"),
        ("openai-chat", timed(["error: overloaded"]), "server_error"),
        ("openai-chat", [], "incomplete"),
    ],
)
def test_bad_streams_say_how_they_failed(api: str, lines: list[list[Any]], kind: str) -> None:
    reading = apis.read_stream(api, lines)
    assert reading.error is not None and reading.error_kind == kind


def test_sse_comments_and_fields_are_skipped() -> None:
    lines = timed([": ping", "event: message", "id: 3", "retry: 10",
                   'data: {"choices": [{"index": 0, "text": "a"}]}', "data: [DONE]"])
    reading = apis.read_stream("openai-completions", lines)
    assert reading.error is None and reading.token_times == [0.04]


@given(st.lists(st.one_of(st.text(max_size=30), st.binary(max_size=30).map(repr)), max_size=8),
       st.sampled_from(apis.APIS))
def test_any_lines_are_read_without_raising(texts: list[str], api: str) -> None:
    reading = apis.read_stream(api, timed(texts))
    assert reading.done or reading.error is not None


@given(st.dictionaries(st.sampled_from(["prompt_n", "prompt_ms", "predicted_n", "predicted_ms",
                                        "cache_n"]),
                       st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=True),
                                 st.text(max_size=3), st.booleans(), st.none())))
def test_server_figures_are_never_negative_or_nonsense(timings: dict[str, Any]) -> None:
    figures = apis.figures_from_timings(timings)
    for value in (figures.prompt_n, figures.prompt_ms, figures.predicted_n,
                  figures.predicted_ms, figures.cached_n, figures.prompt_tps, figures.gen_tps):
        assert value is None or (value >= 0 and value == value and value != float("inf"))
