"""Linux DRM devices from sysfs (/sys/class/drm/card*/device), shared by the AMD and Intel probes.

One directory listing and one small ``uevent`` read per card tell vendor, device id, PCI slot
and kernel driver, so a machine without a GPU of some vendor learns that in microseconds and
without spawning anything.  Reading goes through the runner (recorded, replayable); the
files are read by :mod:`envstamp.parsers.drm`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envstamp.parsers.drm import DrmDevice, PcieLink, card_names, device_from_uevent, pcie_width
from envstamp.parsers.pci import pcie_gen_from_speed
from envstamp.parsers.textutil import clean, to_int

if TYPE_CHECKING:
    from envstamp.runner import Runner

DRM_CLASS = "/sys/class/drm"


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
        width_max=pcie_width(read_value(runner, f"{device_path}/max_link_width")),
        gen_current=pcie_gen_from_speed(read_value(runner, f"{device_path}/current_link_speed")),
        width_current=pcie_width(read_value(runner, f"{device_path}/current_link_width")),
    )


