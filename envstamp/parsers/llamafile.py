"""``llamafile --version`` (and the start-up output beside it): its version and the llama.cpp
build its own lines state."""

from __future__ import annotations

import re

from envstamp.errors import ParseError
from envstamp.manifest.model import Llamafile, Sections
from envstamp.parsers.bundled_engine import engine_from_llama_output
from envstamp.parsers.frontend_text import (
    VERSION,
    bare_version,
    frontends,
    lines_of,
    require_text,
)

_LLAMAFILE = re.compile(rf"\bllamafile\S*\s+v?({VERSION})", re.IGNORECASE)


def parse_llamafile_version(text: str) -> Llamafile:
    """``llamafile --version``: "llamafile v0.8.4" (a program name may follow); with the
    start-up output beside it, the llama.cpp build and backend its own lines state."""
    lines = [line for line in lines_of(require_text(text, "llamafile --version")) if line.strip()]
    engine = engine_from_llama_output(text, "llamafile output")
    for line in lines:
        if found := _LLAMAFILE.search(line):
            return Llamafile(version=found.group(1), engine=engine)
    lone = [version for line in lines if (version := bare_version(line))]
    if len(lone) == 1:
        return Llamafile(version=lone[0], engine=engine)
    raise ParseError("no llamafile version in the output")


def parse_llamafile_version_kind(text: str) -> Sections:
    """Kind ``llamafile-version``: text piped in by a user is llamafile's only where a line
    names llamafile with its version ("llamafile v0.8.4").  A bare version, which the probe
    reads from the llamafile binary it ran, says nothing of whose it is (``vllm --version``
    prints one too), and a llama.cpp log alone is no llamafile's."""
    if not any(_LLAMAFILE.search(line) for line in lines_of(text or "")):
        raise ParseError("not llamafile output (no line names llamafile with its version)")
    return frontends(llamafile=parse_llamafile_version(text))


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "llamafile-version": ("parse_llamafile_version_kind", "llamafile --version"),
}
