"""Parse kinds (DESIGN 3.2): one captured output -> the manifest fragment it feeds.

Each kind names a pure function ``(text) -> Sections`` in a probe module; it is imported only
when that kind is parsed, so listing kinds costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

from envstamp.errors import InputError, ParseError
from envstamp.manifest.model import Sections

# kind -> ("module:function", what it reads)
KINDS: dict[str, tuple[str, str]] = {
    "os-release": ("envstamp.parsers.os_release:parse_os_release_kind", "/etc/os-release"),
    "proc-cpuinfo": ("envstamp.parsers.cpu:parse_proc_cpuinfo_kind", "/proc/cpuinfo"),
    "lscpu": ("envstamp.parsers.cpu:parse_lscpu_kind", "lscpu"),
    "sysctl": ("envstamp.parsers.cpu:parse_sysctl_kind", "sysctl hw machdep (macOS)"),
    "system-profiler": (
        "envstamp.parsers.system_profiler:parse_system_profiler_kind",
        "system_profiler SPHardwareDataType SPDisplaysDataType -json",
    ),
    "nvidia-smi-xml": ("envstamp.parsers.nvidia_smi:parse_xml_kind", "nvidia-smi -q -x"),
    "nvidia-smi-q": ("envstamp.parsers.nvidia_smi:parse_q_kind", "nvidia-smi -q"),
    "nvidia-smi-csv": (
        "envstamp.parsers.nvidia_smi_text:parse_csv_kind",
        "nvidia-smi --query-gpu=... --format=csv",
    ),
    "nvidia-smi-list": ("envstamp.parsers.nvidia_smi_text:parse_list_kind", "nvidia-smi -L"),
    "nvidia-smi-version": (
        "envstamp.parsers.nvidia_smi_text:parse_version_kind",
        "nvidia-smi --version",
    ),
    "nvidia-smi-table": ("envstamp.parsers.nvidia_smi_text:parse_table_kind", "nvidia-smi"),
    "rocm-smi-json": ("envstamp.parsers.amd_smi:parse_rocm_smi_kind", "rocm-smi ... --json"),
    "amd-smi-json": ("envstamp.parsers.amd_smi:parse_amd_smi_kind", "amd-smi static --json"),
    "windows-gpu": (
        "envstamp.parsers.windows_gpu:parse_windows_gpu_kind",
        "Get-CimInstance Win32_VideoController / wmic ... /format:list",
    ),
    "sycl-ls": ("envstamp.parsers.sycl_ls:parse_sycl_ls_kind", "sycl-ls"),
    "vulkaninfo": ("envstamp.parsers.vulkaninfo:parse_vulkaninfo_kind", "vulkaninfo --summary"),
    "llama-version": (
        "envstamp.parsers.llamacpp_log:parse_llama_version_kind",
        "llama-cli --version / llama-server --version / a llama.cpp start-up log",
    ),
    "llama-bench": (
        "envstamp.parsers.llama_bench:parse_llama_bench_kind",
        "llama-bench output (md, csv, json, jsonl)",
    ),
    "llama-batched-bench": (
        "envstamp.parsers.llama_batched_bench:parse_batched_bench_kind",
        "llama-batched-bench output (its table or --output-format jsonl)",
    ),
    "llama-server-log": (
        "envstamp.parsers.llama_server:parse_server_log_kind",
        "a llama-server log (the timing lines of each task)",
    ),
    "llama-server-timings": (
        "envstamp.parsers.llama_server:parse_response_timings_kind",
        "a /completion or /v1/chat/completions answer, plain JSON or streamed events",
    ),
    "llama-server-props": (
        "envstamp.parsers.llama_server:parse_props_kind",
        "llama-server GET /props",
    ),
    "llama-server-metrics": (
        "envstamp.parsers.llama_server:parse_metrics_kind",
        "llama-server GET /metrics (Prometheus text, with --metrics)",
    ),
    "ollama-version": ("envstamp.parsers.ollama:parse_ollama_version_kind", "ollama --version"),
    "ollama-api-version": (
        "envstamp.parsers.ollama:parse_ollama_api_version_kind",
        "GET /api/version",
    ),
    "ollama-ps": ("envstamp.parsers.ollama:parse_ollama_ps_kind", "ollama ps"),
    "ollama-server-log": (
        "envstamp.parsers.ollama_log:parse_ollama_server_log_kind",
        "Ollama's server log (journalctl -u ollama, ~/.ollama/logs/server.log)",
    ),
    "lms-version": ("envstamp.parsers.lmstudio:parse_lms_version_kind", "lms version"),
    "lms-ps": ("envstamp.parsers.lmstudio:parse_lms_ps_kind", "lms ps"),
    "lms-ls": ("envstamp.parsers.lmstudio:parse_lms_ls_kind", "lms ls"),
    "lmstudio-backends": (
        "envstamp.parsers.lmstudio:parse_backends_kind",
        "LM Studio backend preferences JSON",
    ),
    "lmstudio-runtime": (
        "envstamp.parsers.lmstudio:parse_runtime_manifest_kind",
        "an LM Studio runtime's backend-manifest.json",
    ),
    "koboldcpp": ("envstamp.parsers.koboldcpp:parse_koboldcpp_kind", "koboldcpp start-up banner"),
    "llamafile-version": (
        "envstamp.parsers.llamafile:parse_llamafile_version_kind",
        "llamafile --version",
    ),
    "vllm-version": (
        "envstamp.parsers.vllm:parse_vllm_version_kind",
        "vllm --version or its API-server start-up line",
    ),
}


def parser_for(kind: str) -> Any:
    """The parse function of a kind; InputError listing the kinds when unknown."""
    entry = KINDS.get(kind)
    if entry is None:
        raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(sorted(KINDS))}")
    module_name, _, function = entry[0].partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, function)
    except (ImportError, AttributeError):
        raise InputError(f"kind {kind!r} is not available in this build of envstamp") from None


def parse(kind: str, text: str) -> Sections:
    """Parse one captured output of ``kind`` into typed manifest sections."""
    function = parser_for(kind)
    try:
        sections: Sections = function(text)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # A parser bug must still look like a parse failure to the user, never a traceback.
        raise ParseError(f"cannot parse {kind}: {type(exc).__name__}: {exc}") from None
    return sections


def parse_to_data(kind: str, text: str) -> dict[str, Any]:
    """Parse into the plain JSON fragment that ``envstamp parse`` prints."""
    from envstamp.manifest.serialize import unstructure

    return {name: unstructure(value) for name, value in parse(kind, text).items()}
