"""Compute runtime versions as their files and tools state them: CUDA's version.json and
version.txt, ``nvcc --version``, cuDNN's header, HIP's version file and ``hipconfig
--version``, ROCm's .info/version, and versions carried in file and folder names."""

from __future__ import annotations

import json
import re

from envstamp.parsers.textutil import clean

VERSION_PATTERN = r"\d+(?:\.\d+)+"


def parse_cuda_version_json(text: str) -> str | None:
    """cuda/version.json: {"cuda": {"version": "12.4.1"}, ...}."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    cuda = data.get("cuda") if isinstance(data, dict) else None
    version = cuda.get("version") if isinstance(cuda, dict) else None
    return clean(version) if isinstance(version, str) else None


def parse_cuda_version_txt(text: str) -> str | None:
    """cuda/version.txt (toolkits up to 11.0): "CUDA Version 11.0.228"."""
    match = re.search(rf"CUDA Version\s+({VERSION_PATTERN})", text)
    return match.group(1) if match else None


def parse_nvcc_version(text: str) -> str | None:
    """ "Cuda compilation tools, release 12.4, V12.4.131" -> "12.4.131"."""
    match = re.search(rf"release\s+{VERSION_PATTERN},\s*V({VERSION_PATTERN})", text)
    if match:
        return match.group(1)
    match = re.search(rf"release\s+({VERSION_PATTERN})", text)
    return match.group(1) if match else None


def parse_cudnn_header(text: str) -> str | None:
    """CUDNN_MAJOR / CUDNN_MINOR / CUDNN_PATCHLEVEL defines -> "9.1.0"."""
    parts = []
    for name in ("MAJOR", "MINOR", "PATCHLEVEL"):
        match = re.search(rf"^\s*#\s*define\s+CUDNN_{name}\s+(\d+)", text, re.M)
        if match is None:
            return None
        parts.append(match.group(1))
    return ".".join(parts)


def version_in_name(name: str, pattern: str) -> str | None:
    """The version a file or folder name carries, e.g. libcudnn.so.9.1.0 -> "9.1.0"."""
    match = re.search(pattern, name)
    return match.group(1) if match else None


def parse_hip_version_file(text: str) -> str | None:
    """HIP's version file (KEY=value) -> "6.1.40093-bd86f1708", as hipconfig prints it."""
    values = {}
    for line in text.splitlines():
        key, found, value = line.partition("=")
        if found:
            values[key.strip()] = value.strip()
    parts = [values.get(f"HIP_VERSION_{p}") for p in ("MAJOR", "MINOR", "PATCH")]
    if not all(p and p.isdigit() for p in parts):
        return None
    version = ".".join(p for p in parts if p)
    githash = values.get("HIP_VERSION_GITHASH")
    return f"{version}-{githash}" if githash else version


def parse_hipconfig_version(text: str) -> str | None:
    """ ``hipconfig --version`` prints the version alone: "6.1.40093-bd86f1708"."""
    match = re.search(rf"({VERSION_PATTERN}(?:-[0-9a-zA-Z]+)?)", text)
    return match.group(1) if match else None


def parse_rocm_version_file(text: str) -> str | None:
    """/opt/rocm/.info/version: "6.1.2-119" (the first line, as printed)."""
    first = clean(text.strip().splitlines()[0]) if text.strip() else None
    return first if first and re.match(r"\d+\.\d+", first) else None


def newest_version(names: list[str], pattern: str) -> str | None:
    """The highest version ``pattern`` finds among names (compared number by number)."""
    versions = [v for v in (version_in_name(n, pattern) for n in names) if v]
    return max(versions, key=lambda v: [int(p) for p in re.findall(r"\d+", v)], default=None)
