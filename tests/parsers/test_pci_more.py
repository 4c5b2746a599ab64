"""parsers/pci: vendor ids and names, device id text, PCIe generations, gfx targets, bus ids.

The round trips are checked over their whole domain (every gfx target the number encodes,
every bus/device/function of a KFD location id), the spellings against what real tools print.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.parsers.pci import (
    VENDOR_IDS,
    bus_id_from_location,
    device_id_text,
    gfx_target,
    hex_id,
    is_placeholder_serial,
    pcie_gen_from_speed,
    pcie_gen_from_text,
    vendor_from_id,
    vendor_from_name,
)

# ------------------------------------------------------------------------------ hex ids


@settings(max_examples=200)
@given(st.integers(0, 0xFFFFFFFF))
def test_hex_ids_read_every_spelling(number: int) -> None:
    assert hex_id(number) == number
    assert hex_id(f"0x{number:x}") == number
    assert hex_id(f"0x{number:X}") == number
    assert hex_id(f"{number:x}") == number
    assert hex_id(f"  0x{number:04x} ") == number


@pytest.mark.parametrize(
    "value", [None, True, False, -1, "", "N/A", "0x", "0xg1", "123456789", "0x123456789",
              "10de:2330", "1.5", [0x10DE]]
)
def test_what_is_not_an_id(value: object) -> None:
    assert hex_id(value) is None


def test_a_printed_id_is_hex_even_without_0x() -> None:
    """sysfs and lspci print ids as bare hex: "1002" is AMD (0x1002), not 1002."""
    assert hex_id("1002") == 0x1002
    assert vendor_from_id("1002") == "amd"
    assert vendor_from_id(4098) == "amd"  # JSON numbers (amd-smi, KFD) are the id itself


def test_every_known_vendor_id_has_a_name_and_unknown_ids_are_spelled_out() -> None:
    for number, name in VENDOR_IDS.items():
        assert vendor_from_id(number) == name
        assert vendor_from_id(f"0x{number:04X}") == name
        assert re.fullmatch(r"[a-z]+", name)
    assert vendor_from_id("0x1b36") == "0x1b36"  # QEMU's Red Hat id, not in the table
    assert vendor_from_id(0x1D17) == "0x1d17"
    assert vendor_from_id("N/A") is None
    assert set(VENDOR_IDS.values()) >= {"nvidia", "amd", "intel", "apple"}


@settings(max_examples=150)
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_device_id_text_round_trips(vendor: int, device: int) -> None:
    text = device_id_text(f"0x{vendor:x}", device)
    assert text is not None
    left, _, right = text.partition(":")
    assert (hex_id(left), hex_id(right)) == (vendor, device)
    assert re.fullmatch(r"0x[0-9a-f]{4}:0x[0-9a-f]{4}", text)


def test_device_id_text_needs_two_16_bit_ids() -> None:
    assert device_id_text("0x10de", "0x2335") == "0x10de:0x2335"
    assert device_id_text(0x10005, 1) is None  # Mesa's Khronos id is not a PCI id
    assert device_id_text("0x10de", None) is None
    assert device_id_text("N/A", "0x2335") is None


# --------------------------------------------------------------------------- vendor names


@pytest.mark.parametrize(
    ("names", "vendor"),
    [
        (("NVIDIA Corporation",), "nvidia"),
        (("GeForce RTX 4090",), "nvidia"),
        (("Tesla V100-SXM2-16GB",), "nvidia"),
        (("Quadro RTX 6000",), "nvidia"),
        (("Advanced Micro Devices, Inc. [AMD/ATI]",), "amd"),
        (("AMD Radeon Pro W7900",), "amd"),
        (("AMD Instinct MI300X",), "amd"),
        (("ATI Technologies Inc.",), "amd"),
        (("Intel(R) Arc(TM) A770 Graphics",), "intel"),
        (("Apple M3 Max",), "apple"),
        (("Qualcomm(R) Adreno(TM) 740",), "qualcomm"),
        (("Microsoft Basic Render Driver",), "microsoft"),
        (("VMware SVGA 3D",), "vmware"),
        (("innotek GmbH",), "virtualbox"),
        (("ASPEED Technology, Inc.",), "aspeed"),
        (("Matrox Electronics Systems Ltd.",), "matrox"),
        (("Moore Threads MTT S80",), "moorethreads"),
        ((None, "N/A", "NVIDIA H200"), "nvidia"),  # the first name that says something wins
        (("llvmpipe (LLVM 15.0.7, 256 bits)",), None),
        (("",), None),
        ((), None),
    ],
)
def test_vendor_from_printed_names(names: tuple[object, ...], vendor: str | None) -> None:
    assert vendor_from_name(*names) == vendor


def test_amd_words_are_whole_words() -> None:
    """ "ati" and "amd" inside other words (Corporation, Lambda) are not AMD."""
    assert vendor_from_name("Lambda Labs Workstation") is None
    assert vendor_from_name("Virtualization Corporation") is None


# ------------------------------------------------------------------------------ PCIe


@pytest.mark.parametrize(
    ("rate", "gen"), [(2.5, 1), (5.0, 2), (8.0, 3), (16.0, 4), (32.0, 5), (64.0, 6), (128.0, 7)]
)
def test_every_generation_from_its_rate_in_every_spelling(rate: float, gen: int) -> None:
    assert pcie_gen_from_speed(rate) == gen
    assert pcie_gen_from_speed(f"{rate} GT/s") == gen
    assert pcie_gen_from_speed(f"{rate:.1f} GT/s PCIe") == gen
    assert pcie_gen_from_speed(f"{rate * 1000:.0f} MT/s") == gen
    assert pcie_gen_from_speed(f"{rate * 1.04} GT/s") == gen  # within 5 %
    assert pcie_gen_from_text(f"Gen {gen}") == gen
    assert pcie_gen_from_text(f"PCIe Gen{gen}") == gen
    assert pcie_gen_from_text(str(gen)) == gen


@pytest.mark.parametrize("speed", [0, -16, "N/A", None, "12 GT/s", "5.3 GT/s", "fast"])
def test_rates_between_generations_are_unknown(speed: object) -> None:
    assert pcie_gen_from_speed(speed) is None


@pytest.mark.parametrize("text", ["Gen 0", "Gen 8", "x16", "N/A", None, "", "Gen"])
def test_generation_numbers_outside_1_to_7_are_unknown(text: object) -> None:
    assert pcie_gen_from_text(text) is None


# ---------------------------------------------------------------------------- gfx targets


@settings(max_examples=200)
@given(major=st.integers(1, 12), minor=st.integers(0, 15), stepping=st.integers(0, 15))
def test_gfx_target_numbers_and_names_round_trip(major: int, minor: int, stepping: int) -> None:
    number = major * 10000 + minor * 100 + stepping
    name = gfx_target(number)
    assert name == f"gfx{major}{minor:x}{stepping:x}"
    assert gfx_target(str(number)) == name
    assert gfx_target(name) == name
    assert gfx_target(name.upper().replace("GFX", "gfx")) == name


@pytest.mark.parametrize(
    "value", [0, "0", 90016, 91600, "gfx", "gfx1", "gfx12345", "sm_90", "1100", None, "N/A"]
)
def test_what_is_not_a_gfx_target(value: object) -> None:
    """Zero (a CPU node), minor or stepping beyond one hex digit, other spellings."""
    assert gfx_target(value) is None


# ------------------------------------------------------------------------------ bus ids


@settings(max_examples=200)
@given(
    domain=st.integers(0, 0xFFFF),
    bus=st.integers(0, 255),
    device=st.integers(0, 31),
    function=st.integers(0, 7),
)
def test_kfd_location_ids_decode_to_bus_ids(domain: int, bus: int, device: int,
                                            function: int) -> None:
    location = bus << 8 | device << 3 | function
    expected = f"{domain:04x}:{bus:02x}:{device:02x}.{function:x}"
    assert bus_id_from_location(domain, location) == expected
    assert bus_id_from_location(str(domain), str(location)) == expected


def test_bus_id_edges() -> None:
    assert bus_id_from_location(None, 2048) == "0000:08:00.0"  # no domain: domain 0
    assert bus_id_from_location(0, "x") is None
    assert bus_id_from_location(0, None) is None
    assert bus_id_from_location(0, "-5") is None


# ------------------------------------------------------------------------------ serials


@pytest.mark.parametrize(
    ("serial", "placeholder"),
    [(None, True), ("", True), ("0", True), ("0x0", True), ("0x00000000", True),
     (" 0000 ", True), ("1650000000000", False), ("0xC9B0A2F1E3D45678", False),
     ("N/A", False), ("00001", False)],
)
def test_placeholder_serials(serial: str | None, placeholder: bool) -> None:
    assert is_placeholder_serial(serial) is placeholder
