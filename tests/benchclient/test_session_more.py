"""benchclient/session, the less common paths: koboldcpp and llamafile lookalikes, how the
model is chosen, prompt sizing when the server cannot tokenize, warm-ups that fail, the
table the verb prints."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envstamp.benchclient import figures, session
from envstamp.cli.bench import format_table
from envstamp.runner import LiveRunner
from envstamp.runner.streaming import StreamLimits
from tests.benchclient import fake_server as fake

QUICK = StreamLimits(connect_s=1.0, first_byte_s=0.5, stall_s=0.3, total_s=5.0)


def plan(url: str, **more: Any) -> session.BenchPlan:
    values: dict[str, Any] = {"prompt_tokens": (12,), "gen_tokens": (3,), "repetitions": 1,
                              "warmup": 0, "limits": QUICK}
    values.update(more)
    return session.BenchPlan(url=url, **values)


def test_koboldcpp_is_asked_on_its_openai_route() -> None:
    routes = {
        ("GET", "/api/extra/version"): fake.fixed(fake.json_answer(
            {"result": "KoboldCpp", "version": "1.98.1", "protected": False})),
        ("GET", "/v1/models"): fake.fixed(fake.json_answer(
            {"object": "list", "data": [{"id": "koboldcpp/Mistral-7B", "object": "model",
                                         "owned_by": "koboldcpp"}]})),
        ("POST", "/v1/completions"): fake.fixed(fake.sse_events(
            fake.openai_chunks(3, chat=False, model="koboldcpp/Mistral-7B"))),
    }
    with fake.serving(routes) as server:
        prepared = session.prepare(plan(server.url), LiveRunner())
        levels = list(session.measure(prepared, LiveRunner()))
    prov = prepared.provenance
    assert (prov.server, prov.version, prepared.api) == ("koboldcpp", "1.98.1",
                                                         "openai-completions")
    body = json.loads(next(b for m, p, b in server.requests if p == "/v1/completions"))
    assert body["model"] == "koboldcpp/Mistral-7B" and "ignore_eos" not in body
    assert levels[0].requests[0].ok


def test_a_llamafile_gets_llama_fields_and_its_build() -> None:
    routes = fake.llama_routes(2)
    props = {"build_info": "b4000-0a1b2c3d", "model_path": "/zip/model.gguf",
             "total_slots": 1}
    routes[("GET", "/props")] = fake.fixed(fake.json_answer(
        props, extra={"Server": "llamafile/0.9.3"}))
    with fake.serving(routes) as server:
        prepared = session.prepare(plan(server.url, api="openai-completions"), LiveRunner())
    assert prepared.provenance.server == "llamafile"
    assert prepared.provenance.build is not None
    assert prepared.provenance.build.build_number == 4000
    assert "llamafile /props" in (prepared.provenance.build.source or "")


def test_ollama_without_a_loaded_model_takes_its_first_installed_one() -> None:
    routes = fake.ollama_routes(2)
    routes[("GET", "/api/ps")] = fake.fixed(fake.json_answer({"models": []}))
    with fake.serving(routes) as server:
        prepared = session.prepare(plan(server.url), LiveRunner())
    assert prepared.provenance.model == "llama3.2:1b"


def test_ollama_with_no_model_at_all_is_benchmarked_without_one() -> None:
    routes = fake.ollama_routes(2)
    routes[("GET", "/api/ps")] = fake.fixed(fake.json_answer({"models": []}))
    routes[("GET", "/api/tags")] = fake.fixed(fake.json_answer({"models": []}))
    routes[("POST", "/api/generate")] = fake.fixed(fake.json_answer(
        {"error": "model is required"}, 400))
    with fake.serving(routes) as server:
        prepared = session.prepare(plan(server.url), LiveRunner())
        (level,) = session.measure(prepared, LiveRunner())
    assert prepared.provenance.model is None
    (request,) = level.requests
    assert request.failure == "http_status" and "model is required" in (request.detail or "")


def test_a_named_model_is_asked_for() -> None:
    with fake.serving(fake.ollama_routes(2)) as server:
        prepared = session.prepare(plan(server.url, model="qwen3:8b"), LiveRunner())
        list(session.measure(prepared, LiveRunner()))
    asked = [json.loads(b) for m, p, b in server.requests if p == "/api/generate"]
    assert asked and all(body["model"] == "qwen3:8b" for body in asked)


def test_without_tokenize_one_word_is_one_token() -> None:
    routes = fake.llama_routes(2)
    routes[("POST", "/tokenize")] = fake.fixed(fake.json_answer({"error": "no"}, 404))
    with fake.serving(routes) as server:
        prepared = session.prepare(plan(server.url, prompt_tokens=(40,)), LiveRunner())
    assert prepared.words == {40: 40}


def test_warm_ups_run_first_and_are_kept_apart() -> None:
    with fake.serving(fake.llama_routes(2)) as server:
        prepared = session.prepare(plan(server.url, warmup=2), LiveRunner())
        (level,) = session.measure(prepared, LiveRunner())
    assert len(prepared.warmups) == 2 and all(w.ok for w in prepared.warmups)
    assert len(level.requests) == 1
    prompts = [json.loads(b)["prompt"].split()[0] for m, p, b in server.requests
               if p == "/completion"]
    assert prompts == ["1", "2", "3"]  # warm-ups first, each its own prompt


def test_a_failing_warm_up_does_not_stop_the_bench() -> None:
    calls = {"n": 0}

    def flaky(_body: bytes) -> list[fake.Step]:
        calls["n"] += 1
        if calls["n"] == 1:
            return fake.json_answer({"error": "loading"}, 503)
        return fake.sse_events(fake.llama_events(2), done=False)

    routes = fake.llama_routes(2)
    routes[("POST", "/completion")] = flaky
    with fake.serving(routes) as server:
        prepared = session.prepare(plan(server.url, warmup=1), LiveRunner())
        (level,) = session.measure(prepared, LiveRunner())
    assert prepared.warmups[0].failure == "http_status"
    assert level.requests[0].ok


def test_the_table_shows_a_level_that_failed_with_dashes() -> None:
    prepared = session.Prepared(plan("http://127.0.0.1:1"), None,  # type: ignore[arg-type]
                                "llama-completion", None)  # type: ignore[arg-type]
    good = figures.RequestFigures(ttft_ms=10.0, tokens_per_s=50.0, gen_tokens=4,
                                  prompt_tokens=12, e2el_ms=90.0, itl_ms=[20.0])
    levels = [session.Level(12, 3, 1, [figures.failed_request("stall", "x")], 1.0),
              session.Level(12, 3, 2, [good, figures.failed_request("refused", None)], 2.0)]
    rows = format_table(prepared, levels).splitlines()
    assert rows[2] == "| pp12+tg3 | 1 | 0/1 | - | - | - | - | - | - | - | - |"
    assert rows[3].startswith("| pp12+tg3 | 2 | 1/2 | 10.00 | - | ")
    assert rows[3].endswith("| 50.0 | - | 20.00 | 0.50 |")


@pytest.mark.parametrize("clients", [1, 3])
def test_each_request_of_a_level_is_numbered_once(clients: int) -> None:
    with fake.serving(fake.llama_routes(2)) as server:
        prepared = session.prepare(plan(server.url, repetitions=3, concurrency=(clients,)),
                                   LiveRunner())
        (level,) = session.measure(prepared, LiveRunner())
    assert len(level.requests) == 3 * clients
    firsts = sorted(int(json.loads(b)["prompt"].split()[0]) for m, p, b in server.requests
                    if p == "/completion")
    assert firsts == list(range(1, 3 * clients + 1))
    assert all(r.started_s >= 0 for r in level.requests)
