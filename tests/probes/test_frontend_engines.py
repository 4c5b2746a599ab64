"""The engine a frontend bundles (issue 11 item 5) and the Ollama models a command names.

* Ollama: its server log (last start, runner, build info, loaded backends), the probe reading
  it (journal, server.log), and ``ollama_models`` through ``/api/tags`` and ``/api/show``;
* LM Studio: runtime manifests read by structure, the selected GGUF runtime;
* Jan: the selected llama.cpp backend, else what the installed ones agree on;
* the shared helpers (backend names, agreement, llama.cpp lines in frontends' output).
"""

from __future__ import annotations

import contextlib
import http.server as http_server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.manifest.model import BundledEngine, NamedVersion
from envstamp.parsers.kinds import parse_to_data
from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm import jan, lmstudio, ollama
from envstamp.probes.llm.frontend_util import agreed_engine, backend_in_name
from envstamp.runner import LiveRunner, ReplayRunner
from tests.frontends_support import (
    HOSTS,
    LINUX_ALL,
    LINUX_JOURNAL,
    SpecRunner,
    http,
    run_probe,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frontends"

# ------------------------------------------------------------------------ shared helpers


@pytest.mark.parametrize(
    ("name", "backend"),
    [
        ("llama.cpp-linux-x86_64-nvidia-cuda12-avx2", "CUDA 12"),
        ("llama.cpp-win-x86_64-vulkan-avx2", "Vulkan"),
        ("llama.cpp-mac-arm64-apple-metal-advsimd", "Metal"),
        ("linux-avx2-cuda-cu12.0-x64", "CUDA 12.0"),  # Jan names CUDA twice
        ("win-avx2-cuda-cu11.7-x64", "CUDA 11.7"),
        ("cuda_v11", "CUDA 11"),  # Ollama's library folders
        ("cuda_v12_avx", "CUDA 12"),
        ("rocm_v60002", "HIP 6"),  # ROCm's MMmmpp
        ("rocm", "HIP"),
        ("koboldcpp-linux-x64-cuda1210", "CUDA 12.1"),
        ("llama.cpp-linux-x86_64-avx2", None),  # a CPU build names no GPU
        ("koboldcpp_nocuda", None),  # "no CUDA" is not CUDA
        ("documents", None),
    ],
)
def test_backend_in_name(name: str, backend: str | None) -> None:
    assert backend_in_name(name) == backend


def test_agreed_engine_keeps_only_what_all_say() -> None:
    a = BundledEngine(name="llama.cpp", version="b6324", build_number=6324, backend="CPU")
    b = BundledEngine(name="llama.cpp", version="b6324", build_number=6324, backend="CUDA 12")
    agreed = agreed_engine([a, b], "two folders")
    assert agreed == BundledEngine(
        name="llama.cpp", version="b6324", build_number=6324, source="two folders"
    )
    differ = BundledEngine(name="llama.cpp", version="b6000", build_number=6000, backend="CPU")
    assert agreed_engine([b, differ], "x") is None  # only the name left: says nothing
    assert agreed_engine([], "x") is None


# -------------------------------------------------------------------- Ollama's server log

# Two starts of Ollama 0.1.x: slog's logfmt, and its runner's llama.cpp server text log
# ("INFO [main] build info | build=... commit=...").
OLD_LOG = (FIXTURES / "ollama-server-log-0.1.38-restarts.txt").read_text()


def test_server_log_counts_only_the_last_start() -> None:
    version, engine = ollama.read_server_log(OLD_LOG)
    assert version == "0.1.38"
    assert engine == BundledEngine(
        name="llama.cpp",
        build_number=2770,
        commit="952d03d",
        backend="CUDA 11",
        source="ollama server log",
    )


def test_server_log_current_runner_with_journal_prefixes() -> None:
    prefix = "Sep 12 08:00:00 rig ollama[812]: "  # journalctl's default output
    prefixed = "".join(f"{prefix}{line}\n" for line in LINUX_JOURNAL.splitlines())
    for text in (LINUX_JOURNAL, prefixed):
        version, engine = ollama.read_server_log(text)
        assert version == "0.11.10"
        assert engine is not None
        assert (engine.name, engine.backend) == ("llama.cpp", "CUDA 12")
        assert (engine.build_number, engine.commit) == (None, None)  # not printed any more


def test_server_log_ollama_engine_and_json_build_info() -> None:
    text = (
        'time=x level=INFO msg="Listening on 127.0.0.1:11434 (version 0.6.5)"\n'
        'time=x level=INFO msg="starting llama server" cmd="/bin/ollama runner --ollama-engine'
        ' --model /m"\n'
        "time=x level=INFO msg=system Metal.0.EMBED_LIBRARY=1 CPU.0.NEON=1\n"
    )
    assert ollama.read_server_log(text)[1] == BundledEngine(
        name="ollama", backend="Metal", source="ollama server log"
    )
    # The 2024 runners' JSON log; a shallow checkout's build number 1 is no release.
    json_log = '{"function":"main","level":"INFO","msg":"build info","build":1,"commit":"5921b8f"}'
    engine = ollama.read_server_log(json_log)[1]
    assert engine is not None
    assert (engine.name, engine.build_number, engine.commit) == ("llama.cpp", None, "5921b8f")


def test_server_log_kind() -> None:
    data = parse_to_data("ollama-server-log", OLD_LOG)["frontends"]["ollama"]
    assert data["server_version"] == "0.1.38"
    assert data["engine"]["build_number"] == 2770
    with pytest.raises(ParseError):
        parse_to_data("ollama-server-log", "hello\nworld\n")


@given(st.text(max_size=300))
def test_server_log_reader_never_raises(text: str) -> None:
    ollama.read_server_log(text)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), st.text(max_size=20)))
