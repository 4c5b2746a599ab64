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

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from envstamp.errors import ParseError
from envstamp.manifest.model import (
    KoboldCpp,
    Llamafile,
    VersionOnly,
)
from envstamp.parsers.frontend_text import frontends
from envstamp.parsers.python_dists import dist_info_version, python_engine, shebang_python
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm.frontend_util import paths_for

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
    # A tool's parser is imported once the tool is found (its patterns compile at import).
    from envstamp.parsers.koboldcpp import parse_koboldcpp, parse_koboldcpp_source

    if binary.endswith(".py"):
        source = ctx.runner.read_text(binary)
        version = parse_koboldcpp_source(source.text or "") if source.ok else None
        return KoboldCpp(version=version)
    return _parsed(_version_output(ctx, binary, notes), parse_koboldcpp, KoboldCpp(), notes)


def _llamafile(ctx: ProbeContext, notes: _Notes) -> Llamafile | None:
    binary = ctx.runner.which("llamafile")
    if binary is None:
        return None
    from envstamp.parsers.llamafile import parse_llamafile_version

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
        from envstamp.parsers.vllm import parse_vllm_version

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


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "engines", "order": 340},)
