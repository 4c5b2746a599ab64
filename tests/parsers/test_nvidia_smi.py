"""nvidia-smi parsers (every format and kind), the NVML answer reader and their helpers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, GpuState, Runtimes, Volatile
from envstamp.parsers import nvidia_smi, nvidia_smi_text, nvidia_values
from envstamp.parsers.kinds import parse, parse_to_data
from envstamp.probes.gpu import nvml

SAMPLES = Path(__file__).parents[1] / "fixtures" / "nvidia"
NVIDIA_KINDS = (
    "nvidia-smi-xml",
    "nvidia-smi-q",
    "nvidia-smi-csv",
    "nvidia-smi-list",
    "nvidia-smi-version",
    "nvidia-smi-table",
)
# The kind functions themselves: kinds.parse would turn stray exceptions into ParseError and
# hide a parser bug, so the robustness tests call these directly.
KIND_FUNCTIONS: dict[str, Callable[[str], dict[str, Any]]] = {
    "nvidia-smi-xml": nvidia_smi.parse_xml_kind,
    "nvidia-smi-q": nvidia_smi.parse_q_kind,
    "nvidia-smi-csv": nvidia_smi.parse_csv_kind,
    "nvidia-smi-list": nvidia_smi.parse_list_kind,
    "nvidia-smi-version": nvidia_smi.parse_version_kind,
    "nvidia-smi-table": nvidia_smi.parse_table_kind,
}
DRIVER_GONE = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure "
    "that the latest NVIDIA driver is installed and running.\n"
)
LSCPU = "Architecture:            x86_64\n  CPU op-mode(s):        32-bit, 64-bit\nCPU(s): 16\n"
ROCM_SMI = (
    "============================ ROCm System Management Interface ============================\n"
    "GPU  Temp   AvgPwr  SCLK    MCLK     Fan     Perf  PwrCap  VRAM%  GPU%\n"
    "0    34.0c  9.0W    800Mhz  96Mhz    0%      auto  203.0W    0%   0%\n"
)


def text(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def gpus_of(sections: dict[str, Any]) -> list[Gpu]:
    gpus = sections["gpus"]
    assert all(isinstance(g, Gpu) and g.vendor == "nvidia" for g in gpus)
    return list(gpus)


def states_of(sections: dict[str, Any]) -> list[GpuState]:
    volatile = sections.get("volatile")
    return list(volatile.gpus) if isinstance(volatile, Volatile) else []


def check(gpu: Gpu, expected: dict[str, Any]) -> None:
    got = {name: getattr(gpu, name) for name in expected}
    assert got == expected


# ------------------------------------------------------------------------------------ XML

A100_0 = {
    "index": 0,
    "name": "NVIDIA A100-SXM4-40GB",
    "uuid": "GPU-2f6a1c9e-8b57-4d03-a9e1-5c0d7f3b6a21",
    "serial": "1564720004631",
    "pci_bus_id": "00000000:07:00.0",
    "pci_device_id": "0x10de:0x20b0",
    "memory_total_mib": 40960,
    "driver_version": "535.161.08",
    "cuda_version": "12.2",
    "architecture": "Ampere",
    "vbios_version": "92.00.45.00.03",
    "power_limit_w": 400.0,
    "power_default_limit_w": 400.0,
    "power_max_limit_w": 400.0,
    "clocks_max_graphics_mhz": 1410,
    "clocks_max_memory_mhz": 1215,
    "pcie_gen_max": 4,
    "pcie_width_max": 16,
    "pcie_gen_current": 4,
    "pcie_width_current": 16,
    "persistence_mode": True,
    "mig_mode": True,
    "ecc_enabled": True,
}


def test_xml_a100_mig_two_gpus_mig_devices_are_not_gpus() -> None:
    sections = nvidia_smi.parse_xml_kind(text("a100-mig-2gpu-535-q-x.xml"))
    gpus = gpus_of(sections)
    assert len(gpus) == 2
    check(gpus[0], {**A100_0, "source": "nvidia-smi -q -x"})
    # The MIG slices' own 19968 MiB must not leak into the GPU's memory.
    assert [g.memory_total_mib for g in gpus] == [40960, 40960]
    assert [g.mig_mode for g in gpus] == [True, False]
    assert sections["runtimes"] == Runtimes(nvidia_driver="535.161.08", cuda_driver="12.2")


def test_xml_readings_of_the_moment_go_to_volatile_only() -> None:
    sections = nvidia_smi.parse_xml_kind(text("a100-mig-2gpu-535-q-x.xml"))
    states = states_of(sections)
    assert [s.index for s in states] == [0, 1]
    busy = states[1]
    assert busy.uuid == "GPU-9d41b7e0-3c2a-4f86-b1d5-e87a02c4f359"
    assert (busy.temperature_c, busy.utilization_gpu_pct, busy.utilization_memory_pct) == (
        64.0,
        87.0,
        41.0,
    )
    assert (busy.power_draw_w, busy.memory_used_mib, busy.pstate) == (312.55, 31507, "P0")
    assert busy.process_count == 1
    assert states[0].utilization_gpu_pct is None  # "N/A" on a MIG-enabled GPU


def test_xml_old_dtd_power_readings_and_no_architecture_element() -> None:
    sections = nvidia_smi.parse_xml_kind(text("gtx1080-470-q-x.xml"))
    (gpu,) = gpus_of(sections)
    check(
        gpu,
        {
            "name": "NVIDIA GeForce GTX 1080",
            "serial": None,
            "architecture": "Pascal",  # from the name: the v11 DTD has no product_architecture
            "power_limit_w": 180.0,
            "power_default_limit_w": 180.0,
            "power_max_limit_w": 217.0,
            "clocks_max_graphics_mhz": 1911,
            "clocks_max_memory_mhz": 5005,
            "pcie_gen_max": 3,
            "pcie_gen_current": 1,
            "mig_mode": None,
            "ecc_enabled": None,
            "persistence_mode": False,
        },
    )
    (state,) = states_of(sections)
    assert state.fan_pct == 27.0
    assert state.throttle_reasons == []  # only "idle" is active, and idle is not throttling
    assert state.process_count == 0  # two graphics-only processes


def test_xml_driver_610_kmd_and_cuda_umd_labels() -> None:
    sections = nvidia_smi.parse_xml_kind(text("h100-610-q-x.xml"))
    (gpu,) = gpus_of(sections)
    assert (gpu.driver_version, gpu.cuda_version) == ("610.28.03", "13.3")
    assert sections["runtimes"] == Runtimes(nvidia_driver="610.28.03", cuda_driver="13.3")
    assert (gpu.architecture, gpu.pcie_gen_max, gpu.power_limit_w) == ("Hopper", 5, 350.0)
    (state,) = states_of(sections)
    assert state.throttle_reasons == ["sw_power_cap"]


def test_xml_windows_wddm_two_cards_with_different_limits_and_links() -> None:
    gpus = gpus_of(nvidia_smi.parse_xml_kind(text("rtx4090x2-windows-566-q-x.xml")))
    assert [g.power_limit_w for g in gpus] == [450.0, 350.0]
    assert [g.power_default_limit_w for g in gpus] == [450.0, 450.0]
    assert [(g.pcie_width_max, g.pcie_gen_current) for g in gpus] == [(16, 4), (8, 1)]
    assert [g.persistence_mode for g in gpus] == [None, None]  # N/A under WDDM
    assert {g.architecture for g in gpus} == {"Ada Lovelace"}


def test_xml_laptop_with_many_unknowns() -> None:
    sections = nvidia_smi.parse_xml_kind(text("laptop-rtx3050ti-535-q-x.xml"))
    (gpu,) = gpus_of(sections)
    for name in ("power_limit_w", "power_default_limit_w", "power_max_limit_w", "serial",
                 "clocks_max_memory_mhz", "mig_mode", "ecc_enabled"):
        assert getattr(gpu, name) is None, name
    assert gpu.clocks_max_graphics_mhz == 2100
    (state,) = states_of(sections)
    assert state.power_draw_w is None and state.fan_pct is None


@pytest.mark.parametrize(
    ("cut_after", "count"),
    [("</gpu>", 1), ("<product_name>NVIDIA A100-SXM4-40GB</product_name>", 0)],
)
def test_truncated_xml_keeps_only_complete_gpus(cut_after: str, count: int) -> None:
    whole = text("a100-mig-2gpu-535-q-x.xml")
    cut = whole[: whole.index(cut_after) + len(cut_after) + 40]
    report = nvidia_smi.parse_xml(cut)
    assert len(report.gpus) == count
    assert report.driver_version == "535.161.08"
    if count:
        assert report.gpus[0].uuid == A100_0["uuid"]
        assert report.gpus[0].memory_total_mib == 40960


def test_xml_cut_before_the_header_is_a_parse_error() -> None:
    whole = text("a100-mig-2gpu-535-q-x.xml")
    with pytest.raises(ParseError):
        nvidia_smi.parse_xml(whole[:60])


def test_xml_with_a_prompt_line_before_it_still_parses() -> None:
    pasted = "$ nvidia-smi -q -x\n" + text("gtx1080-470-q-x.xml")
    assert len(nvidia_smi.parse_xml(pasted).gpus) == 1


def test_xml_other_root_is_rejected() -> None:
    with pytest.raises(ParseError, match="not nvidia-smi XML"):
        nvidia_smi.parse_xml('<?xml version="1.0"?><rocm><card0/></rocm>')


def test_xml_gpu_id_attribute_is_the_bus_id_when_the_element_is_missing() -> None:
    doc = (
        '<?xml version="1.0" ?><nvidia_smi_log><gpu id="00000000:65:00.0">'
        "<product_name>NVIDIA RTX A4000</product_name><fb_memory_usage><total>16376 MiB</total>"
        "</fb_memory_usage></gpu></nvidia_smi_log>"
    )
    (gpu,) = nvidia_smi.parse_xml(doc).gpus
    assert (gpu.pci_bus_id, gpu.architecture, gpu.driver_version) == (
        "00000000:65:00.0",
        "Ampere",
        None,
    )


# ------------------------------------------------------------------------------------- -q


def test_q_driver_610_labels() -> None:
    sections = nvidia_smi.parse_q_kind(text("h100-610-q.txt"))
    (gpu,) = gpus_of(sections)
    check(
        gpu,
        {
            "name": "NVIDIA H100 PCIe",
            "driver_version": "610.28.03",
            "cuda_version": "13.3",
            "architecture": "Hopper",
            "pci_bus_id": "00000000:41:00.0",
            "pci_device_id": "0x10de:0x2331",
            "memory_total_mib": 81559,
            "power_limit_w": 350.0,
            "clocks_max_graphics_mhz": 1755,
            "pcie_gen_max": 5,
            "mig_mode": False,
            "ecc_enabled": True,
            "source": "nvidia-smi -q",
        },
    )
    assert states_of(sections)[0].throttle_reasons == ["sw_power_cap"]


def test_q_matches_xml_for_the_same_machine() -> None:
    from_q = gpus_of(nvidia_smi.parse_q_kind(text("a100-mig-2gpu-535-q.txt")))
    from_xml = gpus_of(nvidia_smi.parse_xml_kind(text("a100-mig-2gpu-535-q-x.xml")))
    strip = {"source"}
    for q_gpu, xml_gpu in zip(from_q, from_xml, strict=True):
        assert {k: v for k, v in vars_of(q_gpu).items() if k not in strip} == {
            k: v for k, v in vars_of(xml_gpu).items() if k not in strip
        }


def vars_of(gpu: Gpu) -> dict[str, Any]:
    import attrs

    return attrs.asdict(gpu)


def test_q_windows_crlf_two_gpus() -> None:
    raw = (SAMPLES / "rtx4090x2-windows-566-q.txt").read_bytes().decode()
    assert "\r\n" in raw
    gpus = gpus_of(nvidia_smi.parse_q_kind(raw))
    assert [g.pci_bus_id for g in gpus] == ["00000000:01:00.0", "00000000:05:00.0"]
    assert [g.power_limit_w for g in gpus] == [450.0, 350.0]
    assert [g.persistence_mode for g in gpus] == [None, None]


def test_q_old_driver_labels() -> None:
    sections = nvidia_smi.parse_q_kind(text("gtx1080-470-q.txt"))
    (gpu,) = gpus_of(sections)
    assert (gpu.power_limit_w, gpu.power_max_limit_w, gpu.architecture) == (180.0, 217.0, "Pascal")
    (state,) = states_of(sections)
    assert (state.utilization_gpu_pct, state.utilization_memory_pct) == (0.0, 2.0)


def test_q_laptop_unknowns_are_null() -> None:
    sections = nvidia_smi.parse_q_kind(text("laptop-rtx4060-550-q.txt"))
    (gpu,) = gpus_of(sections)
    assert gpu.power_limit_w is None and gpu.ecc_enabled is None and gpu.serial is None
    assert (gpu.memory_total_mib, gpu.pcie_width_max) == (8188, 8)


def test_q_without_gpus_or_driver_is_an_error() -> None:
    with pytest.raises(ParseError, match="couldn't communicate"):
        nvidia_smi.parse_q(DRIVER_GONE)
    with pytest.raises(ParseError):
        nvidia_smi.parse_q(LSCPU)


# ------------------------------------------------------------------------------------ CSV


def test_csv_with_units_brackets_and_610_fields() -> None:
    sections = nvidia_smi_text.parse_csv_kind(text("h100-610-query-units.csv"))
    (gpu,) = gpus_of(sections)
    check(
        gpu,
        {
            "driver_version": "610.28.03",  # driver_version is "[...deprecated]"; kmd_version wins
            "compute_capability": "9.0",
            "architecture": "Hopper",
            "memory_total_mib": 81559,
            "power_limit_w": 350.0,
            "pcie_gen_max": 5,
            "persistence_mode": True,
            "mig_mode": False,
            "ecc_enabled": True,
            "source": "nvidia-smi --query-gpu",
        },
    )
    (state,) = states_of(sections)
    assert state.throttle_reasons == ["sw_power_cap"]
    assert (state.temperature_c, state.power_draw_w, state.utilization_gpu_pct) == (
        71.0,
        349.87,
        100.0,
    )


def test_csv_nounits_two_gpus() -> None:
    sections = nvidia_smi_text.parse_csv_kind(text("rtx4090x2-nounits.csv"))
    gpus = gpus_of(sections)
    assert [g.power_limit_w for g in gpus] == [450.0, 350.0]
    assert [g.pcie_width_max for g in gpus] == [16, 8]
    assert [g.persistence_mode for g in gpus] == [None, None]
    assert [s.throttle_reasons for s in states_of(sections)] == [[], []]


def test_csv_quoted_crlf_trailing_spaces_without_index_column() -> None:
    gpus = gpus_of(nvidia_smi_text.parse_csv_kind(text("rtx3090x3-quoted-subset.csv")))
    assert [g.index for g in gpus] == [0, 1, 2]
    assert [g.pci_bus_id for g in gpus] == [
        "00000000:01:00.0",
        "00000000:21:00.0",
        "00000000:4B:00.0",
    ]
    assert gpus[2].uuid == "GPU-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    assert {g.memory_total_mib for g in gpus} == {24576}


def test_csv_volatile_fields_and_throttle_mask() -> None:
    sections = nvidia_smi_text.parse_csv_kind(text("volatile-2gpu.csv"))
    states = states_of(sections)
    assert [s.throttle_reasons for s in states] == [
        ["sw_power_cap"],
        ["sw_power_cap", "sw_thermal_slowdown"],
    ]
    assert states[0].clocks_sm_mhz == 2715 and states[1].memory_used_mib == 21004
    assert "runtimes" not in sections


def test_csv_one_column_per_reason() -> None:
    (state,) = states_of(nvidia_smi_text.parse_csv_kind(text("gtx1080-470-reasons.csv")))
    assert state.throttle_reasons == ["sw_power_cap"]


def test_csv_refused_field_and_missing_header() -> None:
    with pytest.raises(ParseError, match="compute_cap"):
        nvidia_smi_text.parse_csv('Field "compute_cap" is not a valid field to query.\n')
    with pytest.raises(ParseError):
        nvidia_smi_text.parse_csv("NVIDIA GeForce RTX 4090, 24564 MiB\n")


def test_csv_field_names() -> None:
    assert nvidia_smi_text.csv_field(' "memory.total [MiB]" ') == "memory.total"
    assert nvidia_smi_text.csv_field("Power.Limit [W]") == "power.limit"


# ------------------------------------------------------------------------------------- -L


def test_list_skips_mig_devices() -> None:
    gpus = gpus_of(nvidia_smi_text.parse_list_kind(text("a100-mig-L.txt")))
    assert [(g.index, g.uuid) for g in gpus] == [
        (0, "GPU-2f6a1c9e-8b57-4d03-a9e1-5c0d7f3b6a21"),
        (1, "GPU-9d41b7e0-3c2a-4f86-b1d5-e87a02c4f359"),
    ]
    old = gpus_of(nvidia_smi_text.parse_list_kind(text("a100-mig-old-L.txt")))
    assert [g.name for g in old] == ["A100-SXM4-40GB"]


def test_list_windows_and_empty() -> None:
    gpus = gpus_of(nvidia_smi_text.parse_list_kind(text("rtx4090x2-windows-L.txt")))
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090"] * 2
    assert nvidia_smi_text.parse_list("No devices were found\n") == []
    with pytest.raises(ParseError):
        nvidia_smi_text.parse_list(LSCPU)


def test_list_name_with_parentheses() -> None:
    (gpu,) = nvidia_smi_text.parse_list("GPU 0: NVIDIA GeForce GTX 1050 (Mobile) (UUID: GPU-1)\n")
    assert (gpu.name, gpu.uuid) == ("NVIDIA GeForce GTX 1050 (Mobile)", "GPU-1")


# ------------------------------------------------------------------------------- --version


@pytest.mark.parametrize(
    ("sample", "driver", "cuda"),
    [
        ("h100-610-version.txt", "610.28.03", "13.3"),
        ("rtx4090-566-windows-version.txt", "566.36", "12.7"),
    ],
)
def test_version(sample: str, driver: str, cuda: str) -> None:
    assert nvidia_smi_text.parse_version_kind(text(sample)) == {
        "runtimes": Runtimes(nvidia_driver=driver, cuda_driver=cuda)
    }


def test_version_without_versions_is_an_error() -> None:
    with pytest.raises(ParseError):
        nvidia_smi_text.parse_version("DRIVER version : Deprecated, see KMD version\n")


ROCM_SMI_TEXT = Path(__file__).parents[1] / "fixtures" / "amd" / "rocm-smi-text-w7900.txt"


# Regression: rocm-smi's "Driver version: 6.8.5" (amdgpu) was read as the NVIDIA driver.
@pytest.mark.parametrize(
    "other",
    [ROCM_SMI_TEXT.read_text(encoding="utf-8"), "Driver version: 6.8.5\n",
     "Driver Version : 550.1\nCUDA Version : 12.4\n"],
)
def test_another_tools_driver_version_is_not_nvidias(other: str) -> None:
    with pytest.raises(ParseError):
        nvidia_smi_text.parse_version(other)
    with pytest.raises(ParseError):
        nvidia_smi.parse_q(other)


@pytest.mark.parametrize(
    "header",
    ["==============NVSMI LOG==============\n", "Attached GPUs : 0\n",
     "=== NVSMI LOG ===\nAttached GPUs : 0\n"],
)
def test_q_header_without_gpus_still_names_the_driver(header: str) -> None:
    """nvidia-smi's own header (banner or "Attached GPUs") vouches for its driver line."""
    report = nvidia_smi.parse_q(header + "Driver Version : 580.159.04\nCUDA Version : 13.0\n")
    assert (report.gpus, report.driver_version, report.cuda_version) == ([], "580.159.04", "13.0")


