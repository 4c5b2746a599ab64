"""Which machine this is: host name, a hashed machine id, the machine model.

The machine id is never stored raw: only its sha256 (shareable manifests salt it again).
Sources: Linux /etc/machine-id (or D-Bus's copy) and DMI or device-tree for the model; macOS
``ioreg`` (cached until reboot) and hw.model; Windows the registry's MachineGuid and BIOS key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envstamp.errors import ParseError
from envstamp.manifest.model import Host
from envstamp.parsers.cpu import parse_sysctl
from envstamp.parsers.machine_identity import (
    dmi_value,
    hash_machine_id,
    machine_model,
    parse_ioreg_uuid,
)
from envstamp.parsers.textutil import clean
from envstamp.probes.context import Outcome, ProbeContext
from envstamp.probes.system.shared import command_text, darwin_sysctl

if TYPE_CHECKING:
    from envstamp.runner import Runner

MACHINE_ID_PATHS = ("/etc/machine-id", "/var/lib/dbus/machine-id")
DMI = "/sys/class/dmi/id"
DEVICE_TREE_MODELS = ("/sys/firmware/devicetree/base/model", "/proc/device-tree/model")
HKLM = "HKEY_LOCAL_MACHINE"

def probe(ctx: ProbeContext) -> Outcome:
    """The host section for this system."""
    hostname = clean(ctx.platform.get("node"))
    if ctx.system == "Linux":
        host = Host(hostname, _linux_machine_id(ctx.runner), _linux_model(ctx.runner))
        return Outcome(sections={"host": host}, source="/etc/machine-id, DMI")
    if ctx.system == "Darwin":
        host = Host(hostname, _darwin_machine_id(ctx.runner), _darwin_model(ctx.runner))
        return Outcome(sections={"host": host}, source="ioreg, sysctl")
    if ctx.system == "Windows":
        return Outcome(sections={"host": _windows(ctx.runner, hostname)}, source="registry")
    return Outcome(sections={"host": Host(hostname=hostname)}, source="platform")


def _linux_machine_id(runner: Runner) -> str | None:
    for path in MACHINE_ID_PATHS:
        hashed = hash_machine_id(runner.text(path, limit=4096))
        if hashed:
            return hashed
    return None


def _linux_model(runner: Runner) -> str | None:
    model = machine_model(
        runner.text(f"{DMI}/sys_vendor", limit=4096),
        runner.text(f"{DMI}/product_name", limit=4096),
        runner.text(f"{DMI}/product_version", limit=4096),
    )
    if model:
        return model
    for path in DEVICE_TREE_MODELS:  # ARM boards: "Raspberry Pi 5 Model B Rev 1.0"
        found = dmi_value(runner.text(path, limit=4096))
        if found:
            return found
    return None


def _darwin_machine_id(runner: Runner) -> str | None:
    result = runner.run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], cache=True)
    if not result.succeeded:
        return None
    try:
        return hash_machine_id(parse_ioreg_uuid(result.stdout))
    except ParseError:
        return None


def _darwin_model(runner: Runner) -> str | None:
    text = command_text(darwin_sysctl(runner))
    if text is None:
        return None
    try:
        return parse_sysctl(text)[2].model
    except ParseError:
        return None


def _windows(runner: Runner, hostname: str | None) -> Host:
    guid = runner.registry(HKLM, r"SOFTWARE\Microsoft\Cryptography", "MachineGuid")
    bios = r"HARDWARE\DESCRIPTION\System\BIOS"
    vendor = runner.registry(HKLM, bios, "SystemManufacturer")
    product = runner.registry(HKLM, bios, "SystemProductName")
    return Host(
        hostname=hostname,
        machine_id=hash_machine_id(guid if isinstance(guid, str) else None),
        model=machine_model(
            vendor if isinstance(vendor, str) else None,
            product if isinstance(product, str) else None,
            None,
        ),
    )


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "host", "order": 100},)
