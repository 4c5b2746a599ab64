"""Linux DRM devices in sysfs (/sys/class/drm/card*/device): uevent files, card names, PCIe
link attributes, and amdgpu's PCIe DPM levels.

The AMD and Intel probes read these files through the runner; these functions only read them.
"""

from __future__ import annotations

import re

import attrs

from envstamp.manifest.records import FrozenRecord
from envstamp.parsers.pci import hex_id, pcie_gen_from_speed
from envstamp.parsers.textutil import to_int


@attrs.frozen(eq=False, repr=False)
class DrmDevice(FrozenRecord):
    """A PCI display device the kernel's DRM layer knows."""

    card: str
    device_path: str
    vendor_id: int | None = None
    device_id: int | None = None
    pci_slot: str | None = None
    driver: str | None = None


@attrs.frozen(eq=False, repr=False)
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


def pcie_width(value: str | None) -> int | None:
    """A link width attribute (lanes); None when the link is down or unknown."""
    width = to_int(value)
    # 255 is what sysfs reads when the link is down or unknown.
    return width if width is not None and 0 < width <= 32 else None


_DPM_PCIE = r"^\s*\d+:\s*([\d.]+)\s*GT/s,?\s*x(\d+)(.*)$"


def parse_pp_dpm_pcie(text: str) -> PcieLink | None:
    """amdgpu's PCIe DPM levels ("1: 16.0GT/s, x16 619Mhz *"): the top level is the link the
    driver will use (capped by the slot), the starred one the link now.  More telling than the
    endpoint's own link attributes, which on cards with a built-in switch describe that."""
    levels: list[tuple[int, int, bool]] = []
    for line in text.splitlines():
        match = re.match(_DPM_PCIE, line, re.IGNORECASE)
        gen = pcie_gen_from_speed(f"{match.group(1)} GT/s") if match else None
        if match and gen is not None:
            levels.append((gen, int(match.group(2)), "*" in match.group(3)))
    if not levels:
        return None
    now = next(((g, w) for g, w, active in levels if active), (None, None))
    return PcieLink(
        gen_max=max(g for g, _, _ in levels),
        width_max=max(w for _, w, _ in levels),
        gen_current=now[0],
        width_current=now[1],
    )
