"""The small shared parsing helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.parsers.textutil import (
    bare_version,
    clean,
    collapse,
    key_values,
    size_to_bytes,
    to_bool,
    to_float,
    to_int,
)


@pytest.mark.parametrize(
    "value",
    [
        "N/A",
        "[N/A]",
        " n/a ",
        "Not Supported",
        "[Not Supported]",
        "",
        "  ",
        None,
        "Requested functionality has been deprecated",
        "Unknown",
    ],
)
def test_unknowns_are_none(value: object) -> None:
    assert clean(value) is None
    assert to_int(value) is None


def test_clean_collapses_whitespace_and_keeps_marks() -> None:
    assert clean("  Intel(R)   Core(TM)\ti9 ") == "Intel(R) Core(TM) i9"
    assert collapse("a \n b") == "a b"


@pytest.mark.parametrize(
    ("text", "number"),
    [("1287 MHz", 1287), ("700.00 W", 700), ("81559 MiB", 81559), ("1,024", 1024), ("-5 C", -5)],
)
def test_numbers_with_units(text: str, number: int) -> None:
    assert to_int(text) == number
    assert to_float(text) == float(number)


def test_numbers_edge_cases() -> None:
    assert to_int(True) is None and to_float(False) is None
    assert to_float("nan") is None and to_float(float("inf")) is None
    assert to_int("1e300") is None
    assert to_int(7) == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16 GB", 16 << 30),
        ("4.0 GiB", 4 << 30),
        ("512 MB", 512 << 20),
        ("12", 12),
        ("2 TB", 2 << 40),
    ],
)
def test_sizes(text: str, expected: int) -> None:
    assert size_to_bytes(text) == expected


def test_decimal_sizes() -> None:
    assert size_to_bytes("4.0 GB", binary=False) == 4_000_000_000
    assert size_to_bytes("4 parsecs") is None
    assert size_to_bytes("big") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Enabled", True),
        ("Disabled", False),
        ("Yes", True),
        ("off", False),
        ("maybe", None),
        ("N/A", None),
    ],
)
def test_booleans(text: str, expected: bool | None) -> None:
    assert to_bool(text) is expected


def test_versions_and_key_values() -> None:
    assert bare_version("v0.0.47") == "0.0.47"
    assert bare_version("version") == "version"
    assert list(key_values(["Driver Version : 550.54", "no separator", " : empty key"])) == [
        ("Driver Version", "550.54")
    ]


@given(st.text())
def test_helpers_are_total(text: str) -> None:
    clean(text)
    to_int(text)
    to_float(text)
    to_bool(text)
    size_to_bytes(text)
    bare_version(text)
    list(key_values(text.splitlines()))
