"""AMD: amd-smi and rocm-smi parsers, KFD properties, PCIe DPM levels, gfx targets (the
probe: tests/probes/test_gpu_amd.py)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.amd_smi import kernel_driver_version, parse_amd_smi, parse_rocm_smi
from envstamp.parsers.drm import parse_pp_dpm_pcie
from envstamp.parsers.kfd import parse_kfd_properties
from envstamp.parsers.kinds import parse_to_data
from envstamp.parsers.pci import gfx_target, pcie_gen_from_speed

AMD = Path(__file__).parents[1] / "fixtures" / "amd"


def read(name: str) -> str:
    return (AMD / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- amd-smi


def test_amd_smi_gpu_data_mi300x() -> None:
    gpus = parse_amd_smi(read("amd-smi-mi300x-gpu-data.json"))
    assert len(gpus) == 2
    first = gpus[0]
    assert (first.index, first.vendor, first.name) == (0, "amd", "AMD Instinct MI300X")
    assert first.architecture == "gfx942"
    assert first.memory_total_mib == 196592  # "MB" is MiB
    assert first.pci_bus_id == "0000:0c:00.0"
    assert first.pci_device_id == "0x1002:0x74a1"
    assert (first.power_limit_w, first.power_max_limit_w) == (700.0, 750.0)
    assert (first.pcie_gen_max, first.pcie_width_max) == (5, 16)
    assert (first.clocks_max_graphics_mhz, first.clocks_max_memory_mhz) == (2100, 1300)
    assert first.vbios_version == "113-M3000100-102"
    assert first.cores == 304
    assert first.ecc_enabled is True
    assert first.serial == "692251001124"
    assert first.driver_version == "6.8.5"
    assert gpus[1].pci_bus_id == "0000:22:00.0"
    assert gpus[1].power_limit_w == 750.0


def test_amd_smi_older_bare_list_with_units_in_strings() -> None:
    gpus = parse_amd_smi(read("amd-smi-mi250x-bare-list.json"))
    assert [g.index for g in gpus] == [0, 1]
    mi250x = gpus[0]
    assert mi250x.name == "AMD Instinct MI250X"
    assert mi250x.memory_total_mib == 65536
    assert (mi250x.power_limit_w, mi250x.power_max_limit_w) == (500.0, 560.0)
    assert mi250x.pcie_gen_max == 4  # from "16 GT/s"
    assert mi250x.pcie_width_max == 16
    assert mi250x.pci_bus_id == "0000:c1:00.0"
    assert mi250x.serial is None  # "0" is a placeholder


def test_amd_smi_warning_before_json_and_ppt0_limits() -> None:
    (gpu,) = parse_amd_smi(read("amd-smi-rx7900xtx-warning.txt"))
    assert gpu.name == "Radeon RX 7900 XTX"
    assert (gpu.power_limit_w, gpu.power_max_limit_w) == (327.0, 402.0)
    assert gpu.pcie_gen_max == 4  # 16000 MT/s
    assert gpu.clocks_max_graphics_mhz == 2526
    # amd-smi prints the in-tree driver as the whole /proc/version without spaces.
    assert gpu.driver_version == "6.8.0-45-generic"
    assert gpu.ecc_enabled is None


def test_amd_smi_text_output() -> None:
    first, second = parse_amd_smi(read("amd-smi-text-mi210x2.txt"))
    assert (first.index, first.name, first.architecture) == (0, "AMD Instinct MI210", "gfx90a")
    assert (first.memory_total_mib, first.power_limit_w, first.pcie_gen_max) == (65520, 300.0, 4)
    assert (first.clocks_max_graphics_mhz, first.cores) == (1700, 104)
    assert (first.pci_bus_id, first.driver_version) == ("0000:63:00.0", "6.7.0")
    assert (second.index, second.pci_bus_id) == (1, "0000:83:00.0")


def test_amd_smi_kind_fragment() -> None:
    data = parse_to_data("amd-smi-json", read("amd-smi-mi300x-gpu-data.json"))
    assert data["gpus"][1]["name"] == "AMD Instinct MI300X"
    json.dumps(data)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        read("amd-smi-truncated.json"),
        '{"card0": {"Card series": "x"}}',
        "<?xml version='1.0'?><nvidia_smi_log></nvidia_smi_log>",
        "\x00\x01\x02binary\xff",
        "AMDSMI_STATUS_NO_PERM - Permission denied",
    ],
)
def test_amd_smi_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ParseError):
        parse_amd_smi(text)


def test_amd_smi_empty_list_means_no_gpu() -> None:
    assert parse_amd_smi('{"gpu_data": []}') == []


# Regression: any list of objects became all-null AMD GPUs (LM Studio's backends list did).
@pytest.mark.parametrize(
    "text",
    ['[{"model_format": "gguf", "name": "llama.cpp-win-x86_64-nvidia-cuda12-avx2", '
     '"version": "1.52.1"}]',
     '{"gpu_data": [{"name": "x"}, {"id": 3}]}', '[{"gpu": "none"}, {"asic": "text"}]',
     '[{"gpu": true}]', '{"backend": "vllm", "gpu": "H100", "duration": 3.5}',
     '[{"gpu": 1.5}, {"gpu": "GPU 0"}]'],
)
def test_amd_smi_refuses_objects_without_its_gpu_shape(text: str) -> None:
    with pytest.raises(ParseError):
        parse_amd_smi(text)


@pytest.mark.parametrize("section", ["asic", "vram", "bus", "driver", "board", "clock"])
def test_one_section_of_a_gpu_or_its_index_alone_is_amd_smis(section: str) -> None:
    """``amd-smi static --vram --json`` and the like print one section per GPU; entries of
    another shape beside them are skipped."""
    gpus = parse_amd_smi(json.dumps([{section: {}}, {"name": "x"}, {"gpu": 1}]))
    assert [(g.index, g.vendor) for g in gpus] == [(0, "amd"), (1, "amd")]


# --------------------------------------------------------------------------- rocm-smi


def test_rocm_smi_6_keys() -> None:
    gpus = parse_rocm_smi(read("rocm-smi-rx7900xtx-rocm6.json"))
    assert [g.index for g in gpus] == [0, 1]
    xtx, igpu = gpus
    assert xtx.name == "Navi 31 [Radeon RX 7900 XT/7900 XTX/7900 GRE/7900M]"
    assert xtx.architecture == "gfx1100"
    assert xtx.memory_total_mib == 24560
    assert xtx.pci_device_id == "0x1002:0x744c"
    assert xtx.power_limit_w == 327.0
    assert xtx.driver_version == "6.8.0-45-generic"  # from the system key
    assert igpu.name == "Raphael"
    assert igpu.power_limit_w is None  # "N/A"


def test_rocm_smi_old_version_has_no_name() -> None:
    (gpu,) = parse_rocm_smi(read("rocm-smi-rx6700xt-rocm4.json"))
    assert gpu.name is None  # "Card series" is only the vendor id 0x1002
    assert gpu.memory_total_mib == 12268  # lower-case "vram Total Memory (B)"
    assert gpu.pci_bus_id == "0000:0B:00.0"
    assert gpu.pci_device_id == "0x1002:0x73df"
    assert gpu.vbios_version == "113-D5121100-101"
    assert (gpu.pcie_gen_current, gpu.pcie_width_current) == (4, 16)


def test_rocm_smi_warnings_before_json() -> None:
    (gpu,) = parse_rocm_smi(read("rocm-smi-warnings.txt"))
    assert gpu.name == "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]"
    assert gpu.serial is None
    assert gpu.driver_version == "6.2.0"


def test_rocm_smi_text_output() -> None:
    (gpu,) = parse_rocm_smi(read("rocm-smi-text-w7900.txt"))
    assert (gpu.name, gpu.architecture) == ("Navi 31 [Radeon Pro W7900]", "gfx1100")
    assert (gpu.pci_bus_id, gpu.memory_total_mib) == ("0000:83:00.0", 46064)
    assert gpu.driver_version == "6.8.5"


def test_rocm_smi_system_only_is_no_gpu() -> None:
    assert parse_rocm_smi('{"system": {"Driver version": "6.3.6"}}') == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        read("rocm-smi-truncated.json"),
        "[1, 2, 3]",
        '{"gpu_data": []}',
        "========= ROCm System Management Interface =========\nNo AMD GPUs specified\n",
    ],
)
def test_rocm_smi_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ParseError):
        parse_rocm_smi(text)


# ----------------------------------------------------------------------- helpers, sysfs


@pytest.mark.parametrize(
    ("value", "name"),
    [(110000, "gfx1100"), ("90010", "gfx90a"), ("90402", "gfx942"), (100306, "gfx1036"),
     ("gfx1201", "gfx1201"), ("GFX90A", "gfx90a"), (0, None), ("N/A", None), ("1", None)],
)
def test_gfx_target_names(value: object, name: str | None) -> None:
    assert gfx_target(value) == name


@pytest.mark.parametrize(
    ("speed", "gen"),
    [("16.0 GT/s PCIe", 4), ("2.5 GT/s", 1), ("32 GT/s", 5), ("8000 MT/s", 3), ("Unknown", None)],
)
def test_pcie_generation_from_speed(speed: str, gen: int | None) -> None:
    assert pcie_gen_from_speed(speed) == gen


def test_kfd_properties() -> None:
    node = parse_kfd_properties(
        "simd_count 208\nsimd_per_cu 2\ngfx_target_version 90010\nlocation_id 49920\ndomain 1\n"
    )
    assert node is not None
    assert node.architecture == "gfx90a"
    assert node.compute_units == 104
    assert node.bus_id == "0001:c3:00.0"
    assert parse_kfd_properties("cpu_cores_count 16\ngfx_target_version 0\n") is None


def test_pp_dpm_pcie_levels() -> None:
    link = parse_pp_dpm_pcie("0: 2.5GT/s, x1 97Mhz\n1: 16.0GT/s, x16 619Mhz *\n")
    assert link is not None
    assert (link.gen_max, link.width_max, link.gen_current, link.width_current) == (4, 16, 4, 16)
    assert parse_pp_dpm_pcie("garbage") is None


def test_driver_version_from_proc_version_quirk() -> None:
    assert kernel_driver_version("Linuxversion6.14.0-24-generic(buildd@x)") == "6.14.0-24-generic"
    assert kernel_driver_version("6.7.0") == "6.7.0"
    assert kernel_driver_version("N/A") is None


# ------------------------------------------------------------------------------ hosts


# ------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["gpu", "asic", "bus", "vram", "size", "value", "unit",
                                       "limit", "clock", "sys", "mem", "frequency_levels",
                                       "card0", "system", "VRAM Total Memory (B)", "gpu_data",
                                       "market_name", "bdf", "ppt0"]), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_amd_parsers_raise_only_parse_error_on_text(text: str) -> None:
    for parse in (parse_amd_smi, parse_rocm_smi):
        with contextlib.suppress(ParseError):
            parse(text)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_amd_parsers_raise_only_parse_error_on_json(value: object) -> None:
    text = "WARNING: x\n" + json.dumps(value)
    for parse in (parse_amd_smi, parse_rocm_smi):
        with contextlib.suppress(ParseError):
            parse(text)


def test_absurd_values_are_null_not_errors() -> None:
    from envstamp.parsers.units import bytes_from_size, to_mhz, to_mib, to_watts

    assert to_mib({"value": 1e308, "unit": "TB"}) is None
    assert to_mhz({"value": 1e308, "unit": "GHz"}) is None
    assert to_watts({"value": 1e308, "unit": "kW"}) is None
    assert bytes_from_size("9" * 400 + " GB") is None
    assert to_mib("8 GB") == 8192
    assert to_watts({"value": 300000, "unit": "mW"}) == 300.0
    text = json.dumps({"gpu_data": [{"gpu": 0, "vram": {"size": {"value": 1e300, "unit": "TB"}},
                                     "clock": {"sys": {"frequency_levels": {"L0": 1e308}}}}]})
    (gpu,) = parse_amd_smi(text)
    assert (gpu.memory_total_mib, gpu.clocks_max_graphics_mhz) == (None, None)
