"""Ollama's server log (journalctl -u ollama, ~/.ollama/logs/server.log): the version of its
last start and the engine its runner uses (llama.cpp or Ollama's own, the backends it loaded,
llama.cpp's build and commit), from JSON, ``msg | key=value`` and slog logfmt lines."""

from __future__ import annotations

import json
import re
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import BundledEngine, Ollama, Sections
from envstamp.parsers.bundled_engine import backend_in_name, says_something
from envstamp.parsers.frontend_text import VERSION, frontends, lines_of, require_text

_LOGFMT_PAIR = re.compile(r'([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')
_LISTENING = re.compile(rf"Listening on \S+ \(version v?({VERSION}|[\w.+-]+)\)")
_LOADED_BACKEND = re.compile(r"\bloaded (\w+) backend from (\S+)")
_SYSTEM_INFO_BACKEND = re.compile(r"(?:^|\|)\s*([A-Za-z]\w*) : ")
_RUNNER_PATH = re.compile(r"runners[\\/]([\w.-]+)[\\/]")
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


_HEX = re.compile(r"[0-9a-fA-F]{6,64}")


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


# Messages only Ollama's own processes log: its runner's start (the engine lines after it
# are llama.cpp's, and llama-server or llamafile print those too).
_OLLAMA_MESSAGES = (*_RUNNER_STARTS, "starting go runner", "starting ollama engine")


def _written_by_ollama(lines: list[str]) -> bool:
    """The log holds a line Ollama itself writes: its start ("Listening on ... (version X)")
    or its runner's start."""
    return any(
        _LISTENING.search(line) or _log_record(line)[0].lower() in _OLLAMA_MESSAGES
        for line in lines
    )


def parse_ollama_server_log(text: str) -> Ollama:
    """Ollama's server log (journalctl -u ollama, ~/.ollama/logs/server.log): the version of
    its last start and the engine it runs models with.  Text of unknown origin is Ollama's
    log only where Ollama wrote a line of it: a llama.cpp log alone (llama-server's, a
    llamafile's) names no Ollama, though its build and backend lines look alike."""
    require_text(text, "ollama server log")
    if not _written_by_ollama(lines_of(text)):
        raise ParseError("no Ollama server start or runner line: not Ollama's server log")
    version, engine = read_server_log(text)
    if version is None and engine is None:
        raise ParseError("no Ollama server start or runner line: not Ollama's server log")
    return Ollama(server_version=version, engine=engine)


def parse_ollama_server_log_kind(text: str) -> Sections:
    """Kind ``ollama-server-log``."""
    return frontends(ollama=parse_ollama_server_log(text))


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "ollama-server-log": (
        "parse_ollama_server_log_kind",
        "Ollama's server log (journalctl -u ollama, ~/.ollama/logs/server.log)",
    ),
}
