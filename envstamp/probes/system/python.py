"""The Python that ran envstamp - or, with ``CaptureOptions.python``, the interpreter that
runs the measured command - and the versions of the distributions that shape inference.

Versions come from installed metadata (importlib.metadata), never from importing the
packages: importing torch alone takes seconds.  Another interpreter is asked through the
runner with a short ``-c`` script that prints one JSON object; :func:`parse_interpreter_answer`
reads it.
"""

from __future__ import annotations

import json

from envstamp.errors import ParseError
from envstamp.manifest.model import PythonInfo
from envstamp.parsers.python_interpreter import is_virtualenv, parse_interpreter_answer
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


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "python", "order": 140},)
