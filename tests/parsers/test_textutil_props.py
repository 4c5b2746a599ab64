"""parsers/textutil as properties: numbers printed any way tools print them read back, unknown
words are None whatever their case and spacing, and the CSV and key/value helpers read back
what a writer of their format writes.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.parsers.textutil import (
    NULL_TOKENS,
    bare_version,
    clean,
    collapse,
    csv_row,
    first_number,
    key_values,
    size_to_bytes,
    sorted_unique,
    to_bool,
    to_float,
    to_int,
)

UNITS = st.sampled_from(["", " MHz", " W", "MiB", " %", " C", " GT/s"])


@settings(max_examples=60)
@given(number=st.integers(-(2**53), 2**53), unit=UNITS, thousands=st.booleans())
def test_whole_numbers_read_back_with_any_unit(number: int, unit: str, thousands: bool) -> None:
    printed = f"{number:,}" if thousands else str(number)
    assert to_int(printed + unit) == number
    assert to_float(printed + unit) == float(number)


@settings(max_examples=60)
@given(st.floats(allow_nan=False, allow_infinity=False), UNITS)
def test_floats_read_back_from_their_repr(number: float, unit: str) -> None:
    assert to_float(repr(number) + unit) == number
    assert to_float(number) == number


@pytest.mark.parametrize("number", [2**54 + 3, -(2**60), 10**20])
def test_integers_beyond_what_json_keeps_are_unknown_when_printed(number: int) -> None:
    assert to_int(str(number)) is None
    assert to_int(number) == number  # a number given as a number is taken as it is


@settings(max_examples=50)
@given(token=st.sampled_from(sorted(NULL_TOKENS)), case=st.sampled_from(["lower", "upper",
                                                                          "title"]),
       pad=st.sampled_from(["", " ", "\t", "  \n"]))
def test_unknown_words_are_none_in_any_case_and_spacing(token: str, case: str, pad: str) -> None:
    spelled = getattr(token, case)()
    text = pad + spelled + pad
    assert clean(text) is None
    assert (to_int(text), to_float(text), to_bool(text), bare_version(text)) == (None,) * 4


@settings(max_examples=60)
@given(st.text(max_size=40))
def test_clean_is_collapsed_and_idempotent(text: str) -> None:
    cleaned = clean(text)
    if cleaned is not None:
        assert cleaned == collapse(cleaned) and cleaned == cleaned.strip()
        assert clean(cleaned) == cleaned
        assert cleaned.lower() not in NULL_TOKENS


@settings(max_examples=50)
@given(prefix=st.text(alphabet="abcdefghij :=[(_", max_size=8),
       number=st.integers(-(10**9), 10**9), rest=st.text(alphabet="0123456789 MHzW/.", max_size=8))
def test_the_first_number_wins_over_later_ones(prefix: str, number: int, rest: str) -> None:
    """ "Clocks: 1410 MHz / 1593 MHz" is 1410: whatever follows the first number."""
    assert first_number(f"{prefix}{number} {rest}") == float(number)


@pytest.mark.parametrize(
    ("word", "value"),
    [(w, True) for w in ("Yes", "TRUE", "Enabled", "enable", "ON", "1", "Active", "Supported")]
    + [(w, False) for w in ("No", "false", "DISABLED", "disable", "off", "0", "Inactive")]
    + [("2", None), ("maybe", None), ("Not Supported", None), ("", None)],
)
def test_booleans_in_every_spelling_tools_use(word: str, value: bool | None) -> None:
    assert to_bool(word) is value
    assert to_bool(f"  {word}  ") is value


@settings(max_examples=50)
@given(count=st.integers(0, 10**6), unit=st.sampled_from(["", "B", "K", "KiB", "kb", "M", "MB",
                                                           "MiB", "G", "GB", "GiB", "T", "TB"]))
def test_sizes_are_binary_unless_asked(count: int, unit: str) -> None:
    power = {"": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4}[unit[:1].lower()]
    assert size_to_bytes(f"{count} {unit}") == count * 1024**power
    decimal = 1000**power if unit.lower() in ("kb", "mb", "gb", "tb") else 1024**power
    assert size_to_bytes(f"{count}{unit}", binary=False) == count * decimal


@settings(max_examples=50)
@given(st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,4}){0,3}(-[a-z0-9]{1,6})?", fullmatch=True))
def test_bare_version_drops_one_leading_v(version: str) -> None:
    assert bare_version("v" + version) == version
    assert bare_version("V" + version) == version
    assert bare_version(version) == version
    assert bare_version("vv" + version) == "vv" + version  # not a version prefix


@settings(max_examples=50)
@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z ]{0,12}[A-Za-z]", fullmatch=True),
                          st.text(alphabet="abc123 .:/-", max_size=12)), max_size=6))
def test_key_values_read_back_aligned_lines(pairs: list[tuple[str, str]]) -> None:
    lines = [f"    {key.ljust(20)}:   {value}" for key, value in pairs]
    expected = [(collapse(key), collapse(value)) for key, value in pairs]
    assert list(key_values(lines)) == expected


@settings(max_examples=60)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00\r\n"), max_size=10),
                min_size=1, max_size=6))
def test_csv_row_reads_back_what_csv_writes(cells: list[str]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    assert csv_row(out.getvalue()) == cells


def test_csv_row_gives_none_where_csv_cannot_read() -> None:
    assert csv_row('"a' + "x" * (200 * 1024) + '"') is None  # beyond csv's field limit
    assert csv_row("") == []


@settings(max_examples=50)
@given(st.lists(st.sampled_from(["avx2", "fma", "", "sse4_2", "AVX2", "f16c"]), max_size=10))
def test_sorted_unique(items: list[str]) -> None:
    result = sorted_unique(items)
    assert result == sorted(set(items) - {""})
    assert sorted_unique(result) == result
