"""benchclient/stamp and provenance: a bench's results land in a signed results log whose
manifest says what served them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import envstamp
from envstamp.benchclient import provenance, session, stamp
from envstamp.benchclient.detect import Probed
from envstamp.manifest.model import Ollama
from envstamp.runner import LiveRunner, ReplayRunner
from envstamp.runner.streaming import StreamLimits
from tests.benchclient import fake_server as fake
from tests.benchclient.record_fixtures import PLAN
from tests.timing_support import make_manifest, open_recorder

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bench"
QUICK = StreamLimits(connect_s=1.0, first_byte_s=0.5, stall_s=0.3, total_s=5.0)


def bench_into_log(prepared: session.Prepared, runner: Any, log: Path,
                   manifest: Any = None) -> list[session.Level]:
    manifest = stamp.bench_manifest(prepared, runner, manifest=manifest or make_manifest())
    rec = open_recorder(log, manifest=manifest)
    levels = list(session.measure(prepared, runner))
    for level in levels:
        stamp.record_level(rec, prepared, level)
    rec.close()
    return levels


def test_a_replayed_real_llama_server_bench_is_stamped(tmp_path: Path) -> None:
    folder = FIXTURES / "llama-server-0c1e570-llama-completion"
    runner = ReplayRunner(folder)
    bench = session.BenchPlan(url="http://127.0.0.1:18080", **PLAN)  # type: ignore[arg-type]
    prepared = session.prepare(bench, runner)
    log = tmp_path / "r.jsonl"
    bench_into_log(prepared, runner, log)
    results = envstamp.load_results(log, include_failed=True)
    assert [(r.name, r.params["concurrency"]) for r in results] == [
        ("pp32+tg8", 1), ("pp32+tg8", 2)]
    first = results[0]
    assert first.origin == "bench:server" and not first.failed
    assert first.params == {"model": "tiny.gguf", "server": "llama-server",
                            "api": "llama-completion", "n_prompt": 32, "n_gen": 8,
                            "concurrency": 1, "repetitions": 2, "seed": 7, "temperature": 0}
    assert len(first.wall_s) == 2 and first.summary["ttft_ms"].n == 2
    assert first.metric_samples["gen_tokens"] == [8.0, 8.0]
    for name in ("ttft_ms", "tokens_per_s", "server_prompt_ms", "server_tokens_per_s",
                 "ttft_p99_ms", "itl_median_ms", "request_throughput_per_s"):
        assert first.metrics[name] > 0, name
    manifest = first.manifest
    assert manifest is not None
    (build,) = manifest.llamacpp
    assert build.commit == "0c1e57098" and "/props" in (build.source or "")
    record = next(p for p in manifest.probes if p.name == "bench_server")
    assert record.status == "ok" and record.source == "http://127.0.0.1:18080"
    assert "llama-server" in (record.detail or "")


def test_failed_requests_are_failed_results(tmp_path: Path) -> None:
    routes = fake.llama_routes(3)
    routes[("POST", "/completion")] = fake.fixed(fake.json_answer({"error": "busy"}, 503))
    with fake.serving(routes) as server:
        bench = session.BenchPlan(url=server.url, prompt_tokens=(8,), gen_tokens=(2,),
                                  repetitions=2, warmup=0, limits=QUICK)
        runner = LiveRunner()
        prepared = session.prepare(bench, runner)
        bench_into_log(prepared, runner, tmp_path / "r.jsonl")
    assert envstamp.load_results(tmp_path / "r.jsonl") == []
    failed = envstamp.load_results(tmp_path / "r.jsonl", include_failed=True)
    assert len(failed) == 2 and all(r.failed for r in failed)
    assert {r.params["failure"] for r in failed} == {"http_status"}
    assert "HTTP 503" in failed[0].params["error"]
    assert failed[0].metrics == {}


def test_ollama_provenance_goes_into_the_manifest(tmp_path: Path) -> None:
    with fake.serving(fake.ollama_routes(3)) as server:
        bench = session.BenchPlan(url=server.url, prompt_tokens=(8,), gen_tokens=(3,),
                                  repetitions=1, warmup=0, limits=QUICK)
        runner = LiveRunner()
        prepared = session.prepare(bench, runner)
        bench_into_log(prepared, runner, tmp_path / "r.jsonl")
    (result,) = envstamp.load_results(tmp_path / "r.jsonl")
    manifest = result.manifest
    assert manifest is not None and manifest.frontends.ollama is not None
    ollama = manifest.frontends.ollama
    assert ollama.server_version == "0.12.3" and ollama.host == server.url
    assert ollama.loaded_models[0].processor == "25%/75% CPU/GPU"
    (model,) = manifest.models
    assert model.digest == "ab" * 32 and model.quantization == "Q8_0"
    assert result.metrics["server_load_ms"] == pytest.approx(20.0)


def test_what_a_capture_found_is_kept_beside_the_server_answers() -> None:
    prov = provenance.Provenance(url="http://127.0.0.1:11434", server="ollama", version="0.12.3",
                                 ollama=Ollama(server_version="0.12.3", host="http://x"))
    found = Ollama(client_version="0.12.3", gpu_libraries=["cuda_v12"])
    manifest = provenance.apply(make_manifest(frontends=make_manifest().frontends.__class__(
        ollama=found)), prov)
    ollama = manifest.frontends.ollama
    assert ollama is not None
    assert (ollama.client_version, ollama.server_version) == ("0.12.3", "0.12.3")
    assert ollama.gpu_libraries == ["cuda_v12"]


def test_a_server_that_said_nothing_is_an_error_record() -> None:
    prov = provenance.Provenance(url="http://127.0.0.1:1", notes=["the server was not recognised"])
    manifest = provenance.apply(make_manifest(), prov)
    record = next(p for p in manifest.probes if p.name == "bench_server")
    assert record.status == "error" and "not recognised" in (record.detail or "")


@pytest.mark.parametrize("props", [None, Probed(404, "{}"), Probed(200, "[1]"),
                                   Probed(200, json.dumps({"hello": 1})),
                                   Probed(200, json.dumps({"total_slots": 1}))])
def test_props_that_say_nothing_leave_notes_not_guesses(props: Probed | None) -> None:
    prov = provenance.Provenance(url="u", server="llama-server")
    provenance.from_props(prov, props)
    assert prov.build is None and prov.notes


def test_a_local_model_file_is_fingerprinted_by_the_capture(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    prepared = session.Prepared(
        session.BenchPlan(url="http://127.0.0.1:8080"), None,  # type: ignore[arg-type]
        "llama-completion", provenance.Provenance(url="u", model_path=str(model)))
    assert stamp.capture_options(prepared, LiveRunner()).models == (str(model),)
    prepared.provenance.model_path = str(tmp_path / "gone.gguf")
    assert stamp.capture_options(prepared, LiveRunner()).models == ()
    assert "not readable" in prepared.provenance.notes[-1]
    remote = session.Prepared(
        session.BenchPlan(url="http://192.0.2.7:8080", allow_remote=True), None,  # type: ignore[arg-type]
        "llama-completion", provenance.Provenance(url="u", model_path=str(model)))
    assert stamp.capture_options(remote, LiveRunner()).models == ()


@pytest.mark.parametrize(
    ("server", "model", "label"),
    [("llama-server", "/home/me/models/qwen2-7b-q4_k_m.gguf", "qwen2-7b-q4_k_m.gguf"),
     ("llamafile", "C:\\models\\phi.gguf", "phi.gguf"),
     ("llama-server", "my-alias", "my-alias"),
     ("vllm", "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-0.5B"),
     ("ollama", "llama3.2:1b", "llama3.2:1b"),
     ("llama-server", None, None)],
)
def test_the_model_parameter_never_holds_a_path(server: str, model: str | None,
                                                label: str | None) -> None:
    prepared = session.Prepared(
        session.BenchPlan(url="http://127.0.0.1:8080"), None,  # type: ignore[arg-type]
        "llama-completion", provenance.Provenance(url="u", server=server, model=model))
    assert stamp.model_label(prepared) == label


def test_diff_ranks_the_servers_build_change(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Two benches of one server whose /props named two builds: diff finds the build
    change first, and the tests' speeds side by side."""
    import attrs

    from envstamp.cli.main import main

    folder = FIXTURES / "llama-server-0c1e570-llama-completion"
    logs = []
    for commit, number in (("0c1e57098", None), ("1a2b3c4d5", 7000)):
        runner = ReplayRunner(folder)
        bench = session.BenchPlan(url="http://127.0.0.1:18080", **PLAN)  # type: ignore[arg-type]
        prepared = session.prepare(bench, runner)
        assert prepared.provenance.build is not None
        prepared.provenance.build = attrs.evolve(prepared.provenance.build, commit=commit,
                                                 build_number=number)
        log = tmp_path / f"{commit}.jsonl"
        bench_into_log(prepared, runner, log)
        logs.append(str(log))
    main(["diff", *logs])
    out = capsys.readouterr().out
    assert "llama.cpp build: commit 0c1e57098 -> b7000 (commit 1a2b3c4d5)" in out
    assert out.count("pp32+tg8") >= 2
