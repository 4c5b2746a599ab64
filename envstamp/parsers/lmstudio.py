"""What LM Studio prints and writes: ``lms version``, ``lms ps`` / ``lms ls`` in their old and
new forms, the backend preferences and each runtime's ``backend-manifest.json``, the local
server's ``/api/v0/models``, and an app version in a file name.

LM Studio's runtimes carry LM Studio's own package versions, not llama.cpp build numbers; the
llama.cpp build a runtime packages is read by structure wherever its manifest states it.
"""

from __future__ import annotations

import re
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import BundledEngine, LmStudio, LmStudioModel, NamedVersion, Sections
from envstamp.parsers.bundled_engine import agreed_engine, backend_in_name
from envstamp.parsers.frontend_text import (
    VERSION,
    bare_version,
    cells,
    frontends,
    lines_of,
    load_json,
    require_text,
    row_by_header,
)
from envstamp.parsers.textutil import clean, collapse

_CLI_VERSION = re.compile(
    rf"(?:LM\s*Studio\s+CLI|\blms\b)[^\n\d]*?\bv?({VERSION})", re.IGNORECASE
)
_CLI_COMMIT = re.compile(r"\bcommit\s*(?:hash)?\s*[:=]?\s*([0-9a-f]{6,40})\b", re.IGNORECASE)
_SIZE = re.compile(r"\d[\d.,]*\s*[KMGT]?i?B\b", re.IGNORECASE)
_VARIANTS = re.compile(r"\s*\(\d+\s+variants?\)\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^[\s\u2022*\-\u00b7]+")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z_ ]{0,24}")
_TABLE_WORDS = {"PARAMS", "ARCH", "ARCHITECTURE", "SIZE", "MODEL", "STATUS", "CONTEXT", "TYPE"}
_NAME_TITLES = ("IDENTIFIER", "MODEL", "NAME", "KEY", "PATH")


# The LM Studio CLI names itself: its banner ("lms - LM Studio CLI"), its "CLI commit" label.
_NAMES_LMS = re.compile(r"LM\s*Studio|^\s*lms\b|\bCLI\s+commit\b", re.IGNORECASE | re.MULTILINE)


def _named_cli_version(text: str) -> tuple[str | None, str | None]:
    """(version, commit) from the lines that say them: the banner, the commit line."""
    version = commit = None
    for line in lines_of(text):
        if "github" in line.lower() or "http" in line.lower():
            continue  # "GitHub: https://github.com/lmstudio-ai/lms" is no version line
        if commit is None and (found := _CLI_COMMIT.search(line)):
            commit = found.group(1)
        elif version is None and (found := _CLI_VERSION.search(line)):
            version = found.group(1)
    return version, commit


def parse_lms_version(text: str) -> LmStudio:
    """``lms version``: "lms - LM Studio CLI - v0.0.47" (older) or "CLI commit: abc1234"; a
    lone version where envstamp ran lms itself (text of unknown origin goes through
    :func:`parse_lms_version_kind`, which asks that it name the LM Studio CLI)."""
    require_text(text, "lms version")
    version, commit = _named_cli_version(text)
    if version is None and commit is None:
        lone = [bare_version(line) for line in lines_of(text) if line.strip()]
        version = lone[0] if len(lone) == 1 else None
    if version is None and commit is None:
        raise ParseError("no lms version or commit in the output")
    return LmStudio(cli_version=version, cli_commit=commit)


def parse_lms_version_kind(text: str) -> Sections:
    """Kind ``lms-version``: text piped in by a user is the LM Studio CLI's only where it
    names it (its banner, its "CLI commit" line).  A bare version says nothing of whose it
    is (``vllm --version`` prints one too), and llama.cpp's "(build 0, commit 0c1e570)" is
    no CLI's commit."""
    require_text(text, "lms version")
    if not _NAMES_LMS.search(text):
        raise ParseError("not lms version output (it does not name the LM Studio CLI)")
    version, commit = _named_cli_version(text)
    if version is None and commit is None:
        raise ParseError("no lms version or commit in the output")
    return frontends(lmstudio=LmStudio(cli_version=version, cli_commit=commit))


