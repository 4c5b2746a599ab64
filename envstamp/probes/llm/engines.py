"""Other engines: koboldcpp, llamafile, vLLM, and Python-installed engines.

* koboldcpp and llamafile: binaries on PATH, asked ``--version`` (cached by binary).  A
  koboldcpp checkout's ``koboldcpp.py`` is read, not run: it states its version.  Builds too
  old to know ``--version`` reject it (argparse) and exit; none starts a server for it.
* vLLM: the version of the distribution beside the ``vllm`` script (its shebang names the
  environment: the ``vllm-X.dist-info`` folder there), else ``vllm --version`` (it imports
  torch: often slower than the command timeout), else this interpreter's metadata.
* Python engines: versions from this interpreter's package metadata, never imported; a local
  version such as torch's ``2.4.1+cu124`` gives ``build_tag`` "cu124".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import (
    BundledEngine,
    KoboldCpp,
    Llamafile,
    PythonEngine,
    Sections,
    VersionOnly,
)
from envstamp.parsers.textutil import clean
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm.frontend_util import (
    VERSION,
    LazyPattern,
    as_version,
    engine_from_llama_output,
    frontends,
    lazy,
    lines_of,
    paths_for,
)
from envstamp.probes.llm.frontend_util import require_text as _require

if TYPE_CHECKING:
    from envstamp.runner import CommandResult

T = TypeVar("T")

# Frontends field -> distribution name, for the Python engines.
PYTHON_ENGINES: dict[str, str] = {
    "llama_cpp_python": "llama-cpp-python",
    "mlx": "mlx",
    "mlx_lm": "mlx-lm",
    "exllamav2": "exllamav2",
    "sglang": "sglang",
    "transformers": "transformers",
    "torch": "torch",
    "vllm": "vllm",
}
KOBOLDCPP_NAMES = (
    "koboldcpp",
    "koboldcpp.py",
    "koboldcpp-linux-x64",
    "koboldcpp-linux-x64-cuda1210",
    "koboldcpp-linux-x64-cuda1150",
    "koboldcpp-linux-x64-nocuda",
    "koboldcpp-linux-x64-oldpc",
    "koboldcpp-mac-arm64",
    "koboldcpp_cu12",
    "koboldcpp_nocuda",
    "koboldcpp_oldcpu",
)

_KCPP_VERSION = lazy(
    rf"(?:KoboldCpp|koboldcpp)\b[^\n\d]*?(?:version|v)\s*[:=]?\s*v?({VERSION})", re.IGNORECASE
)
_KCPP_SOURCE_VERSION = lazy(rf"""KcppVersion\s*=\s*["']({VERSION})["']""")
# (pattern, backend): the last matching line decides, as koboldcpp may fall back.
_KCPP_BACKENDS: tuple[tuple[LazyPattern, str], ...] = tuple(
    (lazy(pattern, re.IGNORECASE), backend)
    for pattern, backend in (
        (r"\b(?:hipBLAS|ROCm|rocBLAS)\b", "HIP"),
        (r"\bcu(?:BLAS|da)\b.*\blibrary\b|use CuBLAS|Auto Selected CUDA", "CUDA"),
        (r"use (?:the )?Vulkan\b|Auto Selected Vulkan|ggml_vulkan: Found", "Vulkan"),
        (r"use CLBlast|Auto Selected CLBlast|Initializing CLBlast", "CLBlast"),
        (r"use OpenBLAS|Auto Selected OpenBLAS", "OpenBLAS"),
        (r"ggml_metal_init|Metal backend", "Metal"),
        (
            r"use (?:non-avx2|noavx2|failsafe|old ?cpu|compatibility|standard|default|cpu)\b"
            r"|Auto Selected (?:Default|CPU|Failsafe|NoAVX2|Old ?CPU)",
            "CPU",
        ),
    )
)
# Printed by CUDA and ROCm builds alike: CUDA unless another line said HIP.
_KCPP_CUDA_OR_HIP = lazy(r"Initializing CUDA/HIP", re.IGNORECASE)
_LLAMAFILE = lazy(rf"\bllamafile\S*\s+v?({VERSION})", re.IGNORECASE)
_VLLM_LINE = lazy(
    rf"vLLM\b[^\n]*?\bversion\s*[:=]?\s*v?({VERSION})|LLM engine \(v({VERSION})\)", re.IGNORECASE
)

# ------------------------------------------------------------------------------- parsers


def parse_koboldcpp(text: str) -> KoboldCpp:
    """koboldcpp's start-up banner (or ``--version``): version and the backend it chose."""
    lines = lines_of(_require(text, "koboldcpp"))
    version = backend = None
    for line in lines:
        if version is None and (found := _KCPP_VERSION.search(line)):
            version = found.group(1)
        for pattern, name in _KCPP_BACKENDS:
            if pattern.search(line):
                backend = name
                break
        else:
            if backend is None and _KCPP_CUDA_OR_HIP.search(line):
                backend = "CUDA"
    if version is None:
        lone = [as_version(line) for line in lines if line.strip()]
        version = lone[0] if len(lone) == 1 else None
    if version is None and backend is None:
        raise ParseError("no koboldcpp version or backend in the output")
    return KoboldCpp(version=version, backend=backend, engine=koboldcpp_engine(text, backend))


def koboldcpp_engine(text: str, backend: str | None) -> BundledEngine | None:
    """koboldcpp's llama.cpp: the backend its banner chose (it decides, as koboldcpp may fall
    back from what llama.cpp's own lines list), and a build where such a line states one."""
    engine = engine_from_llama_output(text, "koboldcpp output")
    if engine is None:
        if backend is None:
            return None
        return BundledEngine(name="llama.cpp", backend=backend, source="koboldcpp banner")
    return attrs.evolve(engine, backend=backend or engine.backend)


def parse_koboldcpp_kind(text: str) -> Sections:
    """Kind ``koboldcpp``."""
    return frontends(koboldcpp=parse_koboldcpp(text))


def parse_koboldcpp_source(text: str) -> str | None:
    """``KcppVersion = "1.75.2"`` in a koboldcpp.py checkout."""
    found = _KCPP_SOURCE_VERSION.search(text)
    return found.group(1) if found else None


def parse_llamafile_version(text: str) -> Llamafile:
    """``llamafile --version``: "llamafile v0.8.4" (a program name may follow); with the
    start-up output beside it, the llama.cpp build and backend its own lines state."""
    lines = [line for line in lines_of(_require(text, "llamafile --version")) if line.strip()]
    engine = engine_from_llama_output(text, "llamafile output")
    for line in lines:
        if found := _LLAMAFILE.search(line):
            return Llamafile(version=found.group(1), engine=engine)
    lone = [version for line in lines if (version := as_version(line))]
    if len(lone) == 1:
        return Llamafile(version=lone[0], engine=engine)
    raise ParseError("no llamafile version in the output")


def parse_llamafile_version_kind(text: str) -> Sections:
    """Kind ``llamafile-version``."""
    return frontends(llamafile=parse_llamafile_version(text))


def parse_vllm_version(text: str) -> VersionOnly:
    """``vllm --version`` (a bare version after any log lines) or the API server's log."""
    lines = [line for line in lines_of(_require(text, "vllm --version")) if line.strip()]
    for line in lines:
        if found := _VLLM_LINE.search(line):
            return VersionOnly(version=found.group(1) or found.group(2))
    bare = [version for line in lines if (version := as_version(line))]
    if bare:
        return VersionOnly(version=bare[-1])
    raise ParseError("no vLLM version in the output")


def parse_vllm_version_kind(text: str) -> Sections:
    """Kind ``vllm-version``."""
    return frontends(vllm=parse_vllm_version(text))


def python_engine(version: str | None) -> PythonEngine | None:
    """ "2.4.1+cu124" -> PythonEngine("2.4.1", "cu124"); None when not installed."""
    text = clean(version)
    if text is None:
        return None
    public, plus, local = text.partition("+")
    return PythonEngine(version=public, build_tag=local or None if plus else None)


def dist_info_version(names: list[str], distribution: str) -> str | None:
    """The version in a ``<name>-<version>.dist-info`` folder name of ``distribution``."""
    wanted = re.sub(r"[-_.]+", "_", distribution).lower()
    for name in names:
        stem, _, suffix = name.rpartition(".")
        if suffix not in ("dist-info", "egg-info"):
            continue
        project, _, version = stem.partition("-")
        if re.sub(r"[-_.]+", "_", project).lower() == wanted and version:
            return version.partition("-")[0]  # egg-info may append "-py3.11"
    return None


def shebang_python(head: bytes) -> str | None:
    """The interpreter a console script names on its first line."""
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    if not words:
        return None
    if words[0].endswith("/env") and len(words) > 1:
        return None  # "#!/usr/bin/env python3": no environment named
    return words[0]


# --------------------------------------------------------------------------------- probe


class _Notes(list[str]):
    """What went wrong along the way, and whether a command hung."""

    timed_out = False


def _version_output(ctx: ProbeContext, binary: str, notes: _Notes) -> CommandResult | None:
    """What ``binary --version`` printed (exit status aside: some tools exit 1 after it)."""
    result = ctx.runner.run([binary, "--version"], cache=True)
    if result.status != "ok":
        notes.append(result.describe())
        notes.timed_out = notes.timed_out or result.status == "timeout"
        return None
    return result


def _parsed(
    result: CommandResult | None, parse: Callable[[str], T], empty: T, notes: _Notes
) -> T:
    """``parse`` of a command's output; ``empty`` (and a note) when it printed no version."""
    if result is None:
        return empty
    try:
        return parse(result.output)
    except ParseError:
        notes.append(result.describe() + ("" if result.returncode else ": no version printed"))
        return empty


def _koboldcpp(ctx: ProbeContext, notes: _Notes) -> KoboldCpp | None:
    binary = next((p for n in KOBOLDCPP_NAMES if (p := ctx.runner.which(n))), None)
    if binary is None:
        return None
    if binary.endswith(".py"):
        source = ctx.runner.read_text(binary)
        version = parse_koboldcpp_source(source.text or "") if source.ok else None
        return KoboldCpp(version=version)
    return _parsed(_version_output(ctx, binary, notes), parse_koboldcpp, KoboldCpp(), notes)


def _llamafile(ctx: ProbeContext, notes: _Notes) -> Llamafile | None:
    binary = ctx.runner.which("llamafile")
    if binary is None:
        return None
    result = _version_output(ctx, binary, notes)
    return _parsed(result, parse_llamafile_version, Llamafile(), notes)


def _vllm_beside_script(ctx: ProbeContext, script: str) -> str | None:
    """vLLM's version from the dist-info in the environment the script's shebang names."""
    head = ctx.runner.read_bytes(script, 0, 512)
    python = shebang_python(head) if head else None
    if python is None:
        return None
    paths = paths_for(ctx.system)
    prefix = paths.dirname(paths.dirname(python))
    if ctx.system == "Windows":
        folders = [paths.join(prefix, "Lib", "site-packages")]
    else:
        lib = paths.join(prefix, "lib")
        pythons = [n for n in ctx.runner.list_dir(lib) or [] if n.startswith("python3")]
        folders = [paths.join(lib, n, "site-packages") for n in pythons]
    for folder in folders:
        version = dist_info_version(ctx.runner.list_dir(folder) or [], "vllm")
        if version:
            return version
    return None


def _vllm(ctx: ProbeContext, metadata: str | None, notes: _Notes) -> VersionOnly | None:
    script = ctx.runner.which("vllm")
    if script is None:
        engine = python_engine(metadata)
        return VersionOnly(version=metadata) if engine else None
    version = _vllm_beside_script(ctx, script)
    if version is None:
        result = _version_output(ctx, script, notes)
        version = _parsed(result, parse_vllm_version, VersionOnly(), notes).version
    return VersionOnly(version=version or metadata)


def probe(ctx: ProbeContext) -> Outcome:
    """koboldcpp, llamafile, vLLM and the Python engines found on this machine."""
    notes = _Notes()
    versions = ctx.runner.python_packages(PYTHON_ENGINES.values())
    found: dict[str, object] = {}
    for field_name, distribution in PYTHON_ENGINES.items():
        if field_name != "vllm" and (engine := python_engine(versions.get(distribution))):
            found[field_name] = engine
    for name, value in (
        ("koboldcpp", _koboldcpp(ctx, notes)),
        ("llamafile", _llamafile(ctx, notes)),
        ("vllm", _vllm(ctx, versions.get("vllm"), notes)),
    ):
        if value is not None:
            found[name] = value
    if not found:
        raise ProbeFailure("absent", "no koboldcpp, llamafile, vLLM or Python engine found")
    return Outcome(
        sections=frontends(**found),
        source="PATH, package metadata",
        status="timeout" if notes.timed_out else "ok",
        detail="; ".join(notes) or None,
    )
