"""Shared by the NVIDIA parsers (nvidia-smi in every format, NVML): values -> typed fields.

Every source is first reduced to a flat mapping of canonical names (the attribute names of
:class:`~envstamp.manifest.model.Gpu` and :class:`~envstamp.manifest.model.GpuState`) to the
raw value it printed; :func:`build_gpu` and :func:`build_state` then convert those values the
same way whatever the source, so "[N/A]", "N/A", "Not Supported" and friends become null everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from envstamp.manifest.model import Gpu, GpuState, ProbeStatus
from envstamp.parsers.textutil import clean, to_bool, to_float, to_int

Raw = Mapping[str, Any]

# Printed by nvidia-smi when the kernel module is not loaded (or the GPU fell off the bus).
# Its words since driver 3xx; "NVIDIA " before "driver" and the contraction are not kept
# alike by every build and packager, so neither is required.
DRIVER_FAILURE = re.compile(
    r"NVIDIA-SMI has failed because it (?:couldn't|could not|can't|cannot) communicate"
    r" with the (?:NVIDIA )?driver",
    re.IGNORECASE,
)
NO_DEVICES = re.compile(r"^\s*No devices were found\s*$", re.IGNORECASE | re.MULTILINE)
_VERSION = re.compile(r"^\d+(?:\.\d+)*[A-Za-z0-9.+-]*$")
_EXTRA_NULLS = frozenset(
    {"err!", "unknown error", "gpu requires reset", "gpu is lost", "insufficient permissions"}
)


def value(raw: object) -> str | None:
    """A printed value, or None for every way nvidia-smi says unknown.

    CSV output wraps the null words in brackets ("[N/A]", "[Requested functionality has been
    deprecated]"); they are unwrapped before the comparison.
    """
    text = clean(raw)
    if text is None:
        return None
    if text.startswith("[") and text.endswith("]"):
        text = clean(text[1:-1])
        if text is None:
            return None
    if text.lower() in _EXTRA_NULLS:
        return None
    return clean(text)


def version(raw: object) -> str | None:
    """A bare version ("590.48.01", "13.1"); None for "Deprecated, see KMD version" and nulls."""
    text = value(raw)
    if text is None:
        return None
    if text[:1] in "vV" and text[1:2].isdigit():
        text = text[1:]
    return text if _VERSION.match(text) else None


def first_version(candidates: Iterable[object]) -> str | None:
    """The first candidate that is a real version: drivers 610+ print "KMD version" and keep
    "DRIVER version" only to say it is deprecated, older ones print only the latter."""
    for candidate in candidates:
        found = version(candidate)
        if found is not None:
            return found
    return None


def compute_capability(raw: object) -> str | None:
    """ "8.9", (8, 9) or [8, 9] -> "8.9"."""
    if isinstance(raw, (list, tuple)) and len(raw) == 2:
        major, minor = (to_int(part) for part in raw)
        return None if major is None or minor is None or major <= 0 else f"{major}.{minor}"
    text = value(raw)
    if text is None:
        return None
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})", text)
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None


def cuda_from_int(raw: object) -> str | None:
    """NVML's CUDA driver version integer (12040) -> "12.4"."""
    number = to_int(raw)
    if number is None or number <= 0:
        return None
    return f"{number // 1000}.{(number % 1000) // 10}"


def pci_device_id(raw: object) -> str | None:
    """NVIDIA's combined id ("0x270210DE", "270210DE" or the int) -> "0x10de:0x2702".

    nvidia-smi and NVML print the device id in the high 16 bits, the vendor in the low 16.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        number: int | None = raw
    else:
        text = value(raw)
        if text is None or not re.fullmatch(r"(?:0[xX])?[0-9A-Fa-f]{1,8}", text):
            return None
        number = int(text, 16)
    if number is None or number <= 0xFFFF:
        return None
    return f"0x{number & 0xFFFF:04x}:0x{(number >> 16) & 0xFFFF:04x}"


def pstate(raw: object) -> str | None:
    """ "P8" / 8 -> "P8"; NVML's 32 means unknown."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return f"P{raw}" if 0 <= raw <= 15 else None
    text = value(raw)
    match = re.fullmatch(r"[Pp](\d{1,2})", text or "")
    return f"P{int(match.group(1))}" if match else None


def bus_id(raw: object) -> str | None:
    """A PCI bus id as printed ("00000000:01:00.0"); None when it is not one."""
    text = value(raw)
    if text is None:
        return None
    match = re.search(r"[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]", text)
    return match.group() if match else None


# ------------------------------------------------------------------------- architecture

