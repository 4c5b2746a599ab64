"""The other engines' parsers: koboldcpp, llamafile, vLLM, Python distributions (the probe and
what all frontend probes share: tests/probes/test_engines.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers import koboldcpp, llamafile, python_dists, vllm
from envstamp.parsers.kinds import parse_to_data

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frontends"


def _frontend(kind: str, name: str, key: str) -> dict[str, Any]:
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    result: dict[str, Any] = parse_to_data(kind, text)["frontends"][key]
    return result


# ---------------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("name", "version", "backend"),
    [
        ("koboldcpp-1.68-vulkan.txt", "1.68", "Vulkan"),
        ("koboldcpp-1.43-clblast.txt", "1.43", "CLBlast"),
        ("koboldcpp-1.80.3-noavx2.txt", "1.80.3", "CPU"),
        ("koboldcpp-1.60.1-cublas.txt", "1.60.1", "CUDA"),
        ("koboldcpp-rocm-fork-windows.txt", "1.79.1.yr1-ROCm", "HIP"),
    ],
)
def test_koboldcpp_kind(name: str, version: str, backend: str) -> None:
    found = _frontend("koboldcpp", name, "koboldcpp")
    assert {k: found[k] for k in ("version", "backend")} == {"version": version, "backend": backend}
    # Its llama.cpp runs on the backend the banner chose; no build is printed.
    assert found["engine"] == {
        "name": "llama.cpp",
        "version": None,
        "build_number": None,
        "commit": None,
        "backend": backend,
        "source": "koboldcpp banner",
    }


def test_koboldcpp_engine_from_llama_cpp_lines() -> None:
    found = _frontend("koboldcpp", "koboldcpp-1.76-cuda-model-load.txt", "koboldcpp")
    assert (found["version"], found["backend"]) == ("1.76", "CUDA")
    assert found["engine"]["name"] == "llama.cpp"
    assert found["engine"]["backend"] == "CUDA"
    assert found["engine"]["source"] == "koboldcpp output"
    assert found["engine"]["build_number"] is None  # koboldcpp prints no llama.cpp build


def test_koboldcpp_version_alone_states_no_engine() -> None:
    assert koboldcpp.parse_koboldcpp("1.75.2\n").engine is None


@pytest.mark.parametrize(
    ("text", "version", "backend"),
    [
        ("1.75.2\n", "1.75.2", None),
        ("KoboldCpp v1.52\nAuto Selected Default Backend...", "1.52", "CPU"),
        ("Welcome to KoboldCpp - Version 1.70\nggml_metal_init: allocating", "1.70", "Metal"),
        ("Initializing CUDA/HIP, please wait", None, "CUDA"),
        ("Using hipBLAS library\nInitializing CUDA/HIP, please wait", None, "HIP"),
    ],
)
def test_koboldcpp_other_banners(text: str, version: str | None, backend: str | None) -> None:
    found = koboldcpp.parse_koboldcpp(text)
    assert (found.version, found.backend) == (version, backend)


@pytest.mark.parametrize("text", ["", "hello", "usage: koboldcpp.py [-h]", "1.2.3\n4.5.6\n"])
def test_koboldcpp_rejects_other_output(text: str) -> None:
    with pytest.raises(ParseError):
        koboldcpp.parse_koboldcpp(text)


# Regression: the kind found koboldcpp with a HIP backend in rocm-smi's text ("ROCm System
# Management Interface") and took vLLM's bare --version for koboldcpp's version.
@pytest.mark.parametrize(
    "name", ["amd/rocm-smi-text-w7900.txt", "frontends/vllm-0.6.3.post1.txt"]
)
def test_the_kind_refuses_text_that_does_not_name_koboldcpp(name: str) -> None:
    text = (Path(__file__).parents[1] / "fixtures" / name).read_text(encoding="utf-8")
    with pytest.raises(ParseError):
        koboldcpp.parse_koboldcpp_kind(text)


def test_the_kind_refuses_a_json_document_that_names_koboldcpp() -> None:
    """A manifest's "koboldcpp" field and a "ROCm" elsewhere in it are no banner."""
    manifest = ('{\n  "frontends": {"koboldcpp": null},\n'
                '  "runtimes": {"rocm": "6.2", "hip": "6.2.41133"}\n}\n')
    assert koboldcpp.parse_koboldcpp(manifest).backend == "HIP"  # what the kind must not take
    with pytest.raises(ParseError):
        koboldcpp.parse_koboldcpp_kind(manifest)


