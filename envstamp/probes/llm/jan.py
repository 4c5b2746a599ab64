"""Jan: the app version and the llama.cpp engines it runs, from Jan's folders per OS.

Jan keeps an app folder (``~/.config/Jan`` or ``~/.local/share/Jan`` on Linux,
``~/Library/Application Support/Jan`` on macOS, ``%APPDATA%\\Jan`` on Windows) whose
``settings.json`` may move the data folder (``data_folder``; default ``<app folder>/data``,
or ``~/jan`` for the older Electron releases).  In the data folder:

* ``llamacpp/backends/<bNNNN>/<backend>/`` (Jan 0.6+): llama.cpp builds by release tag;
* ``engines/<engine>/<variant>/<version>/`` (cortex.cpp era, 0.5);
* ``extensions/extensions.json``: the inference extensions and their versions.

The app version comes from a ``version`` key of those settings where Jan writes one, or from
the app bundle's Info.plist on macOS.
"""

from __future__ import annotations

import re
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import BundledEngine, Jan, NamedVersion
from envstamp.parsers.textutil import clean
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm.frontend_util import (
    agreed_engine,
    backend_in_name,
    frontends,
    load_json,
    paths_for,
    read_json_file,
    subfolders,
)

_VERSION_KEYS = ("version", "app_version", "appVersion")
_DATA_KEYS = ("data_folder", "dataFolder", "data_folder_path")

# ------------------------------------------------------------------------------- parsers


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


# --------------------------------------------------------------------------------- probe


def _app_folders(ctx: ProbeContext) -> list[str]:
    paths = paths_for(ctx.system)
    home = str(ctx.platform.get("home") or "")
    if ctx.system == "Windows":
        appdata = ctx.runner.env("APPDATA") or paths.join(home, "AppData", "Roaming")
        return [paths.join(appdata, "Jan")]
    if ctx.system == "Darwin":
        return [paths.join(home, "Library", "Application Support", "Jan")]
    config = ctx.runner.env("XDG_CONFIG_HOME") or paths.join(home, ".config")
    data = ctx.runner.env("XDG_DATA_HOME") or paths.join(home, ".local", "share")
    return [paths.join(config, "Jan"), paths.join(data, "Jan")]


def _llamacpp_backends(ctx: ProbeContext, data: str) -> list[NamedVersion]:
    join = paths_for(ctx.system).join
    root = join(data, "llamacpp", "backends")
    engines = []
    for tag in subfolders(ctx.runner, root, join):
        for backend in subfolders(ctx.runner, join(root, tag), join):
            engines.append(NamedVersion(name=f"llama.cpp {backend}", version=engine_version(tag)))
    return engines


def _cortex_engines(ctx: ProbeContext, data: str) -> list[NamedVersion]:
    join = paths_for(ctx.system).join
    root = join(data, "engines")
    engines = []
    for engine in subfolders(ctx.runner, root, join):
        for variant in subfolders(ctx.runner, join(root, engine), join):
            for version in subfolders(ctx.runner, join(root, engine, variant), join):
                engines.append(
                    NamedVersion(name=f"{engine} {variant}", version=engine_version(version))
                )
    return engines


def _extensions(ctx: ProbeContext, data: str) -> list[NamedVersion]:
    path = paths_for(ctx.system).join(data, "extensions", "extensions.json")
    result = ctx.runner.read_text(path)
    if not result.ok or not result.text:
        return []
    try:
        return parse_extensions(result.text)
    except ParseError:
        return []


def _selected_backend(ctx: ProbeContext, data: str) -> str | None:
    """The llama.cpp extension's chosen "<bNNNN>/<backend>", from its settings file."""
    path = paths_for(ctx.system).join(
        data, "settings", "@janhq", "llamacpp-extension", "settings.json"
    )
    return selected_backend(read_json_file(ctx.runner, path))


def _plist_version(ctx: ProbeContext) -> str | None:
    if ctx.system != "Darwin":
        return None
    from envstamp.probes.llm.lmstudio import parse_info_plist

    data = ctx.runner.read_bytes("/Applications/Jan.app/Contents/Info.plist", 0, 1 << 20)
    return parse_info_plist(data) if data else None


def probe(ctx: ProbeContext) -> Outcome:
    """Jan's app version and engines."""
    paths = paths_for(ctx.system)
    apps = [folder for folder in _app_folders(ctx) if ctx.runner.stat(folder).is_dir]
    if not apps:
        raise ProbeFailure("absent", "no Jan app folder")
    version = None
    data_folders: list[str] = []
    for app in apps:
        settings = read_json_file(ctx.runner, paths.join(app, "settings.json"))
        moved, stated = settings_values(settings)
        version = version or stated
        data_folders += [moved] if moved else []
        data_folders.append(paths.join(app, "data"))
    data_folders.append(paths.join(str(ctx.platform.get("home") or ""), "jan"))
    engines: list[NamedVersion] = []
    selected = None
    for data in dict.fromkeys(data_folders):  # in order, without repeats
        if not ctx.runner.stat(data).is_dir:
            continue
        engines += _llamacpp_backends(ctx, data) + _cortex_engines(ctx, data)
        engines += _extensions(ctx, data)
        selected = selected or _selected_backend(ctx, data)
    jan = Jan(
        app_version=version or _plist_version(ctx),
        engines=engines,
        engine=jan_engine(engines, selected),
    )
    return Outcome(sections=frontends(jan=jan), source="Jan app and data folders")