def test_logfmt_round_trip(pairs: dict[str, str]) -> None:
    line = " ".join(f"{key}={json.dumps(value)}" for key, value in pairs.items())
    assert ollama.logfmt(line) == pairs


# ------------------------------------------------------------------------ the Ollama probe


def _replay_ollama(host: str) -> Any:
    runner = ReplayRunner(HOSTS / host)
    return ollama.probe(ProbeContext(runner=runner, options=CaptureOptions()))


def test_probe_reads_the_service_journal() -> None:
    outcome = _replay_ollama("frontends-linux-all")
    engine = outcome.sections["frontends"].ollama.engine
    assert engine == BundledEngine(
        name="llama.cpp", backend="CUDA 12", source="Ollama server log (journalctl -u ollama)"
    )


def test_probe_reads_server_log_on_macos() -> None:
    engine = _replay_ollama("frontends-macos").sections["frontends"].ollama.engine
    assert (engine.name, engine.backend) == ("ollama", "Metal")
    assert engine.source == "Ollama server log (server.log)"


def test_probe_ignores_a_log_of_another_version() -> None:
    outcome = _replay_ollama("frontends-windows")
    assert outcome.sections["frontends"].ollama.engine is None
    assert "server log is of Ollama 0.1.41, not 0.12.3" in outcome.detail


# ----------------------------------------------------------------- models named to Ollama

BLOB = "6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa"
DIGEST = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"
SHOW = {
    "modelfile": (
        '# Modelfile generated by "ollama show"\n'
        f"FROM /usr/share/ollama/.ollama/models/blobs/sha256-{BLOB}\n"
        'TEMPLATE """{{ .Prompt }}"""\nPARAMETER stop "<|eot_id|>"\n'
    ),
    "parameters": 'stop "<|eot_id|>"',
    "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M"},
    "model_info": {"general.architecture": "llama", "general.parameter_count": 3212749888},
}
TAGS = {
    "models": [
        {"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 2019393189,
         "digest": DIGEST, "details": {"format": "gguf", "family": "llama"}},
    ]
}


def _show_key(name: str) -> str:
    body = json.dumps({"model": name, "name": name}, sort_keys=True, separators=(",", ":"))
    return "http://127.0.0.1:11434/api/show " + body


def _named(spec: dict[str, Any], names: tuple[str, ...], tmp_path: Path) -> Outcome:
    runner = SpecRunner(tmp_path / "rec", spec)
    outcome = run_probe("ollama", runner, CaptureOptions(ollama_models=names))
    assert isinstance(outcome, Outcome), outcome
    return outcome


def test_named_model_through_the_api(tmp_path: Path) -> None:
    spec = json.loads(json.dumps(LINUX_ALL))
    spec["http"]["http://127.0.0.1:11434/api/tags"] = http(TAGS)
    spec["http"][_show_key("llama3.2")] = http(SHOW)
    spec["http"][_show_key("gone:7b")] = http({"error": "model 'gone:7b' not found"}, 404)
    outcome = _named(spec, ("llama3.2", "gone:7b", "llama3.2"), tmp_path)
    first, missing = outcome.sections["models"]
    assert first.name == "llama3.2:latest"
    assert first.sha256 == BLOB  # the weights blob: the GGUF file's own sha256
    assert first.digest == DIGEST  # Ollama's manifest digest (`ollama list` ID)
    assert first.path == f"/usr/share/ollama/.ollama/models/blobs/sha256-{BLOB}"
    assert (first.format, first.architecture, first.quantization) == ("gguf", "llama", "Q4_K_M")
    assert first.parameters == 3212749888
    assert first.size_bytes is None  # the blob is not visible here; /api/tags' size is the sum
    # A model the server does not know is named, with everything else unknown.
    assert (missing.name, missing.sha256, missing.digest) == ("gone:7b", None, None)
    assert "model gone:7b: not known to the Ollama server" in (outcome.detail or "")
    assert outcome.sections["frontends"].ollama.server_version == "0.11.10"


