"""Pure parsers for AMD's tools: ``amd-smi static --json`` and ``rocm-smi ... --json``.

Both print JSON whose shape and key names changed across ROCm versions; values come with
units inside strings ("300 W") or as ``{"value": 300, "unit": "W"}`` objects.  Memory
labelled "MB" is MiB.
"""

from __future__ import annotations

import re
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, Sections
from envstamp.parsers.pci import (
    AMD_VENDOR_ID,
    device_id_text,
    gfx_target,
    hex_id,
    is_placeholder_serial,
    pcie_gen_from_speed,
    pcie_gen_from_text,
)
from envstamp.parsers.textutil import clean, collapse, to_bool, to_int
from envstamp.parsers.tooljson import dig, json_in_text, section, value_and_unit
from envstamp.parsers.units import to_mhz, to_mib, to_watts

_HEX_ONLY = re.compile(r"0x[0-9a-f]+", re.I)


def kernel_driver_version(value: object) -> str | None:
    """amdgpu's version; amd-smi prints the in-tree driver as the whole /proc/version with its
    spaces removed ("Linuxversion6.14.0-24-generic(buildd@..."): keep the kernel release, as
    rocm-smi does."""
    text = clean(value)
    if text is None:
        return None
    match = re.match(r"linux\s*version\s*([^\s(]+)", text, re.I)
    return match.group(1) if match else text


def _name(*values: object) -> str | None:
    """The first value that reads as a name (not a bare hex id such as "0x1002")."""
    for value in values:
        text = clean(value)
        if text is not None and not _HEX_ONLY.fullmatch(text):
            return text
    return None


# ------------------------------------------------------------------------------- amd-smi


def amd_smi_text(text: str) -> list[dict[str, Any]] | None:
    """``amd-smi static`` without --json: "GPU: 0" blocks whose upper-case keys, lower-cased,
    are the JSON's (MARKET_NAME, VRAM: SIZE: 65520 MB...); None when there is none."""
    from envstamp.parsers.indented import as_dict, tree

    gpus = [node for node in tree(text) if node.key.upper() == "GPU" and node.children]
    if not gpus:
        return None
    return [{"gpu": node.value, **as_dict(node.children)} for node in gpus]


def parse_amd_smi(text: str) -> list[Gpu]:
    """GPUs of ``amd-smi static --json``: ``{"gpu_data": [...]}`` or an older bare list (or
    the same facts printed as text)."""
    try:
        data = json_in_text(text, "amd-smi")
    except ParseError:
        data = amd_smi_text(text or "")
        if data is None:
            raise
    if isinstance(data, dict) and isinstance(data.get("gpu_data"), list):
        entries = data["gpu_data"]
    elif isinstance(data, list):
        entries = data
    elif isinstance(data, dict) and ("asic" in data or "gpu" in data):
        entries = [data]  # one GPU asked for with --gpu
    else:
        raise ParseError("not amd-smi static JSON (no gpu_data list)")
    gpus = [_amd_smi_gpu(i, e) for i, e in enumerate(entries) if is_amd_smi_gpu(e)]
    if entries and not gpus:
        raise ParseError("not amd-smi static JSON (no GPU object with its index or sections)")
    return gpus


# The sections amd-smi static prints per GPU (one or more of them, by the options given).
_AMD_SMI_SECTIONS = frozenset(
    {"asic", "bus", "board", "vbios", "vram", "driver", "limit", "clock", "ras", "numa",
     "cache_info", "partition", "soc_pstate", "xgmi_plpd", "process_isolation", "ifwi",
     "dfc_ucode", "fb_info", "num_vf", "policy", "xgmi", "power"}
)


def is_amd_smi_gpu(entry: object) -> bool:
    """An object of amd-smi's per-GPU shape: its "gpu" index, or one of its sections as an
    object.  Another tool's list of objects ({"name", "version"}) is not one."""
    if not isinstance(entry, dict):
        return False
    if _is_index(entry.get("gpu")):
        return True
    return any(isinstance(entry.get(key), dict) for key in _AMD_SMI_SECTIONS)


