"""Ollama: client and server versions, loaded models, OLLAMA_* settings, bundled GPU libraries.

Sources, cheapest first and never starting anything:

* the HTTP API on ``OLLAMA_HOST`` (loopback only): ``/api/version`` and ``/api/ps``;
* ``ollama --version`` for the client version, pointed at a closed loopback port so that it
  never talks to a server (a hung server would cost the command's timeout, a remote one is
  never contacted);
* the ``lib/ollama`` folder beside the resolved binary for the GPU library variants;
* the environment for OLLAMA_* settings.

``ollama ps`` is not spawned: it asks the same server as ``/api/ps`` and would fail the same
way.  Its printed table is still a parse kind, for outputs users paste.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from envstamp.errors import ParseError
from envstamp.model import Ollama, OllamaModel, ProbeStatus
from envstamp.probes import Outcome, ProbeContext, ProbeFailure, Sections
from envstamp.probes.frontend_util import (
    VERSION,
    cells,
    frontends,
    lazy,
    lines_of,
    load_json,
    paths_for,
    require_text,
    row_by_header,
    strip_credentials,
    subfolders,
)
from envstamp.textutil import clean, to_int

DEFAULT_HOST = "127.0.0.1:11434"
DEFAULT_PORT = 11434
API_TIMEOUT = 0.5
# A loopback port nothing listens on: `ollama --version` then prints only its own version.
NO_SERVER = "127.0.0.1:9"

_SERVER_LINE = lazy(rf"ollama\s+version(?:\s+is)?\s*:?\s*v?({VERSION})", re.IGNORECASE)
_CLIENT_LINE = lazy(rf"client\s+version\s+is\s*:?\s*v?({VERSION})", re.IGNORECASE)
_NO_CONNECT = lazy(r"could\s+not\s+connect", re.IGNORECASE)
_SPLIT = lazy(r"(\d+)%\s*/\s*(\d+)%\s+([A-Za-z]+)\s*/\s*([A-Za-z]+)")
_SINGLE = lazy(r"(\d+)%\s+([A-Za-z]+)")
_LOOPBACK = {"", "localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}  # noqa: S104 - see below

# ------------------------------------------------------------------------------- parsers


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
    """Kind ``ollama-api-version``."""
    return frontends(ollama=parse_ollama_api_version(text))


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


def ollama_base_url(value: str | None) -> str | None:
    """The http:// base URL for an OLLAMA_HOST value; None when it is not on loopback.

    Accepts "host", "host:port", ":port", "http://host:port[/path]", "[::1]:port";
    "0.0.0.0" (listen everywhere) is reached on 127.0.0.1.
    """
    text = (value or "").strip() or DEFAULT_HOST
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "http", text
    if scheme.lower() != "http":
        return None
    hostport, slash, path = rest.partition("/")
    hostport = hostport.rpartition("@")[2]  # credentials are never sent
    match = re.fullmatch(r"\[([^\]]*)\](?::(\d*))?|([^:]*)(?::(\d*))?", hostport)
    if match is None:
        return None
    host = (match.group(1) if match.group(1) is not None else match.group(3) or "").lower()
    port = match.group(2) or match.group(4) or str(DEFAULT_PORT)
    if host not in _LOOPBACK and not host.startswith("127."):
        return None
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a server bound everywhere answers here
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return base + "/" + path.strip("/") if slash and path.strip("/") else base


def gpu_library_variants(names: list[str]) -> list[str]:
    """GPU variants among folder names of lib/ollama (cuda_v12, rocm, vulkan...)."""
    return sorted({n for n in names if n != "runners" and not n.lower().startswith("cpu")})


def _looks_secret(name: str) -> bool:
    """Fallback until the env probe's rule is importable (same spirit: DESIGN 3.1 env)."""
    upper = name.upper()
    words = ("TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "AUTH", "CREDENTIAL", "COOKIE")
    return any(word in upper for word in words)


def secret_name_rule() -> Callable[[str], bool]:
    """The env probe's rule (``looks_secret``) when it exists, so both drop the same names."""
    import importlib

    try:
        env = importlib.import_module("envstamp.probes.env")
    except ImportError:
        return _looks_secret
    for name in ("is_secret_name", "looks_secret"):
        rule = getattr(env, name, None)
        if callable(rule):
            return rule  # type: ignore[no-any-return]
    return _looks_secret


def settings_from(
    values: dict[str, str | None], is_secret: Callable[[str], bool]
) -> dict[str, str]:
    """OLLAMA_* settings without secret-looking names; URLs lose their credentials."""
    return {
        name: strip_credentials(value)
        for name, value in sorted(values.items())
        if name.startswith("OLLAMA_") and value is not None and not is_secret(name)
    }


# --------------------------------------------------------------------------------- probe


class _Findings:
    """What the probe learnt so far, from where, and what went wrong."""

    def __init__(self) -> None:
        self.ollama = Ollama()
        self.sources: list[str] = []
        self.notes: list[str] = []
        self.status: ProbeStatus = "ok"

    def add(self, other: Ollama, source: str) -> None:
        from envstamp.model import fill_missing

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


def _ask_binary(ctx: ProbeContext, binary: str, found: _Findings) -> None:
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
    if binary is None and not server:
        status: ProbeStatus = found.status if found.status != "ok" else "absent"
        if base is None:
            status = "unsupported"
        raise ProbeFailure(status, "; ".join(["ollama not on PATH", *found.notes]))
    # Secret-looking names are dropped before their values are asked for, so a --raw
    # recording never holds them either.
    is_secret = secret_name_rule()
    names = [n for n in runner.env_names() if n.startswith("OLLAMA_") and not is_secret(n)]
    found.ollama.settings = settings_from({n: runner.env(n) for n in names}, is_secret)
    return Outcome(
        sections=frontends(ollama=found.ollama),
        source=", ".join(found.sources) or "ollama",
        status=found.status,
        detail="; ".join(found.notes) or None,
    )
