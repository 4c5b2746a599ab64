"""RamaLama's outputs: ``ramalama version``, ``ramalama info``, ``ramalama list --json`` (most
fixtures printed by RamaLama 0.25.0 and 0.9.0 themselves: tests/fixtures/frontends/README.md)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.kinds import parse, parse_to_data
from envstamp.parsers.ramalama import (
    parse_ramalama_info,
    parse_ramalama_list,
    parse_ramalama_version,
)
from tests.frontends_support import LOGS


def _fixture(name: str) -> str:
    return (LOGS / name).read_text(encoding="utf-8")


# -------------------------------------------------------------------------------- version


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("ramalama-version-0.25.0.txt", "0.25.0"),
        ("ramalama-option-version-0.25.0.txt", "0.25.0"),
        ("ramalama-version-0.9.0.txt", "0.9.0"),
    ],
)
def test_version_as_ramalama_prints_it(name: str, version: str) -> None:
    assert parse_ramalama_version(_fixture(name)) == version


def test_version_quiet_prints_the_bare_version() -> None:
    # `ramalama version --quiet` prints version() alone (its print_version, 0.9 and 0.25).
    assert parse_ramalama_version("0.25.0\n") == "0.25.0"
    assert parse_ramalama_version("RamaLama Version v0.10.1\r\n") == "0.10.1"


@pytest.mark.parametrize(
    "text", ["", "ramalama: command not found\n", "0.1.2\n0.3.4\n", "version\n"]
)
def test_no_version_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_ramalama_version(text)


_OTHER_TOOLS = Path(__file__).parents[1] / "fixtures"
_BENCH_JSON = "bench/llama-server-0c1e570-openai-chat/bench_clock-pp32_tg8_c1-6fdc4a995a.json"


@pytest.mark.parametrize(
    "name", [_BENCH_JSON, "frontends/vllm-0.6.3.post1.txt", "runtimes/hipconfig-version.txt"]
)
def test_the_version_kind_refuses_what_does_not_say_ramalama_version(name: str) -> None:
    # A bare version names no tool (vllm --version prints one); a JSON float is none at all.
    with pytest.raises(ParseError):
        parse("ramalama-version", (_OTHER_TOOLS / name).read_text(encoding="utf-8"))


def test_the_probe_parser_reads_a_bare_version_but_not_float_noise() -> None:
    assert parse_ramalama_version("v0.12.0\n") == "0.12.0"
    with pytest.raises(ParseError):
        parse_ramalama_version("0.018275361000632984\n")


# ----------------------------------------------------------------------------------- info


def test_info_without_a_container_engine() -> None:
    found = parse_ramalama_info(_fixture("ramalama-info-0.25.0-no-engine.json"))
    assert (found.version, found.runtime, found.container_engine, found.use_container) == (
        "0.25.0", "llama.cpp", None, False,
    )
    assert (found.image, found.accelerator) == ("quay.io/ramalama/ramalama:0.25", "none")
    assert found.models == []


def test_info_of_the_vllm_runtime() -> None:
    found = parse_ramalama_info(_fixture("ramalama-info-0.25.0-vllm.json"))
    assert (found.runtime, found.image) == ("vllm", "docker.io/vllm/vllm-openai:latest")


def test_info_of_0_9_names_its_runtime_by_the_older_key() -> None:
    found = parse_ramalama_info(_fixture("ramalama-info-0.9.0-no-engine.json"))
    assert (found.version, found.runtime, found.image) == (
        "0.9.0", "llama.cpp", "quay.io/ramalama/ramalama:0.9",
    )
    assert found.use_container is False


def test_info_with_podman_and_cuda_keeps_only_how_models_run() -> None:
    text = _fixture("ramalama-info-0.25.0-podman-cuda.json")
    found = parse_ramalama_info(text)
    assert (found.container_engine, found.use_container, found.accelerator, found.image) == (
        "podman", True, "cuda", "quay.io/ramalama/cuda:0.25",
    )
    # The engine's own info (host name, storage) and the store path are not kept.
    data = json.dumps(parse_to_data("ramalama-info", text))
    assert "gpu-box" not in data and "/home/user" not in data


def test_info_after_a_warning_line_and_with_an_engine_path() -> None:
    info = json.loads(_fixture("ramalama-info-0.25.0-podman-cuda.json"))
    info["Engine"]["Name"] = "/opt/podman/bin/podman"
    found = parse_ramalama_info("Warning: a config key is unknown\n" + json.dumps(info))
    assert found.container_engine == "podman"


def test_info_of_a_stopped_docker_daemon_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no JSON"):
        parse_ramalama_info(_fixture("ramalama-info-0.25.0-docker-down.txt"))


@pytest.mark.parametrize(
    "text",
    ["{}", '{"Store": "/var/lib/ramalama"}', "[1, 2]", '{"Version": 1', "{\n"],
)
def test_json_that_is_not_ramalama_info_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_ramalama_info(text)


def test_info_values_of_the_wrong_type_are_unknown() -> None:
    text = json.dumps({
        "Version": 25, "Runtimes": {"Default": ""}, "Runtime": ["llama.cpp"],
        "Engine": {"Name": None}, "UseContainer": "yes", "Image": 3, "Accelerator": " ",
    })
    found = parse_ramalama_info(text)
    assert (found.version, found.runtime, found.container_engine, found.use_container) == (
        None, None, None, None,
    )
    assert (found.image, found.accelerator) == (None, None)


# ----------------------------------------------------------------------------------- list


def test_list_of_pulled_files() -> None:
    models = parse_ramalama_list(_fixture("ramalama-list-0.25.0.json"))
    assert [(m.name, m.shortname, m.size_bytes, m.partial) for m in models] == [
        ("file:///home/user/models/tinyllama-q8.gguf", None, 256, False),
        ("file:///home/user/models/granite-3b-q4.gguf", None, 256, False),
    ]


def test_list_of_0_9_keeps_its_names_as_printed() -> None:
    [model] = parse_ramalama_list(_fixture("ramalama-list-0.9.0.json"))
    name = "file://home/user/models/tinyllama-q8.gguf:latest"
    assert (model.name, model.size_bytes) == (name, 256)


def test_list_of_hugging_face_and_ollama_models_one_partial() -> None:
    models = parse_ramalama_list(_fixture("ramalama-list-0.25.0-hf-ollama.json"))
    assert [(m.name, m.shortname, m.partial) for m in models] == [
        ("ollama://library/granite3.1-dense:latest", "granite", False),
        ("hf://bartowski/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf", None, False),
        ("hf://unsloth/gpt-oss-20b-GGUF", None, True),
    ]
    assert models[0].size_bytes == 4942859936


def test_an_empty_store_lists_nothing() -> None:
    assert parse_ramalama_list(_fixture("ramalama-list-0.25.0-empty.json")) == []


def test_list_entries_without_a_name_are_skipped_and_odd_sizes_unknown() -> None:
    text = json.dumps([
        {"name": "hf://a/b", "size": True}, {"size": 3}, "hf://c", {"name": " "},
        {"name": "hf://d", "size": -1}, {"name": "hf://e", "size": 1.5},
    ])
    assert [(m.name, m.size_bytes) for m in parse_ramalama_list(text)] == [
        ("hf://a/b", None), ("hf://d", None), ("hf://e", None),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "frontends/lmstudio-backends-windows.json",
        "frontends/lmstudio-backends-macos.json",
        "amd/amd-smi-mi250x-bare-list.json",
        "timing/llama-bench-a4000-cuda.json",
        "llamacpp-real/b5308-8733e0cf6/bench.json",
    ],
)
def test_list_refuses_a_list_of_other_tools_objects(name: str) -> None:
    # LM Studio's {model_format, name, version}, amd-smi's GPUs, llama-bench records: none
    # holds a model's name with ramalama's "modified" or "size".
    with pytest.raises(ParseError):
        parse_ramalama_list((_OTHER_TOOLS / name).read_text(encoding="utf-8"))


def test_list_needs_one_entry_in_ramalama_shape() -> None:
    only_name = json.dumps([{"name": "llama.cpp-win-x86_64-vulkan-avx2", "version": "1.2.0"}])
    with pytest.raises(ParseError):
        parse_ramalama_list(only_name)
    modified = json.dumps([{"name": "ollama://x", "modified": "2025-01-01T00:00:00Z"}])
    assert [m.name for m in parse_ramalama_list(modified)] == ["ollama://x"]


@pytest.mark.parametrize("text", ["", '{"name": "x"}', "NAME MODIFIED SIZE\n", "[1,"])
def test_what_is_not_a_json_list_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_ramalama_list(text)


# ---------------------------------------------------------------------------------- kinds


def test_kinds_yield_the_frontends_fragment() -> None:
    info = parse_to_data("ramalama-info", _fixture("ramalama-info-0.25.0-no-engine.json"))
    assert info["frontends"]["ramalama"]["runtime"] == "llama.cpp"
    listed = parse_to_data("ramalama-list", _fixture("ramalama-list-0.25.0.json"))
    assert [m["size_bytes"] for m in listed["frontends"]["ramalama"]["models"]] == [256, 256]
    version = parse("ramalama-version", _fixture("ramalama-version-0.9.0.txt"))
    assert version["frontends"].ramalama.version == "0.9.0"


# ----------------------------------------------------------------------------- properties

_PARSERS: list[Callable[[str], Any]] = [
    parse_ramalama_version, parse_ramalama_info, parse_ramalama_list,
]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(["Version", "Runtime", "Runtimes", "Default", "Engine", "Name",
                         "UseContainer", "Image", "Accelerator", "name", "size", "shortname"])
        | st.text(max_size=6),
        inner,
        max_size=5,
    ),
    max_leaves=15,
)


def _never_raises_but_parse_error(text: str) -> None:
    # The parsers themselves, not only the kinds (which turn a parser's bug into ParseError).
    for parser in _PARSERS:
        with contextlib.suppress(ParseError):
            parser(text)
    for kind in ("ramalama-version", "ramalama-info", "ramalama-list"):
        with contextlib.suppress(ParseError):
            parse(kind, text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_result_or_a_parse_error(text: str) -> None:
    _never_raises_but_parse_error(text)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.sampled_from(["", "Warning: x\n", "\ufeff"]))
def test_any_json_gives_a_result_or_a_parse_error(value: Any, before: str) -> None:
    _never_raises_but_parse_error(before + json.dumps(value))
