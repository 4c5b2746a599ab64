"""Ollama's parsers: its version, ps table and API answers, OLLAMA_HOST and settings (the
probe: tests/probes/test_ollama.py)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers import ollama, ollama_host
from envstamp.parsers.kinds import parse_to_data

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frontends"


def _ollama(kind: str, name: str) -> dict[str, object]:
    text = (FIXTURES / name).read_bytes().decode("utf-8")  # CRLF kept as written
    data = parse_to_data(kind, text)["frontends"]
    assert isinstance(data, dict)
    result = data["ollama"]
    assert isinstance(result, dict)
    return result


# ---------------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("name", "server", "client"),
    [
        ("ollama-version-0.1.14.txt", "0.1.14", "0.1.14"),
        ("ollama-version-0.5.7-windows.txt", "0.5.7", "0.5.7"),
        ("ollama-version-0.3.10-client-0.3.12.txt", "0.3.10", "0.3.12"),
        ("ollama-version-0.12.3-no-server.txt", None, "0.12.3"),
        ("ollama-version-0.9.1-rc0-no-server-windows.txt", None, "0.9.1-rc0"),
    ],
)
def test_version_kind(name: str, server: str | None, client: str) -> None:
    found = _ollama("ollama-version", name)
    assert found["server_version"] == server
    assert found["client_version"] == client


def test_version_without_any_version_is_an_error() -> None:
    with pytest.raises(ParseError):
        ollama.parse_ollama_version("Error: something went wrong\n")


def test_could_not_connect_alone_leaves_both_unknown() -> None:
    found = ollama.parse_ollama_version("Warning: could not connect to a running Ollama instance")
    assert (found.client_version, found.server_version) == (None, None)


def test_api_version_kind() -> None:
    assert _ollama("ollama-api-version", "ollama-api-version-0.6.8.json")["server_version"] == (
        "0.6.8"
    )


@pytest.mark.parametrize("text", ['{"version": 12}', "[]", '{"ver": "1"}', "<html>", ""])
def test_api_version_rejects_other_documents(text: str) -> None:
    with pytest.raises(ParseError):
        ollama.parse_ollama_api_version(text)


@pytest.mark.parametrize(
    "name", ["diff/cpu-builds/0c1e570-cpu.json", "llamacpp-real/b5308-8733e0cf6/props.json"]
)
def test_api_version_kind_refuses_documents_with_a_version_among_lists_and_objects(
    name: str,
) -> None:
    # A llama.cpp build record ({"version": "0.5.0-dev", "backends": [...], "git": {...}})
    # has a "version" key, but not /api/version's flat shape.
    text = (Path(__file__).parents[1] / "fixtures" / name).read_text(encoding="utf-8")
    with pytest.raises(ParseError):
        ollama.parse_ollama_api_version_kind(text)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ('{"version":"0.0.0"}', "0.0.0"),
        ('{"version": "v0.13.0-rc1", "commit": "abc"}', "0.13.0-rc1"),
    ],
)
def test_api_version_kind_reads_the_flat_answer_of_any_version(text: str, version: str) -> None:
    assert ollama.parse_ollama_api_version_kind(text)["frontends"].ollama.server_version == version


@pytest.mark.parametrize("text", ['{"version": "0.018275361000632984"}', '{"version": "latest"}'])
def test_api_version_kind_refuses_a_version_that_is_none(text: str) -> None:
    with pytest.raises(ParseError):
        ollama.parse_ollama_api_version_kind(text)


def test_ps_five_columns() -> None:
    models = _ollama("ollama-ps", "ollama-ps-0.1.38.txt")["loaded_models"]
    assert isinstance(models, list)
    assert [m["name"] for m in models] == ["mixtral:8x7b", "nomic-embed-text:latest"]
    mixtral, embed = models
    assert mixtral["id"] == "d39eb76ed9c5"
    assert mixtral["size"] == "28 GB"
    assert mixtral["size_bytes"] is None  # "28 GB" is rounded, not exact
    assert mixtral["processor"] == "48%/52% CPU/GPU"
    assert mixtral["gpu_percent"] == 52
    assert mixtral["context"] is None
    assert mixtral["until"] == "4 minutes from now"
    assert embed["gpu_percent"] == 0
    assert embed["until"] == "Stopping..."


def test_ps_six_columns_crlf_and_trailing_spaces() -> None:
    models = _ollama("ollama-ps", "ollama-ps-0.7.0-windows.txt")["loaded_models"]
    assert isinstance(models, list)
    assert [(m["name"], m["context"], m["until"], m["gpu_percent"]) for m in models] == [
        ("gemma3:27b", 8192, "Forever", 100),
        ("phi4-mini:latest", 2048, "About a minute from now", 0),
    ]
    assert models[1]["size"] == "3.9 GB"


def test_ps_header_only_is_no_models() -> None:
    assert _ollama("ollama-ps", "ollama-ps-empty.txt")["loaded_models"] == []


@pytest.mark.parametrize("text", ["", "NAME\n", "ollama version is 0.1.0", "\x00\x01"])
def test_ps_rejects_other_output(text: str) -> None:
    with pytest.raises(ParseError):
        ollama.parse_ollama_ps(text)


@pytest.mark.parametrize(
    ("processor", "expected"),
    [
        ("100% GPU", 100),
        ("100% CPU", 0),
        ("48%/52% CPU/GPU", 52),
        ("25%/75% GPU/CPU", 25),
        ("something else", None),
        (None, None),
    ],
)
def test_gpu_percent(processor: str | None, expected: int | None) -> None:
    assert ollama.gpu_percent(processor) == expected


def test_api_ps_mirrors_the_cli_table() -> None:
    body = {
        "models": [
            {
                "name": "mistral:7b",
                "digest": "sha256:f974a74358d62a017b37c6f424fcdf2744ca02926c4f952513ddf474b2fa5091",
                "size": 5_000_000_000,
                "size_vram": 2_400_000_000,
                "expires_at": "2025-01-01T00:05:00Z",
                "context_length": 4096,
            },
            {"name": "tiny", "size": 600_000_000, "size_vram": 0},
            "not a model",
        ]
    }
    first, second = ollama.parse_ollama_api_ps(json.dumps(body))
    assert first.id == "f974a74358d6"
    assert first.size == "5.0 GB" and first.size_bytes == 5_000_000_000
    assert first.processor == "52%/48% CPU/GPU" and first.gpu_percent == 48
    assert first.context == 4096
    assert second.processor == "100% CPU" and second.size == "600 MB"
    assert ollama.parse_ollama_api_ps("{}") == []


@pytest.mark.parametrize(
    ("value", "url"),
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        (":11500", "http://127.0.0.1:11500"),
        ("localhost", "http://localhost:11434"),
        ("127.0.0.2:9999", "http://127.0.0.2:9999"),
        ("http://127.0.0.1:11434/", "http://127.0.0.1:11434"),
        ("http://localhost:8000/ollama", "http://localhost:8000/ollama"),
        ("[::1]:11434", "http://[::1]:11434"),
        ("http://user:pw@127.0.0.1:1", "http://127.0.0.1:1"),
        ("gpu-box.lan", None),
        ("http://10.0.0.5:11434", None),
        ("https://127.0.0.1:11434", None),
    ],
)
def test_base_url(value: str | None, url: str | None) -> None:
    assert ollama_host.ollama_base_url(value) == url


def test_gpu_library_variants_leave_cpu_out() -> None:
    names = ["cpu_avx2", "cuda_v12", "rocm", "runners", "cuda_v11_avx", "vulkan"]
    assert ollama.gpu_library_variants(names) == ["cuda_v11_avx", "cuda_v12", "rocm", "vulkan"]


def test_settings_drop_secrets_and_credentials() -> None:
    values = {
        "OLLAMA_API_KEY": "x",
        "OLLAMA_AUTH_TOKEN": "y",
        "OLLAMA_HOST": "http://me:pw@127.0.0.1:1",
        "OLLAMA_NUM_PARALLEL": "4",
        "OLLAMA_UNSET": None,
    }
    assert ollama.settings_from(values, ollama.secret_name_rule()) == {
        "OLLAMA_HOST": "http://127.0.0.1:1",
        "OLLAMA_NUM_PARALLEL": "4",
    }


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parsers_raise_only_parse_error(text: str) -> None:
    for parse in (
        ollama.parse_ollama_version_kind,
        ollama.parse_ollama_api_version_kind,
        ollama.parse_ollama_ps_kind,
        ollama.parse_ollama_api_ps,
    ):
        with contextlib.suppress(ParseError):
            parse(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["NAME", "ID", "SIZE", "100% GPU", "x", "4096", " ", "  "])),
        max_size=5,
    )
)
def test_table_like_text_raises_only_parse_error(rows: list[list[str]]) -> None:
    text = "NAME  ID  SIZE  PROCESSOR  UNTIL\n" + "\n".join("  ".join(r) for r in rows)
    for model in ollama.parse_ollama_ps(text):
        assert model.gpu_percent is None or 0 <= model.gpu_percent <= 100


# ------------------------------------------------------------------------- recorded hosts
