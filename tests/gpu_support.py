"""Hand-made recorded hosts for the GPU and runtime probes, and the tool that writes them.

Each host is a spec of what the machine would answer: files, folders, links, commands, PATH,
environment and registry.  ``SpecRunner`` answers the probes from the spec (anything the spec
does not hold reads as absent) and records every question with its answer, exactly like
``envstamp capture --raw``; the folders under tests/fixtures/hosts/ are that recording and are
replayed through the real probes by the tests.  Regenerate after changing a probe:

    python tests/gpu_support.py           # rewrites tests/fixtures/hosts/<gpu hosts>/

(test_gpu_hosts_are_fresh fails while a recording is stale.)
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.runner import Answer, RecordingRunner

HOSTS = Path(__file__).parent / "fixtures" / "hosts"
FIXTURES = Path(__file__).parent / "fixtures"
MY_PROBES = ("gpu_amd", "gpu_apple", "gpu_windows", "gpu_intel", "runtimes")


def fixture(*parts: str) -> str:
    return (FIXTURES.joinpath(*parts)).read_text(encoding="utf-8")


@attrs.define
class HostSpec:
    """What a machine answers."""

    name: str
    platform: dict[str, Any]
    files: dict[str, str] = attrs.field(factory=dict)
    dirs: dict[str, list[str]] = attrs.field(factory=dict)
    links: dict[str, str] = attrs.field(factory=dict)
    commands: dict[tuple[str, ...], str] = attrs.field(factory=dict)
    failing: dict[tuple[str, ...], tuple[int, str]] = attrs.field(factory=dict)
    hanging: set[tuple[str, ...]] = attrs.field(factory=set)
    which: dict[str, str] = attrs.field(factory=dict)
    env: dict[str, str] = attrs.field(factory=dict)
    registry: dict[tuple[str, str], Any] = attrs.field(factory=dict)

    def answer(self, op: str, key: dict[str, Any]) -> Answer:
        handler = getattr(self, f"_{op}", None)
        if handler is None:
            return {"status": "absent", "detail": "not on this hand-made host"}
        result: Answer = handler(key)
        return result

    def _cmd(self, key: dict[str, Any]) -> Answer:
        argv = tuple(key["argv"])
        if argv in self.commands:
            out = self.commands[argv]
            return {"status": "ok", "returncode": 0, "stdout": out, "stderr": "", "duration_ms": 5}
        if argv in self.hanging:
            return {"status": "timeout", "detail": "no answer within 2 s; killed",
                    "stdout": "", "stderr": "", "duration_ms": 2000}
        if argv in self.failing:
            code, err = self.failing[argv]
            return {"status": "ok", "returncode": code, "stdout": "", "stderr": err,
                    "duration_ms": 5}
        return {"status": "absent", "detail": "not found", "duration_ms": 0}

    def _file(self, key: dict[str, Any]) -> Answer:
        path = key["path"]
        if path in self.files:
            return {"status": "ok", "text": self.files[path]}
        return {"status": "absent", "detail": "not found"}

    def _dir(self, key: dict[str, Any]) -> Answer:
        names = self.dirs.get(key["path"])
        if names is None:
            return {"status": "absent", "detail": "not found"}
        return {"status": "ok", "names": sorted(names)}

    def _stat(self, key: dict[str, Any]) -> Answer:
        path = key["path"]
        if path in self.dirs:
            return {"exists": True, "is_dir": True, "size": 4096, "mtime_ns": 0, "mode": 0o755}
        if path in self.files or path in self.links:
            return {"exists": True, "is_dir": False, "size": 1, "mtime_ns": 0, "mode": 0o644}
        return {"exists": False}

    def _realpath(self, key: dict[str, Any]) -> Answer:
        return {"path": self.links.get(key["path"], key["path"])}

    def _which(self, key: dict[str, Any]) -> Answer:
        return {"path": self.which.get(key["name"])}

    def _env(self, key: dict[str, Any]) -> Answer:
        return {"value": self.env.get(key["name"])}

    def _platform(self, key: dict[str, Any]) -> Answer:
        return dict(self.platform)

    def _registry(self, key: dict[str, Any]) -> Answer:
        return {"value": self.registry.get((key["key"], key["value"]))}


class SpecRunner(RecordingRunner):
    """Answers from a HostSpec and records every answer, as a recording run would."""

    def __init__(self, folder: Path, spec: HostSpec) -> None:
        super().__init__(folder)
        self.spec = spec

    def _answer(self, op: str, key: dict[str, Any], compute: Callable[[], Answer]) -> Answer:
        return super()._answer(op, key, lambda: self.spec.answer(op, key))


def record(spec: HostSpec, folder: Path) -> None:
    """Run the GPU and runtime probes against the spec, recording into ``folder``."""
    from envstamp.probes.registry import PROBES
    from envstamp.probes.registry import load as _load

    if folder.exists():
        shutil.rmtree(folder)
    runner = SpecRunner(folder, spec)
    ctx = ProbeContext(runner=runner, options=CaptureOptions())
    system = ctx.system
    for probe_spec in PROBES:
        if probe_spec.name not in MY_PROBES:
            continue
        if probe_spec.systems is not None and system not in probe_spec.systems:
            continue
        with contextlib.suppress(ProbeFailure):
            _load(probe_spec.target)(ctx)


def run_probe(runner: Any, name: str) -> Outcome:
    """Run one of the GPU/runtime probes; a ProbeFailure becomes a failed Outcome."""
    from envstamp.probes.registry import PROBES
    from envstamp.probes.registry import load as _load

    target = next(spec.target for spec in PROBES if spec.name == name)
    ctx = ProbeContext(runner=runner, options=CaptureOptions())
    try:
        outcome: Outcome = _load(target)(ctx)
    except ProbeFailure as failure:
        return Outcome(status=failure.status, detail=failure.detail, source=failure.source)
    return outcome


def replay(host: str, name: str) -> Outcome:
    """A probe replayed on a recorded host."""
    from envstamp.runner import ReplayRunner

    return run_probe(ReplayRunner(HOSTS / host), name)


def asked(folder: Path) -> list[str]:
    """The operations a recording holds ("cmd", "file", ...), one per answer."""
    import json

    return sorted(json.loads(p.read_text())["op"] for p in folder.glob("*.json"))


# ------------------------------------------------------------------------------ platforms


def linux(node: str, release: str) -> dict[str, Any]:
    return {
        "system": "Linux",
        "node": node,
        "release": release,
        "version": "#1 SMP PREEMPT_DYNAMIC",
        "machine": "x86_64",
        "libc": "glibc 2.39",
        "python_version": "3.12.3",
        "python_implementation": "CPython",
        "executable": "/usr/bin/python3",
        "prefix": "/usr",
        "base_prefix": "/usr",
        "home": "/home/user",
        "cpu_count": 32,
    }


DRM = "/sys/class/drm"
KFD = "/sys/class/kfd/kfd/topology/nodes"
TRIPLET_LIB = "/usr/lib/x86_64-linux-gnu"


def uevent(driver: str, pci_id: str, slot: str) -> str:
    vendor, device = pci_id.split(":")
    return (
        f"DRIVER={driver}\nPCI_CLASS=30000\nPCI_ID={pci_id}\nPCI_SUBSYS_ID=1DA2:E471\n"
        f"PCI_SLOT_NAME={slot}\nMODALIAS=pci:v0000{vendor}d0000{device}sv00001DA2sd0000E471"
        "bc03sc00i00\n"
    )


def kfd_node(gfx: int, simds: int, per_cu: int, location: int) -> str:
    return (
        f"cpu_cores_count 0\nsimd_count {simds}\nmem_banks_count 1\ncaches_count 206\n"
        f"io_links_count 1\ncpu_core_id_base 0\nsimd_id_base 2147487744\nmax_waves_per_simd 16\n"
        f"lds_size_in_kb 64\ngds_size_in_kb 0\nnum_gws 64\nwave_front_size 32\narray_count 12\n"
        f"simd_arrays_per_engine 2\ncu_per_simd_array 8\nsimd_per_cu {per_cu}\n"
        f"max_slots_scratch_cu 32\ngfx_target_version {gfx}\nvendor_id 4098\n"
        f"device_id 29772\nlocation_id {location}\ndomain 0\ndrm_render_minor 128\n"
        f"hive_id 0\nnum_sdma_engines 2\nnum_sdma_xgmi_engines 0\nnum_cp_queues 8\n"
    )


CPU_NODE = "cpu_cores_count 16\nsimd_count 0\nmem_banks_count 1\ngfx_target_version 0\n" \
    "vendor_id 0\ndevice_id 0\nlocation_id 0\ndomain 0\n"


# ---------------------------------------------------------------------------------- hosts


def amd_rocm_host() -> HostSpec:
    """Ubuntu 24.04, ROCm 6.2: RX 7900 XTX plus the Ryzen 7000 iGPU; amd-smi lists only the
    discrete card, sysfs adds the iGPU."""
    card0, card1 = f"{DRM}/card0/device", f"{DRM}/card1/device"
    amd_smi = fixture("amd", "amd-smi-rx7900xtx-warning.txt").split("\n", 1)[1]
    return HostSpec(
        name="amd-rocm-rx7900xtx",
        platform=linux("rocmbox", "6.8.0-45-generic"),
        dirs={
            DRM: ["card0", "card0-DP-1", "card0-HDMI-A-1", "card1", "card1-DP-2",
                  "renderD128", "renderD129", "version"],
            f"{card0}/hwmon": ["hwmon4"],
            f"{card1}/hwmon": ["hwmon5"],
            KFD: ["0", "1", "2"],
            "/opt/rocm": ["bin", "include", "lib", "share", ".info"],
        },
        files={
            f"{card0}/uevent": uevent("amdgpu", "1002:744C", "0000:03:00.0"),
            f"{card0}/mem_info_vram_total": "25753026560\n",
            f"{card0}/vbios_version": "113-D7020100-102\n",
            f"{card0}/product_name": "\n",
            f"{card0}/pp_dpm_pcie": "0: 2.5GT/s, x1 97Mhz\n1: 16.0GT/s, x16 619Mhz *\n",
            f"{card0}/hwmon/hwmon4/power1_cap": "327000000\n",
            f"{card0}/hwmon/hwmon4/power1_cap_default": "327000000\n",
            f"{card0}/hwmon/hwmon4/power1_cap_max": "402000000\n",
            f"{card1}/uevent": uevent("amdgpu", "1002:164E", "0000:10:00.0"),
            f"{card1}/mem_info_vram_total": "536870912\n",
            f"{card1}/vbios_version": "102-RAPHAEL-008\n",
            f"{card1}/max_link_speed": "Unknown\n",
            f"{card1}/max_link_width": "255\n",
            f"{card1}/current_link_speed": "Unknown\n",
            f"{card1}/current_link_width": "255\n",
            f"{KFD}/0/properties": CPU_NODE,
            f"{KFD}/1/properties": kfd_node(110000, 192, 2, 0x300),
            f"{KFD}/2/properties": kfd_node(100306, 4, 2, 0x1000),
            "/opt/rocm/.info/version": fixture("runtimes", "rocm-info-version"),
            "/opt/rocm/share/hip/version": fixture("runtimes", "hip-version-6.2"),
        },
        links={f"{TRIPLET_LIB}/libvulkan.so.1": f"{TRIPLET_LIB}/libvulkan.so.1.3.275"},
        which={"amd-smi": "/opt/rocm/bin/amd-smi", "rocm-smi": "/opt/rocm/bin/rocm-smi"},
        commands={("/opt/rocm/bin/amd-smi", "static", "--json"): amd_smi},
    )


def amd_sysfs_host() -> HostSpec:
    """Debian 12 without ROCm: RX 6600 (sysfs only) beside an RTX 3060; CUDA 12.4, cuDNN 9."""
    nvidia, amd = f"{DRM}/card0/device", f"{DRM}/card1/device"
    return HostSpec(
        name="amd-sysfs-rx6600-nvidia",
        platform=linux("duo", "6.1.0-25-amd64"),
        dirs={
            DRM: ["card0", "card0-HDMI-A-1", "card1", "card1-DP-1", "renderD128", "renderD129",
                  "version"],
            f"{amd}/hwmon": ["hwmon2"],
            KFD: ["0", "1"],
            "/usr/local/cuda": ["bin", "include", "lib64", "version.json"],
        },
        files={
            f"{nvidia}/uevent": uevent("nvidia", "10DE:2504", "0000:01:00.0"),
            f"{amd}/uevent": uevent("amdgpu", "1002:73FF", "0000:08:00.0"),
            f"{amd}/mem_info_vram_total": "8573157376\n",
            f"{amd}/vbios_version": "113-D4300100-100\n",
            f"{amd}/pp_dpm_pcie": "0: 2.5GT/s, x1 97Mhz *\n1: 8.0GT/s, x8 619Mhz\n",
            f"{amd}/hwmon/hwmon2/power1_cap": "100000000\n",
            f"{amd}/hwmon/hwmon2/power1_cap_default": "100000000\n",
            f"{amd}/hwmon/hwmon2/power1_cap_max": "110000000\n",
            f"{KFD}/0/properties": CPU_NODE,
            f"{KFD}/1/properties": kfd_node(100302, 56, 2, 0x800),
            "/usr/local/cuda/version.json": fixture("runtimes", "cuda-12.4-version.json"),
            "/usr/include/x86_64-linux-gnu/cudnn_version_v9.h": fixture(
                "runtimes", "cudnn_version-9.3.h"
            ),
        },
        links={f"{TRIPLET_LIB}/libvulkan.so.1": f"{TRIPLET_LIB}/libvulkan.so.1.3.239"},
    )


def apple_host() -> HostSpec:
    """MacBook Pro M3 Max, macOS 14, Vulkan loader from Homebrew (MoltenVK)."""
    platform = {
        **linux("mbp", "23.5.0"),
        "system": "Darwin",
        "machine": "arm64",
        "libc": None,
        "version": "Darwin Kernel Version 23.5.0: Wed May  1 20:17:33 PDT 2024; "
        "root:xnu-10063.121.3~5/RELEASE_ARM64_T6031",
        "home": "/Users/user",
    }
    argv = ("/usr/sbin/system_profiler", "SPDisplaysDataType", "SPHardwareDataType", "-json")
    loader = "/opt/homebrew/lib/libvulkan.1.dylib"
    return HostSpec(
        name="apple-m3-max",
        platform=platform,
        commands={argv: fixture("apple", "sp-m3max-both.json")},
        links={loader: "/opt/homebrew/Cellar/vulkan-loader/1.3.290/lib/libvulkan.1.3.290.dylib"},
    )


WIN_CLASS = "SYSTEM\\CurrentControlSet\\Control\\Class\\{4d36e968-e325-11ce-bfc1-08002be10318}"
WIN_ENUM = "SYSTEM\\CurrentControlSet\\Enum"
NVIDIA_PNP = "PCI\\VEN_10DE&DEV_2684&SUBSYS_889E1043&REV_A1\\4&1F3A2B6C&0&0008"
INTEL_PNP = "PCI\\VEN_8086&DEV_A780&SUBSYS_7D251462&REV_04\\3&11583659&0&10"

WINDOWS_VULKANINFO = """==========
VULKANINFO
==========

