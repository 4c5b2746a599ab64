"""What Ollama prints and answers: ``ollama --version``, ``ollama ps``, the HTTP API's
``/api/version``, ``/api/ps``, ``/api/tags`` and ``/api/show``, ``OLLAMA_*`` settings, the GPU
library folders it ships.  Its server log: :mod:`ollama_log`; ``OLLAMA_HOST``:
:mod:`ollama_host`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import ModelFile, Ollama, OllamaModel, Sections
from envstamp.parsers.frontend_text import (
    VERSION,
    bare_version,
    cells,
    frontends,
    lines_of,
    load_json,
    require_text,
    row_by_header,
    strip_credentials,
)
from envstamp.parsers.textutil import clean, to_int

_SERVER_LINE = re.compile(rf"ollama\s+version(?:\s+is)?\s*:?\s*v?({VERSION})", re.IGNORECASE)
_CLIENT_LINE = re.compile(rf"client\s+version\s+is\s*:?\s*v?({VERSION})", re.IGNORECASE)
_NO_CONNECT = re.compile(r"could\s+not\s+connect", re.IGNORECASE)
_SPLIT = re.compile(r"(\d+)%\s*/\s*(\d+)%\s+([A-Za-z]+)\s*/\s*([A-Za-z]+)")
_SINGLE = re.compile(r"(\d+)%\s+([A-Za-z]+)")


def parse_ollama_version(text: str) -> Ollama:
    """``ollama --version``: the server's version, and the client's when it differs.

    With no "client version" warning the client is the server's version; after "could not
    connect" there is no server version.
    """
    require_text(text, "ollama --version")
    server = client = None
    no_server = False
    for line in lines_of(text):
        if found := _CLIENT_LINE.search(line):
            client = found.group(1)
        elif found := _SERVER_LINE.search(line):
            server = found.group(1)
        elif _NO_CONNECT.search(line):
            no_server = True
    if server is None and client is None and not no_server:
        raise ParseError("no ollama version in the output")
    return Ollama(client_version=client or server, server_version=server)


def parse_ollama_version_kind(text: str) -> Sections:
    """Kind ``ollama-version``."""
    return frontends(ollama=parse_ollama_version(text))


def parse_ollama_api_version(text: str) -> Ollama:
    """``GET /api/version``: ``{"version": "0.12.1"}``."""
    data = load_json(text, "/api/version")
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or clean(version) is None:
        raise ParseError('/api/version: no "version" string')
    return Ollama(server_version=clean(version.removeprefix("v")))


def parse_ollama_api_version_kind(text: str) -> Sections:
    """Kind ``ollama-api-version``: a document piped in by a user is ``/api/version``'s only
    in its shape, a flat object whose ``version`` is a version (``{"version": "0.12.1"}``).
    An envstamp manifest or a llama.cpp build record has a ``version`` key too, among lists
    and objects (the probe reads the answer of the server it asked)."""
    data = load_json(text, "/api/version")
    if not isinstance(data, dict) or any(isinstance(v, (dict, list)) for v in data.values()):
        raise ParseError("not an /api/version answer: not a flat JSON object")
    found = parse_ollama_api_version(text)
    if bare_version(found.server_version) is None:
        raise ParseError('/api/version: "version" is no version')
    return frontends(ollama=found)


def gpu_percent(processor: str | None) -> int | None:
    """Share on the GPU: "100% GPU" -> 100, "100% CPU" -> 0, "48%/52% CPU/GPU" -> 52."""
    if not processor:
        return None
    if found := _SPLIT.search(processor):
        shares = {
            found.group(3).upper(): int(found.group(1)),
            found.group(4).upper(): int(found.group(2)),
        }
        if "GPU" in shares:
            return shares["GPU"]
        return 100 - shares["CPU"] if "CPU" in shares else None
    if found := _SINGLE.search(processor):
        share, where = int(found.group(1)), found.group(2).upper()
        if where == "GPU":
            return share
        if where == "CPU":
            return 100 - share
    return None


def _ps_header(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        titles = {title.upper() for _, title in cells(line)}
        if {"NAME", "ID"} <= titles and titles & {"SIZE", "PROCESSOR", "UNTIL"}:
            return i
    raise ParseError("no NAME ID SIZE PROCESSOR UNTIL header: not `ollama ps` output")


def parse_ollama_ps(text: str) -> list[OllamaModel]:
    """``ollama ps``: the 5-column (no CONTEXT) and 6-column tables."""
    lines = lines_of(require_text(text, "ollama ps"))
    start = _ps_header(lines)
    header = [(pos, title.upper()) for pos, title in cells(lines[start])]
    models = []
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        row = row_by_header(header, line)
        processor = clean(row.get("PROCESSOR"))
        models.append(
            OllamaModel(
                name=clean(row.get("NAME")),
                id=clean(row.get("ID")),
                size=clean(row.get("SIZE")),
                processor=processor,
                gpu_percent=gpu_percent(processor),
                context=to_int(row.get("CONTEXT")),
                until=clean(row.get("UNTIL")),
            )
        )
    return models


def parse_ollama_ps_kind(text: str) -> Sections:
    """Kind ``ollama-ps``."""
    return frontends(ollama=Ollama(loaded_models=parse_ollama_ps(text)))


def human_size(size: int) -> str:
    """Bytes the way ollama prints them (decimal units; one decimal under 10, else cut)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    if unit == "B":
        return f"{size} B"
    return f"{value:.1f} {unit}" if value < 10 else f"{int(value)} {unit}"


