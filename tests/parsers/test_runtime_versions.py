"""Compute runtimes' version files, headers, library names and tool outputs (the probe:
tests/probes/test_runtimes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.parsers.runtime_versions import (
    parse_cuda_version_json,
    parse_cuda_version_txt,
    parse_cudnn_header,
    parse_hip_version_file,
    parse_hipconfig_version,
    parse_nvcc_version,
    parse_rocm_version_file,
    version_in_name,
)

RUNTIMES = Path(__file__).parents[1] / "fixtures" / "runtimes"


def read(name: str) -> str:
    return (RUNTIMES / name).read_text(encoding="utf-8")


def test_cuda_version_files() -> None:
    assert parse_cuda_version_json(read("cuda-12.4-version.json")) == "12.4.1"
    assert parse_cuda_version_txt(read("cuda-10.2-version.txt")) == "10.2.89"
    assert parse_cuda_version_json("{broken") is None
    assert parse_cuda_version_json('{"cuda": "12"}') is None


def test_nvcc_versions() -> None:
    assert parse_nvcc_version(read("nvcc-12.1.txt")) == "12.1.105"
    assert parse_nvcc_version(read("nvcc-9.1-old.txt")) == "9.1.85"
    assert parse_nvcc_version("Cuda compilation tools, release 8.0") == "8.0"
    assert parse_nvcc_version("nvcc: command not found") is None


def test_cudnn_header_and_library_name() -> None:
    assert parse_cudnn_header(read("cudnn_version-9.3.h")) == "9.3.0"
    assert parse_cudnn_header("#include <cudnn_version.h>\n") is None
    assert version_in_name("libcudnn.so.8.9.7", r"libcudnn\.so\.(\d+(?:\.\d+)+)$") == "8.9.7"
    assert version_in_name("libcudnn.so.8", r"libcudnn\.so\.(\d+(?:\.\d+)+)$") is None


def test_rocm_and_hip_files() -> None:
    assert parse_rocm_version_file(read("rocm-info-version")) == "6.2.1-112"
    assert parse_rocm_version_file("") is None
    assert parse_hip_version_file(read("hip-version-6.2")) == "6.2.41134-65d174c3e"
    assert parse_hip_version_file("HIP_VERSION_MAJOR=6\n") is None
    assert parse_hipconfig_version(read("hipconfig-version.txt")) == "6.1.40093-bd86f1708"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_parsers_never_raise(text: str) -> None:
    for parse in (parse_cuda_version_json, parse_cuda_version_txt, parse_nvcc_version,
                  parse_cudnn_header, parse_hip_version_file, parse_hipconfig_version,
                  parse_rocm_version_file):
        result = parse(text)
        assert result is None or isinstance(result, str)


@pytest.mark.parametrize("name", ["libvulkan.so.1.3.275", "libvulkan.so.1.4.303"])
def test_vulkan_loader_names(name: str) -> None:
    assert version_in_name(name, r"libvulkan\.so\.(\d+(?:\.\d+)+)$") == name[13:]
