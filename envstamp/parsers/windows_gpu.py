"""Windows display adapters: Win32_VideoController records (PowerShell's Format-List or
wmic's /format:list, read by :mod:`envstamp.parsers.windows_listing`) and the registry values
that complete them.

AdapterRAM is a uint32: cards with 4 GiB or more read as about 4 GiB (a capped counter) or
wrap around, so a value near 4 GiB is null; the registry's ``qwMemorySize`` has the real size.
"""

from __future__ import annotations

import re

from envstamp.manifest.model import Gpu, Sections
from envstamp.parsers.pci import device_id_text, vendor_from_id, vendor_from_name
from envstamp.parsers.textutil import clean, to_int
from envstamp.parsers.windows_listing import Record, parse_records

SOURCE = "Win32_VideoController"

ADAPTER_RAM_CAP = 0xFFF00000  # AdapterRAM at or above this is a capped or wrapped counter
_PNP_IDS = re.compile(r"VEN_([0-9A-F]{4})&DEV_([0-9A-F]{4})", re.I)
_SOFTWARE_ADAPTER = re.compile(r"^(?:ROOT|SWD|USB)\\", re.I)
_SOFTWARE_NAME = re.compile(r"\b(?:remote|virtual|indirect) display\b|mirror driver", re.I)


def record_value(record: Record, *names: str) -> str | None:
    """The first of ``names`` (any case) the record holds a value for."""
    folded = {k.lower(): v for k, v in record.items()}
    for name in names:
        value = clean(folded.get(name.lower()))
        if value is not None:
            return value
    return None


def adapter_ram_mib(value: object) -> int | None:
    """AdapterRAM bytes -> MiB; None when zero or capped/wrapped near 4 GiB."""
    size = to_int(value)
    if size is None or size <= 0 or size >= ADAPTER_RAM_CAP:
        return None
    return size // (1 << 20)


def is_software_adapter(record: Record) -> bool:
    """Remote-desktop, virtual-display and USB adapters are not GPUs."""
    pnp = record_value(record, "PNPDeviceID")
    name = record_value(record, "Name", "Caption", "Description") or ""
    return bool(pnp and _SOFTWARE_ADAPTER.match(pnp)) or bool(_SOFTWARE_NAME.search(name))


def gpu_from_record(index: int, record: Record) -> Gpu:
    """A Gpu from one adapter's properties."""
    pnp = record_value(record, "PNPDeviceID") or ""
    ids = _PNP_IDS.search(pnp)
    name = record_value(record, "Name", "Caption", "Description", "VideoProcessor")
    vendor = vendor_from_id(ids.group(1)) if ids else None
    vendor = vendor or vendor_from_name(record_value(record, "AdapterCompatibility"), name)
    return Gpu(
        index=index,
        vendor=vendor,
        name=name,
        pci_device_id=device_id_text(ids.group(1), ids.group(2)) if ids else None,
        memory_total_mib=adapter_ram_mib(record_value(record, "AdapterRAM")),
        driver_version=record_value(record, "DriverVersion"),
        source=SOURCE,
    )


def adapters(text: str) -> list[tuple[Record, Gpu]]:
    """Hardware adapters of a listing with their raw records."""
    records = [r for r in parse_records(text) if not is_software_adapter(r)]
    return [(record, gpu_from_record(i, record)) for i, record in enumerate(records)]


def parse_windows_gpu_kind(text: str) -> Sections:
    """Kind ``windows-gpu``."""
    return {"gpus": [gpu for _, gpu in adapters(text)]}


def bus_id_from_location(value: object) -> str | None:
    """ "PCI bus 1, device 0, function 0" -> "0000:01:00.0" (Windows does not say the domain)."""
    text = clean(value)
    match = re.search(r"bus (\d+), device (\d+), function (\d+)", text or "", re.I)
    if not match:
        return None
    bus, device, function = (int(g) for g in match.groups())
    return f"0000:{bus:02x}:{device:02x}.{function:x}"


def registry_bytes(value: object) -> int | None:
    """A registry size: REG_QWORD/REG_DWORD ints, or REG_BINARY (hex of little-endian bytes)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value > 0 else None
    text = clean(value)
    if text is None or not re.fullmatch(r"(?:[0-9a-f]{2}){1,8}", text, re.I):
        return None
    number = int.from_bytes(bytes.fromhex(text), "little")
    return number if number > 0 else None


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "windows-gpu": (
        "parse_windows_gpu_kind",
        "Get-CimInstance Win32_VideoController / wmic ... /format:list",
    ),
}
