"""``vllm --version`` (a bare version after any log lines) or the API server's start-up line."""

from __future__ import annotations

import re

from envstamp.errors import ParseError
from envstamp.manifest.model import Sections, VersionOnly
from envstamp.parsers.frontend_text import (
    VERSION,
    bare_version,
    frontends,
    lines_of,
    require_text,
)

_VLLM_LINE = re.compile(
    rf"vLLM\b[^\n]*?\bversion\s*[:=]?\s*v?({VERSION})|LLM engine \(v({VERSION})\)", re.IGNORECASE
)
# vLLM is a Python package: its version is a PEP 440 one (0.6.3.post1, 0.9.2rc1.dev5+g1a2b3c).
# hipconfig's "6.1.40093-bd86f1708" is a version too, but never a Python package's.
_PYTHON_VERSION = re.compile(
    r"\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?(?:\+[a-z0-9]+(?:\.[a-z0-9]+)*)?",
    re.IGNORECASE,
)


def _vllm_bare_version(line: str) -> str | None:
    """A line that is a bare Python package version and nothing else (``vllm --version``)."""
    version = bare_version(line)
    return version if version and _PYTHON_VERSION.fullmatch(version) else None


def parse_vllm_version(text: str) -> VersionOnly:
    """``vllm --version`` (a bare version after any log lines) or the API server's log."""
    lines = [line for line in lines_of(require_text(text, "vllm --version")) if line.strip()]
    for line in lines:
        if found := _VLLM_LINE.search(line):
            return VersionOnly(version=found.group(1) or found.group(2))
    bare = [version for line in lines if (version := _vllm_bare_version(line))]
    if bare:
        return VersionOnly(version=bare[-1])
    raise ParseError("no vLLM version in the output")


def parse_vllm_version_kind(text: str) -> Sections:
    """Kind ``vllm-version``."""
    return frontends(vllm=parse_vllm_version(text))


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "vllm-version": ("parse_vllm_version_kind", "vllm --version or its API-server start-up line"),
}
