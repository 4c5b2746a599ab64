"""Apple: system_profiler JSON and text, displays and hardware (the probe:
tests/probes/test_gpu_apple.py)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.kinds import parse_to_data
from envstamp.parsers.system_profiler import core_split, metal_support, parse_system_profiler

APPLE = Path(__file__).parents[1] / "fixtures" / "apple"


def read(name: str) -> str:
    return (APPLE / name).read_text(encoding="utf-8")


def test_m3_max_both_data_types() -> None:
    sections = parse_system_profiler(read("sp-m3max-both.json"))
    (gpu,) = sections["gpus"]  # the two monitors are not GPUs
    assert (gpu.vendor, gpu.name, gpu.cores) == ("apple", "Apple M3 Max", 40)
    assert gpu.unified_memory is True
    assert gpu.memory_total_mib is None
    assert sections["runtimes"].metal == "Metal 3"
    cpu = sections["cpu"]
    assert cpu.model_name == "Apple M3 Max"
    assert (cpu.physical_cores, cpu.performance_cores, cpu.efficiency_cores) == (16, 12, 4)
    assert sections["memory"].total_bytes == 128 << 30
    assert sections["host"].model == "Mac15,9"


def test_m1_with_hardware_first_and_older_metal_key() -> None:
    sections = parse_system_profiler(read("sp-m1-air.json"))
    assert sections["gpus"][0].cores == 7
    assert sections["runtimes"].metal == "Metal 3"
    assert sections["memory"].total_bytes == 8 << 30
    assert sections["host"].model == "MacBookAir10,1"


def test_intel_mac_with_discrete_radeon() -> None:
    sections = parse_system_profiler(read("sp-intel-mac-radeon.json"))
    intel, radeon = sections["gpus"]
    assert (intel.vendor, intel.unified_memory, intel.memory_total_mib) == ("intel", True, None)
    assert intel.pci_device_id == "0x8086:0x3e9b"
    assert (radeon.vendor, radeon.name) == ("amd", "AMD Radeon Pro 5500M")
    assert (radeon.memory_total_mib, radeon.unified_memory) == (8192, False)
    assert radeon.vbios_version == "113-D3220E-190"
    assert radeon.pci_device_id == "0x1002:0x7340"
    cpu = sections["cpu"]
    assert (cpu.model_name, cpu.physical_cores, cpu.sockets) == ("8-Core Intel Core i9", 8, 1)
    assert cpu.performance_cores is None
    assert (cpu.cache_l2_kib, cpu.cache_l3_kib, cpu.smt) == (256, 16384, True)
    assert sections["memory"].total_bytes == 32 << 30


def test_text_output_of_an_intel_mac_with_an_egpu() -> None:
    sections = parse_system_profiler(read("sp-text-intel-mac.txt"))
    iris, radeon = sections["gpus"]  # the Color LCD under Displays is a monitor
    assert (iris.vendor, iris.unified_memory, iris.memory_total_mib) == ("intel", True, None)
    assert (radeon.vendor, radeon.memory_total_mib, radeon.unified_memory) == ("amd", 8192, False)
    assert radeon.vbios_version == "113-D0090300-103"
    assert sections["runtimes"].metal == "Metal GPUFamily macOS 2"
    cpu = sections["cpu"]
    assert (cpu.model_name, cpu.physical_cores, cpu.sockets, cpu.smt) == (
        "Quad-Core Intel Core i7", 4, 1, True)
    assert sections["host"].model == "MacBookPro15,2"


def test_text_output_of_apple_silicon_hardware_first() -> None:
    sections = parse_system_profiler(read("sp-text-m4-pro.txt"))
    (gpu,) = sections["gpus"]
    assert (gpu.vendor, gpu.name, gpu.cores, gpu.unified_memory) == (
        "apple", "Apple M4 Pro", 20, True)
    cpu = sections["cpu"]
    assert (cpu.physical_cores, cpu.performance_cores, cpu.efficiency_cores) == (14, 10, 4)
    assert sections["memory"].total_bytes == 64 << 30
    assert sections["runtimes"].metal == "Metal 3"


def test_displays_only_has_no_cpu_section() -> None:
    text = json.dumps({"SPDisplaysDataType": json.loads(read("sp-m3max-both.json"))[
        "SPDisplaysDataType"]})
    sections = parse_system_profiler(text)
    assert set(sections) == {"gpus", "runtimes"}


def test_kind_fragment() -> None:
    data = parse_to_data("system-profiler", read("sp-m3max-both.json"))
    assert data["gpus"][0]["unified_memory"] is True
    assert data["cpu"]["performance_cores"] == 12


@pytest.mark.parametrize(
    ("value", "split"),
    [("proc 8:4:4", (8, 4, 4)), ("proc 14:10:4", (14, 10, 4)), (10, (10, None, None)),
     ("", (None, None, None)), (None, (None, None, None))],
)
def test_core_split(value: object, split: tuple[int | None, ...]) -> None:
    assert core_split(value) == split


def test_metal_takes_the_highest_level() -> None:
    items = [{"spdisplays_mtlgpufamilysupport": "spdisplays_metal2"},
             {"spdisplays_mtlgpufamilysupport": "spdisplays_metal3"}]
    assert metal_support(items) == "Metal 3"
    assert metal_support([{"sppci_model": "x"}]) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        read("sp-usage-not-json.txt"),
        '{"SPSoftwareDataType": [{"os_version": "macOS 14.5"}]}',
        read("sp-m3max-both.json")[:700],
        "[]",
        "\x00\x9f binary",
    ],
)
def test_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ParseError):
        parse_system_profiler(text)


text_lines = st.lists(
    st.builds(
        lambda indent, key, value: f"{' ' * indent}{key}:{value}",
        st.integers(0, 10),
        st.sampled_from(["Graphics/Displays", "Hardware Overview", "Chipset Model", "Vendor",
                         "Bus", "VRAM (Total)", "Total Number of Cores", "Memory", "Chip",
                         "Displays", "Metal Support"]),
        st.text(max_size=15),
    )
    | st.text(max_size=20),
    max_size=15,
)


@settings(max_examples=200, deadline=None)
@given(text_lines)
def test_text_form_raises_only_parse_error(lines: list[str]) -> None:
    with contextlib.suppress(ParseError):
        parse_system_profiler("\n".join(lines))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parser_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_system_profiler(text)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["sppci_model", "sppci_cores", "spdisplays_vram", "spdisplays_vendor",
                         "sppci_bus", "spdisplays_device-id", "sppci_device_type",
                         "spdisplays_mtlgpufamilysupport", "number_processors",
                         "physical_memory", "chip_type", "packages", "l3_cache"]),
        st.none() | st.integers() | st.text(max_size=12) | st.lists(st.integers(), max_size=2),
    )
)
def test_parser_survives_odd_values(item: dict[str, object]) -> None:
    text = json.dumps({"SPDisplaysDataType": [item], "SPHardwareDataType": [item]})
    with contextlib.suppress(ParseError):
        parse_system_profiler(text)
