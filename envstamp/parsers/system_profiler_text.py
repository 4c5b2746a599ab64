"""system_profiler's text output (what people paste most), read into the shape of its JSON.

    Graphics/Displays:

        Apple M1 Pro:

          Chipset Model: Apple M1 Pro
          Type: GPU
          Bus: Built-In
          Total Number of Cores: 16
          Vendor: Apple (0x106b)
          Metal Support: Metal 3
          Displays:
            Color LCD:
              ...

The indentation is the structure: each item under "Graphics/Displays" is a graphics
processor (its "Displays" are monitors), "Hardware Overview" holds the machine.  The printed
labels are mapped to the JSON keys, so one parser serves both forms.
"""

from __future__ import annotations

import re
from typing import Any

from envstamp.parsers.indented import Node, tree

_DISPLAY_KEYS = {
    "chipset model": "sppci_model",
    "type": "sppci_device_type",
    "bus": "sppci_bus",
    "total number of cores": "sppci_cores",
    "vendor": "spdisplays_vendor",
    "vram (total)": "spdisplays_vram",
    "vram": "spdisplays_vram",
    "vram (dynamic, max)": "spdisplays_vram_shared",
    "device id": "spdisplays_device-id",
    "rom revision": "spdisplays_rom-revision",
    "metal support": "spdisplays_mtlgpufamilysupport",
    "metal family": "spdisplays_metalfamily",
    "metal": "spdisplays_metal",
}
_HARDWARE_KEYS = {
    "chip": "chip_type",
    "processor name": "cpu_type",
    "total number of cores": "number_processors",
    "number of processors": "packages",
    "memory": "physical_memory",
    "model identifier": "machine_model",
    "l2 cache (per core)": "l2_cache_core",
    "l3 cache": "l3_cache",
    "hyper-threading technology": "platform_cpu_htt",
}
def _fields(node: Node, keys: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {"_name": node.key}
    for child in node.children:
        key = keys.get(child.key.lower())
        if key is not None and child.value is not None:
            fields[key] = child.value
    if "sppci_bus" in fields:  # "Built-In" as the JSON spells it
        fields["sppci_bus"] = re.sub(r"[^a-z]", "", fields["sppci_bus"].lower())
    return fields


def _find(nodes: list[Node], key: str) -> Node | None:
    """The first node of that key, at any depth."""
    for node in nodes:
        if node.key.lower() == key:
            return node
        found = _find(node.children, key)
        if found is not None:
            return found
    return None


def as_json_shape(text: str) -> dict[str, Any]:
    """{"SPDisplaysDataType": [...], "SPHardwareDataType": [...]}, as far as the text has them."""
    roots = tree(text)
    data: dict[str, Any] = {}
    displays = _find(roots, "graphics/displays")
    if displays is not None:
        data["SPDisplaysDataType"] = [_fields(gpu, _DISPLAY_KEYS) for gpu in displays.children]
    overview = _find(roots, "hardware overview")
    if overview is not None:
        data["SPHardwareDataType"] = [_fields(overview, _HARDWARE_KEYS)]
    return data
