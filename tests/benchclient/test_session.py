"""benchclient/session: a bench against servers - the recorded exchanges of a real
llama-server replayed, and fake Ollama, LM Studio, vLLM and llama-server lookalikes for the
APIs and every fault (tests/benchclient/fake_server.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.benchclient import session
from envstamp.runner import LiveRunner, ReplayRunner
from envstamp.runner.streaming import StreamLimits
from tests.benchclient import fake_server as fake
from tests.benchclient.record_fixtures import PLAN

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bench"
QUICK = StreamLimits(connect_s=1.0, first_byte_s=0.5, stall_s=0.3, total_s=5.0)


def plan(url: str, **more: Any) -> session.BenchPlan:
    values: dict[str, Any] = {"prompt_tokens": (16,), "gen_tokens": (4,), "repetitions": 2,
                              "warmup": 0, "limits": QUICK}
    values.update(more)
    return session.BenchPlan(url=url, **values)


def run_all(bench: session.BenchPlan, runner: Any = None) -> tuple[session.Prepared,
                                                                    list[session.Level]]:
    runner = runner or LiveRunner()
    prepared = session.prepare(bench, runner)
    assert prepared.failure is None, prepared.failure
    return prepared, list(session.measure(prepared, runner))


# ------------------------------------------------------------------ a real llama-server


@pytest.mark.parametrize("api", ["llama-completion", "openai-completions", "openai-chat"])
def test_a_recorded_real_llama_server_session_replays(api: str) -> None:
    folder = FIXTURES / f"llama-server-0c1e570-{api}"
    bench = session.BenchPlan(url="http://127.0.0.1:18080", api=api, **PLAN)  # type: ignore[arg-type]
    prepared, levels = run_all(bench, ReplayRunner(folder))
    prov = prepared.provenance
    assert prov.server == "llama-server" and prov.model_path == "tiny.gguf"
    assert prov.build is not None and prov.build.commit == "0c1e57098"
    assert prov.build.build_number is None  # "b0": built without git's count
    assert [(lv.concurrency, len(lv.requests)) for lv in levels] == [(1, 2), (2, 4)]
    for level in levels:
        for request in level.requests:
            assert request.ok, request.detail
            server = request.server
            assert server is not None and server.source == "timings"
            assert request.gen_tokens == 8
            assert request.ttft_ms is not None and request.tokens_per_s is not None
            # The client cannot see the first token before the server made it.
            assert server.prompt_ms is not None and request.ttft_ms >= server.prompt_ms
    # The prompts were sized with the server's own tokenizer: it counted 32 (BOS included);
    # a chat prompt gets the chat template's tokens on top.
    counted = {r.prompt_tokens for lv in levels for r in lv.requests}
    assert counted == {32} if api != "openai-chat" else (len(counted) == 1 and min(counted) > 32)
    # A replay is the recording: the same figures twice, the levels' clocks included.
    again = list(session.measure(session.prepare(bench, ReplayRunner(folder)),
                                 ReplayRunner(folder)))
    assert [attrs.asdict(lv) for lv in again] == [attrs.asdict(lv) for lv in levels]
    assert all(lv.wall_s > 0 for lv in levels)
    starts = [r.started_s for r in levels[1].requests]
    assert starts[0] >= 0 and max(starts) < levels[1].wall_s


# --------------------------------------------------------------------- servers by API


def test_ollama_is_benchmarked_with_its_own_figures() -> None:
    with fake.serving(fake.ollama_routes(4)) as server:
        prepared, levels = run_all(plan(server.url))
    prov = prepared.provenance
    assert (prov.server, prepared.api, prov.version, prov.model) == (
        "ollama", "ollama-generate", "0.12.3", "llama3.2:1b")
    assert prov.ollama is not None and prov.ollama.loaded_models[0].gpu_percent == 75
    assert prov.ollama.loaded_models[0].size_bytes == 2_000_000_000
    assert [m.digest for m in prov.models] == ["ab" * 32]
    assert prov.models[0].sha256 == fake.OLLAMA_BLOB
    request = levels[0].requests[0]
    assert request.ok and request.server is not None
    assert request.server.load_ms == pytest.approx(20.0)
    assert request.gen_tokens == 4 and request.prompt_tokens == 40
    shown = [json.loads(body) for method, path, body in server.requests if path == "/api/show"]
    assert shown == [{"model": "llama3.2:1b"}]


def test_ollama_chat_by_api_override() -> None:
    with fake.serving(fake.ollama_routes(3)) as server:
        prepared, levels = run_all(plan(server.url, api="ollama-chat"))
    assert prepared.api == "ollama-chat"
    assert all(r.ok and r.gen_tokens == 3 for r in levels[0].requests)
    assert any(path == "/api/chat" for _, path, _ in server.requests)


def test_lmstudio_stats_and_runtime() -> None:
    with fake.serving(fake.lmstudio_routes(4)) as server:
        prepared, levels = run_all(plan(server.url, warmup=1))
    prov = prepared.provenance
    assert (prov.server, prepared.api, prov.model) == (
        "lmstudio", "lmstudio-completions", "qwen2.5-7b-instruct")
    assert prov.lmstudio is not None
    assert [m.name for m in prov.lmstudio.loaded_models] == ["qwen2.5-7b-instruct"]
    assert prov.lmstudio.selected_runtimes[0].version == "1.52.1"
    request = levels[0].requests[0]
    assert request.server is not None and request.server.ttft_ms == pytest.approx(121.0)


def test_vllm_by_its_models_owner() -> None:
    with fake.serving(fake.vllm_routes(4)) as server:
        prepared, levels = run_all(plan(server.url))
    assert (prepared.provenance.server, prepared.provenance.version) == ("vllm", "0.11.0")
    body = json.loads(next(b for m, p, b in server.requests if p == "/v1/completions"))
    assert body["model"] == "Qwen/Qwen2.5-0.5B" and body["ignore_eos"] is True
    assert levels[0].requests[0].ok


def test_a_lookalike_llama_server_sizes_prompts_with_tokenize() -> None:
    with fake.serving(fake.llama_routes(4)) as server:
        prepared, _ = run_all(plan(server.url, prompt_tokens=(16, 33)))
    assert prepared.words == {16: 15, 33: 32}  # one token per word plus BOS
    assert prepared.provenance.build is not None
    assert prepared.provenance.build.build_number == 6500
    bodies = [json.loads(b)["prompt"] for m, p, b in server.requests if p == "/completion"]
    assert len(bodies) == len(set(bodies)) == 4  # every request its own prompt


def test_a_concurrency_sweep_sends_repetitions_per_client() -> None:
    with fake.serving(fake.llama_routes(3, gap=0.005)) as server:
        _, levels = run_all(plan(server.url, concurrency=(1, 2, 4)))
    assert [(lv.concurrency, len(lv.requests)) for lv in levels] == [(1, 2), (2, 4), (4, 8)]
    assert all(r.ok for lv in levels for r in lv.requests)
    assert len([p for _, p, _ in server.requests if p == "/completion"]) == 14


# --------------------------------------------------------------------------------- faults


def _with_completion(steps: list[fake.Step]) -> dict[tuple[str, str], fake.Responder]:
    routes = fake.llama_routes(3)
    routes[("POST", "/completion")] = fake.fixed(steps)
    return routes


_EVENTS = fake.llama_events(3)
_FAULTS: dict[str, list[fake.Step]] = {
    "http_status": fake.json_answer({"error": {"message": "loading model"}}, 503),
    "stall": [fake.head(200, "text/event-stream", chunked=True),
              fake.chunk(b'data: {"content": "a"}\n\n'), 30.0],
    "disconnect": [fake.head(200, "text/event-stream", chunked=True),
                   fake.chunk(b'data: {"content": "a"}\n\n'), b"20\r\ndata: {", None],
    "malformed": fake.sse_events(["{oops", *_EVENTS], done=False),
    "incomplete": [fake.head(200, "text/event-stream"), b'data: {"content": "a"}\n\n', None],
    "server_error": fake.sse_events([{"error": {"code": 500, "message": "boom"}}], done=False),
    "first_byte": [30.0],
}


@pytest.mark.parametrize("failure", sorted(_FAULTS))
def test_every_fault_is_a_failed_request_not_an_exception(failure: str) -> None:
    with fake.serving(_with_completion(_FAULTS[failure])) as server:
        _, levels = run_all(plan(server.url, repetitions=1))
    (request,) = levels[0].requests
    assert not request.ok and request.failure == failure and request.detail
    assert request.ttft_ms is None and request.tokens_per_s is None


def test_nothing_listening_is_a_failure_of_the_session() -> None:
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
    prepared = session.prepare(plan(url), LiveRunner())
    assert prepared.failure is not None and "nothing answered" in prepared.failure


def test_an_unknown_server_asks_for_api() -> None:
    with fake.serving({}) as server:
        prepared = session.prepare(plan(server.url), LiveRunner())
    assert prepared.failure is not None and "--api" in prepared.failure


def test_an_unknown_server_is_benchmarked_with_api() -> None:
    routes = {("POST", "/v1/completions"): fake.fixed(fake.sse_events(
        fake.openai_chunks(2, chat=False, model="m")))}
    with fake.serving(routes) as server:
        prepared, levels = run_all(plan(server.url, api="openai-completions"))
    assert prepared.provenance.server is None
    assert "not recognised" in prepared.provenance.notes[0]
    assert all(r.ok for r in levels[0].requests)


def test_a_remote_url_is_refused_without_allow_remote() -> None:
    prepared = session.prepare(plan("http://192.0.2.1:8080"), LiveRunner())
    assert prepared.failure is not None and "--allow-remote" in prepared.failure
