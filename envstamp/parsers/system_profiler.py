"""macOS' ``system_profiler SPDisplaysDataType SPHardwareDataType -json`` (or its text form).

SPDisplaysDataType lists graphics processors (Apple silicon GPUs with their core count and
Metal support; on Intel Macs the integrated Intel GPU and a discrete AMD one with its VRAM);
the monitors attached to each (``spdisplays_ndrvs``) are not GPUs.  SPHardwareDataType gives
the chip, the core split ("proc 8:4:4" = 8 cores, 4 performance, 4 efficiency), the memory
and the machine model.
"""

from __future__ import annotations

import re
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import Cpu, Gpu, Host, Memory, Runtimes, Sections
from envstamp.parsers.pci import device_id_text, hex_id, vendor_from_id, vendor_from_name
from envstamp.parsers.textutil import clean, to_int
from envstamp.parsers.tooljson import json_in_text
from envstamp.parsers.units import bytes_from_size, to_mib

SOURCE = "system_profiler"
_VENDOR_IDS = {"amd": 0x1002, "intel": 0x8086, "nvidia": 0x10DE}


def _plain(value: object) -> str | None:
    """system_profiler's localisation keys as words: "spdisplays_metal3" -> "metal3"."""
    text = clean(value)
    if text is None:
        return None
    return re.sub(r"^(?:spdisplays|sppci)_(?:vendor_)?", "", text)


def _vendor(item: dict[str, Any]) -> str | None:
    vendor = _plain(item.get("spdisplays_vendor")) or ""
    id_match = re.search(r"0x[0-9a-f]{4}", vendor, re.I)
    if id_match:
        return vendor_from_id(id_match.group())
    return vendor_from_name(vendor, item.get("sppci_model"), item.get("_name")) or (
        vendor.lower() or None
    )


