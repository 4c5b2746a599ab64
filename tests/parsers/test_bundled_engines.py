"""The engine a frontend bundles (issue 11 item 5), as the parsers read it: backend names,
what several engines agree on, Ollama's server log, LM Studio's runtime manifests and
preferences, Jan's engine entries (the probes reading them:
tests/probes/test_frontend_engines.py)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.manifest.model import BundledEngine, NamedVersion
from envstamp.parsers import jan, lmstudio, ollama, ollama_log
from envstamp.parsers.bundled_engine import agreed_engine, backend_in_name
from envstamp.parsers.kinds import parse_to_data
from tests.frontends_support import LINUX_JOURNAL

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frontends"


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


# Two starts of Ollama 0.1.x: slog's logfmt, and its runner's llama.cpp server text log
# ("INFO [main] build info | build=... commit=...").
OLD_LOG = (FIXTURES / "ollama-server-log-0.1.38-restarts.txt").read_text()


def test_server_log_counts_only_the_last_start() -> None:
    version, engine = ollama_log.read_server_log(OLD_LOG)
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
        version, engine = ollama_log.read_server_log(text)
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
    assert ollama_log.read_server_log(text)[1] == BundledEngine(
        name="ollama", backend="Metal", source="ollama server log"
    )
    # The 2024 runners' JSON log; a shallow checkout's build number 1 is no release.
    json_log = '{"function":"main","level":"INFO","msg":"build info","build":1,"commit":"5921b8f"}'
    engine = ollama_log.read_server_log(json_log)[1]
    assert engine is not None
    assert (engine.name, engine.build_number, engine.commit) == ("llama.cpp", None, "5921b8f")


def test_server_log_kind() -> None:
    data = parse_to_data("ollama-server-log", OLD_LOG)["frontends"]["ollama"]
    assert data["server_version"] == "0.1.38"
    assert data["engine"]["build_number"] == 2770
    with pytest.raises(ParseError):
        parse_to_data("ollama-server-log", "hello\nworld\n")


@pytest.mark.parametrize(
    "name",
    [
        "frontends/llamafile-0.8.6-server-start.txt",
        "llamacpp/version/b2600-server-json-log.txt",
        "llamacpp/version/b4820-cuda-2gpu-dl-backends.txt",
        "llamacpp/version/b6100-opencl-adreno.txt",
    ],
)
def test_server_log_kind_refuses_llama_cpp_logs_ollama_wrote_no_line_of(name: str) -> None:
    # Their "build info" and "load_backend: loaded CUDA backend" lines are what Ollama's
    # runner prints too, but no Ollama start or runner line is among them.
    text = (FIXTURES.parent / name).read_text(encoding="utf-8")
    with pytest.raises(ParseError):
        ollama_log.parse_ollama_server_log_kind(text)


def test_server_log_kind_reads_from_ollamas_runner_start_without_its_start() -> None:
    text = (
        'time=t level=INFO source=server.go:1 msg="starting runner" cmd="/x/ollama runner"\n'
        "load_backend: loaded Vulkan backend from /usr/lib/ollama/libggml-vulkan.so\n"
    )
    found = ollama_log.parse_ollama_server_log_kind(text)["frontends"].ollama
    assert found.server_version is None
    assert found.engine is not None and found.engine.backend == "Vulkan"


@given(st.text(max_size=300))
def test_server_log_reader_never_raises(text: str) -> None:
    ollama_log.read_server_log(text)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), st.text(max_size=20)))
def test_logfmt_round_trip(pairs: dict[str, str]) -> None:
    line = " ".join(f"{key}={json.dumps(value)}" for key, value in pairs.items())
    assert ollama_log.logfmt(line) == pairs


@pytest.mark.parametrize(
    ("given", "full"),
    [("llama3.2", "llama3.2:latest"), ("qwen2.5:14b", "qwen2.5:14b"),
     ("hf.co/org/repo:Q4_K_M", "hf.co/org/repo:Q4_K_M"), ("user/model", "user/model:latest")],
)
def test_full_model_name(given: str, full: str) -> None:
    assert ollama.full_model_name(given) == full


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


def test_lmstudio_engine_without_a_choice() -> None:
    cuda, vulkan = (
        NamedVersion(name="llama.cpp-linux-x86_64-nvidia-cuda12-avx2", version="1.50.2"),
        NamedVersion(name="llama.cpp-linux-x86_64-vulkan-avx2", version="1.50.2"),
    )
    runtimes = lmstudio.engines_of([cuda, vulkan])
    agreed = lmstudio.selected_engine(runtimes, [])
    assert agreed is not None
    assert (agreed.version, agreed.backend) == ("1.50.2", None)  # two backends: unknown
    assert lmstudio.selected_engine(runtimes, [vulkan]).backend == "Vulkan"  # type: ignore[union-attr]


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


@pytest.mark.parametrize(
    "name",
    [
        "llamacpp-real/b5308-8733e0cf6/chat.json",  # {"id": "chatcmpl-...", ...}
        "diff/not-a-manifest.json",  # {"name": "llama-bench results", ...}: words, no version
    ],
)
def test_runtime_kind_refuses_documents_that_name_no_engine_package(name: str) -> None:
    text = (FIXTURES.parent / name).read_text(encoding="utf-8")
    with pytest.raises(ParseError):
        lmstudio.parse_runtime_manifest_kind(text)


def test_runtime_kind_needs_the_package_name_with_its_version() -> None:
    with pytest.raises(ParseError):  # named by "id" alone
        lmstudio.parse_runtime_manifest_kind('{"id": "llama.cpp-x", "version": "1.0.0"}')
    found = lmstudio.parse_runtime_manifest_kind('{"name": "onnx-runtime-x", "version": "0.3.0"}')
    assert [r.name for r in found["frontends"].lmstudio.runtimes] == ["onnx-runtime-x"]