def test_version_names_itself_in_any_spelling() -> None:
    """Only nvidia-smi's naming of itself is required, not a sample's layout or case."""
    runtimes = nvidia_smi_text.parse_version("nvml version: 999.1\nkmd version: 999.1.2\n")
    assert runtimes == Runtimes(nvidia_driver="999.1.2", cuda_driver=None)


# ---------------------------------------------------------------------------------- table


def test_table_a100_mig_devices_and_processes_are_not_gpus() -> None:
    sections = nvidia_smi_text.parse_table_kind(text("a100-mig-535-table.txt"))
    gpus = gpus_of(sections)
    assert [(g.index, g.pci_bus_id, g.mig_mode) for g in gpus] == [
        (0, "00000000:07:00.0", True),
        (1, "00000000:0F:00.0", False),
    ]
    assert {g.memory_total_mib for g in gpus} == {40960}
    assert {(g.driver_version, g.cuda_version, g.power_limit_w) for g in gpus} == {
        ("535.161.08", "12.2", 400.0)
    }
    states = states_of(sections)
    assert [s.memory_used_mib for s in states] == [26, 31507]
    assert states[0].utilization_gpu_pct is None


def test_table_windows_wddm_has_no_persistence_column() -> None:
    gpus = gpus_of(nvidia_smi_text.parse_table_kind(text("rtx4090x2-windows-566-table.txt")))
    assert [g.persistence_mode for g in gpus] == [None, None]
    assert [g.power_limit_w for g in gpus] == [450.0, 350.0]
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090"] * 2