def _is_gpu(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    kind = clean(item.get("sppci_device_type"))
    if kind is not None and "gpu" not in kind.lower():
        return False
    return bool(clean(item.get("sppci_model")) or clean(item.get("_name")))


def _display_gpu(index: int, item: dict[str, Any]) -> Gpu:
    vendor = _vendor(item)
    stated = to_mib(item.get("spdisplays_vram"), "MB")
    # Apple silicon and Intel integrated GPUs (on the built-in bus) share the system memory;
    # what an Intel Mac prints as the integrated GPU's VRAM is a carve-out of it.
    builtin = "builtin" in (clean(item.get("sppci_bus")) or "")
    unified = vendor == "apple" or builtin or (False if stated else None)
    dedicated = stated if vendor == "apple" or not builtin else None
    device = hex_id(item.get("spdisplays_device-id"))
    return Gpu(
        index=index,
        vendor=vendor,
        name=clean(item.get("sppci_model")) or clean(item.get("_name")),
        pci_device_id=device_id_text(_VENDOR_IDS.get(vendor or ""), device),
        memory_total_mib=dedicated,
        unified_memory=unified,
        vbios_version=clean(item.get("spdisplays_rom-revision")),
        cores=to_int(item.get("sppci_cores")),
        source=SOURCE,
    )


def _metal_family(value: str) -> str:
    """Before Metal 3, macOS named a GPU family: "Supported, Metal GPUFamily macOS 2",
    "spdisplays_mtlgpufamilymac2" -> "Metal GPUFamily macOS 2"."""
    text = re.sub(r"^supported,\s*", "", value.replace("_", " "), flags=re.I)
    family = re.fullmatch(r"mtlgpufamilymac(\d+)", text, re.I)
    return f"Metal GPUFamily macOS {family.group(1)}" if family else text


def metal_support(items: list[dict[str, Any]]) -> str | None:
    """The highest Metal support any GPU reports: "spdisplays_metal3" -> "Metal 3"."""
    found: list[tuple[int, str]] = []
    for item in items:
        for key in ("spdisplays_mtlgpufamilysupport", "spdisplays_metal", "spdisplays_metalfamily"):
            value = _plain(item.get(key))
            if value is None:
                continue
            match = re.fullmatch(r"metal[ _-]?(\d+)", value, re.I)
            if match:
                found.append((int(match.group(1)), f"Metal {match.group(1)}"))
            elif value.lower() not in ("no", "unsupported", "not_supported"):
                found.append((0, _metal_family(value)))
    return max(found)[1] if found else None


def parse_displays(items: list[Any]) -> Sections:
    """GPUs (and the Metal level) of SPDisplaysDataType."""
    gpus = [item for item in items if _is_gpu(item)]
    sections: Sections = {"gpus": [_display_gpu(i, item) for i, item in enumerate(gpus)]}
    metal = metal_support(gpus)
    if metal is not None:
        sections["runtimes"] = Runtimes(metal=metal)
    return sections


def core_split(value: object) -> tuple[int | None, int | None, int | None]:
    """ "proc 8:4:4" -> (8, 4, 4); an Intel Mac's plain 8 -> (8, None, None)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None, None
    numbers = [int(n) for n in re.findall(r"\d+", clean(value) or "")]
    if not numbers:
        return None, None, None
    total = numbers[0]
    performance = numbers[1] if len(numbers) > 1 else None
    efficiency = numbers[2] if len(numbers) > 2 else None
    return total, performance, efficiency


def _kib(value: object) -> int | None:
    size = bytes_from_size(value)
    return size // 1024 if size else None


def parse_hardware(item: dict[str, Any]) -> Sections:
    """cpu, memory and host of the SPHardwareDataType overview."""
    total, performance, efficiency = core_split(item.get("number_processors"))
    htt = clean(item.get("platform_cpu_htt"))
    cpu = Cpu(
        model_name=clean(item.get("chip_type")) or clean(item.get("cpu_type")),
        sockets=to_int(item.get("packages")),
        physical_cores=total,
        performance_cores=performance,
        efficiency_cores=efficiency,
        cache_l2_kib=_kib(item.get("l2_cache_core")),
        cache_l3_kib=_kib(item.get("l3_cache")),
        smt=None if htt is None else "enabled" in htt.lower(),
    )
    memory = Memory(total_bytes=bytes_from_size(item.get("physical_memory")))
    return {"cpu": cpu, "memory": memory, "host": Host(model=clean(item.get("machine_model")))}


def _document(text: str) -> Any:
    """The JSON document, or the text output read into the same shape."""
    try:
        return json_in_text(text, "system_profiler")
    except ParseError as not_json:
        from envstamp.parsers.system_profiler_text import as_json_shape

        shaped = as_json_shape(text)
        if not shaped:
            raise ParseError(
                f"{not_json}, and no Graphics/Displays or Hardware Overview section"
            ) from None
        return shaped


def parse_system_profiler(text: str) -> Sections:
    """Kind ``system-profiler``: either data type or both, as JSON (-json) or as text."""
    data = _document(text)
    if not isinstance(data, dict):
        raise ParseError("not system_profiler JSON (expected an object of data types)")
    displays = data.get("SPDisplaysDataType")
    hardware = data.get("SPHardwareDataType")
    if not isinstance(displays, list) and not isinstance(hardware, list):
        raise ParseError("no SPDisplaysDataType or SPHardwareDataType in the JSON")
    sections: Sections = {}
    if isinstance(displays, list):
        sections.update(parse_displays(displays))
    overview = next((h for h in hardware or [] if isinstance(h, dict)), None)
    if overview is not None:
        sections.update(parse_hardware(overview))
    return sections


def parse_system_profiler_kind(text: str) -> Sections:
    """Kind ``system-profiler``."""
    return parse_system_profiler(text)


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "system-profiler": (
        "parse_system_profiler_kind",
        "system_profiler SPHardwareDataType SPDisplaysDataType -json",
    ),
}
