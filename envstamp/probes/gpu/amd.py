"""AMD GPUs: sysfs first (cheap, needs no ROCm), then ``amd-smi``, then ``rocm-smi``.

sysfs (/sys/class/drm/card*/device with vendor 0x1002) gives device ids, VRAM, VBIOS, the
power cap and the PCIe link; the KFD topology gives the gfx target.  A tool, where installed,
gives the product name and fills what sysfs lacks; sysfs' live readings (power cap, link now)
win over a tool's cached answer.  On a machine without an AMD GPU and without the tools this
costs one directory listing, a few small reads and two PATH look-ups, and spawns nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, fill_missing
from envstamp.parsers.drm import DrmDevice, PcieLink, parse_pp_dpm_pcie
from envstamp.parsers.kfd import KfdNode, parse_kfd_properties
from envstamp.parsers.pci import AMD_VENDOR_ID, device_id_text
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.gpu.consolidate import normalize_bus_id
from envstamp.probes.gpu.drm import drm_devices, pcie_link, read_int, read_value

if TYPE_CHECKING:
    from envstamp.runner import Runner

# What a parser may raise on an unseen tool version (ParseError, or a bug it did not foresee).
PARSE_FAILURES = (ParseError, ValueError, TypeError, KeyError, IndexError, AttributeError)

_POWER_FILES = ("power1_cap", "power1_cap_default", "power1_cap_max")
KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"
AMDGPU_MODULE_VERSION = "/sys/module/amdgpu/version"
AMD_SMI_ARGS = ("static", "--json")
ROCM_SMI_ARGS = (
    "--showproductname",
    "--showid",
    "--showdriverversion",
    "--showvbios",
    "--showmaxpower",
    "--showmeminfo",
    "vram",
    "--showbus",
    "--json",
)


# ----------------------------------------------------------------------------------- sysfs


def kfd_nodes(runner: Runner) -> dict[str, KfdNode]:
    """GPU nodes of the KFD topology by normalized PCI bus id."""
    nodes: dict[str, KfdNode] = {}
    for name in runner.list_dir(KFD_NODES) or []:
        if not name.isdigit():
            continue
        result = runner.read_text(f"{KFD_NODES}/{name}/properties", limit=65536)
        node = parse_kfd_properties(result.text) if result.ok and result.text else None
        if node is not None and node.bus_id:
            nodes[normalize_bus_id(node.bus_id)] = node
    return nodes


def _power_caps(runner: Runner, device_path: str) -> tuple[float | None, ...]:
    """hwmon power1_cap, power1_cap_default, power1_cap_max (microwatts) -> watts."""
    hwmons = [n for n in runner.list_dir(f"{device_path}/hwmon") or [] if n.startswith("hwmon")]
    if not hwmons:
        return (None, None, None)
    base = f"{device_path}/hwmon/{hwmons[0]}"
    micro = [read_int(runner, f"{base}/{name}") for name in _POWER_FILES]
    return tuple(round(m / 1e6, 3) if m else None for m in micro)


def _link(runner: Runner, device_path: str) -> PcieLink:
    result = runner.read_text(f"{device_path}/pp_dpm_pcie", limit=4096)
    levels = parse_pp_dpm_pcie(result.text) if result.ok and result.text else None
    return levels or pcie_link(runner, device_path)


def sysfs_gpu(
    runner: Runner, position: int, device: DrmDevice, node: KfdNode | None, driver: str | None
) -> Gpu:
    """One AMD GPU from its sysfs attributes and KFD node."""
    path = device.device_path
    vram = read_int(runner, f"{path}/mem_info_vram_total")
    link = _link(runner, path)
    limit, default_limit, max_limit = _power_caps(runner, path)
    return Gpu(
        index=position,
        vendor="amd",
        name=read_value(runner, f"{path}/product_name"),  # FRU name: Instinct boards only
        pci_bus_id=device.pci_slot,
        pci_device_id=device_id_text(device.vendor_id, device.device_id),
        memory_total_mib=vram // (1 << 20) if vram else None,
        driver_version=driver,
        architecture=node.architecture if node else None,
        vbios_version=read_value(runner, f"{path}/vbios_version"),
        pcie_gen_max=link.gen_max,
        pcie_width_max=link.width_max,
        pcie_gen_current=link.gen_current,
        pcie_width_current=link.width_current,
        cores=node.compute_units if node else None,
        power_limit_w=limit,
        power_default_limit_w=default_limit,
        power_max_limit_w=max_limit,
        source="sysfs",
    )


def sysfs_gpus(runner: Runner, devices: list[DrmDevice], kernel: str | None) -> list[Gpu]:
    """Every AMD DRM device described from sysfs."""
    from envstamp.parsers.amd_smi import kernel_driver_version

    # A DKMS amdgpu has a version; the in-tree one is the kernel's (what rocm-smi reports).
    driver = read_value(runner, AMDGPU_MODULE_VERSION) or kernel_driver_version(kernel)
    nodes = kfd_nodes(runner)
    return [
        sysfs_gpu(runner, i, d, nodes.get(normalize_bus_id(d.pci_slot or "")), driver)
        for i, d in enumerate(devices)
    ]


# ----------------------------------------------------------------------------------- merge


def _match(gpu: Gpu, position: int, candidates: list[Gpu], same_count: bool) -> Gpu | None:
    if gpu.pci_bus_id:
        key = normalize_bus_id(gpu.pci_bus_id)
        return next((c for c in candidates if normalize_bus_id(c.pci_bus_id or "") == key), None)
    same_id = [c for c in candidates if gpu.pci_device_id and c.pci_device_id == gpu.pci_device_id]
    if len(same_id) == 1:
        return same_id[0]
    if same_count and position < len(candidates):
        return candidates[position]
    return None


def _with_sysfs(tool: Gpu, sysfs: Gpu) -> Gpu:
    """A tool's entry filled from sysfs; sysfs' live readings win over possibly cached ones."""
    merged: Gpu = fill_missing(tool, sysfs)
    live = {
        name: getattr(sysfs, name)
        for name in ("power_limit_w", "pcie_gen_current", "pcie_width_current")
        if getattr(sysfs, name) is not None
    }
    return attrs.evolve(merged, source=f"{tool.source}+sysfs", **live)


def merge(tool_gpus: list[Gpu], sysfs: list[Gpu]) -> list[Gpu]:
    """One entry per device: a tool's, filled from sysfs; devices only sysfs saw after."""
    remaining = list(sysfs)
    same_count = len(tool_gpus) == len(sysfs)
    merged: list[Gpu] = []
    for position, gpu in enumerate(tool_gpus):
        candidates = remaining if not same_count else sysfs
        match = _match(gpu, position, candidates, same_count)
        if match is not None and match in remaining:
            remaining.remove(match)
            merged.append(_with_sysfs(gpu, match))
        else:
            merged.append(gpu)
    return merged + remaining


