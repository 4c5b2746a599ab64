"""The diff rules table: which manifest paths matter for inference speed, and how much.

Everything here is data (plus the few small comparison functions it names), so that the
ranking can be read, reviewed and changed in one place.  :mod:`envstamp.diffing.differ` walks the
manifest generically and asks :func:`rule_for` about every path it meets; a path no rule
names gets its section's category and impact "low", so fields added to the model later are
still diffed.

Paths are written the way the differ spells them generically: attribute names joined by
dots, ``[]`` after a list, a mapping key as one more dotted segment (``env.GGML_CUDA_NO_VMM``).
In patterns, ``*`` matches within one segment and ``**`` matches anything.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any, Literal, NamedTuple

Impact = Literal["high", "medium", "low", "none"]
IMPACTS: tuple[Impact, ...] = ("high", "medium", "low", "none")
IMPACT_RANK: dict[str, int] = {"high": 3, "medium": 2, "low": 1, "none": 0}

# Reading order of categories within one impact level: the likeliest culprits first.
CATEGORIES: tuple[str, ...] = (
    "engine build",
    "gpu",
    "frontend",
    "model",
    "benchmark",
    "driver",
    "runtime",
    "power",
    "cpu",
    "memory",
    "env",
    "os",
    "python",
    "host",
    "volatile",
)
CATEGORY_RANK: dict[str, int] = {name: i for i, name in enumerate(CATEGORIES)}

# Category of a path no rule names, by its first segment.
SECTION_CATEGORY: dict[str, str] = {
    "host": "host",
    "os": "os",
    "cpu": "cpu",
    "memory": "memory",
    "gpus": "gpu",
    "runtimes": "runtime",
    "llamacpp": "engine build",
    "frontends": "frontend",
    "models": "model",
    "python": "python",
    "env": "env",
    "power": "power",
    "volatile": "volatile",
    "probes": "volatile",
    "tests": "benchmark",
}


class Tolerance(NamedTuple):
    """Two numbers are equal when they differ by at most ``abs`` or ``rel`` x the larger."""

    rel: float = 0.0
    abs: float = 0.0

    def equal(self, a: float, b: float) -> bool:
        allowed = max(self.abs, self.rel * max(abs(a), abs(b)))
        return abs(a - b) <= allowed


EXACT = Tolerance()
CLOCKS = Tolerance(rel=0.03)  # boost tables and reporting jitter move clocks a little
MEMORY = Tolerance(rel=0.03)  # firmware and kernel reservations move sizes a little
POWER = Tolerance(rel=0.02)

# Tolerances by unit suffix, for numeric fields no rule names (fields added later).
SUFFIX_TOLERANCES: tuple[tuple[str, Tolerance], ...] = (
    ("_mhz", CLOCKS),
    ("_mib", MEMORY),
    ("_kib", MEMORY),
    ("_bytes", MEMORY),
    ("_w", POWER),
    ("_c", Tolerance(abs=5.0)),
    ("_pct", Tolerance(abs=10.0)),
)


# Plain named tuples rather than attrs classes: the table is built on every ``envstamp diff``
# start, and these cost a fraction of the import time.
class Rule(NamedTuple):
    """How one family of paths is compared and ranked.

    ``reason`` is the one-line explanation users see; ``{change}`` becomes the formatted
    change ("550.54 -> 560.35", "only on B: avx512f") and ``{detail}`` any extra figure (how
    many builds apart, a percentage).  ``component`` groups paths that change together (a
    driver update moves the driver and the CUDA version it supports) for ``compare``.
    """

    pattern: str
    category: str
    impact: Impact
    label: str
    reason: str
    compare: str = "text"  # text | name | version | commit | compiler | target | remote
    tolerance: Tolerance | None = None
    detail: str | None = None  # name of a detail function below
    component: str | None = None
    presence: bool = False  # an object present on one side only is a real difference
    empty_is_none: bool = False  # an empty list means "none", not "unknown"

    @property
    def group(self) -> str:
        return self.component or self.label


def _r(
    pattern: str,
    category: str,
    impact: Impact,
    label: str,
    why: str,
    **kwargs: Any,
) -> Rule:
    return Rule(pattern, category, impact, label, "{label} {change}{detail}: " + why, **kwargs)


_BUILD = "llama.cpp build"
_DRIVER = "GPU driver"
_FRONTEND = "frontend version"

RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------- engine build
    _r("llamacpp[]", "engine build", "high", "llama.cpp build",
       "the engine that ran the benchmark", presence=True),
    _r("llamacpp[].build", "engine build", "high", "llama.cpp build",
       "kernels and defaults change between builds", component=_BUILD),
    _r("llamacpp[].build_flags", "engine build", "low", "llama.cpp build options without effect",
       "options of backends both builds leave off, of other CPU families, or that exist in "
       "one version only do not change the kernels that ran", component=_BUILD),
    _r("llamacpp[].build_number", "engine build", "high", "llama.cpp build number",
       "kernels and defaults change between builds", detail="build_distance",
       component=_BUILD),
    _r("llamacpp[].version", "engine build", "high", "llama.cpp version",
       "kernels and defaults change between builds", compare="version", component=_BUILD),
    _r("llamacpp[].commit", "engine build", "high", "llama.cpp commit",
       "kernels and defaults change between builds", compare="commit", component=_BUILD),
    _r("llamacpp[].git.commit", "engine build", "high", "llama.cpp checkout commit",
       "kernels and defaults change between builds", compare="commit", component=_BUILD),
    _r("llamacpp[].git.dirty", "engine build", "medium", "llama.cpp local changes",
       "uncommitted edits may change the kernels"),
    _r("llamacpp[].git.describe", "engine build", "low", "llama.cpp describe",
       "the commit is compared"),
    _r("llamacpp[].git.remote", "engine build", "low", "llama.cpp remote",
       "a fork may carry other kernels", compare="remote"),
    _r("llamacpp[].git", "engine build", "low", "llama.cpp checkout",
       "the git checkout beside the build"),
    _r("llamacpp[].git.*", "engine build", "low", "llama.cpp checkout", "for reference"),
    _r("llamacpp[].backends", "engine build", "high", "llama.cpp backends",
       "CUDA, HIP, Vulkan, Metal and CPU kernels differ widely in speed"),
    _r("llamacpp[].build_flags.*", "engine build", "high", "llama.cpp build option",
       "build options decide which kernels are compiled"),
    _r("llamacpp[].devices[]", "engine build", "medium", "llama.cpp device",
       "the devices the engine saw", presence=True),
    _r("llamacpp[].devices[].backend", "engine build", "high", "llama.cpp device backend",
       "the backend that drives the device"),
    _r("llamacpp[].devices[].name", "engine build", "medium", "llama.cpp device",
       "the engine saw a different device", compare="name"),
    _r("llamacpp[].devices[].*", "engine build", "low", "llama.cpp device detail",
       "as the engine printed it", tolerance=MEMORY),
    _r("llamacpp[].compiler", "engine build", "medium", "llama.cpp compiler",
       "compilers vectorise CPU kernels differently", compare="compiler"),
    _r("llamacpp[].target", "engine build", "medium", "llama.cpp target", "build target",
       compare="target"),
    _r("llamacpp[].path", "engine build", "low", "llama.cpp path", "where the build lives",
       component=_BUILD),
    _r("llamacpp[].source", "engine build", "none", "llama.cpp source", "how it was found"),
    # --------------------------------------------------------------------------- gpu
    _r("gpus[]", "gpu", "high", "GPU", "the GPUs present decide where layers run",
       presence=True),
    _r("gpus[].name", "gpu", "high", "GPU model", "a different GPU", compare="name"),
    _r("gpus[].vendor", "gpu", "high", "GPU vendor", "a different GPU"),
    _r("gpus[].architecture", "gpu", "high", "GPU architecture", "a different GPU",
       compare="name"),
    _r("gpus[].compute_capability", "gpu", "high", "GPU compute capability",
       "a different GPU generation"),
    _r("gpus[].memory_total_mib", "gpu", "high", "GPU memory",
       "memory decides how many layers fit", tolerance=MEMORY, detail="percent_change"),
    _r("gpus[].cores", "gpu", "high", "GPU cores", "fewer cores, less compute"),
    _r("gpus[].unified_memory", "gpu", "medium", "unified memory",
       "shared memory has other bandwidth"),
    _r("gpus[].power_limit_w", "gpu", "high", "GPU power limit",
       "a lower cap lowers sustained clocks", tolerance=POWER, detail="percent_change"),
    _r("gpus[].power_default_limit_w", "gpu", "low", "GPU default power limit",
       "the limit in force is what counts", tolerance=POWER),
    _r("gpus[].power_max_limit_w", "gpu", "low", "GPU max power limit",
       "the limit in force is what counts", tolerance=POWER),
    _r("gpus[].mig_mode", "gpu", "high", "MIG mode", "a MIG slice has part of the GPU"),
    _r("gpus[].clocks_max_graphics_mhz", "gpu", "medium", "GPU max graphics clock",
       "a clock lock or another vBIOS caps compute", tolerance=CLOCKS, detail="percent_change"),
    _r("gpus[].clocks_max_memory_mhz", "gpu", "medium", "GPU max memory clock",
       "token generation is bound by memory bandwidth", tolerance=CLOCKS, detail="percent_change"),
    _r("gpus[].pcie_gen_max", "gpu", "medium", "PCIe generation (max)",
       "a slower slot slows partial offload and multi-GPU transfers"),
    _r("gpus[].pcie_width_max", "gpu", "medium", "PCIe width (max)",
       "a narrower slot slows partial offload and multi-GPU transfers"),
    _r("gpus[].pcie_gen_current", "gpu", "low", "PCIe generation at capture",
       "links train down at idle; see the link check"),
    _r("gpus[].pcie_width_current", "gpu", "low", "PCIe width at capture",
       "links train down at idle; see the link check"),
    _r("gpus[].driver_version", "driver", "medium", "GPU driver",
       "drivers change scheduling and JIT, usually by a few percent", compare="version",
       component=_DRIVER),
    _r("gpus[].cuda_version", "driver", "medium", "CUDA version of the driver",
       "comes with the driver", compare="version", component=_DRIVER),
    _r("gpus[].ecc_enabled", "gpu", "low", "ECC", "ECC costs a little bandwidth and memory"),
    _r("gpus[].vbios_version", "gpu", "low", "vBIOS", "may carry other clock tables"),
    _r("gpus[].persistence_mode", "gpu", "low", "persistence mode",
       "affects start-up latency, not steady speed"),
    _r("gpus[].pci_device_id", "gpu", "low", "PCI device id", "the GPU model is compared"),
    _r("gpus[].uuid", "gpu", "none", "GPU UUID", "identifies the board, not its speed"),
    _r("gpus[].serial", "gpu", "none", "GPU serial", "identifies the board, not its speed"),
    _r("gpus[].pci_bus_id", "gpu", "none", "GPU slot address", "an address, not a speed"),
    _r("gpus[].index", "gpu", "none", "GPU index", "numbering only"),
    _r("gpus[].source", "gpu", "none", "GPU source", "which tool described it"),
    # ---------------------------------------------------------------------- runtimes
    _r("runtimes.nvidia_driver", "driver", "medium", "GPU driver",
       "drivers change scheduling and JIT, usually by a few percent", compare="version",
       component=_DRIVER),
    _r("runtimes.cuda_driver", "driver", "medium", "CUDA version of the driver",
       "comes with the driver", compare="version", component=_DRIVER),
    _r("runtimes.cuda_toolkit", "runtime", "medium", "CUDA toolkit",
       "compiles the kernels of builds made on this machine", compare="version"),
    _r("runtimes.rocm", "runtime", "medium", "ROCm", "the runtime and libraries under HIP",
       compare="version", component="ROCm"),
    _r("runtimes.hip", "runtime", "medium", "HIP", "the runtime under HIP builds",
       compare="version", component="ROCm"),
    _r("runtimes.vulkan_instance", "runtime", "medium", "Vulkan", "loader and driver stack",
       compare="version"),
    _r("runtimes.metal", "runtime", "medium", "Metal", "the GPU API of Apple builds"),
    _r("runtimes.oneapi", "runtime", "medium", "oneAPI", "the runtime under SYCL builds",
       compare="version"),
    _r("runtimes.cudnn", "runtime", "low", "cuDNN", "llama.cpp does not use it",
       compare="version"),
    _r("runtimes.*", "runtime", "low", "runtime", "not used by the common engines",
       compare="version"),
    # --------------------------------------------------------------------- frontends
    _r("frontends.*.loaded_models[].processor", "frontend", "high", "model placement",
       "a model split between CPU and GPU runs far slower", compare="name"),
    _r("frontends.*.loaded_models[].gpu_percent", "frontend", "high", "share on GPU",
       "layers left on the CPU run far slower"),
    _r("frontends.*.loaded_models[].context", "frontend", "medium", "context length",
       "a longer context takes memory and time"),
    _r("frontends.*.loaded_models[].until", "frontend", "none", "unload time", "a moment"),
    _r("frontends.*.loaded_models[]", "frontend", "low", "loaded model",
       "another loaded model holds memory", presence=True),
    _r("frontends.*.loaded_models[].*", "frontend", "low", "loaded model", "for reference"),
    _r("frontends.*.models[]", "frontend", "none", "downloaded model", "an inventory entry",
       presence=True),
    _r("frontends.*.models[].*", "frontend", "none", "downloaded model", "an inventory entry"),
    _r("frontends.*.runtimes[]", "frontend", "high", "bundled engine",
       "it ships its own engine build", presence=True),
    _r("frontends.*.runtimes[].version", "frontend", "high", "bundled engine version",
       "it ships its own engine build", compare="version"),
    _r("frontends.*.selected_runtimes[]", "frontend", "high", "selected engine",
       "the engine that runs the model", presence=True),
    _r("frontends.*.selected_runtimes[].version", "frontend", "high", "selected engine",
       "the engine that runs the model", compare="version"),
    _r("frontends.*.engines[]", "frontend", "high", "bundled engine",
       "it ships its own engine build", presence=True),
    _r("frontends.*.engines[].version", "frontend", "high", "bundled engine version",
       "it ships its own engine build", compare="version"),
    _r("frontends.*.engine.build", "engine build", "high", "bundled llama.cpp build",
       "the frontend's engine: kernels and defaults change between builds"),
    _r("frontends.*.engine", "engine build", "high", "bundled engine",
       "the frontend's engine build", presence=True),
    _r("frontends.*.engine.backend", "engine build", "high", "bundled engine backend",
       "CUDA, ROCm, Vulkan and CPU kernels differ widely in speed", compare="name"),
    _r("frontends.*.engine.name", "engine build", "high", "bundled engine",
       "another engine", compare="name"),
    _r("frontends.*.engine.source", "engine build", "none", "bundled engine source",
       "how it was found"),
    _r("frontends.*.engine.*", "engine build", "low", "bundled engine detail",
       "for reference"),
    _r("frontends.*.server_version", "frontend", "high", _FRONTEND,
       "it ships its own engine build", compare="version", component=_FRONTEND),
    _r("frontends.*.app_version", "frontend", "high", _FRONTEND,
       "it ships its own engine build", compare="version", component=_FRONTEND),
    _r("frontends.*.version", "frontend", "high", _FRONTEND,
       "it ships its own engine build", compare="version", component=_FRONTEND),
    _r("frontends.*.build_tag", "frontend", "high", "engine build tag",
       "a CUDA, ROCm or CPU build of the package"),
    _r("frontends.*.backend", "frontend", "high", "frontend backend",
       "CUDA, Vulkan and CPU kernels differ widely in speed"),
    _r("frontends.*.client_version", "frontend", "low", "client version",
       "the client only talks to the server", compare="version"),
    _r("frontends.*.cli_*", "frontend", "low", "CLI version", "the CLI only talks to the app"),
    _r("frontends.*.gpu_libraries", "frontend", "medium", "bundled GPU libraries",
       "decide which GPU code the server can load"),
    _r("frontends.*.settings.*", "frontend", "medium", "frontend setting",
       "server settings change offload, parallelism and attention"),
    _r("frontends.*.host", "frontend", "none", "server address", "an address, not a speed"),
    _r("frontends.*", "frontend", "low", "frontend",
       "matters only when the benchmark ran through it", presence=True),
    # ------------------------------------------------------------------------ models
    _r("models[]", "model", "high", "model file", "a different model", presence=True),
    _r("models[].sha256", "model", "high", "model file contents",
       "different weights or quantization"),
    _r("models[].quantization", "model", "high", "quantization",
       "bits per weight set memory traffic", compare="name"),
    _r("models[].parameters", "model", "high", "parameter count", "a different model"),
    _r("models[].architecture", "model", "high", "model architecture", "a different model",
       compare="name"),
    _r("models[].size_bytes", "model", "high", "model file size",
       "different weights or quantization", tolerance=EXACT),
    _r("models[].format*", "model", "medium", "model format", "another loader"),
    _r("models[].*", "model", "low", "model file", "for reference"),
    # ---------------------------------------------------------------------------- cpu
    _r("cpu.model_name", "cpu", "high", "CPU model",
       "CPU inference and prompt processing run on it", compare="name"),
    _r("cpu.arch", "cpu", "high", "CPU architecture", "a different instruction set"),
    _r("cpu.isa", "cpu", "high", "CPU ISA extensions",
       "llama.cpp picks CPU kernels by ISA (AVX2, AVX-512, AMX, dot product)"),
    _r("cpu.governor", "cpu", "medium", "CPU governor",
       "non-performance governors raise clocks late"),
    _r("cpu.boost", "cpu", "medium", "CPU boost", "turbo decides the sustained clock"),
    _r("cpu.smt", "cpu", "medium", "SMT", "changes the default thread count"),
    _r("cpu.sockets", "cpu", "medium", "CPU sockets", "cross-socket memory is slower"),
    _r("cpu.*_cores", "cpu", "medium", "CPU cores", "default thread counts follow cores"),
    _r("cpu.logical_cpus", "cpu", "medium", "logical CPUs",
       "default thread counts follow them"),
    _r("cpu.max_mhz", "cpu", "medium", "CPU max clock", "a clock cap or another CPU",
       tolerance=CLOCKS, detail="percent_change"),
    _r("cpu.flags", "cpu", "low", "CPU flags", "the ones that matter are compared as ISA"),
    _r("cpu.microcode", "cpu", "low", "CPU microcode", "rarely moves token rates"),
    # one component (a CPU's caches change with it), each named by its level
    _r("cpu.cache_l2_kib", "cpu", "low", "CPU L2 cache", "another CPU model shows above",
       component="CPU cache"),
    _r("cpu.cache_l3_kib", "cpu", "low", "CPU L3 cache", "another CPU model shows above",
       component="CPU cache"),
    _r("cpu.cache_*", "cpu", "low", "CPU cache", "another CPU model shows above"),
    _r("cpu.vendor", "cpu", "low", "CPU vendor", "another CPU model shows above"),
    _r("cpu.*", "cpu", "low", "CPU detail", "rarely moves token rates"),
    # ------------------------------------------------------------------------- memory
    _r("memory.total_bytes", "memory", "medium", "system memory",
       "models that do not fit are paged from disk", tolerance=MEMORY, detail="percent_change"),
    _r("memory.numa_nodes", "memory", "medium", "NUMA nodes",
       "remote memory is slower for CPU inference"),
    _r("memory.swap_bytes", "memory", "low", "swap", "matters only when memory runs out",
       tolerance=Tolerance(rel=0.1)),
    _r("memory.*", "memory", "low", "memory setting", "rarely moves token rates"),
    # -------------------------------------------------------------------------- power
    _r("power.ac_online", "power", "medium", "power supply",
       "laptops cut clocks on battery"),
    _r("power.battery_percent", "power", "low", "battery charge", "a reading of the moment",
       tolerance=Tolerance(abs=10.0)),
    _r("power.macos_low_power_mode", "power", "medium", "Low Power Mode",
       "macOS caps clocks in it"),
    _r("power.*", "power", "medium", "power profile", "profiles cap clocks and power"),
    # ---------------------------------------------------------------------------- env
    _r("env.*_VISIBLE_DEVICES", "env", "high", "visible GPUs",
       "selects which GPUs the engine may use"),
    _r("env.GPU_DEVICE_ORDINAL", "env", "high", "visible GPUs",
       "selects which GPUs the engine may use"),
    _r("env.HSA_OVERRIDE_GFX_VERSION", "env", "high", "gfx override",
       "runs ROCm kernels built for another GPU"),
    _r("env.GGML_*", "env", "high", "ggml setting", "changes kernel selection"),
    _r("env.OMP_NUM_THREADS", "env", "high", "OpenMP threads", "sets the CPU thread count"),
    _r("env.LLAMA_*", "env", "medium", "llama.cpp setting", "changes engine defaults"),
    _r("env.OLLAMA_*", "env", "medium", "Ollama setting",
       "changes offload, parallelism or attention"),
    _r("env.*", "env", "low", "environment variable", "may change library behaviour"),
    # ----------------------------------------------------------------------------- os
    _r("os.wsl", "os", "medium", "WSL", "GPU calls pass through the Windows driver"),
    _r("os.virtualization", "os", "medium", "virtualisation",
       "a hypervisor adds memory and device overhead"),
    _r("os.kernel", "os", "low", "kernel", "rarely moves token rates"),
    _r("os.libc", "os", "low", "C library", "rarely moves token rates"),
    _r("os.*", "os", "low", "operating system", "rarely moves token rates"),
    # ------------------------------------------------------------------------- python
    _r("python.executable", "python", "none", "Python path", "a path, not a speed"),
    _r("python.virtualenv", "python", "none", "virtualenv", "a location, not a speed"),
    _r("python.packages.*", "python", "low", "Python package",
       "matters for Python engines (their versions are compared as frontends)",
       compare="version"),
    _r("python.*", "python", "low", "Python", "matters only for Python engines"),
    # --------------------------------------------------------------------------- host
    _r("host.model", "host", "low", "machine model", "its parts are compared one by one",
       compare="name"),
    _r("host.hostname", "host", "none", "host name", "identifies the machine, not its speed"),
    _r("host.machine_id", "host", "none", "machine id", "identifies the machine, not its speed"),
    _r("host.*", "host", "none", "host identity", "identifies the machine, not its speed"),
    # ------------------------------------------------------------- state at capture
    _r("volatile.gpus[].throttle_reasons", "volatile", "high", "GPU throttling",
       "clocks were being held down", empty_is_none=True),
    _r("volatile.gpus[].temperature_c", "volatile", "medium", "GPU temperature",
       "a hot GPU throttles", tolerance=Tolerance(abs=5.0)),
    _r("volatile.gpus[].clocks_graphics_mhz", "volatile", "medium", "GPU graphics clock",
       "the clock the GPU ran at then", tolerance=Tolerance(rel=0.05)),
    _r("volatile.gpus[].clocks_sm_mhz", "volatile", "medium", "GPU SM clock",
       "the clock the GPU ran at then", tolerance=Tolerance(rel=0.05)),
    _r("volatile.gpus[].clocks_memory_mhz", "volatile", "medium", "GPU memory clock",
       "the clock the GPU ran at then", tolerance=Tolerance(rel=0.05)),
    _r("volatile.gpus[].utilization_*", "volatile", "medium", "GPU busy",
       "another job on the GPU competes", tolerance=Tolerance(abs=10.0)),
    _r("volatile.gpus[].memory_used_mib", "volatile", "medium", "GPU memory in use",
       "less free memory fits fewer layers", tolerance=Tolerance(rel=0.1, abs=256.0)),
    _r("volatile.gpus[].process_count", "volatile", "medium", "processes on the GPU",
       "other processes compete for it"),
    _r("volatile.gpus[].power_draw_w", "volatile", "low", "GPU power draw",
       "a reading of the moment", tolerance=Tolerance(rel=0.1, abs=10.0)),
    _r("volatile.gpus[].pstate", "volatile", "low", "GPU performance state",
       "a reading of the moment"),
    _r("volatile.gpus[]", "volatile", "none", "GPU reading", "a reading of the moment"),
    _r("volatile.gpus[].*", "volatile", "none", "GPU reading", "a reading of the moment",
       tolerance=Tolerance(rel=0.1, abs=10.0)),
    _r("volatile.load_1m", "volatile", "medium", "system load",
       "other work competes for CPU and memory", tolerance=Tolerance(abs=1.0)),
    _r("volatile.ac_online", "volatile", "medium", "power supply",
       "laptops cut clocks on battery"),
    _r("volatile.cpu_mhz", "volatile", "low", "CPU clock", "a reading of the moment",
       tolerance=Tolerance(rel=0.1)),
    _r("volatile.memory_available_bytes", "volatile", "low", "free memory",
       "a reading of the moment", tolerance=Tolerance(rel=0.1)),
    _r("probes[].status", "volatile", "low", "probe status",
       "a failed probe leaves its fields unknown on that side"),
    # ------------------------------------------------------------------ results params
    _r("tests[].params.n_gpu_layers", "benchmark", "high", "GPU layers (ngl)",
       "layers left on the CPU run far slower"),
    _r("tests[].params.ngl", "benchmark", "high", "GPU layers (ngl)",
       "layers left on the CPU run far slower"),
    _r("tests[].params.*offload*", "benchmark", "high", "offload setting",
       "decides what runs on the GPU"),
    _r("tests[].params.*thread*", "benchmark", "high", "threads",
       "the CPU thread count sets CPU-side speed"),
    _r("tests[].params.backend*", "benchmark", "high", "backend",
       "CUDA, HIP, Vulkan, Metal and CPU kernels differ widely in speed", compare="name"),
    _r("tests[].params.model*", "benchmark", "high", "model", "a different model"),
    _r("tests[].params.n_params", "benchmark", "high", "model parameters",
       "a different model"),
    _r("tests[].params.flash_attn", "benchmark", "medium", "flash attention",
       "another attention kernel"),
    _r("tests[].params.*batch*", "benchmark", "medium", "batch size",
       "changes prompt-processing speed"),
    _r("tests[].params.type_*", "benchmark", "medium", "KV cache type",
       "another cache precision"),
    _r("tests[].params.*", "benchmark", "low", "benchmark parameter", "may change the run"),
)

# Paths never compared: they differ on every capture by design.
IGNORED: tuple[str, ...] = (
    "schema",
    "envstamp_version",
    "captured_at",
    "identity_digest",
    "replayed_from",  # how this capture was made (live or from a recording), not the machine
    "probes[].source",
    "probes[].duration_ms",
    "probes[].detail",
    "volatile.gpus[].index",
    "volatile.gpus[].uuid",
)

class ListMatch(NamedTuple):
    """How items of a list of objects are matched across the two sides: keys tried in
    order, then (when ``by_order``) whatever is left is paired by position."""

    keys: tuple[str, ...]
    by_order: bool = True


LIST_MATCH: dict[str, ListMatch] = {
    "gpus": ListMatch(("uuid", "pci_bus_id", "index")),
    "volatile.gpus": ListMatch(("uuid", "index")),
    "llamacpp": ListMatch(("path",)),
    "llamacpp[].devices": ListMatch(("name",)),
    "models": ListMatch(("path", "sha256", "name")),
    "probes": ListMatch(("name",), by_order=False),
    "frontends.*.loaded_models": ListMatch(("name",), by_order=False),
    "frontends.*.models": ListMatch(("name",), by_order=False),
    "frontends.*.runtimes": ListMatch(("name",), by_order=False),
    "frontends.*.selected_runtimes": ListMatch(("name",), by_order=False),
    "frontends.*.engines": ListMatch(("name",), by_order=False),
}
DEFAULT_LIST_MATCH = ListMatch(("name",))


# --------------------------------------------------------------------------- matching


def matches(pattern: str, path: str) -> bool:
    """Whether ``path`` fits ``pattern``: ``*`` matches within one segment (no ".", "[" or
    "]"), ``**`` matches anything.  Plain string work: compiling ~200 regular expressions
    would cost more than a whole diff."""
    star = pattern.find("*")
    if star < 0:
        return pattern == path
    if not path.startswith(pattern[:star]):
        return False
    rest = pattern[star + 1 :]
    if rest.startswith("*"):
        return any(matches(rest[1:], path[i:]) for i in range(star, len(path) + 1))
    i = star
    while True:
        if matches(rest, path[i:]):
            return True
        if i >= len(path) or path[i] in ".[]":
            return False
        i += 1


# Position of each rule in the table: within a category, earlier rules read first.
RULE_ORDER: dict[Rule, int] = {rule: i for i, rule in enumerate(RULES)}


def _section(path: str) -> str:
    """The first segment of a path or pattern ("gpus" of "gpus[].name")."""
    end = len(path)
    for mark in ".[":
        found = path.find(mark)
        if found != -1:
            end = min(end, found)
    return path[:end]


@functools.cache
def _section_rules(section: str) -> tuple[Rule, ...]:
    # Only the rules of the path's own section are tried.
    return tuple(rule for rule in RULES if _section(rule.pattern) in (section, "*", "**"))


@functools.lru_cache(maxsize=4096)
def rule_for(path: str) -> Rule:
    """The first rule whose pattern matches ``path``, else the section's default rule."""
    for rule in _section_rules(_section(path)):
        if matches(rule.pattern, path):
            return rule
    return default_rule(path)


