"""Windows display adapters: Win32_VideoController (PowerShell, wmic as the fallback) + registry.

AdapterRAM is a uint32: cards with 4 GiB or more read as about 4 GiB (a capped counter) or
wrap around, so a value near 4 GiB is null and the real size comes from the registry's
``HardwareInformation.qwMemorySize`` of the adapter's driver key.  The registry also gives
the PCI location (so the adapter merges with what NVML or nvidia-smi saw of the same device)
and the driver version in force (the listing itself is kept in the static cache).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu
from envstamp.parsers.textutil import clean
from envstamp.parsers.windows_gpu import (
    ADAPTER_RAM_CAP,
    SOURCE,
    adapters,
    bus_id_from_location,
    record_value,
    registry_bytes,
)
from envstamp.parsers.windows_listing import Record
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure

if TYPE_CHECKING:
    from envstamp.runner import Runner

PROPERTIES = "Name,AdapterCompatibility,AdapterRAM,DriverVersion,PNPDeviceID,VideoProcessor"
POWERSHELL_SCRIPT = (
    "[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; "
    f"Get-CimInstance -ClassName Win32_VideoController | Select-Object {PROPERTIES} | Format-List"
)
WMIC_ARGS = ("path", "win32_VideoController", "get", PROPERTIES, "/format:list")
HKLM = "HKEY_LOCAL_MACHINE"
ENUM_KEY = "SYSTEM\\CurrentControlSet\\Enum"
CLASS_KEY = "SYSTEM\\CurrentControlSet\\Control\\Class"

# -------------------------------------------------------------------------------- registry


def _registry_vram(runner: Runner, class_key: str) -> int | None:
    """qwMemorySize (64-bit, exact); else the 32-bit MemorySize unless it is capped."""
    size = registry_bytes(runner.registry(HKLM, class_key, "HardwareInformation.qwMemorySize"))
    if size is not None:
        return size
    size = registry_bytes(runner.registry(HKLM, class_key, "HardwareInformation.MemorySize"))
    return size if size is not None and size < ADAPTER_RAM_CAP else None


def with_registry(runner: Runner, gpu: Gpu, record: Record) -> Gpu:
    """The adapter's PCI location, real VRAM size and driver version from the registry."""
    pnp = record_value(record, "PNPDeviceID")
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


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "gpu_windows", "order": 230, "systems": ("Windows",)},)