def model_type(text: str | None) -> str | None:
    """ "LLM", "LLMs (Large Language Models)", "Embeddings", "EMBEDDING" -> llm / embedding."""
    word = (clean(text) or "").lower()
    if not word:
        return None
    if word.startswith(("llm", "vlm", "large language")):
        return "llm"
    if word.startswith("embedding"):
        return "embedding"
    return word.split()[0]


def _size(text: str | None) -> str | None:
    found = _SIZE.search(text or "")
    return collapse(found.group()) if found else None


def _name(text: str | None) -> str | None:
    name = clean(text)
    return clean(_VARIANTS.sub("", name)) if name else None


def _bullet_blocks(lines: list[str]) -> list[LmStudioModel]:
    """The old "Identifier: ..." blocks with "• Type:", "• Size:", "• Architecture:" lines."""
    models: list[LmStudioModel] = []
    fields: dict[str, str] = {}

    def flush() -> None:
        if fields:
            models.append(
                LmStudioModel(
                    name=clean(fields.get("identifier")) or clean(fields.get("path")),
                    type=model_type(fields.get("type")),
                    params=clean(fields.get("params") or fields.get("parameters")),
                    architecture=clean(fields.get("architecture") or fields.get("arch")),
                    size=_size(fields.get("size")),
                )
            )
            fields.clear()

    for line in lines:
        key, sep, value = _BULLET.sub("", line).partition(":")
        if not sep or not _FIELD_NAME.fullmatch(key.strip()):
            continue
        key = key.strip().lower()
        if key == "identifier":
            flush()
        fields[key] = value.strip()
    flush()
    return models


def _is_table_header(line: str) -> bool:
    titles = {title.upper() for _, title in cells(line)}
    return len(titles & _TABLE_WORDS) >= 2 or (
        len(titles) >= 2 and bool(titles & {"IDENTIFIER", "LLM", "EMBEDDING"})
    )


def _table_model(row: dict[str, str], section: str | None, name_title: str) -> LmStudioModel | None:
    name = _name(row.get(name_title))
    if name is None:
        return None
    return LmStudioModel(
        name=name,
        type=model_type(row.get("TYPE")) or section,
        params=clean(row.get("PARAMS") or row.get("PARAMETERS")),
        architecture=clean(row.get("ARCH") or row.get("ARCHITECTURE")),
        size=_size(row.get("SIZE")),
    )


def _tables(lines: list[str]) -> list[LmStudioModel]:
    """Column tables: one per section ("LLM  PARAMS  ARCH  SIZE", "EMBEDDING ...")."""
    models: list[LmStudioModel] = []
    header: list[tuple[int, str]] = []
    section: str | None = None
    name_title = ""
    for line in lines:
        if _is_table_header(line):
            header = [(pos, title.upper()) for pos, title in cells(line)]
            titles = [title for _, title in header]
            # A section's first title ("LLM", "LLMs (Large Language Models)", "EMBEDDING")
            # heads the name column and says what the rows are.
            name_title = next((t for t in _NAME_TITLES if t in titles), titles[0])
            section = None if titles[0] in _NAME_TITLES else model_type(titles[0])
            continue
        if not header or len(cells(line)) < 2 or line.lstrip().startswith("You have"):
            continue
        model = _table_model(row_by_header(header, line), section, name_title)
        if model is not None:
            models.append(model)
    return models


def _model_lines(lines: list[str]) -> list[LmStudioModel]:
    """The oldest ``lms ls``: one "path  size" line per model under "Downloaded models"."""
    models = []
    for line in lines:
        parts = cells(line)
        if len(parts) >= 2 and "/" in parts[0][1] and _size(parts[-1][1]):
            models.append(LmStudioModel(name=_name(parts[0][1]), size=_size(parts[-1][1])))
    return models


_EMPTY = re.compile(r"no models|you have 0 models|not currently loaded", re.IGNORECASE)


def parse_lms_models(text: str, what: str) -> list[LmStudioModel]:
    """``lms ps`` / ``lms ls`` in their old (bullets, plain lines) and new (table) forms."""
    lines = lines_of(require_text(text, what))
    if any(_BULLET.sub("", line).lower().startswith("identifier:") for line in lines):
        return _bullet_blocks(lines)
    if any(_is_table_header(line) for line in lines):
        return _tables(lines)
    models = _model_lines(lines)
    if models:
        return models
    if any(_EMPTY.search(line) for line in lines):
        return []
    raise ParseError(f"no model list in the output: not `{what}` output")