# ----------------------------------------------------------------------------------- probe


def _tool_gpus(ctx: ProbeContext, tools: dict[str, str | None]) -> tuple[list[Gpu], list[str]]:
    """GPUs from amd-smi, else rocm-smi; the notes say what failed."""
    from envstamp.parsers.amd_smi import parse_amd_smi, parse_rocm_smi

    notes: list[str] = []
    attempts = (
        ("amd-smi", AMD_SMI_ARGS, parse_amd_smi),
        ("rocm-smi", ROCM_SMI_ARGS, parse_rocm_smi),
    )
    for name, args, parse in attempts:
        path = tools.get(name)
        if not path:
            continue
        result = ctx.runner.run([path, *args], cache=True)
        if not result.succeeded:
            notes.append(result.describe())
            continue
        try:
            gpus = parse(result.stdout)
        except PARSE_FAILURES as exc:
            notes.append(f"{name}: {exc}")
            continue
        if gpus:
            return gpus, notes
        notes.append(f"{name} listed no GPU")
    return [], notes


def probe(ctx: ProbeContext) -> Outcome:
    """AMD GPUs of this machine."""
    runner = ctx.runner
    devices = drm_devices(runner, AMD_VENDOR_ID) if ctx.system == "Linux" else []
    tools = {name: runner.which(name) for name in ("amd-smi", "rocm-smi")}
    if not devices and not any(tools.values()):
        raise ProbeFailure("absent", "no AMD GPU in sysfs; amd-smi and rocm-smi not found", "sysfs")
    sysfs = sysfs_gpus(runner, devices, ctx.platform.get("release")) if devices else []
    tool_gpus, notes = _tool_gpus(ctx, tools)
    gpus = merge(tool_gpus, sysfs)
    detail = "; ".join(notes) or None
    if not gpus:
        raise ProbeFailure("absent", detail or "no AMD GPU found", "amd-smi")
    sources = sorted({gpu.source for gpu in gpus if gpu.source})
    return Outcome({"gpus": gpus}, source=", ".join(sources), detail=detail)


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "gpu_amd", "order": 210, "systems": ("Linux", "Windows")},)
