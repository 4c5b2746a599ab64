"""One GPU list, whatever the sources: the same device seen twice appears once."""

from __future__ import annotations

from envstamp.manifest.model import Gpu, fill_missing


def normalize_bus_id(bus_id: str) -> str:
    """ "00000000:01:00.0" and "0000:01:00.0" name the same device."""
    text = bus_id.strip().lower()
    domain, sep, rest = text.partition(":")
    if sep and rest.count(":") == 1 and _is_hex(domain):
        return f"{int(domain, 16):04x}:{rest}"
    return text


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdef" for c in text)


def consolidate(gpus: list[Gpu]) -> list[Gpu]:
    """Merge entries that describe one device; earlier (better) sources win, later fill.

    Entries are one device when a chain of shared identifiers (UUID, bus id) links them: a
    device seen by UUID only, then by bus id only, then by both is one entry, whatever the
    order.  Each device sits where it was first seen.
    """
    groups = _linked_groups(gpus)
    merged: list[Gpu] = []
    for members in groups:
        device = gpus[members[0]]
        for index in members[1:]:
            device = fill_missing(device, gpus[index])
        merged.append(device)
    return merged


def _linked_groups(gpus: list[Gpu]) -> list[list[int]]:
    """Indexes of ``gpus`` grouped by shared identifiers (union-find), in first-seen order."""
    parent = list(range(len(gpus)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[str, int] = {}
    for index, gpu in enumerate(gpus):
        for key in _keys(gpu):
            if key in owner:
                # the lower index stays the root: the group keeps its first-seen place
                first, second = sorted((root(owner[key]), root(index)))
                parent[second] = first
            else:
                owner[key] = index
    groups: dict[int, list[int]] = {}
    for index in range(len(gpus)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def _keys(gpu: Gpu) -> list[str]:
    """What identifies the device: its UUID (any case) and its bus id (any spelling)."""
    keys = []
    if gpu.uuid:
        keys.append("uuid:" + gpu.uuid.lower())
    if gpu.pci_bus_id:
        keys.append("pci:" + normalize_bus_id(gpu.pci_bus_id))
    return keys
