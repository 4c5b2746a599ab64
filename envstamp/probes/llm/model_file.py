"""Model files the user names (``--model PATH``, ``capture(models=[...])``).

For each: size (stat), the GGUF header (read through the runner in growing chunks, since
vocabularies make headers several MB), and the sha256 (streamed by the runner and cached by
path, size and mtime, so a second capture is free; a progress line on a terminal while a
large file is hashed).  A name that is not a file but looks like an Ollama model
(``llama3.2:3b``, ``user/model``, ``hf.co/org/repo:Q4_K_M``) is resolved through Ollama's
manifests to its blob, whose file name already is its sha256: it is not hashed again.
"""

from __future__ import annotations

import ntpath
import posixpath
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, TextIO

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import ModelFile, ProbeStatus
from envstamp.parsers.ollama_manifest import OllamaRef, model_layer_digest, parse_ollama_name
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure

if TYPE_CHECKING:
    from envstamp.parsers.gguf import GgufHeader
    from envstamp.runner import Runner

FIRST_READ = 1 << 20
HEADER_CAP = 64 << 20  # past this, a header is not believable (the biggest vocabularies: ~10 MB)
PROGRESS_FROM_BYTES = 256 << 20
# ---------------------------------------------------------------------------- GGUF header


def read_gguf(runner: Runner, path: str, size: int) -> GgufHeader | None:
    """The GGUF header of a file, reading only as much as the header needs; None when the
    file is not GGUF at all.  ParseError for a GGUF file that is truncated or malformed."""
    from envstamp.parsers.gguf import NeedMoreDataError, read_header

    data = b""
    want = min(size, FIRST_READ)
    tensors = True
    while True:
        if len(data) < want:
            chunk = runner.read_bytes(path, len(data), want - len(data))
            if not chunk:
                raise ParseError(f"cannot read {want} bytes of the file")
            data += chunk
        if data[:4] != b"GGUF":
            return None
        try:
            return read_header(data, file_size=size, tensors=tensors)
        except NeedMoreDataError as need:
            if need.needed > HEADER_CAP:
                if not tensors:
                    raise ParseError(f"GGUF header larger than {HEADER_CAP >> 20} MiB") from None
                tensors = False  # keep the metadata, give up on counting parameters
                continue
            want = min(size, HEADER_CAP, max(need.needed, len(data) * 4))


# -------------------------------------------------------------------------------- Ollama


def ollama_model_dirs(ctx: ProbeContext, paths: ModuleType) -> list[str]:
    """Where Ollama keeps models: OLLAMA_MODELS, ~/.ollama/models, the Linux service's home."""
    dirs = []
    configured = ctx.runner.env("OLLAMA_MODELS")
    if configured:
        dirs.append(configured)
    home = ctx.platform.get("home")
    if home:
        dirs.append(paths.join(str(home), ".ollama", "models"))
    if ctx.system == "Linux":
        dirs.append("/usr/share/ollama/.ollama/models")
    return dirs


def resolve_ollama(ctx: ProbeContext, ref: OllamaRef, paths: ModuleType) -> tuple[str, str]:
    """(blob path, sha256) of an Ollama model; ProbeFailure when it is not installed."""
    runner = ctx.runner
    for models in ollama_model_dirs(ctx, paths):
        manifest = paths.join(models, "manifests", ref.host, ref.namespace, ref.model, ref.tag)
        found = runner.read_text(manifest)
        if not found.ok or found.text is None:
            continue
        digest = model_layer_digest(found.text)
        if digest is None:
            raise ProbeFailure("error", f"{ref.display}: its manifest names no model layer")
        for blob_name in (f"sha256-{digest}", f"sha256:{digest}"):
            blob = paths.join(models, "blobs", blob_name)
            if runner.stat(blob).exists:
                return blob, digest
        raise ProbeFailure("error", f"{ref.display}: model blob sha256-{digest[:12]} missing")
    raise ProbeFailure("absent", f"{ref.display}: not a file, nor an installed Ollama model")


# ------------------------------------------------------------------------------ progress


