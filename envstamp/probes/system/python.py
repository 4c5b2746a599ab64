"""The Python that ran envstamp - or, with ``CaptureOptions.python``, the interpreter that
runs the measured command - and the versions of the distributions that shape inference.

Versions come from installed metadata (importlib.metadata), never from importing the
packages: importing torch alone takes seconds.  Another interpreter is asked through the
runner with a short ``-c`` script that prints one JSON object; :func:`parse_interpreter_answer`
reads it.
"""

from __future__ import annotations

import json
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import PythonInfo
from envstamp.parsers.textutil import clean
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure, failure_from

# Distributions whose versions explain inference speed: engines, their kernels, array
# libraries, and envstamp itself.  Only the installed ones are recorded.
RELEVANT_DISTRIBUTIONS = (
    "accelerate",
    "bitsandbytes",
    "ctranslate2",
    "envstamp",
    "exllamav2",
    "flash-attn",
    "gguf",
    "huggingface-hub",
    "intel-extension-for-pytorch",
    "llama-cpp-python",
    "mlx",
    "mlx-lm",
    "numpy",
    "nvidia-ml-py",
    "onnxruntime",
    "onnxruntime-gpu",
    "optimum",
    "safetensors",
    "sglang",
    "tokenizers",
    "torch",
    "transformers",
    "triton",
    "vllm",
    "xformers",
)

# sys.implementation.name -> what platform.python_implementation() prints
_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalVM"}

# Run by the other interpreter: one JSON object on stdout.  Standard library only, nothing
# imported but json, sys and importlib.metadata; the names come as its one argument (JSON);
# a distribution that is not installed, or an
# interpreter too old for importlib.metadata (< 3.8), gives null versions.
INTERPRETER_SCRIPT = """\
import json, sys
try:
    from importlib.metadata import version
except ImportError:
    version = None
def installed(name):
    try:
        return version(name) if version else None
    except Exception:
        return None
names = json.loads(sys.argv[1])
print(json.dumps({
    "version": sys.version.split()[0],
    "implementation": sys.implementation.name,
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "packages": {name: installed(name) for name in names},
}))
"""


def is_virtualenv(platform: dict[str, Any], virtual_env: str | None) -> bool | None:
    """Inside a venv: sys.prefix differs from sys.base_prefix, or VIRTUAL_ENV is set."""
    prefix, base = platform.get("prefix"), platform.get("base_prefix")
    if virtual_env:
        return True
    if prefix is None or base is None:
        return None
    return bool(prefix != base)


def parse_interpreter_answer(text: str) -> PythonInfo:
    """The python section from what :data:`INTERPRETER_SCRIPT` printed (the last JSON line:
    a sitecustomize may print before it)."""
    data = None
    for line in reversed(text.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        break
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise ParseError("no interpreter description (a JSON object with a version) printed")
    packages = data.get("packages")
    implementation = clean(data.get("implementation"))
    return PythonInfo(
        version=clean(data.get("version")),
        implementation=_IMPLEMENTATIONS.get(implementation or "", implementation),
        executable=clean(data.get("executable")),
        virtualenv=is_virtualenv(data, None),
        packages={
            str(name): str(found)
            for name, found in sorted(packages.items())
            if isinstance(found, str) and found
        }
        if isinstance(packages, dict)
        else {},
    )


def interpreter_probe(ctx: ProbeContext, interpreter: str) -> Outcome:
    """The python section of another interpreter, asked through the runner."""
    source = f"{interpreter} -c (importlib.metadata)"
    names = json.dumps(list(RELEVANT_DISTRIBUTIONS))
    result = ctx.runner.run([interpreter, "-c", INTERPRETER_SCRIPT, names])
    if not result.succeeded:
        raise failure_from(result, source)
    try:
        info = parse_interpreter_answer(result.stdout)
    except ParseError as exc:
        raise ProbeFailure("error", f"{interpreter}: unreadable answer: {exc}", source) from None
    return Outcome(sections={"python": info}, source=source)


def probe(ctx: ProbeContext) -> Outcome:
    """The python section: envstamp's interpreter, or the one ``CaptureOptions.python``
    names (the interpreter of the command ``envstamp run`` measures)."""
    interpreter = getattr(ctx.options, "python", None)
    if interpreter:
        return interpreter_probe(ctx, interpreter)
    platform = ctx.platform
    versions = ctx.runner.python_packages(RELEVANT_DISTRIBUTIONS)
    info = PythonInfo(
        version=clean(platform.get("python_version")),
        implementation=clean(platform.get("python_implementation")),
        executable=clean(platform.get("executable")),
        virtualenv=is_virtualenv(platform, ctx.runner.env("VIRTUAL_ENV")),
        packages={name: v for name, v in sorted(versions.items()) if v},
    )
    return Outcome(sections={"python": info}, source="platform, importlib.metadata")