_ARCH_BY_MAJOR = {3: "Kepler", 5: "Maxwell", 6: "Pascal", 8: "Ampere", 9: "Hopper"}
_ARCH_BY_CC = {"7.0": "Volta", "7.2": "Volta", "7.5": "Turing", "8.9": "Ada Lovelace"}
_BLACKWELL_MAJORS = (10, 11, 12)

# nvmlDeviceArchitecture_t values, named as nvidia-smi prints "Product Architecture".
NVML_ARCHITECTURES = {
    2: "Kepler",
    3: "Maxwell",
    4: "Pascal",
    5: "Volta",
    6: "Turing",
    7: "Ampere",
    8: "Ada Lovelace",
    9: "Hopper",
    10: "Blackwell",
    13: "Rubin",
}

# Names whose architecture is certain.  Checked in order; the first match wins.
_ARCH_BY_NAME: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), arch)
    for pattern, arch in (
        (r"\bRTX PRO \d{4}\b.*\bBlackwell\b", "Blackwell"),
        (r"\bRTX \d{4}(?: SFF)? Ada\b", "Ada Lovelace"),
        (r"\bRTX A\d{3,4}\b", "Ampere"),
        (r"\bQuadro RTX \d{4}\b", "Turing"),
        (r"\bQuadro GV100\b", "Volta"),
        (r"\bQuadro (?:GP100|P\d{3,4})\b", "Pascal"),
        (r"\bRTX 50[5-9]0\b", "Blackwell"),
        (r"\bRTX 40[5-9]0\b", "Ada Lovelace"),
        (r"\bRTX 30[5-9]0\b", "Ampere"),
        (r"\bRTX 20[6-8]0\b", "Turing"),
        (r"\bGTX 16[5-6]0\b", "Turing"),
        (r"\bGTX 10[5-8]0\b", "Pascal"),
        (r"\bGTX 9[5-8]0\b", "Maxwell"),
        (r"\bTITAN RTX\b", "Turing"),
        (r"\bTITAN V\b", "Volta"),
        (r"\bGB\d{3}\b|\bB[12]00\b", "Blackwell"),
        (r"\bGH200\b|\bH[12]00\b|\bH800\b|\bH20\b", "Hopper"),
        (r"\bL40S?\b|\bL4\b|\bL20\b", "Ada Lovelace"),
        (r"\bA100\b|\bA800\b|\bA40\b|\bA30\b|\bA10G?\b|\bA16\b|\bA2\b", "Ampere"),
        (r"\bV100\b", "Volta"),
        (r"\bTesla T4\b|\bT4\b", "Turing"),
        (r"\bP100\b|\bP40\b|\bTesla P4\b", "Pascal"),
        (r"\bTesla K\d{2}m?\b", "Kepler"),
        (r"\bTesla M\d{2}\b", "Maxwell"),
    )
)


def architecture_from_cc(cc: str | None) -> str | None:
    """Architecture family of a CUDA compute capability ("8.6" -> "Ampere")."""
    if cc is None:
        return None
    if cc in _ARCH_BY_CC:
        return _ARCH_BY_CC[cc]
    major = to_int(cc.partition(".")[0])
    if major in _BLACKWELL_MAJORS:
        return "Blackwell"
    if major == 7:
        return None  # 7.x other than the known ones: not certain
    return _ARCH_BY_MAJOR.get(major) if major is not None else None


def architecture_from_name(name: str | None) -> str | None:
    """Architecture of a product name, only where the name leaves no doubt."""
    if not name:
        return None
    for pattern, arch in _ARCH_BY_NAME:
        if pattern.search(name):
            return arch
    return None


# ---------------------------------------------------------------------- throttle reasons

# nvmlClocksEventReason* bits.  gpu_idle (0x1) is left out: idle is not throttling.
THROTTLE_BITS: tuple[tuple[int, str], ...] = (
    (0x2, "applications_clocks_setting"),
    (0x4, "sw_power_cap"),
    (0x8, "hw_slowdown"),
    (0x10, "sync_boost"),
    (0x20, "sw_thermal_slowdown"),
    (0x40, "hw_thermal_slowdown"),
    (0x80, "hw_power_brake_slowdown"),
    (0x100, "display_clock_setting"),
)
_IDLE_BIT = 0x1
_KNOWN_BITS = _IDLE_BIT | sum(bit for bit, _ in THROTTLE_BITS)


