"""koboldcpp's start-up banner and ``--version``: its version, the backend it chose, and the
llama.cpp build where llama.cpp's own lines state it; a checkout's ``KcppVersion``."""

from __future__ import annotations

import re

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import BundledEngine, KoboldCpp, Sections
from envstamp.parsers.bundled_engine import engine_from_llama_output
from envstamp.parsers.frontend_text import (
    VERSION,
    as_version,
    frontends,
    lines_of,
    require_text,
)

_KCPP_VERSION = re.compile(
    rf"(?:KoboldCpp|koboldcpp)\b[^\n\d]*?(?:version|v)\s*[:=]?\s*v?({VERSION})", re.IGNORECASE
)
_KCPP_SOURCE_VERSION = re.compile(rf"""KcppVersion\s*=\s*["']({VERSION})["']""")
# (pattern, backend): the last matching line decides, as koboldcpp may fall back.
_KCPP_BACKENDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), backend)
    for pattern, backend in (
        (r"\b(?:hipBLAS|ROCm|rocBLAS)\b", "HIP"),
        (r"\bcu(?:BLAS|da)\b.*\blibrary\b|use CuBLAS|Auto Selected CUDA", "CUDA"),
        (r"use (?:the )?Vulkan\b|Auto Selected Vulkan|ggml_vulkan: Found", "Vulkan"),
        (r"use CLBlast|Auto Selected CLBlast|Initializing CLBlast", "CLBlast"),
        (r"use OpenBLAS|Auto Selected OpenBLAS", "OpenBLAS"),
        (r"ggml_metal_init|Metal backend", "Metal"),
        (
            r"use (?:non-avx2|noavx2|failsafe|old ?cpu|compatibility|standard|default|cpu)\b"
            r"|Auto Selected (?:Default|CPU|Failsafe|NoAVX2|Old ?CPU)",
            "CPU",
        ),
    )
)
# Printed by CUDA and ROCm builds alike: CUDA unless another line said HIP.
_KCPP_CUDA_OR_HIP = re.compile(r"Initializing CUDA/HIP", re.IGNORECASE)


# koboldcpp names itself in what it prints: its banner ("Welcome to KoboldCpp - Version ..."),
# its libraries ("koboldcpp_cublas.so"), its fork's name.
_NAMES_ITSELF = re.compile(r"\bkoboldcpp", re.IGNORECASE)


def parse_koboldcpp(text: str) -> KoboldCpp:
    """What koboldcpp printed - its start-up banner, or its bare ``--version`` where envstamp
    ran the binary itself: version and the backend it chose.  (Text of unknown origin goes
    through :func:`parse_koboldcpp_kind`, which first asks that it name koboldcpp.)"""
    lines = lines_of(require_text(text, "koboldcpp"))
    version = backend = None
    for line in lines:
        if version is None and (found := _KCPP_VERSION.search(line)):
            version = found.group(1)
        for pattern, name in _KCPP_BACKENDS:
            if pattern.search(line):
                backend = name
                break
        else:
            if backend is None and _KCPP_CUDA_OR_HIP.search(line):
                backend = "CUDA"
    if version is None:
        lone = [as_version(line) for line in lines if line.strip()]
        version = lone[0] if len(lone) == 1 else None
    if version is None and backend is None:
        raise ParseError("no koboldcpp version or backend in the output")
    return KoboldCpp(version=version, backend=backend, engine=koboldcpp_engine(text, backend))


def koboldcpp_engine(text: str, backend: str | None) -> BundledEngine | None:
    """koboldcpp's llama.cpp: the backend its banner chose (it decides, as koboldcpp may fall
    back from what llama.cpp's own lines list), and a build where such a line states one."""
    engine = engine_from_llama_output(text, "koboldcpp output")
    if engine is None:
        if backend is None:
            return None
        return BundledEngine(name="llama.cpp", backend=backend, source="koboldcpp banner")
    return attrs.evolve(engine, backend=backend or engine.backend)


def parse_koboldcpp_kind(text: str) -> Sections:
    """Kind ``koboldcpp``: text piped in by a user, of any origin, is koboldcpp's only where it
    names koboldcpp (its banner, its libraries).  rocm-smi's "ROCm" is no HIP backend, and a
    bare version (vLLM's ``--version`` prints one too) says nothing of whose it is."""
    if not _NAMES_ITSELF.search(text or ""):
        raise ParseError("not koboldcpp output (it does not name KoboldCpp)")
    if _is_json_document(text):  # a manifest's "koboldcpp": {...} is about it, not by it
        raise ParseError("a JSON document, not koboldcpp's banner")
    return frontends(koboldcpp=parse_koboldcpp(text))


def _is_json_document(text: str) -> bool:
    import json

    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return False
    try:
        json.loads(stripped)
    except (ValueError, RecursionError):
        return False
    return True


def parse_koboldcpp_source(text: str) -> str | None:
    """``KcppVersion = "1.75.2"`` in a koboldcpp.py checkout."""
    found = _KCPP_SOURCE_VERSION.search(text)
    return found.group(1) if found else None


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "koboldcpp": ("parse_koboldcpp_kind", "koboldcpp start-up banner"),
}