def test_table_truncated_names_are_kept_as_printed() -> None:
    gpus = gpus_of(nvidia_smi_text.parse_table_kind(text("rtx3090x2-470-table.txt")))
    assert [g.name for g in gpus] == ["NVIDIA GeForce ..."] * 2
    assert [g.architecture for g in gpus] == [None, None]  # nothing certain in "GeForce ..."
    assert [g.memory_total_mib for g in gpus] == [24265, 24268]


def test_table_ellipsis_glued_to_the_mode() -> None:
    row = "|   0  NVIDIA GeForce RTX 4090 ...Off  | 00000000:01:00.0  On |                  N/A |"
    table = text("rtx3090x2-470-table.txt").replace(
        "|   0  NVIDIA GeForce ...  Off  | 00000000:01:00.0  On |                  N/A |", row
    )
    gpu = nvidia_smi_text.parse_table(table)[0][0]
    assert (gpu.name, gpu.persistence_mode, gpu.architecture) == (
        "NVIDIA GeForce RTX 4090 ...",
        False,
        "Ada Lovelace",
    )


def test_table_two_line_rows_of_old_drivers() -> None:
    gpus, states, driver, cuda = nvidia_smi_text.parse_table(text("v100x4-418-table.txt"))
    assert [g.index for g in gpus] == [0, 1, 2, 3]
    assert {g.architecture for g in gpus} == {"Volta"}
    assert [g.mig_mode for g in gpus] == [None] * 4
    assert (driver, cuda) == ("418.67", "10.1")
    assert [s.power_draw_w for s in states] == [42.0, 41.0, 43.0, 44.0]


