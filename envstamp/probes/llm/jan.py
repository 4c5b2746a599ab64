"""Jan: the app version and the llama.cpp engines it runs, from Jan's folders per OS.

Jan keeps an app folder (``~/.config/Jan`` or ``~/.local/share/Jan`` on Linux,
``~/Library/Application Support/Jan`` on macOS, ``%APPDATA%\\Jan`` on Windows) whose
``settings.json`` may move the data folder (``data_folder``; default ``<app folder>/data``,
or ``~/jan`` for the older Electron releases).  In the data folder:

* ``llamacpp/backends/<bNNNN>/<backend>/`` (Jan 0.6+): llama.cpp builds by release tag;
* ``engines/<engine>/<variant>/<version>/`` (cortex.cpp era, 0.5);
* ``extensions/extensions.json``: the inference extensions and their versions.

The app version comes from a ``version`` key of those settings where Jan writes one, or from
the app bundle's Info.plist on macOS.  What the files say is read by
:mod:`envstamp.parsers.jan`.
"""

from __future__ import annotations

from envstamp.errors import ParseError
from envstamp.manifest.model import Jan, NamedVersion
from envstamp.parsers.frontend_text import frontends
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm.frontend_util import paths_for, read_json_file, subfolders

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
    from envstamp.parsers.jan import engine_version

    join = paths_for(ctx.system).join
    root = join(data, "llamacpp", "backends")
    engines = []
    for tag in subfolders(ctx.runner, root, join):
        for backend in subfolders(ctx.runner, join(root, tag), join):
            engines.append(NamedVersion(name=f"llama.cpp {backend}", version=engine_version(tag)))
    return engines


def _cortex_engines(ctx: ProbeContext, data: str) -> list[NamedVersion]:
    from envstamp.parsers.jan import engine_version

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
    from envstamp.parsers.jan import parse_extensions

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
    from envstamp.parsers.jan import selected_backend

    path = paths_for(ctx.system).join(
        data, "settings", "@janhq", "llamacpp-extension", "settings.json"
    )
    return selected_backend(read_json_file(ctx.runner, path))


def _plist_version(ctx: ProbeContext) -> str | None:
    if ctx.system != "Darwin":
        return None
    from envstamp.parsers.info_plist import parse_info_plist

    data = ctx.runner.read_bytes("/Applications/Jan.app/Contents/Info.plist", 0, 1 << 20)
    return parse_info_plist(data) if data else None


def probe(ctx: ProbeContext) -> Outcome:
    """Jan's app version and engines."""
    paths = paths_for(ctx.system)
    apps = [folder for folder in _app_folders(ctx) if ctx.runner.stat(folder).is_dir]
    if not apps:
        raise ProbeFailure("absent", "no Jan app folder")
    # Jan's parsers are imported once Jan is found (their patterns compile at import).
    from envstamp.parsers.jan import jan_engine, settings_values

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


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "jan", "order": 330},)
