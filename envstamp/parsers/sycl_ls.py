"""Pure parser of ``sycl-ls``: one line per SYCL device, GPUs kept.

Two line shapes::

    [level_zero:gpu][level_zero:0] Intel(R) Level-Zero, Intel(R) Arc(TM) A770 Graphics 1.3 [1.3.2]
    [opencl:gpu:2] Intel(R) OpenCL Graphics, Intel(R) Arc(TM) A770 Graphics 3.0 [23.17.26241.3]

i.e. backend and device type, an index, the platform, a comma, the device name, the version
the device supports (OpenCL "3.0", Level Zero "1.3", a CUDA compute capability, a gfx target)
and the driver in brackets.  One GPU shows once per backend; Level Zero's line is kept.
"""

from __future__ import annotations

import re

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, Runtimes, Sections
from envstamp.parsers.pci import device_id_text, vendor_from_name
from envstamp.parsers.textutil import clean, collapse

SOURCE = "sycl-ls"
_LINE = re.compile(
    r"^\s*\[(?P<backend>[a-z_]+):(?P<type>[a-z]+)(?::(?P<first>\d+))?\]"
    r"(?:\[[a-z_]+:(?P<second>\d+)\])?\s*(?P<rest>.*)$",
    re.I,
)
_DRIVER = re.compile(r"^(?P<body>.*?)\s*\[(?P<driver>[^\[\]]*)\]\s*$")
_VERSION_TAIL = re.compile(
    r"\s+(?P<version>OpenCL\s+\d+(?:\.\d+)*\b.*|\d+(?:\.\d+)+|gfx[0-9a-f]+)\s*$", re.I
)
_EMBEDDED_ID = re.compile(r"\[(0x[0-9a-f]{4})\]", re.I)
# Which backend's line describes a GPU best, when several list it.
_PRIORITY = {"level_zero": 0, "cuda": 1, "hip": 1, "opencl": 2}


@attrs.frozen
class SyclDevice:
    """One device line."""

    backend: str
    type: str
    index: int | None
    platform: str | None
    name: str | None
    version: str | None
    driver: str | None


def parse_line(line: str) -> SyclDevice | None:
    """A device line, or None for anything else (warnings, verbose details)."""
    match = _LINE.match(line)
    if match is None:
        return None
    backend = match.group("backend").lower().removeprefix("ext_oneapi_")
    platform, _, device = match.group("rest").partition(", ")
    if not device:
        platform, device = "", platform
    driver_match = _DRIVER.match(device)
    body = driver_match.group("body") if driver_match else device
    version_match = _VERSION_TAIL.search(body)
    name = body[: version_match.start()] if version_match else body
    index = match.group("second") or match.group("first")
    return SyclDevice(
        backend=backend,
        type=match.group("type").lower(),
        index=int(index) if index is not None else None,
        platform=clean(platform),
        name=clean(name),
        version=collapse(version_match.group("version")) if version_match else None,
        driver=clean(driver_match.group("driver")) if driver_match else None,
    )


def _vendor(device: SyclDevice) -> str | None:
    if device.backend == "level_zero":
        return "intel"
    if device.backend == "cuda":
        return "nvidia"
    if device.backend == "hip":
        return "amd"
    return vendor_from_name(device.platform, device.name)


def _gpu(device: SyclDevice) -> Gpu:
    vendor = _vendor(device)
    embedded = _EMBEDDED_ID.search(device.name or "")
    version = device.version or ""
    is_cuda, is_hip = device.backend == "cuda", device.backend == "hip"
    cuda_version = re.search(r"CUDA\s+([\d.]+)", device.driver or "") if is_cuda else None
    return Gpu(
        index=device.index,
        vendor=vendor,
        name=device.name,
        pci_device_id=device_id_text(0x8086, embedded.group(1))
        if embedded and vendor == "intel"
        else None,
        driver_version=None if is_cuda or is_hip else device.driver,
        cuda_version=cuda_version.group(1) if cuda_version else None,
        compute_capability=version if is_cuda and re.fullmatch(r"\d+\.\d+", version) else None,
        architecture=version.lower() if is_hip and version.lower().startswith("gfx") else None,
        source=SOURCE,
    )


def _best_gpus(devices: list[SyclDevice]) -> list[SyclDevice]:
    """Each GPU once: per name, the lines of the best backend that lists it."""
    gpus = [d for d in devices if d.type == "gpu"]
    best: dict[str | None, int] = {}
    for device in gpus:
        rank = _PRIORITY.get(device.backend, 1)
        best[device.name] = min(best.get(device.name, rank), rank)
    return [d for d in gpus if _PRIORITY.get(d.backend, 1) == best[d.name]]


def _opencl_version(devices: list[SyclDevice]) -> str | None:
    versions = []
    for device in devices:
        if device.backend != "opencl" or not device.version:
            continue
        match = re.search(r"(\d+\.\d+)", device.version)
        if match:
            versions.append(match.group(1))
    return max(versions, key=lambda v: tuple(int(p) for p in v.split("."))) if versions else None


def parse_sycl_ls(text: str) -> Sections:
    """GPUs and the OpenCL version of a ``sycl-ls`` listing."""
    if not text or not text.strip():
        raise ParseError("empty sycl-ls output")
    devices = [d for d in (parse_line(line) for line in text.splitlines()) if d is not None]
    if not devices:
        raise ParseError("no sycl-ls device lines ([backend:type] ...)")
    sections: Sections = {"gpus": [_gpu(d) for d in _best_gpus(devices)]}
    opencl = _opencl_version(devices)
    if opencl is not None:
        sections["runtimes"] = Runtimes(opencl=opencl)
    return sections


def parse_sycl_ls_kind(text: str) -> Sections:
    """Kind ``sycl-ls``: every GPU it lists (of any vendor) and the OpenCL version."""
    return parse_sycl_ls(text)


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "sycl-ls": ("parse_sycl_ls_kind", "sycl-ls"),
}