def test_table_610_header_labels() -> None:
    sections = nvidia_smi_text.parse_table_kind(text("h100-610-table.txt"))
    assert sections["runtimes"] == Runtimes(nvidia_driver="610.28.03", cuda_driver="13.3")
    (gpu,) = gpus_of(sections)
    assert (gpu.power_limit_w, gpu.memory_total_mib, gpu.persistence_mode) == (350.0, 81559, True)


def test_table_box_drawing_characters() -> None:
    (gpu,) = gpus_of(nvidia_smi_text.parse_table_kind(text("l4-550-unicode-table.txt")))
    assert (gpu.name, gpu.power_limit_w, gpu.pci_bus_id) == ("NVIDIA L4", 72.0, "00000000:00:03.0")


def test_table_errors() -> None:
    with pytest.raises(ParseError, match="couldn't communicate"):
        nvidia_smi_text.parse_table(DRIVER_GONE)
    with pytest.raises(ParseError):
        nvidia_smi_text.parse_table(ROCM_SMI)


# ------------------------------------------------------------------------- broken inputs

BROKEN = {
    "empty": "",
    "blank": "\n\n   \n",
    "binary": "\x00\x01\x02\xff\xfe\x7fELF\x02\x01\x01" * 20,
    "lscpu": LSCPU,
    "rocm-smi": ROCM_SMI,
    "driver gone": DRIVER_GONE,
    "json": json.dumps({"gpu_data": [{"gpu": 0}]}),
}