# What makes text of unknown origin lms ps's or lms ls's (the probe knows which it ran).
# lms ps lists loaded instances by their identifier: "Identifier:" blocks (older CLIs) or a
# table with an IDENTIFIER column, or says none is loaded.  lms ls lists downloaded models:
# tables whose first column is headed by the model type ("LLM", "LLMs (Large Language
# Models)", "EMBEDDING"), its "You have N models" summary, or the oldest "Downloaded models:".
# `ollama ps` (NAME  ID  SIZE  PROCESSOR ...) is neither.
_NONE_LOADED = re.compile(r"\bno models\b.*\bloaded\b|\bnot currently loaded\b", re.IGNORECASE)
_LS_SUMMARY = re.compile(
    r"^\s*(?:you have \d+ models?\b|downloaded models\s*:?\s*$)", re.IGNORECASE
)
_LS_COLUMNS = {"PARAMS", "ARCH", "ARCHITECTURE", "SIZE"}


def _titles(line: str) -> list[str]:
    return [title.upper() for _, title in cells(line)] if _is_table_header(line) else []


def _is_lms_ps(lines: list[str]) -> bool:
    return any(
        _BULLET.sub("", line).lower().startswith("identifier:")
        or _NONE_LOADED.search(line)
        or "IDENTIFIER" in _titles(line)
        for line in lines
    )


def _is_ls_section(titles: list[str]) -> bool:
    """A header of lms ls: a model type's word over the names, then the models' columns."""
    return (
        bool(titles)
        and titles[0][:1].isalpha()
        and titles[0] not in _NAME_TITLES
        and bool(set(titles[1:]) & _LS_COLUMNS)
    )


def _is_lms_ls(lines: list[str]) -> bool:
    return any(_LS_SUMMARY.search(line) or _is_ls_section(_titles(line)) for line in lines)


def parse_lms_ps_kind(text: str) -> Sections:
    """Kind ``lms-ps``: the models loaded now."""
    if not _is_lms_ps(lines_of(require_text(text, "lms ps"))):
        raise ParseError("not lms ps output (no Identifier, IDENTIFIER column or none loaded)")
    return frontends(lmstudio=LmStudio(loaded_models=parse_lms_models(text, "lms ps")))


def parse_lms_ls_kind(text: str) -> Sections:
    """Kind ``lms-ls``: every model row, LLMs and embedding models alike."""
    if not _is_lms_ls(lines_of(require_text(text, "lms ls"))):
        raise ParseError("not lms ls output (no model-type section, model count or list)")
    return frontends(lmstudio=LmStudio(models=parse_lms_models(text, "lms ls")))


def named_version(entry: Any) -> NamedVersion | None:
    """A ``{name (or id), version}`` entry of LM Studio's JSON; None without a name."""
    if not isinstance(entry, dict):
        return None
    name = clean(entry.get("name") or entry.get("id"))
    version = entry.get("version")
    version = clean(version.removeprefix("v")) if isinstance(version, str) else None
    return NamedVersion(name=name, version=version) if name else None


def _preference_entries(data: Any) -> list[Any]:
    """The entries of a preferences document, whichever way it nests them."""
    for _ in range(4):  # {"preferences": [...]}, {"gguf": {...}, "mlx": {...}}, [...]
        if isinstance(data, list):
            return data
        if not isinstance(data, dict):
            break
        if "name" in data:
            return [data]
        inner = next((data[k] for k in ("preferences", "backends", "selected") if k in data), None)
        if inner is None:
            return list(data.values())
        data = inner
    raise ParseError("backend preferences: neither a list nor an object of {name, version}")


def parse_backend_preferences(text: str) -> list[NamedVersion]:
    """backend-preferences-v1.json: [{model_format, name, version}] or a dict of them."""
    return _read_preferences(text)[1]


def _read_preferences(text: str) -> tuple[list[Any], list[NamedVersion]]:
    """The document's entries, and those of them that name something."""
    entries = _preference_entries(load_json(text, "backend preferences"))
    chosen = [named for entry in entries if (named := named_version(entry)) is not None]
    if not chosen and entries:
        raise ParseError("backend preferences: no {name, version} entries")
    return entries, chosen


