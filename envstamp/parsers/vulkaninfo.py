"""Pure parser of ``vulkaninfo --summary`` (and the full text output, which shares its shape).

    Vulkan Instance Version: 1.3.275
    ...
    GPU0:
        apiVersion         = 1.3.274
        driverVersion      = 24.0.5
        vendorID           = 0x1002
        deviceID           = 0x744c
        deviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
        deviceName         = AMD Radeon RX 7900 XTX (RADV NAVI31)
        driverName         = radv
        driverInfo         = Mesa 24.0.5-1ubuntu1

Software rasterisers (llvmpipe, lavapipe, SwiftShader: device type CPU) are not GPUs.  The
driver a device reports is its user-space Vulkan driver: ``driverInfo`` (the NVIDIA driver
version, "Mesa 24.0.5"...), else ``driverVersion``.
"""

from __future__ import annotations

import re

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, Runtimes, Sections
from envstamp.parsers.pci import device_id_text, hex_id, vendor_from_id
from envstamp.parsers.textutil import clean

SOURCE = "vulkaninfo"
_INSTANCE = re.compile(r"Vulkan Instance Version\s*:\s*(\d+(?:\.\d+)+)", re.I)
_GPU_HEADER = re.compile(r"^\s*GPU\s*(\d+)\s*:?\s*$")  # "GPU0:" ("GPU0" in 1.1)
_PAIR = re.compile(r"^\s*([A-Za-z][\w]*)\s*=\s*(.*?)\s*$")
_SOFTWARE = re.compile(r"llvmpipe|lavapipe|swiftshader|softpipe", re.I)
_VERSION = re.compile(r"\d+(?:\.\d+)+")


def _blocks(lines: list[str]) -> dict[int, dict[str, str]]:
    """GPU index -> its ``key = value`` pairs (the first of each key)."""
    blocks: dict[int, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in lines:
        header = _GPU_HEADER.match(line)
        if header:
            current = blocks.setdefault(int(header.group(1)), {})
            continue
        pair = _PAIR.match(line) if current is not None else None
        if pair and current is not None:
            current.setdefault(pair.group(1), pair.group(2))
    return blocks


def _is_gpu(values: dict[str, str]) -> bool:
    kind = (values.get("deviceType") or "").upper()
    if "CPU" in kind:
        return False
    return not _SOFTWARE.search(f"{values.get('deviceName', '')} {values.get('driverName', '')}")


def _unified(kind: str) -> bool | None:
    if "INTEGRATED" in kind:
        return True
    if "DISCRETE" in kind:
        return False
    return None


def _driver(values: dict[str, str]) -> str | None:
    info = clean(values.get("driverInfo"))
    if info is not None:
        return info
    version = _VERSION.search(values.get("driverVersion") or "")
    return version.group() if version else None


def _gpu(index: int, values: dict[str, str]) -> Gpu:
    vendor_id = hex_id(values.get("vendorID"))
    return Gpu(
        index=index,
        vendor=vendor_from_id(vendor_id) if vendor_id is not None else None,
        name=clean(values.get("deviceName")),
        pci_device_id=device_id_text(vendor_id, values.get("deviceID")),
        unified_memory=_unified((values.get("deviceType") or "").upper()),
        driver_version=_driver(values),
        source=SOURCE,
    )


def parse_vulkaninfo(text: str) -> Sections:
    """GPUs and the Vulkan instance version."""
    if not text or not text.strip():
        raise ParseError("empty vulkaninfo output")
    instance = _INSTANCE.search(text)
    blocks = _blocks(text.splitlines())
    if instance is None and not blocks:
        error = re.search(r"^.*(?:ERROR|error).*$", text, re.M)
        reason = f": {error.group().strip()[:120]}" if error else ""
        raise ParseError(f"not vulkaninfo output (no instance version, no GPUs){reason}")
    gpus = [_gpu(i, values) for i, values in sorted(blocks.items()) if _is_gpu(values)]
    sections: Sections = {"gpus": gpus}
    if instance is not None:
        sections["runtimes"] = Runtimes(vulkan_instance=instance.group(1))
    return sections


def parse_vulkaninfo_kind(text: str) -> Sections:
    """Kind ``vulkaninfo``: every hardware GPU it lists and the Vulkan instance version."""
    return parse_vulkaninfo(text)


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "vulkaninfo": ("parse_vulkaninfo_kind", "vulkaninfo --summary"),
}
