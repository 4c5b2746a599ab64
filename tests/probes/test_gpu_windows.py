"""The Windows probe: recorded hosts, registry facts merged with NVML, the wmic fallback (the
listing parser's tests: tests/parsers/test_windows_gpu.py)."""

from __future__ import annotations

from pathlib import Path

from envstamp.manifest.model import Gpu
from envstamp.probes.gpu.consolidate import consolidate
from envstamp.runner import decode
from tests.gpu_support import SpecRunner, replay, run_probe, windows_host

WINDOWS = Path(__file__).parents[1] / "fixtures" / "windows"


def read(name: str) -> str:
    """As envstamp reads a file: bytes decoded leniently (NULs dropped, CRLF folded)."""
    return decode((WINDOWS / name).read_bytes())


def test_probe_on_recorded_windows_host() -> None:
    outcome = replay("windows-rtx4090-uhd770", "gpu_windows")
    assert outcome.status == "ok"
    nvidia, intel = outcome.sections["gpus"]
    # The registry gives what AdapterRAM cannot, the PCI location and the driver in force.
    assert nvidia.memory_total_mib == 24564
    assert nvidia.pci_bus_id == "0000:01:00.0"
    assert intel.memory_total_mib == 128
    assert intel.pci_bus_id == "0000:00:02.0"
    assert intel.driver_version == "31.0.101.5333"  # newer than the cached listing's
    assert nvidia.source == "Win32_VideoController+registry"


def test_nvidia_and_intel_in_one_list_merging_with_nvml() -> None:
    """NVML's entry and the Windows adapter of the same card become one; Intel stays."""
    windows = replay("windows-rtx4090-uhd770", "gpu_windows").sections["gpus"]
    nvml = Gpu(index=0, vendor="nvidia", name="NVIDIA GeForce RTX 4090",
               uuid="GPU-5c3b9f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", pci_bus_id="00000000:01:00.0",
               memory_total_mib=24564, driver_version="560.94", source="nvml")
    merged = consolidate([nvml, *windows])
    assert [g.vendor for g in merged] == ["nvidia", "intel"]
    assert merged[0].driver_version == "560.94"  # NVML's own version wins
    assert merged[0].pci_device_id == "0x10de:0x2684"  # filled from Windows


def test_wmic_fallback_when_powershell_fails(tmp_path: Path) -> None:
    spec = windows_host()
    ps_argv = next(a for a in spec.commands if "powershell" in a[0])
    spec.failing[ps_argv] = (1, "Get-CimInstance : Access denied")
    del spec.commands[ps_argv]
    wmic_argv = ("C:\\Windows\\System32\\wbem\\WMIC.exe", "path", "win32_VideoController",
                 "get", "Name,AdapterCompatibility,AdapterRAM,DriverVersion,PNPDeviceID,"
                 "VideoProcessor", "/format:list")
    spec.commands[wmic_argv] = read("wmic-list-utf16.txt")
    outcome = run_probe(SpecRunner(tmp_path, spec), "gpu_windows")
    assert outcome.status == "ok"
    assert outcome.source == "wmic + registry"
    assert [g.name for g in outcome.sections["gpus"]][1] == "NVIDIA GeForce RTX 3050 Laptop GPU"
    assert outcome.detail is not None and "exited 1" in outcome.detail


def test_no_listing_tool_is_absent(tmp_path: Path) -> None:
    spec = windows_host()
    spec.which.clear()
    outcome = run_probe(SpecRunner(tmp_path, spec), "gpu_windows")
    assert outcome.status == "absent"
