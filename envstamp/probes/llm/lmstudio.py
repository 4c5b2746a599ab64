"""LM Studio: app version, lms CLI, installed engine packages, selected engines, models.

LM Studio's engines ("runtimes": ``llama.cpp-win-x86_64-vulkan-avx2`` 2.13.0,
``mlx-engine`` 0.9.1...) carry LM Studio's own package versions, not llama.cpp build numbers;
they are kept under ``frontends.lmstudio`` and never mixed with ``llamacpp``.

Sources, per OS, from LM Studio's home folder (``~/.lmstudio``; older ``~/.cache/lm-studio``;
``%USERPROFILE%\\.lmstudio`` on Windows; a ``~/.lmstudio-home-pointer`` file may move it):

* ``extensions/backends/<name>-<version>/backend-manifest.json``: installed engines;
* ``.internal/backend-preferences-v1.json``: the engine selected per model format;
* ``.internal/app-install-location.json``: where the app is, hence its version (the macOS
  bundle's Info.plist, or the version in a Linux AppImage's file name);
* ``.internal/http-server-config.json``: the local server's port; when that server answers on
  loopback, ``/api/v0/models`` lists models and which are loaded;
* ``lms version`` (prints a banner, touches nothing); ``lms ps`` / ``lms ls`` only while the
  server answers, because they can wake the LM Studio service and capture never starts one.

What these files and commands say is read by :mod:`envstamp.parsers.lmstudio`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envstamp.errors import ParseError
from envstamp.manifest.model import LmStudio, NamedVersion
from envstamp.parsers.frontend_text import frontends, load_json
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm.frontend_util import paths_for, read_json_file, subfolders

if TYPE_CHECKING:
    from envstamp.parsers.lmstudio import Runtime

# LM Studio's parsers (envstamp.parsers.lmstudio, info_plist) are imported by the functions
# that read what LM Studio wrote, once it is found: their patterns compile at import.

API_TIMEOUT = 0.3
DEFAULT_PORT = 1234

# --------------------------------------------------------------------------------- probe


class _Home:
    """LM Studio's home folder on the probed system."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx
        self.paths = paths_for(ctx.system)
        self.folder = self._find()

    def _find(self) -> str | None:
        runner, join = self.ctx.runner, self.paths.join
        home = str(self.ctx.platform.get("home") or "")
        if not home:
            return None
        pointer = runner.read_text(join(home, ".lmstudio-home-pointer"))
        candidates = [pointer.text.strip()] if pointer.ok and pointer.text else []
        candidates += [join(home, ".lmstudio"), join(home, ".cache", "lm-studio")]
        return next((c for c in candidates if runner.stat(c).is_dir), None)

    def path(self, *parts: str) -> str:
        assert self.folder is not None
        return str(self.paths.join(self.folder, *parts))


def _installed_runtimes(ctx: ProbeContext, home: _Home) -> tuple[list[NamedVersion], list[Runtime]]:
    """Each installed runtime, and the engine its manifest (or folder name) describes."""
    from envstamp.parsers.lmstudio import named_version, runtime_engine, split_backend_folder

    root = home.path("extensions", "backends")
    found, engines = [], []
    for name in subfolders(ctx.runner, root, home.paths.join):
        manifest = ctx.runner.read_text(home.paths.join(root, name, "backend-manifest.json"))
        data = None
        if manifest.ok and manifest.text:
            try:
                data = load_json(manifest.text, "backend manifest")
            except ParseError:
                data = None
        named = named_version(data) or split_backend_folder(name)
        if named is not None:
            found.append(named)
            engine = runtime_engine(data, name)
            if engine is not None:
                engines.append((named, engine))
    return found, engines


def _app_version(ctx: ProbeContext, home: _Home) -> str | None:
    from envstamp.parsers.info_plist import parse_info_plist
    from envstamp.parsers.lmstudio import version_in_file_name

    location = read_json_file(ctx.runner, home.path(".internal", "app-install-location.json"))
    app = location.get("path") if isinstance(location, dict) else None
    candidates = []
    if isinstance(app, str) and ".app/" in app:
        candidates.append(app.split(".app/")[0] + ".app/Contents/Info.plist")
    if ctx.system == "Darwin":
        candidates.append("/Applications/LM Studio.app/Contents/Info.plist")
    for plist in candidates:
        data = ctx.runner.read_bytes(plist, 0, 1 << 20)
        if data and (version := parse_info_plist(data)):
            return version
    return version_in_file_name(app) if isinstance(app, str) else None