def default_rule(path: str) -> Rule:
    """Rule for a path nobody named: its section's category, impact low."""
    category = SECTION_CATEGORY.get(_section(path), "other")
    label = path.rsplit(".", 1)[-1].replace("[]", "").replace("_", " ") or path
    return Rule(
        path,
        category,
        "low",
        label,
        "{label} {change}{detail}: no rule ranks this field; listed for completeness",
        tolerance=suffix_tolerance(path),
        detail="percent_change" if suffix_tolerance(path) else None,
    )


@functools.lru_cache(maxsize=4096)
def is_ignored(path: str) -> bool:
    return any(matches(pattern, path) for pattern in IGNORED)


@functools.lru_cache(maxsize=256)
def list_match(path: str) -> ListMatch:
    for pattern, match in LIST_MATCH.items():
        if matches(pattern, path):
            return match
    return DEFAULT_LIST_MATCH


def suffix_tolerance(path: str) -> Tolerance | None:
    for suffix, tolerance in SUFFIX_TOLERANCES:
        if path.endswith(suffix):
            return tolerance
    return None


# Units shown after numbers, by field-name suffix.
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_mhz", "MHz"),
    ("_mib", "MiB"),
    ("_kib", "KiB"),
    ("_w", "W"),
    ("_c", "C"),
    ("_pct", "%"),
    ("_percent", "%"),
)
_TIGHT_UNITS = frozenset({"%"})


