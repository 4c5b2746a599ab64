"""What Jan's files say: its settings (data folder, app version, the llama.cpp backend chosen),
``extensions.json``, and the engines its folder names stand for (llama.cpp release tags per
backend since 0.6, cortex.llamacpp versions before)."""

from __future__ import annotations

import re
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import BundledEngine, NamedVersion
from envstamp.parsers.bundled_engine import agreed_engine, backend_in_name
from envstamp.parsers.frontend_text import load_json
from envstamp.parsers.textutil import clean

_VERSION_KEYS = ("version", "app_version", "appVersion")
_DATA_KEYS = ("data_folder", "dataFolder", "data_folder_path")


def settings_values(data: Any) -> tuple[str | None, str | None]:
    """(data folder, app version) a Jan settings document states."""
    if not isinstance(data, dict):
        return None, None
    folder = next((clean(data[k]) for k in _DATA_KEYS if isinstance(data.get(k), str)), None)
    version = next((clean(data[k]) for k in _VERSION_KEYS if isinstance(data.get(k), str)), None)
    return folder, version.removeprefix("v") if version else None


def parse_extensions(text: str) -> list[NamedVersion]:
    """extensions.json: the inference / engine extensions with their versions."""
    data = load_json(text, "extensions.json")
    if isinstance(data, dict):
        entries = [v if isinstance(v, dict) else {"name": k} for k, v in data.items()]
    elif isinstance(data, list):
        entries = [e for e in data if isinstance(e, dict)]
    else:
        raise ParseError("extensions.json: neither an object nor a list")
    engines = []
    for entry in entries:
        name = clean(entry.get("name"))
        if name and re.search(r"inference|engine|llama", name, re.IGNORECASE):
            version = entry.get("version")
            version = clean(version) if isinstance(version, str) else None
            engines.append(NamedVersion(name=name, version=version))
    return engines


def engine_version(folder: str) -> str | None:
    """ "v0.1.49" -> "0.1.49"; a llama.cpp release tag "b5857" is kept as printed."""
    text = folder.strip()
    if re.fullmatch(r"b\d+", text):
        return text
    found = re.fullmatch(r"v?(\d+(?:\.\d+)+[\w.+-]*)", text)
    return found.group(1) if found else None


_SELECTED = re.compile(r"^(b\d+)/([\w.+-]+)$")


def build_engine(named: NamedVersion) -> BundledEngine | None:
    """The engine one of Jan's engine entries stands for: "llama.cpp <backend>" bNNNN (Jan
    0.6+), or "cortex.llamacpp <variant>" vX.Y.Z (the cortex.cpp wrapper of llama.cpp)."""
    kind, _, variant = (named.name or "").partition(" ")
    if kind not in ("llama.cpp", "cortex.llamacpp") or not variant:
        return None
    tag = re.fullmatch(r"b(\d+)", named.version or "")
    return BundledEngine(
        name=kind,
        version=named.version,
        build_number=int(tag.group(1)) if tag else None,
        backend=backend_in_name(variant) or ("CPU" if kind == "llama.cpp" else None),
        source=f"Jan {kind} backend {variant}",
    )


def selected_backend(data: Any) -> str | None:
    """The "<bNNNN>/<backend>" a Jan settings document holds (its llama.cpp extension's
    version-and-backend choice), wherever in the document it sits."""
    if isinstance(data, dict):
        data = list(data.values())
    if isinstance(data, list):
        return next((found for item in data if (found := selected_backend(item))), None)
    return data if isinstance(data, str) and _SELECTED.match(data.strip()) else None


def jan_engine(engines: list[NamedVersion], selected: str | None) -> BundledEngine | None:
    """The selected llama.cpp backend; with no choice found, what every installed llama.cpp
    backend agrees on (one build installed: its build number, one backend: also that)."""
    candidates = [(named, engine) for named in engines if (engine := build_engine(named))]
    if selected and (found := _SELECTED.match(selected.strip())):
        tag, variant = found.groups()
        for named, engine in candidates:
            if named.version == tag and named.name == f"llama.cpp {variant}":
                return engine
    return agreed_engine([engine for _, engine in candidates], "Jan engine folders")
