"""benchclient/detect: the server told from what it answers - the recorded answers of a real
llama-server, and answers written from the other servers' documented fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envstamp.benchclient.detect import DEFAULT_API, PROBE_PATHS, Probed, detect, server_version

REAL = Path(__file__).parents[1] / "fixtures" / "bench" / "llama-server-0c1e570-llama-completion"


def recorded_answers(folder: Path) -> dict[str, Probed]:
    answers = {}
    for path in folder.glob("http_stream-*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["key"]["method"] != "GET":
            continue
        route = "/" + record["key"]["url"].split("/", 3)[3]
        answer = record["answer"]
        answers[route] = Probed(answer.get("code"), "\n".join(t for _, t in answer["lines"]),
                                answer.get("headers", {}))
    return answers


def ok(obj: Any, **headers: str) -> Probed:
    return Probed(200, json.dumps(obj), headers)


NOT_FOUND = Probed(404, '{"error": "not found"}')


def test_the_real_llama_server_is_llama_server() -> None:
    answers = recorded_answers(REAL)
    assert set(answers) == set(PROBE_PATHS)  # every route was asked; most said 404
    assert answers["/api/version"].code == 404
    found = detect(answers)
    assert (found.server, found.api) == ("llama-server", "llama-completion")
    assert found.models == ("tiny.gguf",)


def test_a_llama_server_without_props_is_known_by_its_models_owner() -> None:
    answers = recorded_answers(REAL)
    answers["/props"] = NOT_FOUND
    assert detect(answers).server == "llama-server"


@pytest.mark.parametrize(
    ("answers", "server"),
    [
        ({"/api/extra/version": ok({"result": "KoboldCpp", "version": "1.98"})}, "koboldcpp"),
        ({"/api/version": ok({"version": "0.12.3"})}, "ollama"),
        ({"/props": ok({"build_info": "b1-abc", "model_path": "m.gguf"},
                       server="llamafile/0.9.3")}, "llamafile"),
        ({"/api/v0/models": ok({"data": [{"id": "q", "type": "llm", "state": "loaded"}]})},
         "lmstudio"),
        ({"/v1/models": ok({"data": [{"id": "q", "owned_by": "vllm"}]})}, "vllm"),
        ({"/v1/models": ok({"data": [{"id": "q", "owned_by": "me"}]}),
          "/version": ok({"version": "0.11.0"})}, "vllm"),
        ({"/v1/models": ok({"data": [{"id": "q", "owned_by": "me"}]})}, "openai-compatible"),
        ({"/api/v0/models": ok({"data": [{"id": "q"}]}),
          "/v1/models": ok({"data": [{"id": "q"}]})}, "openai-compatible"),
    ],
)
def test_servers_by_their_answers(answers: dict[str, Probed], server: str) -> None:
    found = detect(answers)
    assert found.server == server and found.api == DEFAULT_API[server]


@pytest.mark.parametrize(
    "answers",
    [{}, dict.fromkeys(PROBE_PATHS, NOT_FOUND), {"/props": Probed(200, "<html>")},
     {"/api/version": ok(["0.1"])}, {"/props": ok({"hello": 1})},
     {"/v1/models": Probed(500, '{"data": []}')}],
)
def test_nothing_known_is_no_server(answers: dict[str, Probed]) -> None:
    found = detect(answers)
    assert (found.server, found.api) == (None, None) and found.evidence


def test_versions_where_the_server_states_them() -> None:
    answers = {"/api/version": ok({"version": "v0.12.3"}),
               "/version": ok({"version": "0.11.0"})}
    assert server_version("ollama", answers) == "0.12.3"
    assert server_version("vllm", answers) == "0.11.0"
    assert server_version("llama-server", answers) is None
    assert server_version(None, answers) is None
