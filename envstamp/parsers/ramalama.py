"""RamaLama's outputs: ``ramalama version``, ``ramalama info`` (JSON) and ``ramalama list
--json``: its version, the runtime and container engine it runs models with, its models.

``ramalama info`` has named its runtime two ways: ``"Runtime": "llama.cpp"`` (0.9 and
before) and ``"Runtimes": {"Default": ..., "Available": [...]}`` (later); both are read.
Only the keys that say how models run are kept: its configuration, short-name tables, store
path and the container engine's own ``info`` (host name, storage paths) are left out.
"""

from __future__ import annotations

import re
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import Ramalama, RamalamaModel, Sections
from envstamp.parsers.frontend_text import (
    VERSION,
    as_version,
    bare_version,
    frontends,
    lines_of,
    load_json,
    require_text,
)

_VERSION_LINE = re.compile(rf"\bramalama\s+version\s+v?({VERSION})", re.IGNORECASE)
_PARTIAL = " (partial)"  # what ramalama list appends to a model not wholly downloaded


def parse_ramalama_version(text: str) -> str:
    """ "ramalama version 0.25.0" (``ramalama version``, ``ramalama --version``), or the bare
    version ``ramalama version --quiet`` prints."""
    lines = [line for line in lines_of(require_text(text, "ramalama version")) if line.strip()]
    for line in lines:
        if found := _VERSION_LINE.search(line):
            return found.group(1)
    lone = [version for line in lines if (version := bare_version(line))]
    if len(lone) == 1:
        return lone[0]
    raise ParseError("no ramalama version in the output")


def _json_from(text: str, opener: str, what: str) -> Any:
    """The JSON document of a command's output, from the first line that opens one (a warning
    printed before it is not part of it)."""
    lines = lines_of(require_text(text, what))
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith(opener)), None)
    if start is None:
        raise ParseError(f"no JSON in the {what} output")
    return load_json("\n".join(lines[start:]), what)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _engine_name(engine: object) -> str | None:
    """The container engine's name: "podman", "docker" (a configured path's last part)."""
    name = _text(engine.get("Name")) if isinstance(engine, dict) else _text(engine)
    if name is None:
        return None
    return re.split(r"[\\/]", name)[-1] or None


def _runtime(info: dict[str, Any]) -> str | None:
    runtimes = info.get("Runtimes")
    if isinstance(runtimes, dict) and _text(runtimes.get("Default")):
        return _text(runtimes.get("Default"))
    return _text(info.get("Runtime"))


_INFO_KEYS = ("Version", "Runtime", "Runtimes", "Engine", "UseContainer", "Image", "Accelerator")


def parse_ramalama_info(text: str) -> Ramalama:
    """``ramalama info``: version, runtime, container engine (and whether it runs models in
    one), image and accelerator."""
    info = _json_from(text, "{", "ramalama info")
    if not isinstance(info, dict) or not any(key in info for key in _INFO_KEYS):
        raise ParseError("not ramalama info output: no Version, Runtime, Engine or Image")
    use_container = info.get("UseContainer")
    return Ramalama(
        version=as_version(_text(info.get("Version"))),
        runtime=_runtime(info),
        container_engine=_engine_name(info.get("Engine")),
        use_container=use_container if isinstance(use_container, bool) else None,
        image=_text(info.get("Image")),
        accelerator=_text(info.get("Accelerator")),
    )


def _size(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _model(entry: object) -> RamalamaModel | None:
    """One entry of ``ramalama list --json``; None when it names no model."""
    if not isinstance(entry, dict) or (name := _text(entry.get("name"))) is None:
        return None
    partial = name.endswith(_PARTIAL)
    return RamalamaModel(
        name=name.removesuffix(_PARTIAL).strip() if partial else name,
        shortname=_text(entry.get("shortname")),
        size_bytes=_size(entry.get("size")),
        partial=partial,
    )


# What ramalama list --json says of each model beside its name: when it was stored, its size.
_LIST_KEYS = ("modified", "size")


def _is_list_entry(entry: object) -> bool:
    """An entry in ramalama's shape: a model's name with its "modified" time or "size"."""
    return (
        isinstance(entry, dict)
        and _text(entry.get("name")) is not None
        and any(key in entry for key in _LIST_KEYS)
    )


def parse_ramalama_list(text: str) -> list[RamalamaModel]:
    """``ramalama list --json``: a JSON list of models (name, size in bytes, short name).

    A list of other objects (LM Studio's backends, llama-bench records, amd-smi's GPUs) is
    not ramalama's: ParseError, not a list of models nobody has."""
    listed = _json_from(text, "[", "ramalama list --json")
    if not isinstance(listed, list):
        raise ParseError("ramalama list --json: not a JSON list")
    if listed and not any(_is_list_entry(entry) for entry in listed):
        raise ParseError(
            'ramalama list --json: no entry is a model ({"name", "modified" or "size"})'
        )
    return [model for entry in listed if _is_list_entry(entry) and (model := _model(entry))]


def parse_ramalama_version_kind(text: str) -> Sections:
    """Kind ``ramalama-version``: text piped in by a user is ramalama's only where it says
    "ramalama version X".  A bare version, which the probe reads from the ramalama it ran,
    says nothing of whose it is (``vllm --version`` prints one too)."""
    if not any(_VERSION_LINE.search(line) for line in lines_of(text or "")):
        raise ParseError('not ramalama output (no "ramalama version X" line)')
    return frontends(ramalama=Ramalama(version=parse_ramalama_version(text)))


def parse_ramalama_info_kind(text: str) -> Sections:
    """Kind ``ramalama-info``."""
    return frontends(ramalama=parse_ramalama_info(text))


def parse_ramalama_list_kind(text: str) -> Sections:
    """Kind ``ramalama-list``."""
    return frontends(ramalama=Ramalama(models=parse_ramalama_list(text)))


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "ramalama-version": ("parse_ramalama_version_kind", "ramalama version / ramalama --version"),
    "ramalama-info": ("parse_ramalama_info_kind", "ramalama info (JSON)"),
    "ramalama-list": ("parse_ramalama_list_kind", "ramalama list --json"),
}
