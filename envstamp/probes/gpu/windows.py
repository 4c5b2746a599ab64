"""Windows display adapters: Win32_VideoController (PowerShell, wmic as the fallback) + registry.

AdapterRAM is a uint32: cards with 4 GiB or more read as about 4 GiB (a capped counter) or
wrap around, so a value near 4 GiB is null and the real size comes from the registry's
``HardwareInformation.qwMemorySize`` of the adapter's driver key.  The registry also gives
the PCI location (so the adapter merges with what NVML or nvidia-smi saw of the same device)
and the driver version in force (the listing itself is kept in the static cache).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, Sections
from envstamp.parsers.pci import device_id_text, vendor_from_id, vendor_from_name
from envstamp.parsers.textutil import clean, to_int
from envstamp.parsers.windows_listing import Record, parse_records
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure

if TYPE_CHECKING:
    from envstamp.runner import Runner

SOURCE = "Win32_VideoController"
PROPERTIES = "Name,AdapterCompatibility,AdapterRAM,DriverVersion,PNPDeviceID,VideoProcessor"
POWERSHELL_SCRIPT = (
    "[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; "
    f"Get-CimInstance -ClassName Win32_VideoController | Select-Object {PROPERTIES} | Format-List"
)
WMIC_ARGS = ("path", "win32_VideoController", "get", PROPERTIES, "/format:list")
HKLM = "HKEY_LOCAL_MACHINE"
ENUM_KEY = "SYSTEM\\CurrentControlSet\\Enum"
CLASS_KEY = "SYSTEM\\CurrentControlSet\\Control\\Class"
ADAPTER_RAM_CAP = 0xFFF00000  # AdapterRAM at or above this is a capped or wrapped counter
_PNP_IDS = re.compile(r"VEN_([0-9A-F]{4})&DEV_([0-9A-F]{4})", re.I)
_SOFTWARE_ADAPTER = re.compile(r"^(?:ROOT|SWD|USB)\\", re.I)
_SOFTWARE_NAME = re.compile(r"\b(?:remote|virtual|indirect) display\b|mirror driver", re.I)


def _get(record: Record, *names: str) -> str | None:
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
    pnp = _get(record, "PNPDeviceID")
    name = _get(record, "Name", "Caption", "Description") or ""
    return bool(pnp and _SOFTWARE_ADAPTER.match(pnp)) or bool(_SOFTWARE_NAME.search(name))


def gpu_from_record(index: int, record: Record) -> Gpu:
    """A Gpu from one adapter's properties."""
    pnp = _get(record, "PNPDeviceID") or ""
    ids = _PNP_IDS.search(pnp)
    name = _get(record, "Name", "Caption", "Description", "VideoProcessor")
    vendor = vendor_from_id(ids.group(1)) if ids else None
    vendor = vendor or vendor_from_name(_get(record, "AdapterCompatibility"), name)
    return Gpu(
        index=index,
        vendor=vendor,
        name=name,
        pci_device_id=device_id_text(ids.group(1), ids.group(2)) if ids else None,
        memory_total_mib=adapter_ram_mib(_get(record, "AdapterRAM")),
        driver_version=_get(record, "DriverVersion"),
        source=SOURCE,
    )


def adapters(text: str) -> list[tuple[Record, Gpu]]:
    """Hardware adapters of a listing with their raw records."""
    records = [r for r in parse_records(text) if not is_software_adapter(r)]
    return [(record, gpu_from_record(i, record)) for i, record in enumerate(records)]


def parse_windows_gpu_kind(text: str) -> Sections:
    """Kind ``windows-gpu``."""
    return {"gpus": [gpu for _, gpu in adapters(text)]}


# -------------------------------------------------------------------------------- registry


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


def _registry_vram(runner: Runner, class_key: str) -> int | None:
    """qwMemorySize (64-bit, exact); else the 32-bit MemorySize unless it is capped."""
    size = registry_bytes(runner.registry(HKLM, class_key, "HardwareInformation.qwMemorySize"))
    if size is not None:
        return size
    size = registry_bytes(runner.registry(HKLM, class_key, "HardwareInformation.MemorySize"))
    return size if size is not None and size < ADAPTER_RAM_CAP else None


def with_registry(runner: Runner, gpu: Gpu, record: Record) -> Gpu:
    """The adapter's PCI location, real VRAM size and driver version from the registry."""
    pnp = _get(record, "PNPDeviceID")
    if not pnp:
        return gpu
    device_key = f"{ENUM_KEY}\\{pnp}"
    changes: dict[str, Any] = {}
    bus_id = bus_id_from_location(runner.registry(HKLM, device_key, "LocationInformation"))
    if bus_id:
        changes["pci_bus_id"] = bus_id
    driver_key = clean(runner.registry(HKLM, device_key, "Driver"))
    if driver_key:
        class_key = f"{CLASS_KEY}\\{driver_key}"
        size = _registry_vram(runner, class_key)
        if size:
            changes["memory_total_mib"] = size // (1 << 20)
        version = clean(runner.registry(HKLM, class_key, "DriverVersion"))
        if version:
            changes["driver_version"] = version
    if changes:
        changes["source"] = f"{SOURCE}+registry"
    return attrs.evolve(gpu, **changes)


# ----------------------------------------------------------------------------------- probe


def _listing(ctx: ProbeContext) -> tuple[str, str, list[str]]:
    """The adapter listing from PowerShell, else wmic; the notes say what failed."""
    runner = ctx.runner
    notes: list[str] = []
    shell = runner.which("powershell") or runner.which("pwsh")
    attempts: list[tuple[str, list[str]]] = []
    if shell:
        argv = [shell, "-NoProfile", "-NonInteractive", "-Command", POWERSHELL_SCRIPT]
        attempts.append(("Get-CimInstance", argv))
    wmic = runner.which("wmic")
    if wmic:
        attempts.append(("wmic", [wmic, *WMIC_ARGS]))
    for source, argv in attempts:
        result = runner.run(argv, cache=True)
        if result.succeeded and result.stdout.strip():
            return result.stdout, source, notes
        notes.append(result.describe())
    if not attempts:
        raise ProbeFailure("absent", "neither PowerShell nor wmic found", "Get-CimInstance")
    raise ProbeFailure("error", "; ".join(notes), attempts[0][0])


def probe(ctx: ProbeContext) -> Outcome:
    """Every display adapter Windows knows, with registry facts."""
    text, source, notes = _listing(ctx)
    try:
        found = adapters(text)
    except ParseError as exc:
        raise ProbeFailure("error", str(exc), source) from None
    gpus = [with_registry(ctx.runner, gpu, record) for record, gpu in found]
    return Outcome({"gpus": gpus}, source=f"{source} + registry", detail="; ".join(notes) or None)
