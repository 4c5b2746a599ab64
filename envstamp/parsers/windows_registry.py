"""Windows registry values read as manifest fields: the OS from CurrentVersion, the CPU from
CentralProcessor\\0, the power plan from PowerSchemes.

The probes ask the runner for the values; these functions only interpret them.
"""

from __future__ import annotations

import re

from envstamp.errors import ParseError
from envstamp.manifest.model import Cpu, OperatingSystem
from envstamp.parsers.textutil import clean, collapse, to_int


def windows_os(values: dict[str, object]) -> OperatingSystem:
    """The os section from CurrentVersion registry values.

    Windows 11 still says "Windows 10" in ProductName; build 22000 and later is Windows 11.
    """
    name = clean(values.get("ProductName"))
    build_number = clean(values.get("CurrentBuild")) or clean(values.get("CurrentBuildNumber"))
    build_int = to_int(build_number)
    if name and build_int is not None and build_int >= 22000:
        name = re.sub(r"\bWindows 10\b", "Windows 11", name)
    ubr = to_int(values.get("UBR"))
    build = f"{build_number}.{ubr}" if build_number and ubr is not None else build_number
    display = clean(values.get("DisplayVersion")) or clean(values.get("ReleaseId"))
    pretty = collapse(" ".join(p for p in (name, display) if p)) or None
    return OperatingSystem(
        system="Windows",
        distro_id="windows",
        distro_name=name,
        distro_version=display,
        distro_pretty=pretty,
        build=build,
        edition=clean(values.get("EditionID")),
    )


def windows_cpu(values: dict[str, object], logical_cpus: int | None, machine: str | None) -> Cpu:
    """Cpu from CentralProcessor\\0 registry values.

    ``~MHz`` is the rated clock, not the maximum, so it is not used as max_mhz.
    """
    name = clean(values.get("ProcessorNameString"))
    vendor = clean(values.get("VendorIdentifier"))
    if name is None and vendor is None:
        raise ParseError("registry has no ProcessorNameString or VendorIdentifier")
    return Cpu(vendor=vendor, model_name=name, arch=machine, logical_cpus=logical_cpus)


# Windows' built-in plans (their GUIDs are the same on every installation).
WINDOWS_PLANS = {
    "381b4222-f694-41f0-9685-ff5bb260df2e": "Balanced",
    "8c5e7fda-e8bf-4a96-9a85-a6e23a8c635c": "High performance",
    "a1841308-3541-4fab-bc81-f71556f20b4a": "Power saver",
    "e9a42b02-d5df-448d-aa00-03f14749eb61": "Ultimate Performance",
}


def windows_plan_name(guid: str | None, friendly_name: str | None) -> str | None:
    """A power plan's name: the built-in name for a well-known GUID, else its FriendlyName."""
    key = (clean(guid) or "").strip("{}").lower()
    if key in WINDOWS_PLANS:
        return WINDOWS_PLANS[key]
    name = clean(friendly_name)
    if name and name.startswith("@"):
        # "@%SystemRoot%\system32\powrprof.dll,-14,My plan": the text after the resource id
        tail = name.rsplit(",", 1)[-1]
        name = clean(tail) if not tail.lstrip("-").isdigit() else None
    return name or (key or None)
