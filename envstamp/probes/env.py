"""Environment variables that change how inference runs, and never a secret.

Only names on the allow-list are read at all (the runner is asked for every name, then for
the values of allowed names only).  A name that looks like it holds a secret is dropped even
when allowed, and a URL's ``user:password@`` part is cut from any value.
"""

from __future__ import annotations

import re

from envstamp.probes import Outcome, ProbeContext

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

SECRET_WORDS: tuple[str, ...] = (
    "TOKEN",
    "KEY",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "AUTH",
    "CREDENTIAL",
    "COOKIE",
    "SESSION",
    "PRIVATE",
    "CERT",
)
"""A name containing any of these (any case) is never recorded, allow-listed or not:
OLLAMA_API_KEY, HF_TOKEN, LLAMA_ARG_API_KEY_FILE..."""

KNOWN_SETTINGS: frozenset[str] = frozenset({"TOKENIZERS_PARALLELISM"})
"""Allow-listed names that contain a secret word yet are plain settings (exempt, by name)."""

MAX_VALUE_CHARS = 2000

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@")


def looks_secret(name: str) -> bool:
    """The name suggests a secret (see SECRET_WORDS), unless it is one of KNOWN_SETTINGS."""
    if name in KNOWN_SETTINGS:
        return False
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def is_allowed(name: str) -> bool:
    """Allow-listed (exact name or prefix) and not secret-looking."""
    allowed = name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)
    return allowed and not looks_secret(name)


def strip_url_credentials(value: str) -> str:
    """ "http://user:pw@host:11434" -> "http://host:11434", anywhere in the value."""
    return _URL_USERINFO.sub(r"\1", value)


def select(values: dict[str, str]) -> dict[str, str]:
    """The recordable subset of an environment, values cleaned, names sorted."""
    return {
        name: strip_url_credentials(values[name])[:MAX_VALUE_CHARS]
        for name in sorted(values)
        if is_allowed(name)
    }


def probe(ctx: ProbeContext) -> Outcome:
    """The env section: allow-listed variables only."""
    runner = ctx.runner
    wanted = [name for name in runner.env_names() if is_allowed(name)]
    values = {name: value for name in wanted if (value := runner.env(name)) is not None}
    return Outcome(sections={"env": select(values)}, source="environment")
