"""NVML, asked through the runner: which calls to make, and their answers -> Gpu / GpuState.

Pure: this module builds :class:`~envstamp.runner.NvmlCall` lists and reads the answers the
runner returns (each ``{"value": ...}`` or ``{"error": "..."}``, recorded and replayed like any
command output).  It never imports pynvml.  Calls come in four batches:

* system (cached): device count, driver version, CUDA driver version;
* static (cached): per device identity, limits and capabilities;
* link (not cached): the PCIe generation and width in use now (they drop at idle);
* volatile (not cached, every capture): temperature, clocks, power, memory used...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from envstamp.manifest.model import Gpu, GpuState
from envstamp.parsers.nvidia_values import (
    NVML_ARCHITECTURES,
    build_gpu,
    build_state,
    compute_capability,
    cuda_from_int,
    throttle_names_from_mask,
    version,
)
from envstamp.runner import NvmlCall

SOURCE = "nvml"
_MIB = 1 << 20

# NVML enum values used as call arguments.
_CLOCK_GRAPHICS, _CLOCK_SM, _CLOCK_MEM = 0, 1, 2
_TEMPERATURE_GPU = 0

_SYSTEM: tuple[tuple[str, NvmlCall], ...] = (
    ("count", NvmlCall("nvmlDeviceGetCount")),
    ("driver", NvmlCall("nvmlSystemGetDriverVersion")),
    ("cuda", NvmlCall("nvmlSystemGetCudaDriverVersion_v2")),
    ("cuda_v1", NvmlCall("nvmlSystemGetCudaDriverVersion")),
)

# name -> (function, extra arguments), asked for each device index.
_STATIC: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("name", "nvmlDeviceGetName", ()),
    ("uuid", "nvmlDeviceGetUUID", ()),
    ("serial", "nvmlDeviceGetSerial", ()),
    ("pci", "nvmlDeviceGetPciInfo", ()),
    ("memory", "nvmlDeviceGetMemoryInfo", ()),
    ("cc", "nvmlDeviceGetCudaComputeCapability", ()),
    ("arch", "nvmlDeviceGetArchitecture", ()),
    ("vbios", "nvmlDeviceGetVbiosVersion", ()),
    ("power_limit", "nvmlDeviceGetPowerManagementLimit", ()),
    ("power_enforced", "nvmlDeviceGetEnforcedPowerLimit", ()),
    ("power_default", "nvmlDeviceGetPowerManagementDefaultLimit", ()),
    ("power_constraints", "nvmlDeviceGetPowerManagementLimitConstraints", ()),
    ("clock_max_graphics", "nvmlDeviceGetMaxClockInfo", (_CLOCK_GRAPHICS,)),
    ("clock_max_memory", "nvmlDeviceGetMaxClockInfo", (_CLOCK_MEM,)),
    ("pcie_gen_max", "nvmlDeviceGetMaxPcieLinkGeneration", ()),
    ("pcie_width_max", "nvmlDeviceGetMaxPcieLinkWidth", ()),
    ("persistence", "nvmlDeviceGetPersistenceMode", ()),
    ("mig", "nvmlDeviceGetMigMode", ()),
    ("ecc", "nvmlDeviceGetEccMode", ()),
)

_LINK: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("pcie_gen_current", "nvmlDeviceGetCurrPcieLinkGeneration", ()),
    ("pcie_width_current", "nvmlDeviceGetCurrPcieLinkWidth", ()),
)

_VOLATILE: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("uuid", "nvmlDeviceGetUUID", ()),
    ("temperature", "nvmlDeviceGetTemperature", (_TEMPERATURE_GPU,)),
    ("utilization", "nvmlDeviceGetUtilizationRates", ()),
    ("clock_graphics", "nvmlDeviceGetClockInfo", (_CLOCK_GRAPHICS,)),
    ("clock_sm", "nvmlDeviceGetClockInfo", (_CLOCK_SM,)),
    ("clock_memory", "nvmlDeviceGetClockInfo", (_CLOCK_MEM,)),
    ("power", "nvmlDeviceGetPowerUsage", ()),
    ("memory", "nvmlDeviceGetMemoryInfo", ()),
    ("pstate", "nvmlDeviceGetPerformanceState", ()),
    ("fan", "nvmlDeviceGetFanSpeed", ()),
    ("reasons", "nvmlDeviceGetCurrentClocksEventReasons", ()),
    ("reasons_old", "nvmlDeviceGetCurrentClocksThrottleReasons", ()),
    ("processes", "nvmlDeviceGetComputeRunningProcesses", ()),
)


# ---------------------------------------------------------------------------------- calls


def system_calls() -> list[NvmlCall]:
    """Device count, driver and CUDA versions (static: the runner may cache them)."""
    return [call for _, call in _SYSTEM]


def _per_device(count: int, table: Sequence[tuple[str, str, tuple[Any, ...]]]) -> list[NvmlCall]:
    return [NvmlCall(fn, index, args) for index in range(count) for _, fn, args in table]


def static_calls(count: int) -> list[NvmlCall]:
    """Identity, limits and capabilities of every device (cacheable until reboot)."""
    return _per_device(count, _STATIC)


def link_calls(count: int) -> list[NvmlCall]:
    """The PCIe link in use now, per device (not cached: it changes with load)."""
    return _per_device(count, _LINK)


def volatile_calls(count: int) -> list[NvmlCall]:
    """Readings of the moment, per device."""
    return _per_device(count, _VOLATILE)


# -------------------------------------------------------------------------------- answers


def answer_value(answer: object) -> Any:
    """The value of one answer; None for an error ("Not Supported", a missing function)."""
    if not isinstance(answer, dict) or "error" in answer:
        return None
    return answer.get("value")


def answer_error(answer: object) -> str | None:
    """The error text of one answer, if it is one."""
    if isinstance(answer, dict) and answer.get("error") is not None:
        return str(answer["error"])
    return None


@attrs.frozen
class NvmlSystem:
    """What the system batch said."""

    count: int | None
    driver: str | None
    cuda: str | None
    count_error: str | None = None


def read_system(answers: Sequence[object]) -> NvmlSystem:
    """The system batch's answers (in :func:`system_calls` order)."""
    named = _named([name for name, _ in _SYSTEM], answers)
    count = named.get("count")
    valid = isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= 1024
    cuda = cuda_from_int(named.get("cuda")) or cuda_from_int(named.get("cuda_v1"))
    error = answer_error(answers[0]) if answers else "no answer"
    return NvmlSystem(
        count=count if valid else None,
        driver=version(named.get("driver")),
        cuda=cuda,
        count_error=None if valid else (error or f"unexpected device count {count!r}"),
    )


