"""LM Studio's parsers: lms version / ps / ls, backend preferences and manifests, the app
version, the server's model list (the probe: tests/probes/test_lmstudio.py)."""

from __future__ import annotations

import contextlib
import json
import plistlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers import lmstudio
from envstamp.parsers.info_plist import parse_info_plist
from envstamp.parsers.kinds import parse_to_data

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frontends"


def _lms(kind: str, name: str) -> dict[str, Any]:
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    result: dict[str, Any] = parse_to_data(kind, text)["frontends"]["lmstudio"]
    return result


def _rows(models: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(m["name"], m["type"], m["params"], m["architecture"], m["size"]) for m in models]


# ---------------------------------------------------------------------------------- kinds


def test_version_old_banner() -> None:
    found = _lms("lms-version", "lms-version-0.2.24.txt")
    assert found["cli_version"] == "0.2.24"
    assert found["cli_commit"] is None


def test_version_commit_only_crlf() -> None:
    found = _lms("lms-version", "lms-version-commit-windows.txt")
    assert (found["cli_version"], found["cli_commit"]) == (None, "5e1c0d8")


@pytest.mark.parametrize("text", ["", "Usage: lms [options]\n", "GitHub: https://x/y 1.2.3"])
def test_version_rejects_other_output(text: str) -> None:
    with pytest.raises(ParseError):
        lmstudio.parse_lms_version(text)


def test_ps_old_bullets() -> None:
    found = _lms("lms-ps", "lms-ps-old.txt")["loaded_models"]
    assert _rows(found) == [
        (
            "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF/"
            "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
            "llm",
            None,
            "Llama",
            "4.92 GB",
        ),
        ("text-embedding-nomic-embed-text-v1.5", "embedding", None, "Nomic BERT", "84.11 MB"),
    ]


def test_ps_new_table() -> None:
    found = _lms("lms-ps", "lms-ps-new.txt")["loaded_models"]
    assert [(m["name"], m["size"]) for m in found] == [
        ("qwen3-8b", "5.03 GB"),
        ("text-embedding-bge-m3", "437 MB"),
    ]


def test_ps_nothing_loaded() -> None:
    assert _lms("lms-ps", "lms-ps-empty.txt")["loaded_models"] == []


def test_ls_0_2_sections() -> None:
    found = _lms("lms-ls", "lms-ls-0.2.txt")["models"]
    assert _rows(found) == [
        ("bartowski/gemma-2-9b-it-GGUF", "llm", "9B", "Gemma2", "5.76 GB"),
        ("TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "llm", None, "Llama", "4.37 GB"),
        ("nomic-ai/nomic-embed-text-v1.5-GGUF", "embedding", None, "Nomic BERT", "84.11 MB"),
    ]


def test_ls_0_3_table_with_variants_and_loaded_mark() -> None:
    found = _lms("lms-ls", "lms-ls-0.3.txt")["models"]
    assert _rows(found) == [
        ("qwen2.5-coder-14b-instruct", "llm", "14B", "qwen2", "8.99 GB"),
        ("mistral-nemo-instruct-2407", "llm", "12B", "Mistral", "7.48 GB"),
        ("phi-4", "llm", None, "phi3", "8.38 GB"),
        ("text-embedding-nomic-embed-text-v1.5", "embedding", None, "Nomic BERT", "84.11 MB"),
    ]


def test_ls_oldest_plain_lines() -> None:
    found = _lms("lms-ls", "lms-ls-oldest.txt")["models"]
    assert [(m["name"], m["size"]) for m in found] == [
        ("TheBloke/Llama-2-7B-Chat-GGUF/llama-2-7b-chat.Q4_K_M.gguf", "3.83 GB"),
        ("TheBloke/phi-2-GGUF/phi-2.Q5_K_M.gguf", "2.07 GB"),
    ]


def test_ls_no_models() -> None:
    text = "You have 0 models, taking up 0 B of disk space.\n"
    assert lmstudio.parse_lms_models(text, "lms ls") == []


@pytest.mark.parametrize("text", ["", "hello world", "ollama version is 0.1.2", "\x00"])
def test_models_reject_other_output(text: str) -> None:
    with pytest.raises(ParseError):
        lmstudio.parse_lms_models(text, "lms ls")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "lmstudio-backends-windows.json",
            [
                ("llama.cpp-win-x86_64-nvidia-cuda12-avx2", "1.52.1"),
                ("onnx-runtime-win-x86_64", "0.3.0"),
            ],
        ),
        (
            "lmstudio-backends-macos.json",
            [
                ("llama.cpp-mac-arm64-apple-metal-advsimd", "1.46.0"),
                ("mlx-llm-mac-arm64-apple-metal-advsimd", "0.26.1"),
            ],
        ),
        ("lmstudio-backends-linux.json", [("llama.cpp-linux-x86_64-vulkan-avx2", "1.28.0")]),
    ],
)
def test_backends_kind(name: str, expected: list[tuple[str, str]]) -> None:
    found = _lms("lmstudio-backends", name)
    for key in ("runtimes", "selected_runtimes"):
        assert [(r["name"], r["version"]) for r in found[key]] == expected