def throttle_names_from_mask(raw: object) -> list[str] | None:
    """The active reasons of a clocks-event bitmask (int or "0x...4"), idle excluded."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        mask = raw
    else:
        text = value(raw)
        if text is None or not re.fullmatch(r"0[xX][0-9A-Fa-f]+|\d+", text):
            return None
        mask = int(text, 0)
    names = [name for bit, name in THROTTLE_BITS if mask & bit]
    unknown = mask & ~_KNOWN_BITS
    bit = 1
    while unknown and bit <= unknown:
        if unknown & bit:
            names.append(f"reason_{bit:#x}")
        bit <<= 1
    return names


def throttle_name(label: str) -> str | None:
    """ "HW Power Brake Slowdown" / "clocks_event_reason_sw_power_cap" -> canonical name."""
    text = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    text = re.sub(r"^clocks?_(?:event|throttle)_reasons?_", "", text)
    text = text.replace("clocks_setting", "clock_setting") if text.startswith("display") else text
    if text in ("gpu_idle", "idle", "") or text.startswith(("supported", "active")):
        return None
    return text


# ------------------------------------------------------------------------------ building

_GPU_FIELDS: dict[str, Callable[[Any], Any]] = {
    "index": to_int,
    "name": value,
    "uuid": value,
    "serial": value,
    "pci_bus_id": bus_id,
    "pci_device_id": pci_device_id,
    "memory_total_mib": to_int,
    "driver_version": version,
    "cuda_version": version,
    "compute_capability": compute_capability,
    "architecture": value,
    "vbios_version": value,
    "power_limit_w": to_float,
    "power_default_limit_w": to_float,
    "power_max_limit_w": to_float,
    "clocks_max_graphics_mhz": to_int,
    "clocks_max_memory_mhz": to_int,
    "pcie_gen_max": to_int,
    "pcie_width_max": to_int,
    "pcie_gen_current": to_int,
    "pcie_width_current": to_int,
    "persistence_mode": to_bool,
    "mig_mode": to_bool,
    "ecc_enabled": to_bool,
}

_STATE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "index": to_int,
    "uuid": value,
    "temperature_c": to_float,
    "utilization_gpu_pct": to_float,
    "utilization_memory_pct": to_float,
    "clocks_graphics_mhz": to_int,
    "clocks_sm_mhz": to_int,
    "clocks_memory_mhz": to_int,
    "power_draw_w": to_float,
    "memory_used_mib": to_int,
    "pstate": pstate,
    "fan_pct": to_float,
    "process_count": to_int,
}

_POSITIVE = frozenset(
    {
        "memory_total_mib",
        "power_limit_w",
        "power_default_limit_w",
        "power_max_limit_w",
        "clocks_max_graphics_mhz",
        "clocks_max_memory_mhz",
        "pcie_gen_max",
        "pcie_width_max",
        "pcie_gen_current",
        "pcie_width_current",
    }
)


def _convert(raw: Raw, fields: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, convert in fields.items():
        if raw.get(name) is None:
            continue
        converted = convert(raw[name])
        if converted is None:
            continue
        if name in _POSITIVE and converted <= 0:
            continue  # a zero limit, clock or link is "not reported", not a fact
        if name == "index" and converted < 0:
            continue
        values[name] = converted
    return values


def build_gpu(raw: Raw, source: str) -> Gpu:
    """A Gpu from canonical raw values; architecture derived where the source has none."""
    values = _convert(raw, _GPU_FIELDS)
    if "architecture" not in values:
        arch = architecture_from_cc(values.get("compute_capability")) or architecture_from_name(
            values.get("name")
        )
        if arch is not None:
            values["architecture"] = arch
    return Gpu(vendor="nvidia", source=source, **values)


def build_state(raw: Raw, throttle: list[str] | None = None) -> GpuState:
    """A GpuState from canonical raw values and already-decoded throttle reasons."""
    return GpuState(throttle_reasons=sorted(set(throttle or [])), **_convert(raw, _STATE_FIELDS))


def state_is_empty(state: GpuState) -> bool:
    """True when a state carries no reading at all (only its index / uuid)."""
    skip = {"index", "uuid", "throttle_reasons"}
    return not state.throttle_reasons and all(
        getattr(state, name) is None for name in _STATE_FIELDS if name not in skip
    )


def driver_failure(text: str) -> str | None:
    """nvidia-smi's "couldn't communicate with the NVIDIA driver" line, when present."""
    match = DRIVER_FAILURE.search(text)
    return match.group().strip() if match else None


def smi_failure(text: str) -> tuple[ProbeStatus, str] | None:
    """(status, detail) when nvidia-smi's own words say it failed: the driver is not loaded,
    no devices, or insufficient permissions; None when they say nothing of the kind."""
    message = driver_failure(text)
    if message:
        return "absent", f"driver not loaded: {message}"
    if NO_DEVICES.search(text):
        return "absent", "nvidia-smi: No devices were found"
    if re.search(r"insufficient permissions", text, re.IGNORECASE):
        return "permission", "nvidia-smi: insufficient permissions"
    return None
