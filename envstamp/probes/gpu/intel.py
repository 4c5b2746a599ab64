"""Intel GPUs (Linux: i915/xe in sysfs, named by sycl-ls or vulkaninfo) and the runtimes those
tools report (Vulkan instance, OpenCL) on Linux and Windows.

On Linux nothing is spawned unless sysfs shows an Intel GPU (vendor 0x8086); then ``sycl-ls``
and ``vulkaninfo --summary`` run where installed, cached for the boot.  NVIDIA and AMD
devices those tools also list are left to their own probes.  On Windows the adapters come
from ``gpu_windows``; this probe adds only the runtime versions the tools print.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, Runtimes, Sections, fill_missing
from envstamp.parsers.drm import DrmDevice
from envstamp.parsers.pci import INTEL_VENDOR_ID, device_id_text
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.gpu.drm import drm_devices, read_int

if TYPE_CHECKING:
    from envstamp.runner import Runner

# Where the classic integrated GPU sits; discrete cards are behind a bridge on another bus.
INTEGRATED_SLOT = "00:02.0"
# xe reports each tile's local memory; i915 has no such attribute.
VRAM_FILES = ("tile0/physical_vram_size_bytes",)
# tool, arguments, parser ("module:function", imported only when the tool ran)
TOOLS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("sycl-ls", (), "envstamp.parsers.sycl_ls:parse_sycl_ls"),
    ("vulkaninfo", ("--summary",), "envstamp.parsers.vulkaninfo:parse_vulkaninfo"),
)


def _parser(target: str) -> Callable[[str], Sections]:
    import importlib

    module, _, function = target.partition(":")
    parse: Callable[[str], Sections] = getattr(importlib.import_module(module), function)
    return parse


def sysfs_gpu(runner: Runner, index: int, device: DrmDevice) -> Gpu:
    """An Intel GPU as sysfs knows it: ids, slot, and local memory where the driver says."""
    vram = next(
        (size for f in VRAM_FILES if (size := read_int(runner, f"{device.device_path}/{f}"))),
        None,
    )
    slot = (device.pci_slot or "").lower()
    integrated = slot.endswith(INTEGRATED_SLOT) and slot.count(":") == 2
    return Gpu(
        index=index,
        vendor="intel",
        pci_bus_id=device.pci_slot,
        pci_device_id=device_id_text(device.vendor_id, device.device_id),
        memory_total_mib=vram // (1 << 20) if vram else None,
        unified_memory=True if integrated else (False if vram else None),
        source="sysfs",
    )


def run_tools(runner: Runner) -> tuple[dict[str, Sections], list[str]]:
    """Each installed tool's parsed output; the notes say what failed."""
    found: dict[str, Sections] = {}
    notes: list[str] = []
    for name, args, target in TOOLS:
        path = runner.which(name)
        if not path:
            continue
        result = runner.run([path, *args], cache=True)
        if not result.succeeded:
            notes.append(result.describe())
            continue
        try:
            found[name] = _parser(target)(result.stdout)
        except ParseError as exc:
            notes.append(f"{name}: {exc}")
    return found, notes


def _runtimes(found: dict[str, Sections]) -> Runtimes | None:
    merged: Runtimes | None = None
    for sections in found.values():
        merged = fill_missing(merged, sections.get("runtimes"))
    return merged


def comparable_name(name: str | None) -> str:
    """A name without marks and driver suffixes: "Intel(R) Arc(tm) A770 Graphics (DG2)" and
    "Intel(R) Arc(TM) A770 Graphics" compare equal."""
    text = re.sub(r"\((?:r|tm|c)\)", "", (name or "").lower())
    text = re.sub(r"\s*\([^()]*\)\s*$", "", text)
    return " ".join(text.split())


def _take(candidates: list[Gpu], test: Callable[[Gpu], bool]) -> Gpu | None:
    found = next((c for c in candidates if test(c)), None)
    if found is not None:
        candidates.remove(found)
    return found


def _intel_gpus(found: dict[str, Sections], tool: str) -> list[Gpu]:
    return [g for g in found.get(tool, {}).get("gpus", []) if g.vendor == "intel"]


def name_devices(sysfs: list[Gpu], found: dict[str, Sections]) -> list[Gpu]:
    """sysfs entries filled from the tools' Intel GPUs.

    vulkaninfo prints PCI device ids, so its entries match exactly; sycl-ls (whose names win,
    being Intel's runtime) matches by id where the name embeds one, by name, or as the last
    device left on both sides.
    """
    vulkan, sycl = _intel_gpus(found, "vulkaninfo"), _intel_gpus(found, "sycl-ls")
    single = len(sysfs) == 1
    pairs: list[tuple[Gpu, Gpu | None, Gpu | None]] = []
    for gpu in sysfs:

        def same_device(candidate: Gpu, gpu: Gpu = gpu) -> bool:
            return single or candidate.pci_device_id == gpu.pci_device_id

        vk = _take(vulkan, same_device)
        name = comparable_name(vk.name) if vk else None

        def same_name(candidate: Gpu, name: str | None = name) -> bool:
            return same_device(candidate) or comparable_name(candidate.name) == name

        pairs.append((gpu, vk, _take(sycl, same_name)))
    unnamed = [i for i, (_, _, sy) in enumerate(pairs) if sy is None]
    if len(unnamed) == 1 and len(sycl) == 1:
        gpu, vk, _ = pairs[unnamed[0]]
        pairs[unnamed[0]] = (gpu, vk, sycl[0])
    return [_merged(gpu, vk, sy) for gpu, vk, sy in pairs]


def _merged(gpu: Gpu, vk: Gpu | None, sy: Gpu | None) -> Gpu:
    tools = [t for t, entry in (("sycl-ls", sy), ("vulkaninfo", vk)) if entry is not None]
    named: Gpu = fill_missing(gpu, fill_missing(sy, vk))
    return attrs.evolve(named, source="+".join([gpu.source or "sysfs", *tools]))


def _linux(ctx: ProbeContext) -> Outcome:
    devices = drm_devices(ctx.runner, INTEL_VENDOR_ID)
    if not devices:
        raise ProbeFailure("absent", "no Intel GPU in /sys/class/drm", "sysfs")
    sysfs = [sysfs_gpu(ctx.runner, i, d) for i, d in enumerate(devices)]
    found, notes = run_tools(ctx.runner)
    sections: Sections = {"gpus": name_devices(sysfs, found)}
    runtimes = _runtimes(found)
    if runtimes is not None:
        sections["runtimes"] = runtimes
    source = "+".join(["sysfs", *found])
    return Outcome(sections, source=source, detail="; ".join(notes) or None)


def _windows(ctx: ProbeContext) -> Outcome:
    found, notes = run_tools(ctx.runner)
    runtimes = _runtimes(found)
    if runtimes is None:
        detail = "; ".join(notes) or "neither sycl-ls nor vulkaninfo found"
        raise ProbeFailure("absent", detail, "sycl-ls")
    source = "+".join(found)
    return Outcome({"runtimes": runtimes}, source=source, detail="; ".join(notes) or None)


def probe(ctx: ProbeContext) -> Outcome:
    """Intel GPUs (Linux) and the Vulkan/OpenCL runtime versions."""
    if ctx.system == "Windows":
        return _windows(ctx)
    return _linux(ctx)


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "gpu_intel", "order": 240, "systems": ("Linux", "Windows")},)
