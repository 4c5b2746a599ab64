"""parsers/tooljson: the JSON document a tool prints after its warnings, and the lookup helpers.

rocm-smi, amd-smi and system_profiler print warning lines before their JSON; a truncated
document must be an error, never replaced by one of its complete inner objects.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.tooljson import dig, json_in_text, section, value_and_unit

scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=15,
)
documents = st.one_of(
    st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    st.lists(json_values, max_size=4),
)
warnings = st.lists(
    st.sampled_from([
        "WARNING: AMD GPU device(s) is/are in a low-power state. Check power control",
        "[WARNING] Unable to detect any GPUs in this VM",
        "ERROR: GPU[1]\t: Unable to read clock",
        "2024-05-01 10:00:00.123 system_profiler[812:1234] note",
        "   ",
        "",
    ]),
    max_size=3,
)


@settings(max_examples=80)
@given(document=documents, before=warnings, indent=st.sampled_from([None, 2, 4]))
def test_the_document_after_warning_lines_reads_back(
    document: Any, before: list[str], indent: int | None
) -> None:
    text = "\n".join([*before, json.dumps(document, indent=indent)]) + "\n"
    assert json_in_text(text, "tool") == document


@settings(max_examples=80)
@given(document=st.dictionaries(st.text(min_size=1, max_size=6), json_values, min_size=1,
                                max_size=4), cut=st.floats(0.05, 0.95))
def test_a_truncated_document_is_an_error_not_an_inner_object(document: Any, cut: float) -> None:
    text = json.dumps(document, indent=2)
    truncated = text[: max(1, int(len(text) * cut))]
    if truncated.rstrip().endswith("}") and truncated.count("{") == truncated.count("}"):
        return  # cut exactly after the document (only when it is that short)
    with pytest.raises(ParseError, match="tool"):
        json_in_text(truncated, "tool")


def test_text_after_the_document_is_ignored_and_a_bom_skipped() -> None:
    assert json_in_text('\ufeff{"card0": {"GPU ID": "0x744c"}}\nWARNING: done\n', "x") == {
        "card0": {"GPU ID": "0x744c"}
    }
    assert json_in_text('[]\n[{"gpu": 0}]', "x") == []  # the first document only


def test_deep_nesting_is_read_or_refused_never_a_recursion_error() -> None:
    """5000 nested lists: Python 3.13's json reads them, earlier ones hit their recursion
    limit; either way the caller gets the document or one ParseError, never RecursionError."""
    text = "[" * 5000 + "]" * 5000
    try:
        value = json_in_text(text, "rocm-smi")
    except ParseError as exc:
        assert "truncated or invalid JSON" in str(exc)
        return
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert depth == 4999 and value == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty rocm-smi output"),
        ("   \n\n", "empty rocm-smi output"),
        ("WARNING: no devices\n", "no JSON in the rocm-smi output"),
        ("[WARNING] only this\n", "no JSON in the rocm-smi output"),
        ('{"card0": {"GPU ID": "0x744c",\n', "truncated or invalid JSON"),
    ],
)
def test_errors_say_what_and_which_tool(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("[", r"\[")):
        json_in_text(text, "rocm-smi")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"value": 300, "unit": "W"}, (300, "W")),
        ({"value": "N/A", "unit": "W"}, ("N/A", "W")),
        ({"value": 300}, (300, None)),
        ({"value": 300, "unit": 5}, (300, None)),  # a unit that is not text is no unit
        ("300 W", ("300 W", None)),
        ({"unit": "W"}, ({"unit": "W"}, None)),  # no "value": the object itself
        (None, (None, None)),
    ],
)
def test_value_and_unit(value: object, expected: tuple[object, str | None]) -> None:
    assert value_and_unit(value) == expected


def test_nan_printed_by_python_tools_is_read_for_the_parsers_to_judge() -> None:
    """amd-smi is Python: its json.dumps prints NaN for a failed reading.  The document must
    still be read (every other value in it is good); the unit helpers turn NaN into None."""
    document = json_in_text('{"power": {"value": NaN, "unit": "W"}, "gpu": 0}', "amd-smi")
    assert document["gpu"] == 0
    assert math.isnan(document["power"]["value"])


def test_dig_and_section() -> None:
    data = {"asic": {"market_name": "AMD Instinct MI300X", "ids": [1, 2]}, "bus": "x"}
    assert dig(data, "asic", "market_name") == "AMD Instinct MI300X"
    assert dig(data, "asic", "ids") == [1, 2]
    assert dig(data) == data
    assert dig(data, "asic", "missing") is None
    assert dig(data, "bus", "width") is None  # a level that is not a mapping
    assert dig([data], "asic") is None
    assert section(data, "asic") == data["asic"]
    assert section(data, "bus") == {}
    assert section(None, "asic") == {}
    assert section(data, "nothing") == {}


@settings(max_examples=60)
@given(leaf=scalars, keys=st.lists(st.text(max_size=3), min_size=1, max_size=4))
def test_dig_finds_what_a_path_leads_to_and_nothing_beyond_it(leaf: Any, keys: list[str]) -> None:
    data: Any = leaf
    for key in reversed(keys):
        data = {key: data, key + "~": "decoy"}
    assert dig(data, *keys) == leaf
    assert dig(data, *keys, "deeper") is None  # a scalar has no keys
    assert dig(data, *keys[:-1], keys[-1] + "?") is None
    assert section(data, keys[0]) == (data[keys[0]] if len(keys) > 1 else {})
