"""Environment variables that change how inference runs, and never a secret.

Only names on the allow-list are read at all (the runner is asked for every name, then for
the values of allowed names only).  A name that looks like it holds a secret is dropped even
when allowed (``envstamp.manifest.secrets.is_secret_name``), and every kept value passes through
``envstamp.manifest.secrets.redact_value`` (URL credentials, tokens, secret ``key=value`` pairs).
"""

from __future__ import annotations

from envstamp.manifest.secrets import is_secret_name, redact_value
from envstamp.probes.context import Outcome, ProbeContext

ALLOWED_NAMES: frozenset[str] = frozenset(
    {
        "CUDA_VISIBLE_DEVICES",
        "CUDA_DEVICE_ORDER",
        "CUDA_LAUNCH_BLOCKING",
        "CUDA_MODULE_LOADING",
        "CUBLAS_WORKSPACE_CONFIG",
        "NVIDIA_TF32_OVERRIDE",
        "HIP_VISIBLE_DEVICES",
        "ROCR_VISIBLE_DEVICES",
        "HSA_OVERRIDE_GFX_VERSION",
        "GPU_DEVICE_ORDINAL",
        "GPU_MAX_HW_QUEUES",
        "HF_HUB_OFFLINE",
        "HF_HUB_ENABLE_HF_TRANSFER",
        "TRANSFORMERS_OFFLINE",
        "TOKENIZERS_PARALLELISM",
        "ONEAPI_DEVICE_SELECTOR",
        "METAL_DEVICE_WRAPPER_TYPE",
        "ZE_AFFINITY_MASK",
        "ZE_FLAT_DEVICE_HIERARCHY",
        "VK_ICD_FILENAMES",
        "VK_DRIVER_FILES",
        "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "MALLOC_ARENA_MAX",
    }
)
"""Exact names whose values are recorded: device selection, threading, offline switches."""

ALLOWED_PREFIXES: tuple[str, ...] = (
    "GGML_",
    "LLAMA_",
    "OLLAMA_",
    "OMP_",
    "GOMP_",
    "KMP_",
    "MKL_",
    "OPENBLAS_",
    "PYTORCH_",
    "VLLM_",
    "SYCL_",
    "ZES_",
    "MTL_",
    "HSA_",
    "NCCL_",
    "MLX_",
)
"""Name prefixes whose variables are recorded (engines' and runtimes' own settings)."""

MAX_VALUE_CHARS = 2000


def is_allowed(name: str) -> bool:
    """Allow-listed (exact name or prefix) and not secret-looking (by name)."""
    allowed = name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)
    return allowed and not is_secret_name(name)


def select(values: dict[str, str]) -> dict[str, str]:
    """The recordable subset of an environment, values cleaned, names sorted."""
    return {
        name: redact_value(values[name])[:MAX_VALUE_CHARS]
        for name in sorted(values)
        if is_allowed(name)
    }


def probe(ctx: ProbeContext) -> Outcome:
    """The env section: allow-listed variables only."""
    runner = ctx.runner
    wanted = [name for name in runner.env_names() if is_allowed(name)]
    values = {name: value for name in wanted if (value := runner.env(name)) is not None}
    return Outcome(sections={"env": select(values)}, source="environment")


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "env", "order": 150},)
