"""Ollama: client and server versions, loaded models, OLLAMA_* settings, bundled GPU libraries.

Sources, cheapest first and never starting anything:

* the HTTP API on ``OLLAMA_HOST`` (loopback only): ``/api/version`` and ``/api/ps``;
* ``ollama --version`` for the client version, pointed at a closed loopback port so that it
  never talks to a server (a hung server would cost the command's timeout, a remote one is
  never contacted);
* the ``lib/ollama`` folder beside the resolved binary for the GPU library variants;
* the environment for OLLAMA_* settings.

``ollama ps`` is not spawned: it asks the same server as ``/api/ps`` and would fail the same
way.  Its printed table is still a parse kind, for outputs users paste.  What Ollama prints
and answers is read by :mod:`envstamp.parsers.ollama` and :mod:`envstamp.parsers.ollama_log`.
"""

from __future__ import annotations

from typing import Any

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import (
    ModelFile,
    Ollama,
    ProbeStatus,
)
from envstamp.parsers.frontend_text import frontends, load_json, strip_credentials
from envstamp.parsers.ollama_host import ollama_base_url
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm.frontend_util import paths_for, subfolders

# Ollama's parsers (envstamp.parsers.ollama) are imported by the functions that read what
# Ollama answered or wrote, once it is found: their patterns compile at import.
API_TIMEOUT = 0.5
# A loopback port nothing listens on: `ollama --version` then prints only its own version.
NO_SERVER = "127.0.0.1:9"

# --------------------------------------------------------------------------------- probe


class _Findings:
    """What the probe learnt so far, from where, and what went wrong."""

    def __init__(self) -> None:
        self.ollama = Ollama()
        self.models: list[ModelFile] = []
        self.sources: list[str] = []
        self.notes: list[str] = []
        self.status: ProbeStatus = "ok"

    def add(self, other: Ollama, source: str) -> None:
        from envstamp.manifest.model import fill_missing

        self.ollama = fill_missing(self.ollama, other)
        self.sources.append(source)


def _ask_api(ctx: ProbeContext, base: str, found: _Findings) -> bool:
    """/api/version then /api/ps; True when the server answered."""
    answer = ctx.runner.http_get(base + "/api/version", timeout=API_TIMEOUT)
    if answer.status != "ok" or answer.code != 200:
        reason = answer.detail or f"HTTP {answer.code}"
        found.notes.append(f"{base}/api/version: {reason}")
        if answer.status == "timeout":
            found.status = "timeout"
        return False
    from envstamp.parsers.ollama import parse_ollama_api_ps, parse_ollama_api_version

    try:
        found.add(parse_ollama_api_version(answer.body), "/api/version")
    except ParseError as exc:
        found.notes.append(str(exc))
        return False
    ps = ctx.runner.http_get(base + "/api/ps", timeout=API_TIMEOUT)
    if ps.status == "ok" and ps.code == 200:
        try:
            found.ollama.loaded_models = parse_ollama_api_ps(ps.body)
            found.sources.append("/api/ps")
        except ParseError as exc:
            found.notes.append(str(exc))
    else:
        found.notes.append(f"/api/ps: {ps.detail or f'HTTP {ps.code}'}")
    return True


def _json_answer(answer: Any, what: str, found: _Findings) -> Any:
    """The JSON body of a 200 answer, or None (and a note saying why)."""
    if answer.status != "ok" or answer.code != 200:
        found.notes.append(f"{what}: {answer.detail or f'HTTP {answer.code}'}")
        return None
    try:
        return load_json(answer.body, what)
    except ParseError as exc:
        found.notes.append(str(exc))
        return None


def _named_models(ctx: ProbeContext, base: str, found: _Findings) -> None:
    """Each model the user named (``ollama run MODEL``), from /api/tags and /api/show."""
    from envstamp.parsers.ollama import full_model_name, model_from_api, parse_api_tags

    tags = ctx.runner.http_get(base + "/api/tags", timeout=API_TIMEOUT)
    listed: dict[str, dict[str, Any]] = {}
    if tags.status == "ok" and tags.code == 200:
        try:
            listed = parse_api_tags(tags.body)
            found.sources.append("/api/tags")
        except ParseError as exc:
            found.notes.append(str(exc))
    else:
        found.notes.append(f"/api/tags: {tags.detail or f'HTTP {tags.code}'}")
    for name in dict.fromkeys(ctx.options.ollama_models):
        answer = ctx.runner.http_post_json(
            base + "/api/show", {"model": name, "name": name}, timeout=API_TIMEOUT
        )
        show = _json_answer(answer, f"/api/show {name}", found)
        entry = listed.get(full_model_name(name))
        if not isinstance(show, dict) and entry is None:
            found.notes.append(f"model {name}: not known to the Ollama server")
        model = model_from_api(name, show if isinstance(show, dict) else None, entry)
        if model.path is not None and (size := ctx.runner.stat(model.path)).exists:
            model = attrs.evolve(model, size_bytes=size.size)  # the blob, where visible here
        found.models.append(model)
    found.sources.append("/api/show")


def _named_models_from_files(ctx: ProbeContext, found: _Findings) -> None:
    """No server: each named model from Ollama's own folders, as ``--model NAME`` does."""
    from envstamp.parsers.ollama import full_model_name
    from envstamp.probes.llm.model_file import describe_model

    for name in dict.fromkeys(ctx.options.ollama_models):
        try:
            model, problem = describe_model(ctx, name)
        except ProbeFailure as failure:
            model, problem = ModelFile(name=full_model_name(name)), failure.detail
        found.models.append(model)
        if problem:
            found.notes.append(problem)
    found.sources.append("Ollama model folders")


# -------------------------------------------------------------------------- the server's log

