"""Windows: Win32_VideoController listings in every shape and the registry values' helpers
(the probe: tests/probes/test_gpu_windows.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu
from envstamp.parsers.kinds import parse_to_data
from envstamp.parsers.windows_gpu import (
    adapter_ram_mib,
    adapters,
    bus_id_from_location,
    parse_windows_gpu_kind,
    registry_bytes,
)
from envstamp.runner import decode

WINDOWS = Path(__file__).parents[1] / "fixtures" / "windows"


def read(name: str) -> str:
    """As envstamp reads a file: bytes decoded leniently (NULs dropped, CRLF folded)."""
    return decode((WINDOWS / name).read_bytes())


def gpus(name: str) -> list[Gpu]:
    result: list[Gpu] = parse_windows_gpu_kind(read(name))["gpus"]
    return result


def test_powershell_list_with_capped_adapter_ram() -> None:
    nvidia, intel = gpus("ps-list-rtx4090-uhd770.txt")  # the remote-display adapter is dropped
    assert (nvidia.vendor, nvidia.name) == ("nvidia", "NVIDIA GeForce RTX 4090")
    assert nvidia.memory_total_mib is None  # 4293918720: the capped uint32
    assert nvidia.pci_device_id == "0x10de:0x2684"
    assert nvidia.driver_version == "32.0.15.6094"
    assert (intel.vendor, intel.name) == ("intel", "Intel(R) UHD Graphics 770")
    assert intel.memory_total_mib == 2047
    assert [nvidia.index, intel.index] == [0, 1]


def test_powershell_table() -> None:
    found = gpus("ps-table-rtx3060-rx6600.txt")
    assert [g.name for g in found] == ["NVIDIA GeForce RTX 3060", "AMD Radeon RX 6600"]
    assert [g.vendor for g in found] == ["nvidia", "amd"]
    assert [g.memory_total_mib for g in found] == [None, None]
    assert found[1].driver_version == "31.0.24033.1003"


def test_wmic_list_saved_as_utf16() -> None:
    radeon, nvidia = gpus("wmic-list-utf16.txt")
    assert radeon.name == "AMD Radeon(TM) Graphics"
    assert radeon.vendor == "amd"
    assert radeon.memory_total_mib == 512
    assert nvidia.name == "NVIDIA GeForce RTX 3050 Laptop GPU"
    assert nvidia.memory_total_mib is None  # 4 GiB - 1
    assert nvidia.pci_device_id == "0x10de:0x25a2"


def test_wmic_table() -> None:
    iris, mx450 = gpus("wmic-table-iris-mx450.txt")
    assert (iris.name, iris.memory_total_mib, iris.vendor) == (
        "Intel(R) Iris(R) Xe Graphics", 1024, "intel")
    assert mx450.driver_version == "30.0.14.7212"
    assert mx450.pci_device_id == "0x10de:0x1f97"


def test_convert_to_json() -> None:
    (gpu,) = gpus("ps-json-rtx4070tis.json")
    assert gpu.name == "NVIDIA GeForce RTX 4070 Ti SUPER"
    assert gpu.pci_device_id == "0x10de:0x2705"
    assert gpu.memory_total_mib is None


def test_list_value_wrapped_onto_the_next_line() -> None:
    text = (
        "Name        : AMD Radeon RX 7800 XT\n"
        "PNPDeviceID : PCI\\VEN_1002&DEV_747E&SUBSYS_\n"
        "              E3241DA2&REV_C8\\6&2A1E3C7&0&00000019\n"
    )
    (gpu,) = parse_windows_gpu_kind(text)["gpus"]
    assert gpu.pci_device_id == "0x1002:0x747e"
    assert gpu.vendor == "amd"


def test_kind_fragment() -> None:
    data = parse_to_data("windows-gpu", read("ps-list-rtx4090-uhd770.txt"))
    assert len(data["gpus"]) == 2


@pytest.mark.parametrize(
    ("value", "mib"),
    [(4293918720, None), (4294967295, None), (0, None), ("", None), (2147483648, 2048),
     ("1073741824", 1024)],
)
def test_adapter_ram(value: object, mib: int | None) -> None:
    assert adapter_ram_mib(value) == mib


def test_registry_helpers() -> None:
    assert bus_id_from_location("PCI bus 1, device 0, function 0") == "0000:01:00.0"
    assert bus_id_from_location("PCI bus 0, device 2, function 0") == "0000:00:02.0"
    assert bus_id_from_location("Internal") is None
    assert registry_bytes(25757220864) == 25757220864
    assert registry_bytes("00000008") == 128 << 20  # REG_BINARY, little-endian
    assert registry_bytes("zz") is None
    assert registry_bytes(None) is None


@pytest.mark.parametrize(
    "name",
    ["not-a-listing.txt"],
)
def test_refuses_other_output(name: str) -> None:
    with pytest.raises(ParseError):
        parse_windows_gpu_kind(read(name))


@pytest.mark.parametrize("text", ["", "\r\n\r\n", "\x00\x01\x02", "Hello world", '{"x": 1}'])
def test_refuses_empty_or_unrelated(text: str) -> None:
    with pytest.raises(ParseError):
        adapters(text)


lines = st.lists(
    st.one_of(
        st.builds(lambda k, v: f"{k} : {v}",
                  st.sampled_from(["Name", "AdapterRAM", "PNPDeviceID", "DriverVersion"]),
                  st.text(max_size=30)),
        st.builds(lambda k, v: f"{k}={v}",
                  st.sampled_from(["Caption", "AdapterRAM", "PNPDeviceID"]), st.text(max_size=30)),
        st.text(max_size=40),
        st.just("----  ----------"),
        st.just(""),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lines)
def test_parser_raises_only_parse_error_on_listing_like_text(parts: list[str]) -> None:
    with contextlib.suppress(ParseError):
        adapters("\r\n".join(parts))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parser_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        adapters(text)