# LM Studio names an engine by its package id ("llama.cpp-win-x86_64-vulkan-avx2"): one word
# with a letter.  CUDA's version.json names its parts in words ("CUDA SDK"), ramalama lists
# models by URL, llama-server's slots by number: none is an LM Studio engine.
_PACKAGE_ID = re.compile(r"[A-Za-z0-9][\w.+-]*")


def _is_package_id(name: str | None) -> bool:
    return bool(name and _PACKAGE_ID.fullmatch(name) and re.search("[A-Za-z]", name))


def parse_backends_kind(text: str) -> Sections:
    """Kind ``lmstudio-backends``: the selected engines (each also an installed runtime),
    and the llama.cpp one as the engine GGUF models run on (as far as its name tells).

    Text of unknown origin is LM Studio's preferences only where every entry names an engine
    package (the probe reads the file LM Studio keeps at its own path)."""
    entries, chosen = _read_preferences(text)
    if foreign := [named.name for named in chosen if not _is_package_id(named.name)]:
        raise ParseError(f"not LM Studio backend preferences: {foreign[0]!r} names no engine")
    if not chosen:  # "[]" names no engine: nothing in it is LM Studio's
        raise ParseError("backend preferences: no engine selected")
    # LM Studio writes every entry as {name, version} (and model_format): anything else in
    # the document (a recording's "op", a path object) means it is some other JSON.
    if len(entries) != len(chosen) or any(named.version is None for named in chosen):
        raise ParseError("not LM Studio backend preferences: an entry without a name and version")
    engine = selected_engine(engines_of(chosen), chosen)
    return frontends(
        lmstudio=LmStudio(runtimes=list(chosen), selected_runtimes=chosen, engine=engine)
    )


# An installed runtime and the engine it packages.
Runtime = tuple[NamedVersion, BundledEngine]


def engines_of(runtimes: list[NamedVersion]) -> list[Runtime]:
    """Engines as far as runtime names and versions tell (no manifest at hand)."""
    described = [(n, runtime_engine({"name": n.name, "version": n.version})) for n in runtimes]
    return [(named, engine) for named, engine in described if engine is not None]


def parse_backend_manifest(text: str) -> NamedVersion:
    """backend-manifest.json of one installed engine: its name and package version."""
    named = named_version(load_json(text, "backend manifest"))
    if named is None:
        raise ParseError("backend manifest: no name")
    return named


