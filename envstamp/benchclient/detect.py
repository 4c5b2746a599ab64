"""Which server answers at a URL, from what it says on a few GET routes.  Pure.

The routes are asked in :data:`PROBE_PATHS` order and read here by what each server's own
answer holds, never by a version or a port:

* koboldcpp: ``/api/extra/version`` answers ``{"result": "KoboldCpp", "version": ...}``;
* Ollama: ``/api/version`` answers ``{"version": ...}`` (llama-server has no such route);
* llama-server (and the servers built on it, llamafile): ``/props`` holds ``build_info``,
  ``total_slots`` or ``model_path``; a ``Server`` header or ``build_info`` that names
  llamafile makes it llamafile;
* LM Studio: ``/api/v0/models`` lists models with ``type`` and ``state``;
* vLLM: ``/v1/models`` entries are ``owned_by`` ``vllm`` (or ``/version`` answers
  ``{"version": ...}`` beside ``/v1/models``);
* anything else that lists ``/v1/models`` (Jan's local API server, other OpenAI-compatible
  servers) is ``openai-compatible``: nothing in their answers names them.

Each server has a default API (:data:`DEFAULT_API`); ``--api`` overrides it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

PROBE_PATHS = (
    "/api/extra/version",
    "/api/version",
    "/props",
    "/api/v0/models",
    "/v1/models",
    "/version",
)

DEFAULT_API = {
    "llama-server": "llama-completion",
    "llamafile": "llama-completion",
    "ollama": "ollama-generate",
    "lmstudio": "lmstudio-completions",
    "koboldcpp": "openai-completions",
    "vllm": "openai-completions",
    "openai-compatible": "openai-completions",
}
SERVERS = tuple(DEFAULT_API)


@attrs.frozen
class Probed:
    """One GET's answer, as detection reads it."""

    code: int | None
    body: str
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def json(self) -> Any:
        """The body as JSON of a 2xx answer; None otherwise."""
        if self.code is None or not 200 <= self.code < 300:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@attrs.frozen
class Detected:
    """The server found, the API to use, and the models it lists."""

    server: str | None
    api: str | None
    evidence: str
    models: tuple[str, ...] = ()


def detect(answers: Mapping[str, Probed]) -> Detected:
    """The server that gave ``answers`` (path -> Probed); ``server`` None when none fits."""
    for check in (_koboldcpp, _ollama, _llama_server, _lmstudio, _openai):
        found = check(answers)
        if found is not None:
            return found
    return Detected(None, None, "no route answered as a known server does")


def _get(answers: Mapping[str, Probed], path: str) -> Any:
    probed = answers.get(path)
    return probed.json() if probed is not None else None


def _found(server: str, evidence: str, models: tuple[str, ...] = ()) -> Detected:
    return Detected(server, DEFAULT_API[server], evidence, models)


def _koboldcpp(answers: Mapping[str, Probed]) -> Detected | None:
    data = _get(answers, "/api/extra/version")
    if isinstance(data, dict) and str(data.get("result", "")).lower() == "koboldcpp":
        return _found("koboldcpp", "/api/extra/version names KoboldCpp", _listed_models(answers))
    return None


def _ollama(answers: Mapping[str, Probed]) -> Detected | None:
    data = _get(answers, "/api/version")
    if isinstance(data, dict) and isinstance(data.get("version"), str):
        return _found("ollama", "/api/version answers a version")
    return None


def _llama_server(answers: Mapping[str, Probed]) -> Detected | None:
    data = _get(answers, "/props")
    if not isinstance(data, dict):
        return None
    if not any(key in data for key in ("build_info", "total_slots", "model_path")):
        return None
    probed = answers["/props"]
    server_header = probed.headers.get("server", "").lower()
    build = str(data.get("build_info", "")).lower()
    models = _listed_models(answers)
    if "llamafile" in server_header or "llamafile" in build:
        return _found("llamafile", "/props answers, and names llamafile", models)
    return _found("llama-server", "/props holds llama.cpp's build_info/model_path", models)


def _lmstudio(answers: Mapping[str, Probed]) -> Detected | None:
    data = _get(answers, "/api/v0/models")
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    marked = [e for e in entries if isinstance(e, dict) and "state" in e and "type" in e]
    if entries and not marked:
        return None
    loaded = tuple(str(e.get("id")) for e in marked if e.get("state") == "loaded")
    others = tuple(str(e.get("id")) for e in marked if e.get("state") != "loaded")
    return _found("lmstudio", "/api/v0/models lists models with type and state", loaded + others)


def _openai(answers: Mapping[str, Probed]) -> Detected | None:
    data = _get(answers, "/v1/models")
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    models = _listed_models(answers)
    owners = {str(e.get("owned_by", "")).lower() for e in entries if isinstance(e, dict)}
    if "vllm" in owners:
        return _found("vllm", "/v1/models entries are owned by vllm", models)
    if "llamacpp" in owners:
        return _found("llama-server", "/v1/models entries are owned by llamacpp", models)
    version = _get(answers, "/version")
    if isinstance(version, dict) and isinstance(version.get("version"), str):
        return _found("vllm", "/version answers beside /v1/models", models)
    return _found("openai-compatible", "/v1/models answers", models)


def _listed_models(answers: Mapping[str, Probed]) -> tuple[str, ...]:
    data = _get(answers, "/v1/models")
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return ()
    return tuple(str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e)


def server_version(server: str | None, answers: Mapping[str, Probed]) -> str | None:
    """The version the server states on the detection routes, where it states one."""
    path = {"koboldcpp": "/api/extra/version", "ollama": "/api/version", "vllm": "/version"}
    data = _get(answers, path.get(server or "", ""))
    if isinstance(data, dict) and isinstance(data.get("version"), str):
        return data["version"].strip().removeprefix("v") or None
    return None
