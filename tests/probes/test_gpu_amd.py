"""The AMD probe: tool and sysfs entries merged, recorded hosts, fallbacks between tools (the
parsers' tests: tests/parsers/test_amd.py)."""

from __future__ import annotations

from pathlib import Path

from envstamp.probes.gpu.amd import ROCM_SMI_ARGS, merge
from tests.gpu_support import HOSTS, SpecRunner, asked, bare_linux_host, replay, run_probe

AMD = Path(__file__).parents[1] / "fixtures" / "amd"


def read(name: str) -> str:
    return (AMD / name).read_text(encoding="utf-8")


def test_merge_matches_tool_and_sysfs_by_bus_and_keeps_sysfs_only_devices() -> None:
    from envstamp.manifest.model import Gpu

    tool = [Gpu(index=0, name="Radeon", pci_bus_id="0000:03:00.0", power_limit_w=300.0,
                source="amd-smi")]
    sysfs = [
        Gpu(index=0, pci_bus_id="0000:10:00.0", architecture="gfx1036", source="sysfs"),
        Gpu(index=1, pci_bus_id="0000:03:00.0", architecture="gfx1100", power_limit_w=280.0,
            source="sysfs"),
    ]
    merged = merge(tool, sysfs)
    assert [g.pci_bus_id for g in merged] == ["0000:03:00.0", "0000:10:00.0"]
    assert merged[0].architecture == "gfx1100"
    assert merged[0].power_limit_w == 280.0  # the live sysfs cap wins
    assert merged[0].source == "amd-smi+sysfs"


def test_rocm_host_names_from_amd_smi_rest_from_sysfs() -> None:
    outcome = replay("amd-rocm-rx7900xtx", "gpu_amd")
    assert outcome.status == "ok"
    xtx, igpu = outcome.sections["gpus"]
    assert xtx.name == "Radeon RX 7900 XTX"
    assert xtx.source == "amd-smi+sysfs"
    assert (xtx.pcie_gen_max, xtx.pcie_width_max) == (4, 16)
    assert xtx.power_default_limit_w == 327.0
    assert xtx.architecture == "gfx1100"
    # amd-smi did not list the iGPU; sysfs and the KFD topology describe it.
    assert igpu.source == "sysfs"
    assert (igpu.architecture, igpu.cores, igpu.memory_total_mib) == ("gfx1036", 2, 512)
    assert igpu.pcie_gen_max is None  # "Unknown" link
    assert igpu.driver_version == "6.8.0-45-generic"  # in-tree amdgpu: the kernel's


def test_sysfs_only_host_without_rocm() -> None:
    outcome = replay("amd-sysfs-rx6600-nvidia", "gpu_amd")
    (gpu,) = outcome.sections["gpus"]
    assert gpu.source == "sysfs"
    assert gpu.name is None
    assert gpu.pci_device_id == "0x1002:0x73ff"
    assert (gpu.architecture, gpu.cores, gpu.memory_total_mib) == ("gfx1032", 28, 8176)
    assert (gpu.pcie_gen_max, gpu.pcie_width_max) == (3, 8)
    assert (gpu.pcie_gen_current, gpu.pcie_width_current) == (1, 1)
    assert (gpu.power_limit_w, gpu.power_max_limit_w) == (100.0, 110.0)


def test_tool_failure_falls_back_to_sysfs(tmp_path: Path) -> None:
    from tests.gpu_support import amd_rocm_host

    spec = amd_rocm_host()
    spec.commands.clear()
    spec.failing[("/opt/rocm/bin/amd-smi", "static", "--json")] = (1, "AMDSMI_STATUS_INIT_ERROR")
    rocm_smi = ("/opt/rocm/bin/rocm-smi", *ROCM_SMI_ARGS)
    spec.failing[rocm_smi] = (2, "unrecognized arguments")
    outcome = run_probe(SpecRunner(tmp_path, spec), "gpu_amd")
    assert outcome.status == "ok"
    assert [g.source for g in outcome.sections["gpus"]] == ["sysfs", "sysfs"]
    assert outcome.detail is not None and "amd-smi exited 1" in outcome.detail


def test_hanging_amd_smi_falls_back_to_rocm_smi(tmp_path: Path) -> None:
    from tests.gpu_support import amd_rocm_host

    spec = amd_rocm_host()
    spec.commands.clear()
    spec.hanging.add(("/opt/rocm/bin/amd-smi", "static", "--json"))
    spec.commands[("/opt/rocm/bin/rocm-smi", *ROCM_SMI_ARGS)] = read(
        "rocm-smi-rx7900xtx-rocm6.json"
    )
    outcome = run_probe(SpecRunner(tmp_path, spec), "gpu_amd")
    xtx, igpu = outcome.sections["gpus"]
    assert xtx.source == igpu.source == "rocm-smi+sysfs"
    assert igpu.name == "Raphael"
    assert outcome.detail is not None and "no answer within 2 s" in outcome.detail


def test_no_amd_gpu_costs_no_process(tmp_path: Path) -> None:
    outcome = run_probe(SpecRunner(tmp_path, bare_linux_host()), "gpu_amd")
    assert outcome.status == "absent"
    assert "cmd" not in asked(tmp_path)


def test_recorded_hosts_exist() -> None:
    assert (HOSTS / "amd-rocm-rx7900xtx").is_dir()