@pytest.mark.parametrize(
    "text",
    ["1.75.2\n", "Initializing CUDA/HIP, please wait", "Using ROCm 6.2\n",
     "Attempting to use hipBLAS library for faster prompt ingestion.\n"],
)
def test_the_kind_refuses_what_only_the_probe_knows_is_koboldcpps(text: str) -> None:
    """A bare version or a backend line alone: koboldcpp's when envstamp ran it (the probe
    reads them, as above), anyone's when piped in."""
    koboldcpp.parse_koboldcpp(text)
    with pytest.raises(ParseError):
        koboldcpp.parse_koboldcpp_kind(text)


@pytest.mark.parametrize(
    ("text", "version", "backend"),
    [("KOBOLDCPP v1.99\n", "1.99", None),
     ("Welcome to KoboldCpp - Version 1.79.1.yr1-ROCm\n", "1.79.1.yr1-ROCm", "HIP"),
     ("***\nWelcome to KoboldCpp - Version 2.0.1\nAuto Selected Vulkan Backend...\n", "2.0.1",
      "Vulkan")],
)
def test_the_kind_reads_text_that_names_koboldcpp(
    text: str, version: str | None, backend: str | None
) -> None:
    """Named in any case: what it says is read, nothing more."""
    found = koboldcpp.parse_koboldcpp_kind(text)["frontends"].koboldcpp
    assert (found.version, found.backend) == (version, backend)


def test_koboldcpp_source_version() -> None:
    assert koboldcpp.parse_koboldcpp_source('x = 1\nKcppVersion = "1.82.1"\n') == "1.82.1"
    assert koboldcpp.parse_koboldcpp_source("print('hi')") is None


@pytest.mark.parametrize(
    ("name", "version"),
    [("llamafile-0.8.13.txt", "0.8.13"), ("llamafile-server-0.6.2.txt", "0.6.2")],
)
def test_llamafile_kind(name: str, version: str) -> None:
    # `--version` names llamafile only: its llama.cpp is not stated, so it stays unknown.
    assert _frontend("llamafile-version", name, "llamafile") == {"version": version, "engine": None}


def test_llamafile_start_up_states_its_llama_cpp_build() -> None:
    found = _frontend("llamafile-version", "llamafile-0.8.6-server-start.txt", "llamafile")
    assert found == {
        "version": "0.8.6",
        "engine": {
            "name": "llama.cpp",
            "version": None,
            "build_number": 1500,
            "commit": "a30b324",
            "backend": "CUDA",
            "source": "llamafile output",
        },
    }


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("vllm-0.6.3.post1.txt", "0.6.3.post1"),
        ("vllm-0.8.5-with-logs.txt", "0.8.5"),
        ("vllm-api-server-0.4.3.txt", "0.4.3"),
        ("vllm-engine-0.6.2.txt", "0.6.2"),
    ],
)
def test_vllm_kind(name: str, version: str) -> None:
    assert _frontend("vllm-version", name, "vllm") == {"version": version}


@pytest.mark.parametrize("text", ["", "Segmentation fault", "INFO starting server on :8000"])
def test_version_kinds_reject_other_output(text: str) -> None:
    for parse in (llamafile.parse_llamafile_version, vllm.parse_vllm_version):
        with pytest.raises(ParseError):
            parse(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parsers_raise_only_parse_error(text: str) -> None:
    for parse in (
        koboldcpp.parse_koboldcpp_kind,
        llamafile.parse_llamafile_version_kind,
        vllm.parse_vllm_version_kind,
    ):
        with contextlib.suppress(ParseError):
            parse(text)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.4.1+cu124", ("2.4.1", "cu124")),
        ("2.5.0+rocm6.2", ("2.5.0", "rocm6.2")),
        ("2.3.0+cpu", ("2.3.0", "cpu")),
        ("4.46.3", ("4.46.3", None)),
        (None, None),
    ],
)
def test_python_engine_build_tag(version: str | None, expected: tuple[str, Any] | None) -> None:
    found = python_dists.python_engine(version)
    assert (None if found is None else (found.version, found.build_tag)) == expected