def processor_of(size: int | None, vram: int | None) -> str | None:
    """The PROCESSOR text `ollama ps` would print for a model of ``size`` with ``vram``."""
    if not size or vram is None or vram < 0:
        return None
    if vram == 0:
        return "100% CPU"
    if vram >= size:
        return "100% GPU"
    gpu = round(vram / size * 100)
    return f"{100 - gpu}%/{gpu}% CPU/GPU"


def _api_model(entry: dict[str, Any]) -> OllamaModel:
    size = entry.get("size") if isinstance(entry.get("size"), int) else None
    vram = entry.get("size_vram") if isinstance(entry.get("size_vram"), int) else None
    digest = clean(entry.get("digest"))
    processor = processor_of(size, vram)
    return OllamaModel(
        name=clean(entry.get("name")) or clean(entry.get("model")),
        id=digest.removeprefix("sha256:")[:12] if digest else None,
        size=human_size(size) if size is not None else None,
        size_bytes=size,
        processor=processor,
        gpu_percent=gpu_percent(processor),
        context=to_int(entry.get("context_length")),
        until=clean(entry.get("expires_at")),
    )


def parse_ollama_api_ps(text: str) -> list[OllamaModel]:
    """``GET /api/ps``: ``{"models": [{name, digest, size, size_vram, expires_at...}]}``."""
    data = load_json(text, "/api/ps")
    models = data.get("models") if isinstance(data, dict) else None
    if models is None and isinstance(data, dict):
        return []  # an idle server may leave the list out
    if not isinstance(models, list):
        raise ParseError('/api/ps: no "models" list')
    return [_api_model(entry) for entry in models if isinstance(entry, dict)]


_BLOB = re.compile(r"^FROM\s+(\S*[\\/]blobs[\\/]sha256[-:]([0-9a-f]{64}))\s*$", re.MULTILINE)


def full_model_name(name: str) -> str:
    """An Ollama model name as the server lists it: the tag defaults to ``latest``."""
    text = name.strip()
    last = text.rpartition("/")[2]
    return text if ":" in last else text + ":latest"


def parse_api_tags(text: str) -> dict[str, dict[str, Any]]:
    """``GET /api/tags``: the installed models by full name (``name`` and ``model`` both)."""
    data = load_json(text, "/api/tags")
    models = data.get("models") if isinstance(data, dict) else None
    if models is None and isinstance(data, dict):
        return {}
    if not isinstance(models, list):
        raise ParseError('/api/tags: no "models" list')
    found: dict[str, dict[str, Any]] = {}
    for entry in models:
        if not isinstance(entry, dict):
            continue
        for key in ("name", "model"):
            if isinstance(entry.get(key), str):
                found.setdefault(full_model_name(entry[key]), entry)
    return found


def model_from_api(
    name: str, show: dict[str, Any] | None, listed: dict[str, Any] | None
) -> ModelFile:
    """A ``models`` entry for an Ollama model from ``/api/show`` and its ``/api/tags`` entry.

    The weights are the GGUF blob the Modelfile's ``FROM`` names: its file name is the sha256
    of its contents, the same digest a ``--model FILE`` hash gives.  ``digest`` is Ollama's
    own (the manifest: weights, template and parameters together)."""
    show = show or {}
    listed = listed or {}
    details: dict[str, Any] = {}
    for source in (listed.get("details"), show.get("details")):
        if isinstance(source, dict):
            details.update({k: v for k, v in source.items() if v not in (None, "")})
    info = show.get("model_info") if isinstance(show.get("model_info"), dict) else {}
    assert isinstance(info, dict)
    blob = _BLOB.search(show["modelfile"]) if isinstance(show.get("modelfile"), str) else None
    digest = clean(listed.get("digest"))
    count = info.get("general.parameter_count")
    return ModelFile(
        path=blob.group(1) if blob else None,
        name=clean(listed.get("name")) or full_model_name(name),
        sha256=blob.group(2) if blob else None,
        format=clean(details.get("format")),
        architecture=clean(info.get("general.architecture")) or clean(details.get("family")),
        quantization=clean(details.get("quantization_level")),
        parameters=count if isinstance(count, int) and not isinstance(count, bool) else None,
        digest=digest.removeprefix("sha256:") if digest else None,
    )


def gpu_library_variants(names: list[str]) -> list[str]:
    """GPU variants among folder names of lib/ollama (cuda_v12, rocm, vulkan...)."""
    return sorted({n for n in names if n != "runners" and not n.lower().startswith("cpu")})


def secret_name_rule() -> Callable[[str], bool]:
    """The one rule of what names are secret (``envstamp.manifest.secrets``), shared with the
    env probe."""
    from envstamp.manifest.secrets import is_secret_name

    return is_secret_name


def settings_from(
    values: dict[str, str | None], is_secret: Callable[[str], bool]
) -> dict[str, str]:
    """OLLAMA_* settings without secret-looking names; URLs lose their credentials."""
    return {
        name: strip_credentials(value)
        for name, value in sorted(values.items())
        if name.startswith("OLLAMA_") and value is not None and not is_secret(name)
    }


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "ollama-version": ("parse_ollama_version_kind", "ollama --version"),
    "ollama-api-version": ("parse_ollama_api_version_kind", "GET /api/version"),
    "ollama-ps": ("parse_ollama_ps_kind", "ollama ps"),
}