def _named(names: Sequence[str], answers: Sequence[object]) -> dict[str, Any]:
    return {name: answer_value(answers[i]) for i, name in enumerate(names) if i < len(answers)}


def _device_answers(
    count: int, table: Sequence[tuple[str, str, tuple[Any, ...]]], answers: Sequence[object]
) -> list[dict[str, Any]]:
    width = len(table)
    names = [name for name, _, _ in table]
    return [_named(names, answers[i * width : (i + 1) * width]) for i in range(count)]


def _milliwatts(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
        return None
    return round(raw / 1000.0, 3)


def _field(raw: object, key: str) -> Any:
    return raw.get(key) if isinstance(raw, dict) else None


def _pair_first(raw: object) -> Any:
    """NVML's (current, pending) pairs (MIG, ECC modes) -> current."""
    if isinstance(raw, (list, tuple)) and raw:
        return raw[0]
    return None


def _flag(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return {0: False, 1: True}.get(raw)
    return None


def _mib(raw: object) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        return None
    return raw // _MIB


def gpus_from(
    system: NvmlSystem, static_answers: Sequence[object], link_answers: Sequence[object]
) -> list[Gpu]:
    """One Gpu per device that answered at least its name, UUID or bus id."""
    count = system.count or 0
    statics = _device_answers(count, _STATIC, static_answers)
    links = _device_answers(count, _LINK, link_answers)
    gpus: list[Gpu] = []
    for index, (static, link) in enumerate(zip(statics, links, strict=True)):
        gpu = _gpu(index, static, link, system)
        if gpu.name or gpu.uuid or gpu.pci_bus_id:
            gpus.append(gpu)
    return gpus


def _gpu(index: int, s: dict[str, Any], link: dict[str, Any], system: NvmlSystem) -> Gpu:
    constraints = s.get("power_constraints")
    power_max = constraints[1] if isinstance(constraints, (list, tuple)) and constraints else None
    arch = s.get("arch")
    raw: dict[str, object] = {
        "index": index,
        "name": s.get("name"),
        "uuid": s.get("uuid"),
        "serial": s.get("serial"),
        "pci_bus_id": _field(s.get("pci"), "busId") or _field(s.get("pci"), "busIdLegacy"),
        "pci_device_id": _field(s.get("pci"), "pciDeviceId"),
        "memory_total_mib": _mib(_field(s.get("memory"), "total")),
        "driver_version": system.driver,
        "cuda_version": system.cuda,
        "compute_capability": compute_capability(s.get("cc")),
        "architecture": NVML_ARCHITECTURES.get(arch) if isinstance(arch, int) else None,
        "vbios_version": s.get("vbios"),
        "power_limit_w": _milliwatts(s.get("power_limit")) or _milliwatts(s.get("power_enforced")),
        "power_default_limit_w": _milliwatts(s.get("power_default")),
        "power_max_limit_w": _milliwatts(power_max),
        "clocks_max_graphics_mhz": s.get("clock_max_graphics"),
        "clocks_max_memory_mhz": s.get("clock_max_memory"),
        "pcie_gen_max": s.get("pcie_gen_max"),
        "pcie_width_max": s.get("pcie_width_max"),
        "pcie_gen_current": link.get("pcie_gen_current"),
        "pcie_width_current": link.get("pcie_width_current"),
        "persistence_mode": _flag(s.get("persistence")),
        "mig_mode": _flag(_pair_first(s.get("mig"))),
        "ecc_enabled": _flag(_pair_first(s.get("ecc"))),
    }
    return build_gpu({k: v for k, v in raw.items() if not isinstance(v, (dict, list))}, SOURCE)


def states_from(count: int, answers: Sequence[object]) -> list[GpuState]:
    """One GpuState per device, from the volatile batch's answers."""
    states: list[GpuState] = []
    for index, v in enumerate(_device_answers(count, _VOLATILE, answers)):
        reasons = v.get("reasons")
        if reasons is None:
            reasons = v.get("reasons_old")
        processes = v.get("processes")
        raw: dict[str, object] = {
            "index": index,
            "uuid": v.get("uuid"),
            "temperature_c": v.get("temperature"),
            "utilization_gpu_pct": _field(v.get("utilization"), "gpu"),
            "utilization_memory_pct": _field(v.get("utilization"), "memory"),
            "clocks_graphics_mhz": v.get("clock_graphics"),
            "clocks_sm_mhz": v.get("clock_sm"),
            "clocks_memory_mhz": v.get("clock_memory"),
            "power_draw_w": _milliwatts(v.get("power")),
            "memory_used_mib": _mib(_field(v.get("memory"), "used")),
            "pstate": v.get("pstate"),
            "fan_pct": v.get("fan"),
            "process_count": len(processes) if isinstance(processes, list) else None,
        }
        clean = {k: val for k, val in raw.items() if not isinstance(val, (dict, list))}
        states.append(build_state(clean, throttle_names_from_mask(reasons)))
    return states
