"""Linux DRM devices from sysfs (/sys/class/drm/card*/device), shared by the AMD and Intel probes.

One directory listing and one small ``uevent`` read per card tell vendor, device id, PCI slot
and kernel driver, so a machine without a GPU of some vendor learns that in microseconds and
without spawning anything.  Reading goes through the runner (recorded, replayable); the
parsers here are pure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from envstamp.manifest.records import FrozenRecord, frozen_record
from envstamp.parsers.pci import hex_id, pcie_gen_from_speed
from envstamp.parsers.textutil import clean, to_int

if TYPE_CHECKING:
    from envstamp.runner import Runner

DRM_CLASS = "/sys/class/drm"


@frozen_record
class DrmDevice(FrozenRecord):
    """A PCI display device the kernel's DRM layer knows."""

    card: str
    device_path: str
    vendor_id: int | None = None
    device_id: int | None = None
    pci_slot: str | None = None
    driver: str | None = None


@frozen_record
class PcieLink(FrozenRecord):
    """A PCIe link as sysfs reports it."""

    gen_max: int | None = None
    width_max: int | None = None
    gen_current: int | None = None
    width_current: int | None = None


def parse_uevent(text: str) -> dict[str, str]:
    """KEY=value lines of a sysfs uevent file."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, found, value = line.partition("=")
        if found and key.strip():
            values[key.strip()] = value.strip()
    return values


def device_from_uevent(card: str, device_path: str, text: str) -> DrmDevice:
    """A DrmDevice from its PCI uevent (PCI_ID=1002:744C, PCI_SLOT_NAME, DRIVER)."""
    values = parse_uevent(text)
    vendor, _, device = values.get("PCI_ID", "").partition(":")
    return DrmDevice(
        card=card,
        device_path=device_path,
        vendor_id=hex_id(vendor),
        device_id=hex_id(device),
        pci_slot=values.get("PCI_SLOT_NAME") or None,
        driver=values.get("DRIVER") or None,
    )


def card_names(names: list[str]) -> list[str]:
    """ "card0".."cardN" (not connectors such as card0-DP-1), in numeric order."""
    cards = [n for n in names if re.fullmatch(r"card\d+", n)]
    return sorted(cards, key=lambda n: int(n[4:]))


def drm_devices(runner: Runner, vendor_id: int | None = None) -> list[DrmDevice]:
    """PCI DRM devices, optionally of one vendor; empty where there is no sysfs."""
    names = runner.list_dir(DRM_CLASS)
    if not names:
        return []
    devices: list[DrmDevice] = []
    seen: set[str] = set()
    for card in card_names(names):
        device_path = f"{DRM_CLASS}/{card}/device"
        uevent = runner.read_text(f"{device_path}/uevent")
        if not uevent.ok or uevent.text is None:
            continue
        device = device_from_uevent(card, device_path, uevent.text)
        if device.vendor_id is None or (vendor_id is not None and device.vendor_id != vendor_id):
            continue
        key = device.pci_slot or card
        if key not in seen:  # one PCI function may expose several DRM cards
            seen.add(key)
            devices.append(device)
    return devices


def read_value(runner: Runner, path: str) -> str | None:
    """A one-line sysfs attribute, stripped; None when missing or unreadable."""
    result = runner.read_text(path, limit=4096)
    if not result.ok or result.text is None:
        return None
    return clean(result.text.strip().splitlines()[0] if result.text.strip() else None)


def read_int(runner: Runner, path: str) -> int | None:
    """A numeric sysfs attribute."""
    return to_int(read_value(runner, path))


def pcie_link(runner: Runner, device_path: str) -> PcieLink:
    """max/current link speed and width of a PCI device."""
    return PcieLink(
        gen_max=pcie_gen_from_speed(read_value(runner, f"{device_path}/max_link_speed")),
        width_max=_width(read_value(runner, f"{device_path}/max_link_width")),
        gen_current=pcie_gen_from_speed(read_value(runner, f"{device_path}/current_link_speed")),
        width_current=_width(read_value(runner, f"{device_path}/current_link_width")),
    )


def _width(value: str | None) -> int | None:
    width = to_int(value)
    # 255 is what sysfs reads when the link is down or unknown.
    return width if width is not None and 0 < width <= 32 else None
