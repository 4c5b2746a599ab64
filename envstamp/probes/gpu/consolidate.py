"""One GPU list, whatever the sources: the same device seen twice appears once."""

from __future__ import annotations

from envstamp.manifest.model import Gpu, fill_missing


def _identity(gpu: Gpu) -> str | None:
    if gpu.uuid:
        return "uuid:" + gpu.uuid.lower()
    if gpu.pci_bus_id:
        return "pci:" + normalize_bus_id(gpu.pci_bus_id)
    return None


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
    """Merge entries that describe one device; earlier (better) sources win, later fill."""
    merged: list[Gpu] = []
    seen: dict[str, int] = {}
    for gpu in gpus:
        keys = [k for k in (_identity(gpu), _bus_key(gpu)) if k]
        position = next((seen[k] for k in keys if k in seen), None)
        if position is None:
            position = len(merged)
            merged.append(gpu)
        else:
            merged[position] = fill_missing(merged[position], gpu)
        for key in (_identity(merged[position]), _bus_key(merged[position]), *keys):
            if key:
                seen[key] = position
    return merged


def _bus_key(gpu: Gpu) -> str | None:
    return "pci:" + normalize_bus_id(gpu.pci_bus_id) if gpu.pci_bus_id else None
