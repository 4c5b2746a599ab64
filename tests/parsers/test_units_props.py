"""parsers/units: sizes, powers and clocks as GPU tools print them, in the manifest's units.

Properties over the whole unit tables (a value printed in any unit reads back as the same
quantity), the shapes tools use ({"value", "unit"} objects, "N unit" strings, bare numbers with
a default unit) and the rule that unknown is None, never 0 and never garbage.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.parsers.units import bytes_from_size, to_mhz, to_mib, to_watts

MIB = 1 << 20
# unit label -> bytes, as the tools mean them (amd-smi's and rocm-smi's "MB" are MiB)
MEMORY_UNITS = {"B": 1, "KB": 1 << 10, "KiB": 1 << 10, "MB": MIB, "MiB": MIB,
                "GB": 1 << 30, "GiB": 1 << 30, "TB": 1 << 40, "TiB": 1 << 40}
WATT_UNITS = {"W": 1.0, "mW": 1e-3, "uW": 1e-6, "µW": 1e-6, "kW": 1e3}
HZ_UNITS = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}


# ------------------------------------------------------------------------------ to_mib


@settings(max_examples=150)
@given(mib=st.integers(1, 1 << 30), unit=st.sampled_from(["MB", "MiB", "GB", "GiB", "TiB"]))
def test_whole_sizes_read_back_in_mib_whatever_the_unit(mib: int, unit: str) -> None:
    """A size that is a whole number of the unit reads back exactly, as text or as an object."""
    per_unit = MEMORY_UNITS[unit] // MIB
    count = max(1, mib // per_unit)
    expected = count * per_unit
    assert to_mib(f"{count} {unit}") == expected
    assert to_mib(f"{count}{unit}") == expected
    assert to_mib({"value": count, "unit": unit}) == expected
    assert to_mib({"value": str(count), "unit": unit.lower()}) == expected


@pytest.mark.parametrize(
    ("value", "mib"),
    [
        (24576, 24576),  # a bare number is in the default unit, MB (= MiB)
        ("143771 MiB", 143771),  # nvidia-smi, H200
        ("65520 MB", 65520),  # rocm-smi's "MB" is MiB
        ({"value": 196592, "unit": "MB"}, 196592),  # amd-smi --json, MI300X
        ({"value": 48301604864, "unit": "B"}, 46064),  # rocm-smi VRAM in bytes
        ("1,024 MB", 1024),
        ("  8  GB ", 8192),
    ],
)
def test_sizes_as_the_tools_print_them(value: object, mib: int) -> None:
    assert to_mib(value) == mib


def test_the_default_unit_applies_only_when_none_is_printed() -> None:
    assert to_mib(16, default_unit="GB") == 16384
    assert to_mib("16", default_unit="GB") == 16384
    assert to_mib("16 MiB", default_unit="GB") == 16
    assert to_mib({"value": 16, "unit": None}, default_unit="GiB") == 16384


@pytest.mark.parametrize(
    "value",
    [None, "N/A", "[N/A]", "Not Supported", "", 0, "0 MiB", -512, "-512 MB", "8 parsecs",
     {"value": 8, "unit": "furlongs"}, {"value": "N/A", "unit": "MB"}, {"unit": "MB"},
     "8192 MiB/s", True, float("nan"), float("inf"), {"value": 1e300, "unit": "TB"}],
)
def test_unknown_or_unreal_sizes_are_none(value: object) -> None:
    assert to_mib(value) is None


@pytest.mark.parametrize("value", ["512 KB", "0.5", {"value": 100, "unit": "B"}])
def test_a_positive_size_is_never_zero_mib(value: object) -> None:
    assert to_mib(value) != 0


@pytest.mark.parametrize("value", ["512 KB", "0.5", "1048575 B", {"value": 100, "unit": "B"},
                                   {"value": "0.99", "unit": "MiB"}])
def test_a_positive_size_under_one_mib_is_unknown(value: object) -> None:
    """Regression: int() truncated it to 0 after the 'not positive' check.  The manifest's
    unit cannot hold it, and 0 would claim no memory: None (units.to_mib's docstring)."""
    assert to_mib(value) is None


def test_one_mib_and_more_still_truncate_to_whole_mib() -> None:
    assert to_mib("1048576 B") == 1
    assert to_mib("1.99 MiB") == 1
    assert to_mib("1536 KB") == 1


@settings(max_examples=150)
@given(size=st.floats(min_value=1e-9, max_value=1 << 40, allow_nan=False),
       unit=st.sampled_from(sorted(MEMORY_UNITS)))
def test_a_positive_size_is_a_positive_mib_count_or_unknown(size: float, unit: str) -> None:
    mib = to_mib({"value": size, "unit": unit})
    in_mib = size * MEMORY_UNITS[unit] / MIB
    if in_mib < 1:
        assert mib is None
    elif in_mib < 2**52:  # far beyond it a reading is garbage (None): not this property
        assert mib is not None and 1 <= mib <= in_mib


# ---------------------------------------------------------------------------- to_watts


@settings(max_examples=150)
@given(watts=st.integers(1, 5000), unit=st.sampled_from(sorted(WATT_UNITS)))
def test_powers_read_back_in_watts_whatever_the_unit(watts: int, unit: str) -> None:
    count = watts / WATT_UNITS[unit]
    assert to_watts({"value": count, "unit": unit}) == pytest.approx(watts, abs=1e-3)
    assert to_watts(f"{count:.6f} {unit}") == pytest.approx(watts, abs=1e-3)


def test_watts_are_rounded_to_milliwatts() -> None:
    assert to_watts("287.4567 W") == 287.457
    assert to_watts("700.00 W") == 700.0
    assert to_watts({"value": 300000, "unit": "mW"}) == 300.0
    assert to_watts(350) == 350.0


@pytest.mark.parametrize(
    "value", [None, "N/A", "[Unknown Error]", 0, "0.00 W", -15, "-15 W", "15 horsepower",
              {"value": 1e308, "unit": "kW"}, False],
)
def test_unknown_or_unreal_powers_are_none(value: object) -> None:
    assert to_watts(value) is None


@pytest.mark.parametrize("value", ["0.0004 W", "0.4 mW", {"value": 400, "unit": "uW"}])
def test_a_positive_power_under_half_a_milliwatt_is_unknown_not_zero(value: object) -> None:
    """Regression: round(..., 3) gave 0.0 W for a positive reading."""
    assert to_watts(value) is None


def test_half_a_milliwatt_and_more_keep_their_milliwatts() -> None:
    assert to_watts("0.6 mW") == 0.001
    assert to_watts({"value": 1500, "unit": "uW"}) == 0.002


# ------------------------------------------------------------------------------ to_mhz


@settings(max_examples=150)
@given(mhz=st.integers(1, 10_000), unit=st.sampled_from(sorted(HZ_UNITS)))
def test_clocks_read_back_in_mhz_whatever_the_unit(mhz: int, unit: str) -> None:
    count = mhz * 1e6 / HZ_UNITS[unit]
    assert to_mhz({"value": count, "unit": unit}) == mhz
    assert to_mhz(f"{count:.6f} {unit}") == mhz


def test_clocks_as_the_tools_print_them() -> None:
    assert to_mhz("1980 MHz") == 1980
    assert to_mhz("1.98 GHz") == 1980
    assert to_mhz("3201") == 3201  # nounits CSV: the default unit
    assert to_mhz("1.5", default_unit="GHz") == 1500
    assert to_mhz({"value": 2100, "unit": "MHz"}) == 2100
    assert to_mhz("1287.6 MHz") == 1288  # rounded, not truncated


@pytest.mark.parametrize("value", [None, "N/A", 0, "0 MHz", -100, "2 parsecs", True])
def test_unknown_clocks_are_none(value: object) -> None:
    assert to_mhz(value) is None


@pytest.mark.parametrize(
    "value", ["0.4 MHz", "400 kHz", "0.0003 GHz", "0.2", {"value": 1, "unit": "Hz"}]
)
def test_a_positive_clock_under_half_a_mhz_is_unknown_not_zero(value: object) -> None:
    """Regression: round() gave 0 MHz for a positive reading."""
    assert to_mhz(value) is None


def test_half_a_mhz_and_more_round_to_whole_mhz() -> None:
    assert to_mhz("0.6 MHz") == 1
    assert to_mhz("1499 kHz") == 1


# ------------------------------------------------------------------------ bytes_from_size


@settings(max_examples=150)
@given(count=st.integers(1, 4096), unit=st.sampled_from(sorted(MEMORY_UNITS)))
def test_sizes_to_bytes_use_binary_units(count: int, unit: str) -> None:
    """ "16 GB" is 16 GiB: what memory and GPU tools mean by it."""
    expected = count * MEMORY_UNITS[unit]
    result = bytes_from_size(f"{count} {unit}")
    assert result == (expected if expected < 2**53 else None)


def test_bytes_from_size_edges() -> None:
    assert bytes_from_size(12) == 12  # a bare number is bytes
    assert bytes_from_size("1.5 TiB") == 3 << 39
    assert bytes_from_size("0 GB") is None  # zero bytes of memory is unknown, not a fact
    assert bytes_from_size("-1 GB") is None
    assert bytes_from_size("8 PB") is None  # no unit it knows
    assert bytes_from_size("1" + "0" * 20 + " TB") is None


# ------------------------------------------------------------------------------ totality


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.fixed_dictionaries(
        {"value": st.one_of(st.integers(), st.floats(), st.text(max_size=8), st.none())},
        optional={"unit": st.one_of(st.text(max_size=5), st.integers(), st.none())},
    ),
)


@settings(max_examples=300)
@given(values)
def test_every_converter_is_total_and_positive_or_none(value: object) -> None:
    """Any value: a finite positive number below 2**53 (never 0), or None; never an exception."""
    for convert in (to_mib, to_watts, to_mhz, bytes_from_size):
        result = convert(value)
        if result is not None:
            assert not isinstance(result, bool)
            assert math.isfinite(result) and 0 < result < 2**53, convert.__name__