def test_named_model_without_a_server_reads_ollama_folders(tmp_path: Path) -> None:
    spec = {
        "platform": LINUX_ALL["platform"],
        "env": {"OLLAMA_MODELS": "/srv/ollama/models"},
        "files": {
            "/srv/ollama/models/manifests/registry.ollama.ai/library/llama3.2/latest": json.dumps(
                {"layers": [{"mediaType": "application/vnd.ollama.image.model",
                             "digest": f"sha256:{BLOB}"}]}
            ),
            f"/srv/ollama/models/blobs/sha256-{BLOB}": "not a gguf file",
        },
    }
    outcome = _named(spec, ("llama3.2",), tmp_path)
    (model,) = outcome.sections["models"]
    assert (model.name, model.sha256) == ("llama3.2:latest", BLOB)  # named as the API names it
    assert outcome.status == "absent"  # no ollama binary, no server: only its files
    assert "ollama not on PATH, no server" in (outcome.detail or "")


def test_named_model_nowhere_is_named_and_unknown(tmp_path: Path) -> None:
    outcome = _named({"platform": LINUX_ALL["platform"]}, ("llama3.2",), tmp_path)
    (model,) = outcome.sections["models"]
    assert model.name == "llama3.2:latest" and model.sha256 is None
    assert "not a file, nor an installed Ollama model" in (outcome.detail or "")


@pytest.mark.parametrize(
    ("given", "full"),
    [("llama3.2", "llama3.2:latest"), ("qwen2.5:14b", "qwen2.5:14b"),
     ("hf.co/org/repo:Q4_K_M", "hf.co/org/repo:Q4_K_M"), ("user/model", "user/model:latest")],
)
def test_full_model_name(given: str, full: str) -> None:
    assert ollama.full_model_name(given) == full