_RELEASE_TAG = re.compile(r"^[bB](\d{3,6})$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


def _scalars(data: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every (key, scalar value) of a JSON document, the key being the innermost name."""
    if isinstance(data, dict):
        return [pair for k, v in data.items() for pair in _scalars(v, str(k))]
    if isinstance(data, list):
        return [pair for item in data for pair in _scalars(item, key)]
    return [(key.lower(), data)]


def _build_of(data: Any) -> tuple[int | None, str | None]:
    """(build number, commit) of llama.cpp wherever a manifest states them: a value shaped
    like llama.cpp's release tag ("b5432"), a number under a key naming a build, a hex
    value under a key naming a commit."""
    number = commit = None
    for key, value in _scalars(data):
        text = str(value).strip() if isinstance(value, (str, int)) else ""
        if isinstance(value, bool) or not text:
            continue
        tag = _RELEASE_TAG.match(text)
        if number is None and tag:
            number = int(tag.group(1))
        elif number is None and "build" in key and text.isdigit() and int(text) > 1:
            number = int(text)
        elif commit is None and "commit" in key and _COMMIT.match(text.lower()):
            commit = text.lower()
    return number, commit


def runtime_engine(data: Any, folder: str | None = None) -> BundledEngine | None:
    """The engine an LM Studio runtime (``backend-manifest.json``) packages.

    By structure, not by a known schema: the engine from an ``engine`` key or the package
    name's first part ("llama.cpp-linux-x86_64-nvidia-cuda12-avx2" -> llama.cpp); the backend
    from the GPU it targets (a ``gpu`` object, or the name: cuda12 -> "CUDA 12", vulkan,
    metal...; a name naming none is a CPU build); llama.cpp's build and commit wherever the
    manifest states them.  ``version`` is LM Studio's package version of the engine."""
    manifest = data if isinstance(data, dict) else {}
    named = named_version(manifest) or (split_backend_folder(folder) if folder else None)
    if named is None or named.name is None:
        return None
    engine = manifest.get("engine")
    engine_name = clean(engine) if isinstance(engine, str) else named.name.split("-")[0]
    gpu_words = [str(v) for _, v in _scalars(manifest.get("gpu")) if isinstance(v, str)]
    backend = next(
        (found for text in [named.name, *gpu_words] if (found := backend_in_name(text))), None
    )
    if backend is None and engine_name == "llama.cpp":
        backend = "CPU"
    number, commit = _build_of(manifest)
    return BundledEngine(
        name=engine_name,
        version=named.version,
        build_number=number,
        commit=commit,
        backend=backend,
        source=f"LM Studio runtime {named.name}",
    )


def parse_runtime_engine(text: str) -> BundledEngine:
    """``backend-manifest.json`` of one installed runtime -> the engine it packages."""
    engine = runtime_engine(load_json(text, "backend manifest"))
    if engine is None:
        raise ParseError("backend manifest: no name")
    return engine


def parse_runtime_manifest_kind(text: str) -> Sections:
    """Kind ``lmstudio-runtime``: one runtime's manifest, as installed and as the engine.

    A document piped in by a user is a runtime's manifest only where it names an engine
    package and its version (``{"name": "llama.cpp-...-avx2", "version": "1.50.2"}``): a
    llama-server answer's ``"id": "chatcmpl-..."`` names none."""
    data = load_json(text, "backend manifest")
    name = data.get("name") if isinstance(data, dict) else None
    version = data.get("version") if isinstance(data, dict) else None
    if not (isinstance(name, str) and _is_package_id(name.strip()) and isinstance(version, str)):
        raise ParseError('not an LM Studio backend manifest: no package "name" with "version"')
    engine = parse_runtime_engine(text)
    runtime = parse_backend_manifest(text)
    return frontends(lmstudio=LmStudio(runtimes=[runtime], engine=engine))


def split_backend_folder(name: str) -> NamedVersion | None:
    """ "llama.cpp-linux-x86_64-nvidia-cuda-avx2-1.28.0" -> (name, "1.28.0")."""
    found = re.fullmatch(r"(.+?)-v?(\d+\.\d+\.\d+(?:[-+][\w.]+)?)", name)
    return NamedVersion(name=found.group(1), version=found.group(2)) if found else None


def version_in_file_name(path: str) -> str | None:
    """ "LM-Studio-0.3.5-2-x64.AppImage" -> "0.3.5"."""
    name = re.split(r"[\\/]", path)[-1]
    found = re.search(r"(?<![\d.])(\d+\.\d+\.\d+)(?!\.?\d)", name)
    return found.group(1) if found else None


def parse_api_models(text: str) -> tuple[list[LmStudioModel], list[LmStudioModel]]:
    """``GET /api/v0/models``: (every model, the loaded ones)."""
    data = load_json(text, "/api/v0/models")
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ParseError('/api/v0/models: no "data" list')
    models, loaded = [], []
    for entry in entries:
        if not isinstance(entry, dict) or clean(entry.get("id")) is None:
            continue
        model = LmStudioModel(
            name=clean(entry.get("id")),
            type=model_type(entry.get("type")),
            architecture=clean(entry.get("arch")),
        )
        models.append(model)
        if entry.get("state") == "loaded":
            loaded.append(model)
    return models, loaded



def selected_engine(runtimes: list[Runtime], selected: list[NamedVersion]) -> BundledEngine | None:
    """The llama.cpp engine LM Studio runs GGUF models with: the selected llama.cpp runtime;
    with none selected, what every installed llama.cpp runtime agrees on."""
    llama = [(named, engine) for named, engine in runtimes if engine.name == "llama.cpp"]
    picked = [engine for named, engine in llama if named in selected]
    if len(picked) == 1:
        return picked[0]
    return agreed_engine([engine for _, engine in llama], "LM Studio runtimes (none selected)")


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "lms-version": ("parse_lms_version_kind", "lms version"),
    "lms-ps": ("parse_lms_ps_kind", "lms ps"),
    "lms-ls": ("parse_lms_ls_kind", "lms ls"),
    "lmstudio-backends": ("parse_backends_kind", "LM Studio backend preferences JSON"),
    "lmstudio-runtime": (
        "parse_runtime_manifest_kind",
        "an LM Studio runtime's backend-manifest.json",
    ),
}