def _is_index(value: object) -> bool:
    """amd-smi's GPU index: a whole number (JSON) or its digits (text); "H100" is a name."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


def _amd_smi_gpu(position: int, entry: dict[str, Any]) -> Gpu:
    asic = section(entry, "asic")
    bus = section(entry, "bus")
    index = to_int(entry.get("gpu"))
    serial = clean(dig(entry, "board", "product_serial"))
    vbios = section(entry, "vbios")
    return Gpu(
        index=position if index is None else index,
        vendor="amd",
        name=_name(asic.get("market_name"), dig(entry, "board", "product_name")),
        uuid=clean(entry.get("uuid")) or clean(asic.get("uuid")),
        serial=None if is_placeholder_serial(serial) else serial,
        pci_bus_id=clean(entry.get("bdf")) or clean(bus.get("bdf")),
        pci_device_id=device_id_text(asic.get("vendor_id") or AMD_VENDOR_ID, asic.get("device_id")),
        memory_total_mib=to_mib(dig(entry, "vram", "size")),
        driver_version=kernel_driver_version(dig(entry, "driver", "version")),
        architecture=gfx_target(asic.get("target_graphics_version")),
        # part_number is what sysfs and rocm-smi call the VBIOS version.
        vbios_version=clean(vbios.get("part_number")) or clean(vbios.get("version")),
        cores=to_int(asic.get("num_compute_units")),
        ecc_enabled=_umc_ecc(dig(entry, "ras", "ecc_block_state")),
        source="amd-smi",
        **_amd_smi_power(entry.get("limit")),
        **_amd_smi_pcie(bus),
        **_amd_smi_clocks(entry.get("clock")),
    )


def _umc_ecc(blocks: Any) -> bool | None:
    """ECC of the memory controller (UMC), i.e. of VRAM."""
    if not isinstance(blocks, dict):
        return None
    return to_bool(next((v for k, v in blocks.items() if str(k).lower() == "umc"), None))


def _limit_value(limit: dict[str, Any], names: tuple[str, ...]) -> float | None:
    for name in names:
        for scope in (limit, limit.get("ppt0")):
            if isinstance(scope, dict) and name in scope:
                watts = to_watts(scope[name])
                if watts is not None:
                    return watts
    return None


def _amd_smi_power(limit: Any) -> dict[str, Any]:
    if not isinstance(limit, dict):
        return {}
    return {
        "power_limit_w": _limit_value(limit, ("socket_power", "socket_power_limit", "power_cap")),
        "power_max_limit_w": _limit_value(limit, ("max_power", "max_power_limit")),
        "power_default_limit_w": _limit_value(limit, ("default_power", "default_power_cap")),
    }


def _amd_smi_pcie(bus: dict[str, Any]) -> dict[str, Any]:
    gen = pcie_gen_from_text(bus.get("pcie_interface_version"))
    if gen is None:
        speed, unit = value_and_unit(bus.get("max_pcie_speed"))
        gen = pcie_gen_from_speed(f"{speed} {unit}" if unit else speed)
    return {"pcie_gen_max": gen, "pcie_width_max": to_int(bus.get("max_pcie_width"))}


def _max_level(domain: Any) -> int | None:
    levels = domain.get("frequency_levels") if isinstance(domain, dict) else None
    if isinstance(levels, dict):
        levels = list(levels.values())
    if not isinstance(levels, list):
        return None
    clocks = [c for c in (to_mhz(level) for level in levels) if c is not None]
    return max(clocks) if clocks else None


def _amd_smi_clocks(clock: Any) -> dict[str, Any]:
    if not isinstance(clock, dict):
        return {}
    graphics = _max_level(clock.get("sys")) or _max_level(clock.get("gfx"))
    memory = _max_level(clock.get("mem"))
    return {"clocks_max_graphics_mhz": graphics, "clocks_max_memory_mhz": memory}


# ------------------------------------------------------------------------------ rocm-smi


def rocm_smi_text(text: str) -> dict[str, Any] | None:
    """rocm-smi's text output ("GPU[0] : VRAM Total Memory (B): 25753026560") in the shape of
    its JSON; None when there is no such line."""
    cards: dict[str, dict[str, str]] = {}
    system: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^\s*GPU\[(\d+)\]\s*:\s*(.+?):\s+(.*?)\s*$", line)
        if match:
            cards.setdefault(f"card{match.group(1)}", {})[match.group(2)] = match.group(3)
            continue
        driver = re.match(r"^\s*Driver version:\s*(\S+)", line, re.IGNORECASE)
        if driver:
            system["Driver version"] = driver.group(1)
    return {**cards, "system": system} if cards else None


def parse_rocm_smi(text: str) -> list[Gpu]:
    """GPUs of ``rocm-smi --json``: "card0".."cardN" objects plus a "system" object (or the
    same facts printed as text)."""
    try:
        data = json_in_text(text, "rocm-smi")
    except ParseError:
        data = rocm_smi_text(text or "")
        if data is None:
            raise
    if not isinstance(data, dict):
        raise ParseError("not rocm-smi JSON (expected an object of cards)")
    cards = sorted(
        (int(match.group(1)), value)
        for key, value in data.items()
        if (match := re.fullmatch(r"card(\d+)", key.strip(), re.I)) and isinstance(value, dict)
    )
    system = _folded(data.get("system"))
    if not cards and not system:
        raise ParseError("not rocm-smi JSON (no card0..N or system keys)")
    return [_rocm_smi_gpu(index, _folded(card), system) for index, card in cards]


def _folded(data: Any) -> dict[str, Any]:
    """Keys lower-cased with whitespace collapsed: key spelling changed across versions."""
    if not isinstance(data, dict):
        return {}
    return {collapse(str(k)).lower(): v for k, v in data.items()}


def _vram_mib(card: dict[str, Any]) -> int | None:
    for key, value in card.items():
        match = re.fullmatch(r"vram total memory \((\w+)\)", key)
        if match:
            return to_mib(clean(value), match.group(1))
    return None


def _rocm_smi_gpu(index: int, card: dict[str, Any], system: dict[str, Any]) -> Gpu:
    serial = clean(card.get("serial number"))
    device_id = card.get("device id") or card.get("gpu id")
    gen_now, width_now = _link_now(card.get("pcie clock level"))
    return Gpu(
        index=index,
        vendor="amd",
        name=_name(card.get("device name"), card.get("card series"), card.get("card model")),
        serial=None if is_placeholder_serial(serial) else serial,
        pci_bus_id=clean(card.get("pci bus")),
        pci_device_id=device_id_text(AMD_VENDOR_ID, device_id) if hex_id(device_id) else None,
        memory_total_mib=_vram_mib(card),
        driver_version=clean(card.get("driver version")) or clean(system.get("driver version")),
        architecture=gfx_target(card.get("gfx version")),
        vbios_version=clean(card.get("vbios version")),
        power_limit_w=to_watts(clean(card.get("max graphics package power (w)"))),
        pcie_gen_current=gen_now,
        pcie_width_current=width_now,
        source="rocm-smi",
    )


def _link_now(value: object) -> tuple[int | None, int | None]:
    """ "1 (16.0GT/s x16)" -> (4, 16)."""
    text = clean(value)
    if text is None:
        return None, None
    match = re.search(r"([\d.]+)\s*GT/s\s*x(\d+)", text, re.I)
    if not match:
        return None, None
    return pcie_gen_from_speed(f"{match.group(1)} GT/s"), int(match.group(2))


def parse_amd_smi_kind(text: str) -> Sections:
    """Kind ``amd-smi-json``."""
    return {"gpus": parse_amd_smi(text)}


def parse_rocm_smi_kind(text: str) -> Sections:
    """Kind ``rocm-smi-json``."""
    return {"gpus": parse_rocm_smi(text)}


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "rocm-smi-json": ("parse_rocm_smi_kind", "rocm-smi ... --json"),
    "amd-smi-json": ("parse_amd_smi_kind", "amd-smi static --json"),
}