LOG_TAIL_BYTES = 2 << 20
JOURNAL_LINES = 5000


def _log_files(ctx: ProbeContext) -> list[str]:
    """Where Ollama writes its server log on this system (Linux: the service's journal)."""
    paths = paths_for(ctx.system)
    home = str(ctx.platform.get("home") or "")
    if ctx.system == "Windows":
        local = ctx.runner.env("LOCALAPPDATA") or paths.join(home, "AppData", "Local")
        return [paths.join(local, "Ollama", "server.log")]
    return [paths.join(home, ".ollama", "logs", "server.log")] if home else []


def _read_log(ctx: ProbeContext, found: _Findings) -> tuple[str, str] | None:
    """(text, where) of the tail of Ollama's server log, or None."""
    for path in _log_files(ctx):
        info = ctx.runner.stat(path)
        if not info.exists or info.is_dir:
            continue
        size = info.size or 0
        start = max(0, size - LOG_TAIL_BYTES)
        data = ctx.runner.read_bytes(path, start, size - start)
        if data:
            return data.decode("utf-8", errors="replace"), "server.log"
    if ctx.system != "Linux" or ctx.runner.which("journalctl") is None:
        return None
    argv = ["journalctl", "-u", "ollama", "--no-pager", "-o", "cat", "-n", str(JOURNAL_LINES)]
    result = ctx.runner.run(argv)
    if not result.succeeded or not result.stdout.strip():
        found.notes.append(f"server log: {result.describe()}")
        return None
    return result.stdout, "journalctl -u ollama"


def _engine_from_log(ctx: ProbeContext, found: _Findings) -> None:
    """The engine of the server's last start, when that start is of this Ollama version."""
    log = _read_log(ctx, found)
    if log is None:
        return
    from envstamp.parsers.ollama_log import read_server_log  # once a log is found

    version, engine = read_server_log(log[0])
    current = found.ollama.server_version or found.ollama.client_version
    if engine is None:
        return
    if version is not None and current is not None and version != current:
        found.notes.append(f"server log is of Ollama {version}, not {current}: engine not taken")
        return
    found.ollama.engine = attrs.evolve(engine, source=f"Ollama server log ({log[1]})")
    found.sources.append(log[1])


def _ask_binary(ctx: ProbeContext, binary: str, found: _Findings) -> None:
    from envstamp.parsers.ollama import parse_ollama_version

    result = ctx.runner.run(
        [binary, "--version"], cache=True, input_env={"OLLAMA_HOST": NO_SERVER}
    )
    if result.status != "ok":
        found.notes.append(result.describe())
        if result.status == "timeout":
            found.status = "timeout"
        return
    try:
        client = parse_ollama_version(result.output).client_version
    except ParseError:
        found.notes.append(result.describe() + ": no version printed")
        return
    found.add(Ollama(client_version=client), "ollama --version")


def _gpu_libraries(ctx: ProbeContext, binary: str) -> list[str]:
    """Variant folders of lib/ollama beside the binary (Windows) or in ../lib (Unix)."""
    from envstamp.parsers.ollama import gpu_library_variants

    paths = paths_for(ctx.system)
    folder = paths.dirname(ctx.runner.realpath(binary))
    variants: list[str] = []
    for relative in (("lib", "ollama"), ("..", "lib", "ollama")):
        root = paths.normpath(paths.join(folder, *relative))
        names = subfolders(ctx.runner, root, paths.join)
        if "runners" in names:  # 0.3-0.5 layout: lib/ollama/runners/cuda_v12...
            names += subfolders(ctx.runner, paths.join(root, "runners"), paths.join)
        variants += gpu_library_variants(names)
        if names:
            break
    return variants


def probe(ctx: ProbeContext) -> Outcome:
    """Ollama's versions, loaded models, settings and GPU library variants."""
    runner = ctx.runner
    host_value = runner.env("OLLAMA_HOST")
    base = ollama_base_url(host_value)
    found = _Findings()
    found.ollama.host = base or strip_credentials(host_value or "")
    server = False
    if base is None:
        found.notes.append(f"OLLAMA_HOST {found.ollama.host} is not on loopback: not probed")
    else:
        server = _ask_api(ctx, base, found)
    binary = runner.which("ollama")
    if binary is not None:
        _ask_binary(ctx, binary, found)
        found.ollama.gpu_libraries = _gpu_libraries(ctx, binary)
    if ctx.options.ollama_models:
        if server:
            _named_models(ctx, base or "", found)
        else:
            _named_models_from_files(ctx, found)
    if binary is None and not server:
        if found.models:  # the user named models: what was learnt of them is kept
            return Outcome(
                sections={"models": found.models},
                source=", ".join(found.sources),
                status="absent",
                detail="; ".join(["ollama not on PATH, no server", *found.notes]),
            )
        status: ProbeStatus = found.status if found.status != "ok" else "absent"
        if base is None:
            status = "unsupported"
        raise ProbeFailure(status, "; ".join(["ollama not on PATH", *found.notes]))
    _engine_from_log(ctx, found)
    from envstamp.parsers.ollama import secret_name_rule, settings_from

    # Secret-looking names are dropped before their values are asked for, so a --raw
    # recording never holds them either.
    is_secret = secret_name_rule()
    names = [n for n in runner.env_names() if n.startswith("OLLAMA_") and not is_secret(n)]
    found.ollama.settings = settings_from({n: runner.env(n) for n in names}, is_secret)
    sections = frontends(ollama=found.ollama)
    if found.models:
        sections["models"] = found.models
    return Outcome(
        sections=sections,
        source=", ".join(found.sources) or "ollama",
        status=found.status,
        detail="; ".join(found.notes) or None,
    )


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "ollama", "order": 310, "waits": True},)