class Progress:
    """A one-line progress meter on a terminal: ``\\r`` rewrites, at most ~10 times a second."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.shown = 0.0
        self.width = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.shown < 0.1 and done < total:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6) / (1 << 20)
        percent = 100.0 * done / total if total else 100.0
        line = (
            f"\rhashing {self.label}: {percent:5.1f}% "
            f"({done >> 20}/{total >> 20} MiB, {rate:.0f} MiB/s)"
        )
        self.width = max(self.width, len(line))
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


# -------------------------------------------------------------------------------- probe


def shows_progress(asked: bool | None, stream: TextIO | None = None) -> bool:
    """Whether progress lines are wanted: as asked, else (None) when the stream they go to
    (stderr) is a terminal - the one rule for capture, check, run and a Recorder."""
    if asked is not None:
        return asked
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # a closed or odd stream: no terminal
        return False


def _hash(ctx: ProbeContext, path: str, size: int) -> str | None:
    show = size >= PROGRESS_FROM_BYTES and shows_progress(ctx.options.progress)
    meter = Progress(posixpath.basename(path.replace("\\", "/"))) if show else None
    callback: Callable[[int, int], None] | None = meter
    try:
        return ctx.runner.sha256_file(path, progress=callback)
    finally:
        if meter is not None:
            meter.close()


def describe_model(ctx: ProbeContext, given: str) -> tuple[ModelFile, str | None]:
    """One model entry and, when something went wrong, why."""
    paths = ntpath if ctx.system == "Windows" else posixpath
    path, sha256, name = _expand(ctx, given), None, None
    info = ctx.runner.stat(path)
    if not info.exists:
        ref = parse_ollama_name(given)
        if ref is None:
            raise ProbeFailure("absent", f"{given}: not found")
        path, sha256 = resolve_ollama(ctx, ref, paths)
        name = ref.display
        info = ctx.runner.stat(path)
    if info.is_dir:
        raise ProbeFailure("error", f"{given}: is a folder, not a model file")
    if not info.is_regular:
        # Only regular files are read and hashed: a FIFO would wait for a writer for ever
        # and /dev/zero never ends (the model probe may outlive the capture's deadline).
        from envstamp.runner.files import kind_words

        kind = kind_words(info.kind or "other")
        raise ProbeFailure("error", f"{given}: is {kind}, not a regular file: not read")
    size = info.size or 0
    model = ModelFile(path=given if name is None else path, name=name, size_bytes=info.size)
    problem = None
    try:
        header = read_gguf(ctx.runner, path, size) if size else None
    except ParseError as exc:
        header, problem = None, f"{given}: malformed GGUF: {exc}"
    if header is not None:
        from envstamp.parsers.gguf import apply_header

        model = apply_header(model, header, keep_name=name is not None)
    if sha256 is None:
        sha256 = _hash(ctx, path, size)
    return attrs.evolve(model, sha256=sha256), problem


def _expand(ctx: ProbeContext, raw: str) -> str:
    home = str(ctx.platform.get("home") or "")
    if home and (raw == "~" or raw.startswith(("~/", "~\\"))):
        return home + raw[1:]
    return raw


def probe(ctx: ProbeContext) -> Outcome:
    """Each named model -> {"models": [ModelFile...]}; nothing named -> unsupported."""
    if not ctx.options.models:
        raise ProbeFailure("unsupported", "no model named (--model)")
    models: list[ModelFile] = []
    problems: list[str] = []
    worst: ProbeStatus = "ok"
    for given in ctx.options.models:
        try:
            model, problem = describe_model(ctx, given)
        except ProbeFailure as failure:
            problems.append(failure.detail)
            worst = failure.status if worst == "ok" else worst
            continue
        models.append(model)
        if problem:
            problems.append(problem)
            worst = "error" if worst == "ok" else worst
    return Outcome(
        sections={"models": models} if models else {},
        source="stat+GGUF header+sha256",
        status=worst,
        detail="; ".join(problems) or None,
    )


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "models", "order": 390, "outlives_deadline": True},)