@pytest.mark.parametrize("text", ["", "{", "42", '"text"', '[{"version": "1.0"}]', "null"])
def test_backends_reject_other_documents(text: str) -> None:
    with pytest.raises(ParseError):
        lmstudio.parse_backend_preferences(text)


def test_backends_empty_list_is_no_selection() -> None:
    assert lmstudio.parse_backend_preferences("[]") == []


def test_engine_versions_are_not_llama_cpp_builds() -> None:
    text = (FIXTURES / "lmstudio-backends-windows.json").read_text()
    data = parse_to_data("lmstudio-backends", text)
    assert set(data) == {"frontends"}  # nothing under llamacpp


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("llama.cpp-linux-x86_64-avx2-1.50.2", ("llama.cpp-linux-x86_64-avx2", "1.50.2")),
        ("mlx-llm-mac-arm64-apple-metal-0.26.1", ("mlx-llm-mac-arm64-apple-metal", "0.26.1")),
        ("vulkan-avx2-v1.2.0-beta.1", ("vulkan-avx2", "1.2.0-beta.1")),
        ("vendor", None),
        ("llama.cpp-win-x86_64-avx2", None),
    ],
)
def test_backend_folder_names(folder: str, expected: tuple[str, str] | None) -> None:
    found = lmstudio.split_backend_folder(folder)
    assert (None if found is None else (found.name, found.version)) == expected


def test_info_plist_xml_and_binary() -> None:
    info = {"CFBundleShortVersionString": "0.3.31", "CFBundleVersion": "7"}
    assert parse_info_plist(plistlib.dumps(info)) == "0.3.31"
    assert parse_info_plist(plistlib.dumps(info, fmt=plistlib.FMT_BINARY)) == "0.3.31"
    assert parse_info_plist(b"garbage") is None


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/home/u/Applications/LM-Studio-0.3.27-4-x64.AppImage", "0.3.27"),
        ("/opt/LM_Studio-0.2.31.AppImage", "0.2.31"),
        ("C:\\Users\\u\\AppData\\Local\\Programs\\LM Studio\\LM Studio.exe", None),
    ],
)
def test_version_in_file_name(path: str, version: str | None) -> None:
    assert lmstudio.version_in_file_name(path) == version


def test_api_models() -> None:
    body = {
        "data": [
            {"id": "a", "type": "llm", "arch": "llama", "state": "loaded"},
            {"id": "b", "type": "embeddings", "state": "not-loaded"},
            {"type": "llm"},
        ]
    }
    models, loaded = lmstudio.parse_api_models(json.dumps(body))
    assert [(m.name, m.type) for m in models] == [("a", "llm"), ("b", "embedding")]
    assert [m.name for m in loaded] == ["a"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parsers_raise_only_parse_error(text: str) -> None:
    for parse in (
        lmstudio.parse_lms_version_kind,
        lmstudio.parse_lms_ps_kind,
        lmstudio.parse_lms_ls_kind,
        lmstudio.parse_backends_kind,
        lmstudio.parse_api_models,
    ):
        with contextlib.suppress(ParseError):
            parse(text)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_JSON)
def test_json_documents_raise_only_parse_error(data: object) -> None:
    for parse in (lmstudio.parse_backends_kind, lmstudio.parse_api_models):
        with contextlib.suppress(ParseError):
            parse(json.dumps(data))


# ------------------------------------------------- other tools' real outputs fed to the kinds
# (tests/parsers/test_kinds_props.py feeds every fixture to every kind).
OTHER_TOOLS = FIXTURES.parent


def _other(name: str) -> str:
    return (OTHER_TOOLS / name).read_bytes().decode("utf-8")


@pytest.mark.parametrize(
    "name",
    [
        "frontends/vllm-0.6.3.post1.txt",  # a bare version names no tool
        "llamacpp-real/0.5.0-dev-0c1e57098/version.txt",  # llama.cpp's "(build 0, commit ...)"
        "runtimes/hipconfig-version.txt",
    ],
)
def test_version_kind_refuses_what_does_not_name_the_lm_studio_cli(name: str) -> None:
    with pytest.raises(ParseError):
        lmstudio.parse_lms_version_kind(_other(name))


