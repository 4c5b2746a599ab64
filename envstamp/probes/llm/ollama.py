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

import json
import re
from collections.abc import Callable
from typing import Any

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import (
    BundledEngine,
    ModelFile,
    Ollama,
    OllamaModel,
    ProbeStatus,
    Sections,
)
from envstamp.parsers.textutil import clean, to_int
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm.frontend_util import (
    VERSION,
    backend_in_name,
    cells,
    frontends,
    lazy,
    lines_of,
    load_json,
    paths_for,
    require_text,
    row_by_header,
    says_something,
    strip_credentials,
    subfolders,
)

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


# ------------------------------------------------------------------------ the server's log

_LOGFMT_PAIR = lazy(r'([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')
_LISTENING = lazy(rf"Listening on \S+ \(version v?({VERSION}|[\w.+-]+)\)")
_LOADED_BACKEND = lazy(r"\bloaded (\w+) backend from (\S+)")
_SYSTEM_INFO_BACKEND = lazy(r"(?:^|\|)\s*([A-Za-z]\w*) : ")
_RUNNER_PATH = lazy(r"runners[\\/]([\w.-]+)[\\/]")
_RUNNER_STARTS = ("starting llama server", "starting runner")
_GPU_BACKENDS = ("CUDA", "HIP", "Vulkan", "Metal", "SYCL", "OpenCL", "MUSA", "CANN")


def logfmt(line: str) -> dict[str, str]:
    """The ``key=value`` pairs of a log line (Go's slog text format; values may be quoted)."""
    pairs = {}
    for found in _LOGFMT_PAIR.finditer(line):
        value = found.group(2)
        if value.startswith('"') and len(value) >= 2:
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        pairs[found.group(1)] = value
    return pairs


class _LogEngine:
    """What the lines since the server last started say of its engine."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.build: str | None = None
        self.commit: str | None = None
        self.backends: list[str] = []

    def backend(self, name: str, where: str = "") -> None:
        """A backend the runner uses; ``where`` (a library or runner folder path) may carry
        its version: cuda_v12/libggml-cuda.so -> "CUDA 12"."""
        from envstamp.parsers.llamacpp_log import backend_name

        spelled = backend_name(name)
        named = backend_in_name(where) if where else None
        if named and named.split()[0] == spelled:
            spelled = named
        if spelled not in self.backends:
            self.backends.append(spelled)

    def runner_started(self, command: str) -> None:
        """``starting llama server cmd=...``: which engine, and from the 0.1-0.5 runner
        folders (runners/cuda_v12_avx/ollama_llama_server) which backend."""
        self.name = "ollama" if "--ollama-engine" in command else "llama.cpp"
        self.backends = []  # a new runner: an earlier model's backends no longer apply
        if found := _RUNNER_PATH.search(command):
            folder = found.group(1)
            named = backend_in_name(folder)
            if named:
                self.backend(named.split()[0], folder)
            elif folder.lower().startswith("cpu"):
                self.backend("CPU")

    def build_info(self, fields: dict[str, Any]) -> None:
        build, commit = fields.get("build"), fields.get("commit")
        self.build = str(build) if build is not None else self.build
        self.commit = str(commit) if commit else self.commit
        self.name = self.name or "llama.cpp"

    def system_info(self, fields: dict[str, Any]) -> None:
        """Backends named in a system-info line: ``info="CUDA : ARCHS = ... | CPU : ..."``
        (0.5) or keys such as ``CUDA.0.ARCHS=...`` (0.6 and later)."""
        from envstamp.parsers.llamacpp_log import BACKEND_NAMES

        info = str(fields.get("info") or fields.get("system_info") or "")
        names = [m.group(1) for m in _SYSTEM_INFO_BACKEND.finditer(info)]
        names += [key.split(".")[0] for key in fields if re.match(r"^[A-Za-z]+\.\d+\.", key)]
        for raw in names:
            if raw.lower() in BACKEND_NAMES:
                self.backend(raw)

    def to_model(self, source: str) -> BundledEngine | None:
        number = None
        if self.build is not None and self.build.isdigit():
            # Ollama builds llama.cpp from a shallow checkout, whose commit count is 1: a
            # build number that small is no release (b1 is llama.cpp's first commit).
            number = int(self.build) if int(self.build) > 1 else None
        commit = self.commit if self.commit and _HEX.fullmatch(self.commit) else None
        gpu = [b for b in self.backends if b.split()[0] in _GPU_BACKENDS]
        backend = gpu[0] if gpu else ("CPU" if "CPU" in self.backends else None)
        engine = BundledEngine(
            name=self.name, build_number=number, commit=commit, backend=backend, source=source
        )
        return engine if self.name is not None or says_something(engine) else None


_HEX = lazy(r"[0-9a-fA-F]{6,64}")


def _log_record(line: str) -> tuple[str, dict[str, Any]]:
    """(message, fields) of one log line: JSON (the 2024 runners), ``msg | k=v`` (the
    llama.cpp server's text log) or slog's logfmt (Ollama itself)."""
    text = line.strip()
    start = text.find("{")
    if start >= 0 and text.endswith("}"):
        try:
            data = json.loads(text[start:])
        except ValueError:
            data = None
        if isinstance(data, dict):
            return str(data.get("msg") or data.get("message") or ""), data
    head, bar, tail = text.partition(" | ")
    if bar:
        message = re.sub(r"^.*?\b(?:INFO|WARN|ERROR|DEBUG)\s+\[[^\]]*\]\s*", "", head)
        return message.strip(), dict(logfmt(tail))
    fields = logfmt(text)
    return str(fields.get("msg", "")), dict(fields)


def read_server_log(text: str) -> tuple[str | None, BundledEngine | None]:
    """(server version, engine) from Ollama's server log: only the lines since the server
    last started count (a log spans restarts and upgrades); the last runner started decides
    the engine, its backends come from the libraries it loaded and its system info."""
    lines = lines_of(text)
    starts = [i for i, line in enumerate(lines) if _LISTENING.search(line)]
    version = None
    if starts:
        found = _LISTENING.search(lines[starts[-1]])
        version = found.group(1) if found else None
        lines = lines[starts[-1] + 1 :]
    state = _LogEngine()
    for line in lines:
        message, fields = _log_record(line)
        lowered = message.lower()
        if lowered in _RUNNER_STARTS and isinstance(fields.get("cmd"), str):
            state.runner_started(fields["cmd"])
        elif lowered == "starting go runner":
            state.name = state.name or "llama.cpp"
        elif lowered == "starting ollama engine":
            state.name = "ollama"
        elif lowered == "build info":
            state.build_info(fields)
        elif lowered in ("system", "system info"):
            state.system_info(fields)
        elif found := _LOADED_BACKEND.search(line):
            state.backend(found.group(1), found.group(2))
    return version, state.to_model("ollama server log")


def parse_ollama_server_log(text: str) -> Ollama:
    """Ollama's server log (journalctl -u ollama, ~/.ollama/logs/server.log): the version of
    its last start and the engine it runs models with."""
    require_text(text, "ollama server log")
    version, engine = read_server_log(text)
    if version is None and engine is None:
        raise ParseError("no Ollama server start or runner line: not Ollama's server log")
    return Ollama(server_version=version, engine=engine)


def parse_ollama_server_log_kind(text: str) -> Sections:
    """Kind ``ollama-server-log``."""
    return frontends(ollama=parse_ollama_server_log(text))


# ------------------------------------------------------------------- models named by the user

_BLOB = lazy(r"^FROM\s+(\S*[\\/]blobs[\\/]sha256[-:]([0-9a-f]{64}))\s*$", re.MULTILINE)


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
