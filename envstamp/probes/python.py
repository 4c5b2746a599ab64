"""The Python that ran envstamp, and the versions of the distributions that shape inference.

Versions come from installed metadata (importlib.metadata through the runner), never from
importing the packages: importing torch alone takes seconds.
"""

from __future__ import annotations

from typing import Any

from envstamp.model import PythonInfo
from envstamp.probes import Outcome, ProbeContext
from envstamp.textutil import clean

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


def is_virtualenv(platform: dict[str, Any], virtual_env: str | None) -> bool | None:
    """Inside a venv: sys.prefix differs from sys.base_prefix, or VIRTUAL_ENV is set."""
    prefix, base = platform.get("prefix"), platform.get("base_prefix")
    if virtual_env:
        return True
    if prefix is None or base is None:
        return None
    return bool(prefix != base)


def probe(ctx: ProbeContext) -> Outcome:
    """The python section."""
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
