"""PCI facts the GPU parsers share: vendor ids and names, link speeds, AMD gfx targets.

Pure helpers: no system access, nothing raised for odd input (None instead).
"""

from __future__ import annotations

import re

from envstamp.parsers.textutil import clean, to_float

# PCI (and Khronos, for Vulkan's software devices) vendor ids -> the manifest's vendor names.
AMD_VENDOR_ID = 0x1002
INTEL_VENDOR_ID = 0x8086
VENDOR_IDS: dict[int, str] = {
    0x10DE: "nvidia",
    0x1002: "amd",
    0x1022: "amd",
    0x8086: "intel",
    0x106B: "apple",
    0x5143: "qualcomm",
    0x13B5: "arm",
    0x1414: "microsoft",
    0x15AD: "vmware",
    0x80EE: "virtualbox",
    0x1AF4: "virtio",
    0x1234: "qemu",
    0x1A03: "aspeed",
    0x102B: "matrox",
    0x1ED5: "moorethreads",
    0x10005: "mesa",
}

# Words in a vendor or device name -> vendor, tried in order.  Plain strings: re compiles
# (and caches) them on first use, so importing this module on a GPU-less machine costs nothing.
_NAME_VENDORS: tuple[tuple[str, str], ...] = (
    (r"nvidia|geforce|quadro|tesla", "nvidia"),
    (r"advanced micro devices|\bamd\b|\bati\b|radeon|instinct", "amd"),
    (r"intel", "intel"),
    (r"apple", "apple"),
    (r"qualcomm|adreno", "qualcomm"),
    (r"microsoft", "microsoft"),
    (r"vmware", "vmware"),
    (r"virtualbox|innotek", "virtualbox"),
    (r"aspeed", "aspeed"),
    (r"matrox", "matrox"),
    (r"moore ?threads", "moorethreads"),
)

# PCIe transfer rate per lane (GT/s) -> generation.
_GT_PER_GEN: tuple[tuple[float, int], ...] = (
    (2.5, 1),
    (5.0, 2),
    (8.0, 3),
    (16.0, 4),
    (32.0, 5),
    (64.0, 6),
    (128.0, 7),
)


def hex_id(value: object) -> int | None:
    """ "0x1002", "1002", 4098 -> 4098; None when it is not an id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = clean(value)
    if text is None:
        return None
    match = re.fullmatch(r"(?:0x)?([0-9a-fA-F]{1,8})", text)
    return int(match.group(1), 16) if match else None


def vendor_from_id(vendor_id: object) -> str | None:
    """The manifest's vendor name for a PCI vendor id; "0x1b36"-style for unknown ones."""
    number = hex_id(vendor_id)
    if number is None:
        return None
    return VENDOR_IDS.get(number, f"0x{number:04x}")


def vendor_from_name(*names: object) -> str | None:
    """The vendor a printed vendor or device name points to, if any."""
    for name in names:
        text = clean(name)
        if text is None:
            continue
        for pattern, vendor in _NAME_VENDORS:
            if re.search(pattern, text, re.IGNORECASE):
                return vendor
    return None


def device_id_text(vendor_id: object, device_id: object) -> str | None:
    """ "0x1002:0x744c" from the two ids; None unless both are known PCI ids."""
    vendor = hex_id(vendor_id)
    device = hex_id(device_id)
    if vendor is None or device is None or vendor > 0xFFFF or device > 0xFFFF:
        return None
    return f"0x{vendor:04x}:0x{device:04x}"


def pcie_gen_from_speed(value: object) -> int | None:
    """ "16.0 GT/s PCIe", "16 GT/s", 16000 (MT/s) -> 4; None when unknown."""
    number = to_float(value)
    if number is None or number <= 0:
        return None
    text = str(value).lower()
    if "mt/s" in text or number >= 1000:
        number /= 1000
    for rate, gen in _GT_PER_GEN:
        if abs(number - rate) <= rate * 0.05:
            return gen
    return None


def pcie_gen_from_text(value: object) -> int | None:
    """ "Gen 4", "PCIe Gen4", "4" -> 4."""
    text = clean(value)
    if text is None:
        return None
    match = re.search(r"(?:gen\s*)?(\d+)", text, re.I)
    if not match:
        return None
    gen = int(match.group(1))
    return gen if 1 <= gen <= 7 else None


def gfx_target(value: object) -> str | None:
    """An AMD gfx target name from KFD's gfx_target_version (110000 -> "gfx1100").

    The number is major*10000 + minor*100 + stepping; the name spells minor and stepping
    as hex digits (90010 -> "gfx90a").  A name already printed as such is kept, lower-cased.
    """
    text = clean(value)
    if text is None:
        return None
    if re.fullmatch(r"gfx[0-9a-f]{3,4}", text, re.I):
        return text.lower()
    match = re.fullmatch(r"(?:gfx)?(\d{5,6})", text, re.I)
    if not match:
        return None
    number = int(match.group(1))
    major, minor, stepping = number // 10000, (number // 100) % 100, number % 100
    if major == 0 or minor > 15 or stepping > 15:
        return None
    return f"gfx{major}{minor:x}{stepping:x}"


def bus_id_from_location(domain: object, location_id: object) -> str | None:
    """A PCI bus id from KFD's domain and location_id (bus << 8 | device << 3 | function)."""
    loc = hex_id(location_id) if isinstance(location_id, int) else _decimal(location_id)
    dom = domain if isinstance(domain, int) else _decimal(domain)
    if loc is None:
        return None
    bus, device, function = loc >> 8, (loc >> 3) & 0x1F, loc & 0x7
    return f"{dom or 0:04x}:{bus:02x}:{device:02x}.{function:x}"


def _decimal(value: object) -> int | None:
    text = clean(value)
    return int(text) if text is not None and text.isdigit() else None


def is_placeholder_serial(value: str | None) -> bool:
    """Serials that tools print when there is none ("0", "0x0", all zeros)."""
    if value is None:
        return True
    return bool(re.fullmatch(r"(?:0x)?0*", value.strip().lower()))