def unit_for(path: str) -> str | None:
    """The unit a field's name carries ("power_limit_w" -> "W"); bytes are shown scaled."""
    for suffix, unit in UNIT_SUFFIXES:
        if path.endswith(suffix):
            return unit
    return None


def with_unit(number: str, path: str) -> str:
    """ "450" + "power_limit_w" -> "450 W"; "97" + "_pct" -> "97%"."""
    unit = unit_for(path)
    if unit is None:
        return number
    return f"{number}{unit}" if unit in _TIGHT_UNITS else f"{number} {unit}"


def human_bytes(value: float) -> str:
    """1073741824 -> "1.0 GiB"."""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


# ----------------------------------------------------------------------- normalising

_MARKS = re.compile(r"\((?:r|tm|c)\)|[®™©]", re.IGNORECASE)
_VENDOR_PREFIX = re.compile(r"^nvidia\s+(?=\S)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def normalise_name(value: str) -> str:
    """A product name for comparison: vendor marks, an "NVIDIA " prefix, case and spacing go.

    "NVIDIA GeForce RTX 4090" and "GeForce RTX 4090"; "Intel(R) Core(TM) i9" and
    "Intel Core i9" compare equal.
    """
    text = _MARKS.sub(" ", value)
    text = _SPACES.sub(" ", text).strip()
    text = _VENDOR_PREFIX.sub("", text)
    return text.casefold()


def normalise_version(value: str) -> str:
    text = _SPACES.sub(" ", value).strip()
    if len(text) > 1 and text[0] in "vV" and text[1].isdigit():
        text = text[1:]
    return text.casefold()


def same_commit(a: str, b: str) -> bool:
    """Commits as printed: a short hash equals the full one it starts."""
    x, y = a.strip().casefold(), b.strip().casefold()
    if x == y:
        return True
    short, full = sorted((x, y), key=len)
    return len(short) >= 7 and full.startswith(short)


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def equal(rule: Rule, a: object, b: object) -> bool:
    """Whether two scalar values count as the same under ``rule``."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False  # True == 1 in Python, but a flag is not a count
    if a == b:
        return True
    x, y = _as_number(a), _as_number(b)
    if x is not None and y is not None:
        if not (math.isfinite(x) and math.isfinite(y)):
            return False
        return (rule.tolerance or EXACT).equal(x, y)
    if isinstance(a, str) and isinstance(b, str):
        return normalised(rule, a) == normalised(rule, b) or (
            rule.compare == "commit" and same_commit(a, b)
        )
    return False


def normalised(rule: Rule, value: str) -> str:
    if rule.compare == "name":
        return normalise_name(value)
    if rule.compare in ("version", "commit"):
        return normalise_version(value)
    if rule.compare == "compiler":
        return normalise_compiler(value)
    if rule.compare == "target":
        return normalise_target(value)
    if rule.compare == "remote":
        return normalise_remote(value)
    return _SPACES.sub(" ", value).strip()


_PARENS = re.compile(r"\([^)]*\)")
_VERSION_NUMBER = re.compile(r"\d+(?:\.\d+)+")
_COMPILERS = (("clang", "clang"), ("appleclang", "clang"), ("msvc", "msvc"), ("gnu", "gcc"),
              ("gcc", "gcc"), ("g++", "gcc"), ("cc", "gcc"), ("icx", "icx"), ("nvcc", "nvcc"))


def normalise_compiler(value: str) -> str:
    """ "cc (Debian 12.2.0-14+deb12u1) 12.2.0" and "GNU 12.2.0" (two ways llama.cpp has
    printed one compiler) -> "gcc 12.2.0"; text it cannot read is compared as printed."""
    apple = "apple" in value.casefold()
    text = _PARENS.sub(" ", value).casefold()
    version = _VERSION_NUMBER.search(text)
    words = re.findall(r"[a-z+]+", text)
    family = next((name for key, name in _COMPILERS if key in words), None)
    if family is None or version is None:
        return _SPACES.sub(" ", value).strip().casefold()
    number = version.group(0)
    if apple:
        # CMake names AppleClang 15.0.0 (clang-1500.3.9.4) "15.0.0.15000309": the fourth
        # part is Apple's build of the same release that "cc --version" prints in brackets.
        number = ".".join(number.split(".")[:3])
    return f"{'apple ' if apple else ''}{family} {number}"


# Repositories that moved: the old address redirects to the new one.
_MOVED_REPOSITORIES = {"github.com/ggerganov/llama.cpp": "github.com/ggml-org/llama.cpp"}


def normalise_remote(value: str) -> str:
    """A git remote as the repository it names: scheme, user, ".git" and case go, and a
    repository that moved ("ggerganov/llama.cpp" is now "ggml-org/llama.cpp") is its new
    address."""
    text = value.strip().casefold()
    scp_like = "://" not in text  # git@github.com:owner/repo.git
    text = re.sub(r"^[a-z+]+://", "", text)
    text = re.sub(r"^[^@/]+@", "", text)  # user (credentials are stripped at capture)
    if scp_like:
        text = text.replace(":", "/", 1)
    text = text.removesuffix("/").removesuffix(".git")
    return _MOVED_REPOSITORIES.get(text, text)


_ARCHES = (("x86_64", "x86_64"), ("amd64", "x86_64"), ("aarch64", "aarch64"),
           ("arm64", "aarch64"), ("i686", "x86"), ("i386", "x86"))
_SYSTEMS = (("linux", "linux"), ("darwin", "darwin"), ("macos", "darwin"),
            ("apple", "darwin"), ("windows", "windows"), ("msvc", "windows"),
            ("mingw", "windows"), ("win32", "windows"), ("freebsd", "freebsd"))


def normalise_target(value: str) -> str:
    """ "x86_64-linux-gnu" and "Linux x86_64" (older and newer llama.cpp) -> "x86_64
    linux"; text it cannot read is compared as printed."""
    words = re.split(r"[\s/-]+", value.casefold())
    arch = next((name for key, name in _ARCHES if key in words), None)
    system = next((name for key, name in _SYSTEMS if key in words), None)
    if arch is None or system is None:
        return _SPACES.sub(" ", value).strip().casefold()
    return f"{arch} {system}"


def set_key(value: object) -> object:
    """How an item of a list of scalars is compared (lists of strings are sets)."""
    if isinstance(value, str):
        return normalise_name(value)
    return value


# --------------------------------------------------------------------------- details


def build_distance(a: object, b: object) -> str:
    """" (412 builds apart, B newer)"."""
    x, y = _as_number(a), _as_number(b)
    if x is None or y is None:
        return ""
    gap = int(abs(y - x))
    newer = "B" if y > x else "A"
    noun = "build" if gap == 1 else "builds"
    return f" ({gap} {noun} apart, {newer} newer)"


def percent_change(a: object, b: object) -> str:
    """" (+29%)" for numbers; nothing otherwise."""
    x, y = _as_number(a), _as_number(b)
    if x is None or y is None or x == 0 or not (math.isfinite(x) and math.isfinite(y)):
        return ""
    return f" ({(y - x) / abs(x) * 100:+.0f}%)"


DETAILS = {"build_distance": build_distance, "percent_change": percent_change}


def detail_for(rule: Rule, a: object, b: object) -> str:
    """The extra figure a rule asks for (build distance, percentage), or nothing."""
    function = DETAILS.get(rule.detail) if rule.detail else None
    return function(a, b) if function else ""
