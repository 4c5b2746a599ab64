"""benchclient/provenance: what each server says about itself becomes manifest entries;
what it does not say becomes notes, never guesses.  Answers written from the documented
fields (tests/benchclient/fake_server.py) and the recorded real llama-server's /props."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envstamp.benchclient import provenance
from envstamp.benchclient.detect import Probed
from envstamp.manifest.model import (
    Frontends,
    KoboldCpp,
    LlamaCppBuild,
    LmStudio,
    ModelFile,
    NamedVersion,
    Ollama,
    OllamaModel,
)
from tests.benchclient import fake_server as fake
from tests.timing_support import make_manifest

REAL_PROPS = (Path(__file__).parents[1] / "fixtures" / "bench"
              / "llama-server-0c1e570-llama-completion")


def answer_of(steps: list[Any]) -> Probed:
    """The Probed of a scripted JSON answer (its head and body)."""
    raw = b"".join(s for s in steps if isinstance(s, bytes))
    head, _, body = raw.partition(b"\r\n\r\n")
    code = int(head.split(b" ")[1])
    return Probed(code, body.decode())


def routed(routes: dict[tuple[str, str], fake.Responder], method: str, path: str) -> Probed:
    return answer_of(list(routes[(method, path)](b"{}")))


def real_props() -> Probed:
    path = next(REAL_PROPS.glob("*_props-GET-*.json"))
    answer = json.loads(path.read_text(encoding="utf-8"))["answer"]
    return Probed(answer["code"], "\n".join(t for _, t in answer["lines"]), answer["headers"])


# ---------------------------------------------------------------------------- llama-server


def test_real_props_give_the_build_and_the_model_file() -> None:
    prov = provenance.Provenance(url="http://127.0.0.1:18080", server="llama-server")
    provenance.from_props(prov, real_props())
    assert prov.build is not None
    assert (prov.build.build_number, prov.build.commit) == (None, "0c1e57098")
    assert prov.build.source == "llama-server /props (b0-0c1e57098)"
    assert prov.model_path == "tiny.gguf" and prov.model == "tiny.gguf"
    assert prov.notes == []


def test_a_named_model_is_kept_over_the_servers_alias() -> None:
    prov = provenance.Provenance(url="u", server="llama-server", model="chosen")
    provenance.from_props(prov, real_props())
    assert prov.model == "chosen" and prov.model_path == "tiny.gguf"


def test_the_build_joins_the_builds_a_capture_found() -> None:
    found = LlamaCppBuild(path="/usr/local/bin/llama-cli", commit="1111111")
    prov = provenance.Provenance(url="u", server="llama-server",
                                 build=LlamaCppBuild(commit="0c1e57098", source="/props"))
    manifest = provenance.apply(make_manifest(llamacpp=[found]), prov)
    assert [b.commit for b in manifest.llamacpp] == ["1111111", "0c1e57098"]


# ---------------------------------------------------------------------------------- Ollama


def test_ollama_without_ps_show_or_tags_says_so() -> None:
    prov = provenance.Provenance(url="u", server="ollama", version="0.12.3", model="m:1b")
    provenance.from_ollama(prov, ps=None, show=None, tags=None)
    assert prov.ollama is not None and prov.ollama.loaded_models == []
    assert prov.models == []
    assert any("/api/ps" in note for note in prov.notes)
    assert any("/api/show" in note for note in prov.notes)


def test_ollama_tags_alone_give_the_digest() -> None:
    routes = fake.ollama_routes()
    prov = provenance.Provenance(url="u", server="ollama", model="llama3.2:1b")
    provenance.from_ollama(prov, ps=routed(routes, "GET", "/api/ps"), show=Probed(404, "{}"),
                           tags=routed(routes, "GET", "/api/tags"))
    (model,) = prov.models
    assert model.digest == "ab" * 32 and model.sha256 is None  # no Modelfile: no blob
    assert model.quantization == "Q8_0"


def test_ollama_model_named_without_tag_is_found_as_latest() -> None:
    tags = Probed(200, json.dumps({"models": [{"name": "qwen:latest",
                                              "digest": "sha256:" + "12" * 32}]}))
    prov = provenance.Provenance(url="u", server="ollama", model="qwen")
    provenance.from_ollama(prov, ps=None, show=None, tags=tags)
    assert [m.digest for m in prov.models] == ["12" * 32]


@pytest.mark.parametrize("ps", [Probed(200, "not json"), Probed(200, '{"models": 3}'),
                                Probed(500, "{}")])
def test_a_broken_ps_is_a_note(ps: Probed) -> None:
    prov = provenance.Provenance(url="u", server="ollama")
    provenance.from_ollama(prov, ps=ps, show=None, tags=None)
    assert prov.ollama is not None and prov.ollama.loaded_models == []
    assert prov.notes


def test_an_idle_ollama_lists_no_loaded_model() -> None:
    prov = provenance.Provenance(url="u", server="ollama")
    provenance.from_ollama(prov, ps=Probed(200, "{}"), show=None, tags=None)
    assert prov.ollama is not None and prov.ollama.loaded_models == [] and prov.notes == []


def test_a_model_already_in_the_manifest_is_not_added_twice() -> None:
    known = ModelFile(name="llama3.2:1b", digest="ab" * 32)
    prov = provenance.Provenance(url="u", server="ollama", ollama=Ollama(),
                                 models=[ModelFile(name="llama3.2:1b", digest="ab" * 32),
                                         ModelFile(name="other", sha256="ef" * 32)])
    manifest = provenance.apply(make_manifest(models=[known]), prov)
    assert [m.name for m in manifest.models] == ["llama3.2:1b", "other"]


def test_the_servers_loaded_models_replace_a_stale_capture() -> None:
    stale = Ollama(server_version="0.11.0", loaded_models=[OllamaModel(name="old")])
    asked = Ollama(server_version="0.12.3", host="http://127.0.0.1:11434",
                   loaded_models=[OllamaModel(name="new", gpu_percent=100)])
    prov = provenance.Provenance(url="u", server="ollama", ollama=asked)
    manifest = provenance.apply(make_manifest(frontends=Frontends(ollama=stale)), prov)
    ollama = manifest.frontends.ollama
    assert ollama is not None and ollama.server_version == "0.12.3"
    assert [m.name for m in ollama.loaded_models] == ["new"]


# ------------------------------------------------------------------------------- LM Studio


def test_lmstudio_loaded_models_and_runtime() -> None:
    routes = fake.lmstudio_routes()
    prov = provenance.Provenance(url="u", server="lmstudio")
    provenance.from_lmstudio(prov, routed(routes, "GET", "/api/v0/models"),
                             {"runtime": {"name": "llama.cpp-linux", "version": "1.52.1"}})
    assert prov.lmstudio is not None
    assert [m.name for m in prov.lmstudio.loaded_models] == ["qwen2.5-7b-instruct"]
    assert prov.lmstudio.selected_runtimes == [NamedVersion(name="llama.cpp-linux",
                                                            version="1.52.1")]


@pytest.mark.parametrize("extra", [{}, {"runtime": "x"}, {"runtime": {"version": "1"}}])
def test_lmstudio_without_a_runtime_names_none(extra: dict[str, Any]) -> None:
    prov = provenance.Provenance(url="u", server="lmstudio")
    provenance.from_lmstudio(prov, None, extra)
    assert prov.lmstudio is not None and prov.lmstudio.selected_runtimes == []


def test_lmstudio_answers_merge_into_what_lms_said() -> None:
    found = LmStudio(app_version="0.3.30", runtimes=[NamedVersion(name="a", version="1")])
    prov = provenance.Provenance(url="u", server="lmstudio",
                                 lmstudio=LmStudio(selected_runtimes=[NamedVersion(name="b")]))
    merged = provenance.apply(make_manifest(frontends=Frontends(lmstudio=found)), prov)
    studio = merged.frontends.lmstudio
    assert studio is not None and studio.app_version == "0.3.30"
    assert [r.name for r in studio.selected_runtimes] == ["b"]
    assert [r.name for r in studio.runtimes] == ["a"]


# ---------------------------------------------------------------------- vLLM, koboldcpp


def test_vllm_and_koboldcpp_versions() -> None:
    vllm = provenance.apply(make_manifest(), provenance.Provenance(
        url="u", server="vllm", version="0.11.0"))
    assert vllm.frontends.vllm is not None and vllm.frontends.vllm.version == "0.11.0"
    kobold = provenance.apply(
        make_manifest(frontends=Frontends(koboldcpp=KoboldCpp(backend="CUDA"))),
        provenance.Provenance(url="u", server="koboldcpp", version="1.98"))
    assert kobold.frontends.koboldcpp is not None
    assert (kobold.frontends.koboldcpp.version, kobold.frontends.koboldcpp.backend) == (
        "1.98", "CUDA")


def test_a_second_bench_replaces_the_record_it_left() -> None:
    prov = provenance.Provenance(url="http://127.0.0.1:1", server="vllm")
    once = provenance.apply(make_manifest(), prov)
    twice = provenance.apply(once, prov)
    assert [p.name for p in twice.probes].count("bench_server") == 1


def test_the_record_says_server_version_model_and_notes() -> None:
    prov = provenance.Provenance(url="u", server="ollama", version="0.12.3", model="m",
                                 notes=["/api/ps did not answer"])
    record = next(p for p in provenance.apply(make_manifest(), prov).probes
                  if p.name == "bench_server")
    assert record.detail == "ollama 0.12.3, model m; /api/ps did not answer"