def test_version_kind_reads_what_names_the_cli_and_the_probe_a_bare_version() -> None:
    found = lmstudio.parse_lms_version_kind("CLI commit: 0a1b2c3\r\n")["frontends"].lmstudio
    assert (found.cli_version, found.cli_commit) == (None, "0a1b2c3")
    found = lmstudio.parse_lms_version_kind("LM STUDIO CLI v0.3.1\n")["frontends"].lmstudio
    assert found.cli_version == "0.3.1"
    with pytest.raises(ParseError):  # names the CLI, states no version
        lmstudio.parse_lms_version_kind("lms - LM Studio CLI\n0.3.1\n")
    # The probe ran lms itself: a lone version is the CLI's, float noise is nobody's.
    assert lmstudio.parse_lms_version("0.3.1\n").cli_version == "0.3.1"
    with pytest.raises(ParseError):
        lmstudio.parse_lms_version("0.018275361000632984\n")


@pytest.mark.parametrize(
    "name",
    [
        "frontends/lms-ls-0.2.txt",
        "frontends/lms-ls-0.3.txt",
        "frontends/lms-ls-oldest.txt",
        "frontends/ollama-ps-0.7.0-windows.txt",
        "frontends/ollama-ps-empty.txt",
        "frontends/ollama-ps-0.1.38.txt",
    ],
)
def test_ps_kind_refuses_lms_ls_and_ollama_ps(name: str) -> None:
    with pytest.raises(ParseError):
        lmstudio.parse_lms_ps_kind(_other(name))


@pytest.mark.parametrize(
    "name",
    [
        "frontends/lms-ps-old.txt",
        "frontends/lms-ps-new.txt",
        "frontends/lms-ps-empty.txt",
        "frontends/ollama-ps-0.7.0-windows.txt",
        "frontends/ollama-ps-empty.txt",
    ],
)
def test_ls_kind_refuses_lms_ps_and_ollama_ps(name: str) -> None:
    with pytest.raises(ParseError):
        lmstudio.parse_lms_ls_kind(_other(name))


def test_ps_and_ls_kinds_read_their_shapes_by_structure_not_by_sample() -> None:
    ps = ("IDENTIFIER    MODEL         STATUS    SIZE\n"
          "my-model      org/model     IDLE      1.2 GB\n")
    models = lmstudio.parse_lms_ps_kind(ps)["frontends"].lmstudio.loaded_models
    assert [(m.name, m.size) for m in models] == [("my-model", "1.2 GB")]
    ls = ("VLM                 PARAMS    ARCH     SIZE\n"
          "org/vision-model    7B        qwen2    4.1 GB\n")
    models = lmstudio.parse_lms_ls_kind(ls)["frontends"].lmstudio.models
    assert [(m.name, m.type, m.params) for m in models] == [("org/vision-model", "llm", "7B")]
    empty = lmstudio.parse_lms_ls_kind("You have 0 models, taking up 0 B of disk space.\n")
    assert empty["frontends"].lmstudio.models == []


@pytest.mark.parametrize(
    "name",
    [
        "runtimes/cuda-12.4-version.json",  # {"cuda": {"name": "CUDA SDK", "version": ...}}
        "frontends/ramalama-list-0.25.0.json",  # models named by URL
        "frontends/ramalama-list-0.25.0-empty.json",  # "[]": no engine at all
        "diff/not-a-manifest.json",
        "llamacpp-real/b5308-8733e0cf6/props.json",
    ],
)
def test_backends_kind_refuses_documents_that_name_no_engine_package(name: str) -> None:
    with pytest.raises(ParseError):
        lmstudio.parse_backends_kind(_other(name))


def test_backends_kind_reads_an_unseen_engine_package_in_either_shape() -> None:
    listed = json.dumps([{"model_format": "gguf", "name": "llama.cpp-linux-arm64-cpu",
                          "version": "2.0.0"}])
    runtimes = lmstudio.parse_backends_kind(listed)["frontends"].lmstudio.runtimes
    assert [(r.name, r.version) for r in runtimes] == [("llama.cpp-linux-arm64-cpu", "2.0.0")]
    keyed = json.dumps({"mlx": {"name": "mlx-llm-mac-arm64", "version": "v0.30.0"}})
    runtimes = lmstudio.parse_backends_kind(keyed)["frontends"].lmstudio.runtimes
    assert [(r.name, r.version) for r in runtimes] == [("mlx-llm-mac-arm64", "0.30.0")]