Vulkan Instance Version: 1.3.280


Devices:
========
GPU0:
\tapiVersion         = 1.3.277
\tdriverVersion      = 560.94.0.0
\tvendorID           = 0x10de
\tdeviceID           = 0x2684
\tdeviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
\tdeviceName         = NVIDIA GeForce RTX 4090
\tdriverID           = DRIVER_ID_NVIDIA_PROPRIETARY
\tdriverName         = NVIDIA
\tdriverInfo         = 560.94
GPU1:
\tapiVersion         = 1.3.280
\tdriverVersion      = 101.5333
\tvendorID           = 0x8086
\tdeviceID           = 0xa780
\tdeviceType         = PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU
\tdeviceName         = Intel(R) UHD Graphics 770
\tdriverID           = DRIVER_ID_INTEL_PROPRIETARY_WINDOWS
\tdriverName         = Intel Corporation
\tdriverInfo         = Intel driver
"""


def windows_host() -> HostSpec:
    """Windows 11 desktop: RTX 4090 (AdapterRAM capped) + UHD 770; CUDA 12.6 via CUDA_PATH."""
    from envstamp.probes.gpu.windows import POWERSHELL_SCRIPT

    powershell = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    listing = fixture("windows", "ps-list-rtx4090-uhd770.txt").replace("\r\n", "\n")
    cuda = "C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA"
    platform = {
        **linux("DESKTOP-4090", "10"),
        "system": "Windows",
        "version": "10.0.22631",
        "machine": "AMD64",
        "libc": None,
        "executable": "C:\\Python312\\python.exe",
        "prefix": "C:\\Python312",
        "base_prefix": "C:\\Python312",
        "home": "C:\\Users\\user",
    }
    return HostSpec(
        name="windows-rtx4090-uhd770",
        platform=platform,
        which={
            "powershell": powershell,
            "wmic": "C:\\Windows\\System32\\wbem\\WMIC.exe",
            "vulkaninfo": "C:\\Windows\\system32\\vulkaninfo.exe",
        },
        commands={
            (powershell, "-NoProfile", "-NonInteractive", "-Command", POWERSHELL_SCRIPT): listing,
            ("C:\\Windows\\system32\\vulkaninfo.exe", "--summary"): WINDOWS_VULKANINFO,
        },
        registry={
            (f"{WIN_ENUM}\\{NVIDIA_PNP}", "LocationInformation"): "PCI bus 1, device 0, function 0",
            (f"{WIN_ENUM}\\{NVIDIA_PNP}", "Driver"):
                "{4d36e968-e325-11ce-bfc1-08002be10318}\\0001",
            (f"{WIN_CLASS}\\0001", "HardwareInformation.qwMemorySize"): 25757220864,
            (f"{WIN_CLASS}\\0001", "DriverVersion"): "32.0.15.6094",
            (f"{WIN_ENUM}\\{INTEL_PNP}", "LocationInformation"): "PCI bus 0, device 2, function 0",
            (f"{WIN_ENUM}\\{INTEL_PNP}", "Driver"):
                "{4d36e968-e325-11ce-bfc1-08002be10318}\\0000",
            (f"{WIN_CLASS}\\0000", "HardwareInformation.MemorySize"): "00000008",
            (f"{WIN_CLASS}\\0000", "DriverVersion"): "31.0.101.5333",
        },
        env={"CUDA_PATH": f"{cuda}\\v12.6"},
        dirs={cuda: ["v12.6"], f"{cuda}\\v12.6": ["bin", "include", "lib", "version.json"]},
        files={
            f"{cuda}\\v12.6\\version.json": fixture("runtimes", "cuda-12.4-version.json").replace(
                "12.4.1", "12.6.2"
            ),
        },
    )


def intel_arc_host() -> HostSpec:
    """Ubuntu 24.04: Arc A770 (i915) + UHD 770 iGPU; oneAPI 2024.2 with sycl-ls; Mesa 24.2."""
    igpu, arc = f"{DRM}/card0/device", f"{DRM}/card1/device"
    sycl = "/opt/intel/oneapi/compiler/2024.2/bin/sycl-ls"
    vulkan = fixture("intel", "vulkaninfo-arc-nvidia.txt")
    # This box has no NVIDIA card: keep the two Intel devices of the sample.
    start, end = vulkan.index("GPU1:"), vulkan.index("GPU2:")
    vulkan = vulkan[:start] + vulkan[end:].replace("GPU2:", "GPU1:")
    return HostSpec(
        name="intel-arc-a770-linux",
        platform=linux("arcbox", "6.8.0-48-generic"),
        dirs={
            DRM: ["card0", "card0-HDMI-A-1", "card1", "card1-DP-1", "renderD128", "renderD129",
                  "version"],
            "/opt/intel/oneapi/compiler": ["2024.2", "latest"],
        },
        files={
            f"{igpu}/uevent": uevent("i915", "8086:A780", "0000:00:02.0"),
            f"{arc}/uevent": uevent("i915", "8086:56A0", "0000:03:00.0"),
        },
        links={
            "/opt/intel/oneapi/compiler/latest": "/opt/intel/oneapi/compiler/2024.2",
            f"{TRIPLET_LIB}/libvulkan.so.1": f"{TRIPLET_LIB}/libvulkan.so.1.3.283",
        },
        which={"sycl-ls": sycl, "vulkaninfo": "/usr/bin/vulkaninfo"},
        commands={
            (sycl,): fixture("intel", "sycl-ls-arc-a770-uhd770.txt"),
            ("/usr/bin/vulkaninfo", "--summary"): vulkan,
        },
    )


def bare_linux_host() -> HostSpec:
    """A Linux box with no GPU and no runtime: the probes must find nothing and spawn nothing."""
    return HostSpec(name="bare-linux", platform=linux("bare", "6.6.0"))


SPECS: tuple[Callable[[], HostSpec], ...] = (
    amd_rocm_host,
    amd_sysfs_host,
    apple_host,
    windows_host,
    intel_arc_host,
)


def main(argv: list[str]) -> int:
    """Rewrite the recorded hosts from their specs."""
    for make in SPECS:
        spec = make()
        record(spec, HOSTS / spec.name)
        print(f"wrote {HOSTS / spec.name}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main(sys.argv[1:]))
