"""A module's declaration read from its text: what the probe and kind registries rely on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.parsers.declared import declared_literal

_LITERALS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(deadline=None)  # the shared machine's load is no failure
@given(_LITERALS)
def test_a_literal_written_as_python_reads_back(value: Any) -> None:
    source = f'"""doc"""\n\nimport os\n\nNAME = {value!r}\n\n\ndef f():\n    return 1\n'
    assert declared_literal(source, "NAME") == value


@settings(deadline=None)
@given(st.text())
def test_any_text_reads_as_a_value_or_none_never_an_error(text: str) -> None:
    declared_literal(text, "KINDS")
    declared_literal("KINDS = " + text, "KINDS")


def test_a_declaration_over_several_lines_with_a_closing_bracket_at_column_0() -> None:
    source = (
        "PROBES = (\n"
        '    {"name": "a", "order": 1,\n'
        '     "systems": ("Linux",)},\n'
        "\n"
        '    {"name": "b",  # a comment\n'
        '     "order": 2},\n'
        ")\n"
        "X = 1\n"
    )
    assert declared_literal(source, "PROBES") == (
        {"name": "a", "order": 1, "systems": ("Linux",)},
        {"name": "b", "order": 2},
    )


def test_an_annotated_declaration_and_implicit_string_concatenation() -> None:
    source = 'KINDS: dict[str, tuple[str, str]] = {\n    "k": ("f", "one "\n    "two"),\n}\n'
    assert declared_literal(source, "KINDS") == {"k": ("f", "one two")}


@pytest.mark.parametrize(
    "source",
    [
        "KINDS = discover()\n",  # not literals: the registry's own line
        "KINDS = {[]: 1}\n",  # literals, but no value
        "    KINDS = {}\n",  # indented: not the module's constant
        "KINDS_MORE = {}\n",  # another name
        "KINDS == {}\n",  # a comparison
        "KINDS = {\n\ndef f(): ...\n",  # never closed before code at column 0
        "x = 1\n",
        "",
    ],
)
def test_what_is_not_a_literal_declaration_reads_as_none(source: str) -> None:
    assert declared_literal(source, "KINDS") is None


def test_the_first_declaration_at_column_0_counts() -> None:
    source = 'KINDS_OLD = 0\n"""KINDS = 1"""\nKINDS = 2\nKINDS = 3\n'
    assert declared_literal(source, "KINDS") == 2