@pytest.mark.parametrize("kind", NVIDIA_KINDS)
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_inputs_raise_parse_error(kind: str, case: str) -> None:
    with pytest.raises(ParseError):
        KIND_FUNCTIONS[kind](BROKEN[case])


@pytest.mark.parametrize("kind", NVIDIA_KINDS)
def test_driver_message_is_the_error(kind: str) -> None:
    with pytest.raises(ParseError, match="couldn't communicate with the NVIDIA driver"):
        KIND_FUNCTIONS[kind](DRIVER_GONE)


KIND_SAMPLES = {
    "nvidia-smi-xml": "a100-mig-2gpu-535-q-x.xml",
    "nvidia-smi-q": "rtx4090x2-windows-566-q.txt",
    "nvidia-smi-csv": "h100-610-query-units.csv",
    "nvidia-smi-list": "a100-mig-L.txt",
    "nvidia-smi-version": "h100-610-version.txt",
    "nvidia-smi-table": "a100-mig-535-table.txt",
}


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(NVIDIA_KINDS), data=st.text(max_size=400))
def test_arbitrary_text_raises_only_parse_error(kind: str, data: str) -> None:
    with contextlib.suppress(ParseError):
        KIND_FUNCTIONS[kind](data)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(NVIDIA_KINDS),
    cut=st.floats(min_value=0.0, max_value=1.0),
    noise=st.text(max_size=30),
)
def test_damaged_samples_raise_only_parse_error(kind: str, cut: float, noise: str) -> None:
    """Real-looking text cut anywhere, with junk spliced in: only ParseError may escape."""
    sample = text(KIND_SAMPLES[kind])
    at = int(len(sample) * cut)
    damaged = sample[:at] + noise + sample[at : at + len(sample) // 3]
    try:
        sections = KIND_FUNCTIONS[kind](damaged)
    except ParseError:
        return
    assert set(sections) <= {"gpus", "runtimes", "volatile"}


@pytest.mark.parametrize("kind", NVIDIA_KINDS)
def test_kind_functions_are_the_registered_ones(kind: str) -> None:
    from envstamp.parsers.kinds import parser_for

    assert parser_for(kind) is KIND_FUNCTIONS[kind]
    assert parse(kind, text(KIND_SAMPLES[kind])) == KIND_FUNCTIONS[kind](text(KIND_SAMPLES[kind]))
    data = parse_to_data(kind, text(KIND_SAMPLES[kind]))
    json.dumps(data, allow_nan=False)
    assert set(data) <= {"gpus", "runtimes", "volatile"}


def test_parse_command_prints_the_fragment(capsys: pytest.CaptureFixture[str]) -> None:
    from envstamp.cli.main import main

    assert main(["parse", "nvidia-smi-list", str(SAMPLES / "a100-mig-L.txt")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [g["index"] for g in printed["gpus"]] == [0, 1]


# ------------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[N/A]", None),
        ("N/A", None),
        ("Not Supported", None),
        ("[Not Supported]", None),
        ("Requested functionality has been deprecated", None),
        ("[Requested functionality has been deprecated]", None),
        ("ERR!", None),
        ("  NVIDIA  L4 ", "NVIDIA L4"),
    ],
)
def test_null_words(raw: str, expected: str | None) -> None:
    assert nvidia_values.value(raw) == expected


def test_versions() -> None:
    assert nvidia_values.version("Deprecated, see KMD version") is None
    assert nvidia_values.first_version(["Deprecated", None, "610.28.03"]) == "610.28.03"
    assert nvidia_values.cuda_from_int(12040) == "12.4"
    assert nvidia_values.cuda_from_int(13010) == "13.1"
    assert nvidia_values.cuda_from_int(0) is None


@pytest.mark.parametrize(
    ("cc", "arch"),
    [
        ("3.7", "Kepler"),
        ("5.2", "Maxwell"),
        ("6.1", "Pascal"),
        ("7.0", "Volta"),
        ("7.2", "Volta"),
        ("7.5", "Turing"),
        ("8.0", "Ampere"),
        ("8.6", "Ampere"),
        ("8.7", "Ampere"),
        ("8.9", "Ada Lovelace"),
        ("9.0", "Hopper"),
        ("10.0", "Blackwell"),
        ("12.0", "Blackwell"),
        ("7.3", None),
        (None, None),
    ],
)
def test_architecture_from_compute_capability(cc: str | None, arch: str | None) -> None:
    assert nvidia_values.architecture_from_cc(cc) == arch


@pytest.mark.parametrize(
    ("name", "arch"),
    [
        ("NVIDIA GeForce RTX 5090", "Blackwell"),
        ("NVIDIA GeForce RTX 4060 Laptop GPU", "Ada Lovelace"),
        ("NVIDIA RTX 6000 Ada Generation", "Ada Lovelace"),
        ("NVIDIA RTX A6000", "Ampere"),
        ("Quadro RTX 5000", "Turing"),
        ("Quadro P400", "Pascal"),
        ("Quadro GV100", "Volta"),
        ("NVIDIA GeForce RTX 2050", None),  # a laptop Ampere chip despite the 20 series name
        ("Tesla T4", "Turing"),
        ("NVIDIA H200", "Hopper"),
        ("NVIDIA GH200 480GB", "Hopper"),
        ("NVIDIA B200", "Blackwell"),
        ("NVIDIA L40S", "Ada Lovelace"),
        ("NVIDIA A10G", "Ampere"),
        ("NVIDIA GeForce ...", None),
        ("NVIDIA TITAN X", None),
    ],
)
def test_architecture_from_name(name: str, arch: str | None) -> None:
    assert nvidia_values.architecture_from_name(name) == arch


def test_pci_device_ids() -> None:
    assert nvidia_values.pci_device_id("0x270210DE") == "0x10de:0x2702"
    assert nvidia_values.pci_device_id("20B010DE") == "0x10de:0x20b0"
    assert nvidia_values.pci_device_id(0x233010DE) == "0x10de:0x2330"
    assert nvidia_values.pci_device_id("N/A") is None


def test_throttle_masks() -> None:
    assert nvidia_values.throttle_names_from_mask(0x1) == []
    assert nvidia_values.throttle_names_from_mask("0x0000000000000044") == [
        "sw_power_cap",
        "hw_thermal_slowdown",
    ]
    assert nvidia_values.throttle_names_from_mask(0x400) == ["reason_0x400"]
    assert nvidia_values.throttle_names_from_mask("[N/A]") is None
    assert nvidia_values.throttle_name("clocks_event_reason_display_clocks_setting") == (
        "display_clock_setting"
    )
    assert nvidia_values.throttle_name("Idle") is None


# ---------------------------------------------------------------------------------- NVML


def _answers(values: list[Any]) -> list[dict[str, Any]]:
    return [{"error": v[1]} if isinstance(v, tuple) else {"value": v} for v in values]


def test_nvml_system_batch() -> None:
    system = nvml.read_system(_answers([2, "550.54.15", 12040, 12040]))
    assert (system.count, system.driver, system.cuda) == (2, "550.54.15", "12.4")
    failed = nvml.read_system(_answers([("e", "Uninitialized"), "550.54.15", 12040, 12040]))
    assert failed.count is None and failed.count_error == "Uninitialized"


def test_nvml_static_answers_errors_become_null() -> None:
    calls = nvml.static_calls(1)
    assert all(c.index == 0 for c in calls)
    values: dict[str, Any] = {
        "nvmlDeviceGetName": "NVIDIA RTX 4000 SFF Ada Generation",
        "nvmlDeviceGetUUID": "GPU-1",
        "nvmlDeviceGetSerial": ("e", "Not Supported"),
        "nvmlDeviceGetPciInfo": {"busId": "00000000:81:00.0", "pciDeviceId": 0x27B010DE},
        "nvmlDeviceGetMemoryInfo": {"total": 20475 * (1 << 20), "used": 0, "free": 0},
        "nvmlDeviceGetCudaComputeCapability": [8, 9],
        "nvmlDeviceGetArchitecture": ("e", "Function Not Found"),
        "nvmlDeviceGetPowerManagementLimit": ("e", "Not Supported"),
        "nvmlDeviceGetEnforcedPowerLimit": 70000,
        "nvmlDeviceGetPowerManagementLimitConstraints": [50000, 70000],
        "nvmlDeviceGetMigMode": ("e", "Not Supported"),
        "nvmlDeviceGetEccMode": [0, 1],
        "nvmlDeviceGetPersistenceMode": 1,
    }
    answers = _answers([values.get(c.fn, ("e", "Not Supported")) for c in calls])
    system = nvml.NvmlSystem(count=1, driver="550.54.15", cuda="12.4")
    (gpu,) = nvml.gpus_from(system, answers, [])
    check(
        gpu,
        {
            "serial": None,
            "pci_device_id": "0x10de:0x27b0",
            "memory_total_mib": 20475,
            "compute_capability": "8.9",
            "architecture": "Ada Lovelace",  # from the compute capability
            "power_limit_w": 70.0,  # the enforced limit when the management limit is unknown
            "power_max_limit_w": 70.0,
            "mig_mode": None,
            "ecc_enabled": False,  # current off, pending on
            "persistence_mode": True,
            "pcie_gen_current": None,
            "source": "nvml",
        },
    )


def test_nvml_device_that_answers_nothing_is_dropped() -> None:
    system = nvml.NvmlSystem(count=1, driver=None, cuda=None)
    dead = [{"error": "GPU is lost"}] * len(nvml.static_calls(1))
    assert nvml.gpus_from(system, dead, []) == []


def test_nvml_volatile_answers() -> None:
    values: dict[str, Any] = {
        "nvmlDeviceGetUUID": "GPU-1",
        "nvmlDeviceGetTemperature": 81,
        "nvmlDeviceGetUtilizationRates": {"gpu": 100, "memory": 55},
        "nvmlDeviceGetPowerUsage": 298400,
        "nvmlDeviceGetMemoryInfo": {"total": 1, "used": 9000 * (1 << 20), "free": 0},
        "nvmlDeviceGetPerformanceState": 2,
        "nvmlDeviceGetFanSpeed": ("e", "Not Supported"),
        "nvmlDeviceGetCurrentClocksEventReasons": ("e", "Function Not Found"),
        "nvmlDeviceGetCurrentClocksThrottleReasons": 0x24,
        "nvmlDeviceGetComputeRunningProcesses": [{"pid": 1}, {"pid": 2}],
    }
    calls = nvml.volatile_calls(1)
    answers = _answers([values.get(c.fn, ("e", "Not Supported")) for c in calls])
    (state,) = nvml.states_from(1, answers)
    assert (state.temperature_c, state.utilization_gpu_pct, state.power_draw_w) == (
        81.0,
        100.0,
        298.4,
    )
    assert (state.memory_used_mib, state.pstate, state.fan_pct) == (9000, "P2", None)
    assert state.throttle_reasons == ["sw_power_cap", "sw_thermal_slowdown"]
    assert state.process_count == 2


def test_nvml_short_answer_lists_do_not_break() -> None:
    system = nvml.NvmlSystem(count=2, driver=None, cuda=None)
    assert nvml.gpus_from(system, [{"value": "NVIDIA L4"}], []) == [
        Gpu(index=0, vendor="nvidia", name="NVIDIA L4", architecture="Ada Lovelace",
            source="nvml")
    ]
    assert len(nvml.states_from(2, [])) == 2


@pytest.mark.parametrize(
    "line",
    [
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure "
        "that the latest NVIDIA driver is installed and running.",
        # Wordings not every build shares: without "NVIDIA " before "driver", spelled out.
        "NVIDIA-SMI has failed because it couldn't communicate with the driver",
        "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.",
    ],
)
def test_the_driver_failure_is_recognised_in_its_wordings(line: str) -> None:
    from envstamp.parsers.nvidia_values import smi_failure

    failure = smi_failure(line + "\n\n")
    assert failure is not None and failure[0] == "absent"
    with pytest.raises(ParseError, match="communicate"):
        nvidia_smi.parse_q(line + "\n")


def test_a_driver_failure_is_not_read_into_other_text() -> None:
    from envstamp.parsers.nvidia_values import smi_failure

    assert smi_failure("the probe could not communicate with the driver of the printer\n") is None