def _selected_runtimes(ctx: ProbeContext, home: _Home, notes: list[str]) -> list[NamedVersion]:
    from envstamp.parsers.lmstudio import parse_backend_preferences

    result = ctx.runner.read_text(home.path(".internal", "backend-preferences-v1.json"))
    if not result.ok or not result.text:
        return []
    try:
        return parse_backend_preferences(result.text)
    except ParseError as exc:
        notes.append(str(exc))
        return []


def _lms_binary(ctx: ProbeContext, home: _Home) -> str | None:
    found = ctx.runner.which("lms")
    if found or home.folder is None:
        return found
    name = "lms.exe" if ctx.system == "Windows" else "lms"
    local = home.path("bin", name)
    return local if ctx.runner.stat(local).exists else None


def _server_models(ctx: ProbeContext, home: _Home, app: LmStudio, notes: list[str]) -> bool:
    """Models from the local server's REST API; True when a server answered at all."""
    from envstamp.parsers.lmstudio import parse_api_models

    config = read_json_file(ctx.runner, home.path(".internal", "http-server-config.json"))
    port = config.get("port") if isinstance(config, dict) else None
    port = port if isinstance(port, int) and 0 < port < 65536 else DEFAULT_PORT
    answer = ctx.runner.http_get(f"http://127.0.0.1:{port}/api/v0/models", timeout=API_TIMEOUT)
    if answer.status != "ok":
        notes.append(f"server on port {port}: {answer.detail or answer.status}")
        return False
    if answer.code == 200:
        try:
            app.models, app.loaded_models = parse_api_models(answer.body)
        except ParseError as exc:
            notes.append(str(exc))
    return True


def _lms_models(ctx: ProbeContext, lms: str, app: LmStudio, notes: list[str]) -> None:
    from envstamp.parsers.lmstudio import parse_lms_models

    for verb in ("ps", "ls"):
        result = ctx.runner.run([lms, verb])
        if not result.succeeded:
            notes.append(result.describe())
            continue
        try:
            models = parse_lms_models(result.output, f"lms {verb}")
        except ParseError as exc:
            notes.append(str(exc))
            continue
        if verb == "ps":
            app.loaded_models = models
        else:
            app.models = models


def _lms_version(ctx: ProbeContext, lms: str, app: LmStudio, notes: list[str]) -> None:
    from envstamp.parsers.lmstudio import parse_lms_version

    result = ctx.runner.run([lms, "version"], cache=True)
    if result.status != "ok":
        notes.append(result.describe())
        return
    try:
        cli = parse_lms_version(result.output)
    except ParseError:
        notes.append(result.describe() + ": no version printed")
        return
    app.cli_version, app.cli_commit = cli.cli_version, cli.cli_commit


def probe(ctx: ProbeContext) -> Outcome:
    """LM Studio's app, CLI, engines and models, from its home folder and lms."""
    home = _Home(ctx)
    notes: list[str] = []
    app = LmStudio()
    sources = []
    server = False
    if home.folder is not None:
        from envstamp.parsers.lmstudio import engines_of, selected_engine

        app.app_version = _app_version(ctx, home)
        app.runtimes, engines = _installed_runtimes(ctx, home)
        app.selected_runtimes = _selected_runtimes(ctx, home, notes)
        if not app.runtimes:  # no folders: the selected ones are necessarily installed
            app.runtimes = list(app.selected_runtimes)
            engines = engines_of(app.selected_runtimes)
        app.engine = selected_engine(engines, app.selected_runtimes)
        sources.append("LM Studio home folder")
        server = _server_models(ctx, home, app, notes)
    lms = _lms_binary(ctx, home)
    if home.folder is None and lms is None:
        raise ProbeFailure("absent", "no LM Studio home folder and no lms on PATH")
    if lms is not None:
        _lms_version(ctx, lms, app, notes)
        sources.append("lms")
        if server and not app.models:
            _lms_models(ctx, lms, app, notes)
    return Outcome(
        sections=frontends(lmstudio=app),
        source=", ".join(sources),
        detail="; ".join(notes) or None,
    )


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "lmstudio", "order": 320},)
