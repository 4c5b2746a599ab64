"""The Intel probe: i915/xe sysfs named by sycl-ls and vulkaninfo, recorded hosts, tools run
only where an Intel GPU is (the tools' parsers: tests/parsers/test_sycl_ls_vulkaninfo.py)."""

from __future__ import annotations

from pathlib import Path

from envstamp.probes.gpu.intel import comparable_name
from tests.gpu_support import (
    DRM,
    SpecRunner,
    asked,
    bare_linux_host,
    intel_arc_host,
    replay,
    run_probe,
    uevent,
)


def test_comparable_names() -> None:
    assert comparable_name("Intel(R) Arc(tm) A770 Graphics (DG2)") == comparable_name(
        "Intel(R) Arc(TM) A770 Graphics"
    )
    assert comparable_name(None) == ""


def test_probe_on_recorded_arc_host() -> None:
    outcome = replay("intel-arc-a770-linux", "gpu_intel")
    assert outcome.status == "ok"
    uhd, arc = outcome.sections["gpus"]
    assert (uhd.name, uhd.unified_memory, uhd.pci_bus_id) == (
        "Intel(R) UHD Graphics 770", True, "0000:00:02.0")
    assert (arc.name, arc.unified_memory, arc.pci_bus_id) == (
        "Intel(R) Arc(TM) A770 Graphics", False, "0000:03:00.0")
    assert arc.source == "sysfs+sycl-ls+vulkaninfo"
    runtimes = outcome.sections["runtimes"]
    assert (runtimes.vulkan_instance, runtimes.opencl) == ("1.3.283", "3.0")


def test_xe_local_memory_and_no_tools(tmp_path: Path) -> None:
    spec = bare_linux_host()
    device = f"{DRM}/card0/device"
    spec.dirs[DRM] = ["card0", "renderD128"]
    spec.files[f"{device}/uevent"] = uevent("xe", "8086:E20B", "0000:03:00.0")
    spec.files[f"{device}/tile0/physical_vram_size_bytes"] = "12884901888\n"
    outcome = run_probe(SpecRunner(tmp_path, spec), "gpu_intel")
    (gpu,) = outcome.sections["gpus"]
    assert (gpu.memory_total_mib, gpu.unified_memory, gpu.name) == (12288, False, None)
    assert gpu.pci_device_id == "0x8086:0xe20b"
    assert "cmd" not in asked(tmp_path)


def test_tools_are_not_run_without_an_intel_gpu(tmp_path: Path) -> None:
    spec = bare_linux_host()
    spec.which.update(intel_arc_host().which)
    outcome = run_probe(SpecRunner(tmp_path, spec), "gpu_intel")
    assert outcome.status == "absent"
    assert "cmd" not in asked(tmp_path)


def test_windows_gives_runtimes_only() -> None:
    outcome = replay("windows-rtx4090-uhd770", "gpu_intel")
    assert "gpus" not in outcome.sections  # gpu_windows lists the adapters
    assert outcome.sections["runtimes"].vulkan_instance == "1.3.280"