class _FakeOllama(http_server.BaseHTTPRequestHandler):
    """A stand-in Ollama server on loopback (the test's own), answering what the probe asks."""

    shown: ClassVar[list[Any]] = []

    def do_GET(self) -> None:
        answers = {"/api/version": {"version": "0.12.3"}, "/api/ps": {"models": []},
                   "/api/tags": TAGS}
        self._reply(answers.get(self.path), 200 if self.path in answers else 404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length))
        self.shown.append(request)
        self._reply(SHOW if request.get("model") == "llama3.2" else {"error": "not found"},
                    200 if request.get("model") == "llama3.2" else 404)

    def _reply(self, body: Any, code: int) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def fake_ollama() -> Iterator[int]:
    server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_live_post_to_a_loopback_server(
    fake_ollama: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner's POST and the probe end to end, against a real socket."""
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{fake_ollama}")
    monkeypatch.setenv("PATH", "")  # no ollama binary, no journal: the API alone
    _FakeOllama.shown.clear()
    runner = LiveRunner()
    outcome = ollama.probe(
        ProbeContext(runner=runner, options=CaptureOptions(ollama_models=("llama3.2",)))
    )
    (model,) = outcome.sections["models"]
    assert (model.sha256, model.digest) == (BLOB, DIGEST)
    assert _FakeOllama.shown == [{"model": "llama3.2", "name": "llama3.2"}]
    answer = runner.http_post_json(f"http://127.0.0.1:{fake_ollama}/api/show", {"model": "x"})
    assert (answer.status, answer.code) == ("ok", 404)
    refused = runner.http_post_json("http://192.0.2.1:11434/api/show", {"model": "x"})
    assert refused.status == "unsupported"  # never off loopback


# ------------------------------------------------------------------------------- LM Studio


def test_runtime_manifest_read_by_structure() -> None:
    manifest = {
        "type": "llm_engine",
        "name": "llama.cpp-linux-x86_64-nvidia-cuda12-avx2",
        "version": "1.50.2",
        "manifest_version": "4",  # not a build
        "gpu": {"make": "Nvidia", "framework": "CUDA"},
        "deps": [{"name": "llama.cpp", "tag": "b6490", "commit": "3ECB2F671A"}],
    }
    assert lmstudio.parse_runtime_engine(json.dumps(manifest)) == BundledEngine(
        name="llama.cpp",
        version="1.50.2",
        build_number=6490,
        commit="3ecb2f671a",
        backend="CUDA 12",
        source="LM Studio runtime llama.cpp-linux-x86_64-nvidia-cuda12-avx2",
    )
    cpu = lmstudio.parse_runtime_engine('{"name": "llama.cpp-linux-x86_64-avx2", "version": "1"}')
    assert cpu.backend == "CPU"
    mlx = lmstudio.parse_runtime_engine(
        '{"name": "mlx-llm-mac-arm64-apple-metal-advsimd", "version": "0.26.1", "engine": "mlx"}'
    )
    assert (mlx.name, mlx.backend) == ("mlx", "Metal")
    with pytest.raises(ParseError):
        lmstudio.parse_runtime_engine('{"version": "1.0"}')


def test_runtime_kind() -> None:
    text = '{"name": "llama.cpp-win-x86_64-vulkan-avx2", "version": "2.13.0"}'
    data = parse_to_data("lmstudio-runtime", text)["frontends"]["lmstudio"]
    assert data["runtimes"] == [{"name": "llama.cpp-win-x86_64-vulkan-avx2", "version": "2.13.0"}]
    assert (data["engine"]["name"], data["engine"]["backend"]) == ("llama.cpp", "Vulkan")


def test_preferences_kind_names_the_gguf_engine() -> None:
    text = Path("tests/fixtures/frontends/lmstudio-backends-macos.json").read_text()
    engine = parse_to_data("lmstudio-backends", text)["frontends"]["lmstudio"]["engine"]
    assert (engine["name"], engine["version"]) == ("llama.cpp", "1.46.0")
    assert engine["backend"] == "Metal"


def _lmstudio(host: str) -> Any:
    runner = ReplayRunner(HOSTS / host)
    outcome = lmstudio.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    return outcome.sections["frontends"].lmstudio


def test_lmstudio_probe_selected_runtime() -> None:
    assert _lmstudio("frontends-linux-all").engine == BundledEngine(
        name="llama.cpp",
        version="1.50.2",
        build_number=6490,
        commit="3ecb2f671a",
        backend="CUDA 12",
        source="LM Studio runtime llama.cpp-linux-x86_64-nvidia-cuda12-avx2",
    )
    windows = _lmstudio("frontends-windows").engine  # no manifests: from the folder names
    assert (windows.version, windows.backend) == ("1.52.1", "CUDA 12")
    assert _lmstudio("frontends-half-installed").engine is None


def test_lmstudio_engine_without_a_choice() -> None:
    cuda, vulkan = (
        NamedVersion(name="llama.cpp-linux-x86_64-nvidia-cuda12-avx2", version="1.50.2"),
        NamedVersion(name="llama.cpp-linux-x86_64-vulkan-avx2", version="1.50.2"),
    )
    runtimes = lmstudio._engines_of([cuda, vulkan])
    agreed = lmstudio.selected_engine(runtimes, [])
    assert agreed is not None
    assert (agreed.version, agreed.backend) == ("1.50.2", None)  # two backends: unknown
    assert lmstudio.selected_engine(runtimes, [vulkan]).backend == "Vulkan"  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------- Jan


def _jan(host: str) -> Any:
    outcome = jan.probe(ProbeContext(runner=ReplayRunner(HOSTS / host), options=CaptureOptions()))
    return outcome.sections["frontends"].jan


def test_jan_selected_backend() -> None:
    assert _jan("frontends-linux-all").engine == BundledEngine(
        name="llama.cpp",
        version="b6324",
        build_number=6324,
        backend="CUDA 12.0",
        source="Jan llama.cpp backend linux-avx2-cuda-cu12.0-x64",
    )


def test_jan_one_backend_installed() -> None:
    engine = _jan("frontends-windows").engine
    assert (engine.build_number, engine.backend) == (6150, "CUDA 12.0")


def test_jan_cortex_era() -> None:
    engine = _jan("frontends-macos").engine
    assert (engine.name, engine.version, engine.backend) == ("cortex.llamacpp", "0.1.40", None)


def test_jan_without_a_choice_keeps_the_shared_build() -> None:
    engines = [
        NamedVersion(name="llama.cpp linux-avx2-cuda-cu12.0-x64", version="b6324"),
        NamedVersion(name="llama.cpp linux-avx2-x64", version="b6324"),
        NamedVersion(name="@janhq/inference-cortex-extension", version="1.0.25"),
    ]
    engine = jan.jan_engine(engines, None)
    assert engine is not None
    assert (engine.build_number, engine.backend) == (6324, None)
    assert jan.jan_engine(engines, "b6324/linux-avx2-x64").backend == "CPU"  # type: ignore[union-attr]


@given(st.recursive(st.none() | st.text(max_size=20) | st.integers(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=10))
def test_settings_and_manifests_never_raise(data: Any) -> None:
    jan.selected_backend(data)
    with contextlib.suppress(ParseError):
        lmstudio.parse_runtime_engine(json.dumps(data))


def test_failure_is_recorded_not_raised() -> None:
    with pytest.raises(ProbeFailure):
        _replay_ollama("frontends-none")