def test_dist_info_version() -> None:
    names = ["vllm", "vllm_flash_attn-2.6.2.dist-info", "vLLM-0.6.4.post1.dist-info"]
    assert python_dists.dist_info_version(names, "vllm") == "0.6.4.post1"
    assert python_dists.dist_info_version(["vllm-0.2.0-py3.10.egg-info"], "vllm") == "0.2.0"
    assert python_dists.dist_info_version(["torch-2.1.0.dist-info"], "vllm") is None


@pytest.mark.parametrize(
    ("head", "python"),
    [
        (b"#!/opt/venv/bin/python3\nimport x\n", "/opt/venv/bin/python3"),
        (b"#!/usr/bin/env python3\n", None),
        (b"\x7fELF\x02\x01", None),
        (b"#!", None),
    ],
)
def test_shebang_python(head: bytes, python: str | None) -> None:
    assert python_dists.shebang_python(head) == python


# Other tools' real outputs fed to these kinds (tests/parsers/test_kinds_props.py feeds them
# all): llama-server bench JSON ends a list with a float on a line of its own, hipconfig
# prints a version that is no Python package's, vLLM a bare one that names no llamafile.
_FIXTURE_ROOT = FIXTURES.parent
_BENCH_JSON = "bench/llama-server-0c1e570-openai-chat/bench_clock-pp32_tg8_c1-6fdc4a995a.json"


@pytest.mark.parametrize("name", [_BENCH_JSON, "runtimes/hipconfig-version.txt"])
def test_vllm_kind_refuses_a_json_float_and_a_version_no_python_package_has(name: str) -> None:
    text = (_FIXTURE_ROOT / name).read_text(encoding="utf-8")
    with pytest.raises(ParseError):
        vllm.parse_vllm_version_kind(text)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("0.9.2rc1.dev5+g1a2b3c4\n", "0.9.2rc1.dev5+g1a2b3c4"),
        ("0.4.0+cu118\nWARNING 01-02 03:04:05 [x.py:1] slow import\n", "0.4.0+cu118"),
        ("INFO 05-02 09:14:07 [__init__.py:239] detected\n1.0.0\n", "1.0.0"),
    ],
)
def test_vllm_reads_a_bare_python_package_version(text: str, version: str) -> None:
    assert vllm.parse_vllm_version(text).version == version


@pytest.mark.parametrize("text", ["0.018275361000632984\n", "6.1.40093-bd86f1708\n", "0.05\n"])
def test_vllm_refuses_float_noise_and_foreign_version_shapes(text: str) -> None:
    with pytest.raises(ParseError):
        vllm.parse_vllm_version(text)


@pytest.mark.parametrize(
    "name", [_BENCH_JSON, "frontends/vllm-0.6.3.post1.txt", "frontends/vllm-0.8.5-with-logs.txt",
             "runtimes/hipconfig-version.txt"],
)
def test_llamafile_kind_refuses_output_that_does_not_name_llamafile(name: str) -> None:
    text = (_FIXTURE_ROOT / name).read_text(encoding="utf-8")
    with pytest.raises(ParseError):
        llamafile.parse_llamafile_version_kind(text)


def test_llamafile_probe_parser_still_reads_a_lone_version_but_not_float_noise() -> None:
    # The probe ran llamafile itself: its lone version is llamafile's.
    assert llamafile.parse_llamafile_version("0.8.13\n").version == "0.8.13"
    with pytest.raises(ParseError):
        llamafile.parse_llamafile_version("0.018275361000632984\n")
    found = llamafile.parse_llamafile_version_kind("LLAMAFILE v0.9.0\n")["frontends"]
    assert found.llamafile.version == "0.9.0"
