"""The memory parsers: /proc/meminfo, NUMA nodes, transparent huge pages."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.meminfo import numa_node_count, parse_meminfo, parse_thp

MEMINFO = """\
MemTotal:       65536004 kB
MemFree:        40213112 kB
MemAvailable:   58123456 kB
Buffers:          912340 kB
Cached:         16021112 kB
SwapCached:            0 kB
SwapTotal:       8388604 kB
SwapFree:        8388604 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
DirectMap1G:    50331648 kB
"""


def test_meminfo_values_in_bytes() -> None:
    values = parse_meminfo(MEMINFO)
    assert values["MemTotal"] == 65536004 * 1024
    assert values["SwapTotal"] == 8388604 * 1024
    assert values["MemAvailable"] == 58123456 * 1024
    assert values["HugePages_Total"] == 0  # a count, no unit: kept as is


@pytest.mark.parametrize(
    "text", ["", "MemFree: 12 kB\n", "Architecture: x86_64\n", "MemTotal: lots\n", "\x00\x01"]
)
def test_not_meminfo_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_meminfo(text)


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("always [madvise] never\n", "madvise"),
        ("[always] madvise never\n", "always"),
        ("always madvise [never]", "never"),
        ("", None),
        ("always madvise never", None),
    ],
)
def test_thp_mode_is_the_bracketed_word(text: str, mode: str | None) -> None:
    assert parse_thp(text) == mode


def test_numa_nodes_count_node_folders_only() -> None:
    names = ["has_cpu", "has_memory", "node0", "node1", "node3", "nodes", "online", "possible"]
    assert numa_node_count(names) == 3
    assert numa_node_count(["online"]) is None


@given(st.text())
def test_memory_parsers_raise_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        values = parse_meminfo(text)
        assert all(v >= 0 for v in values.values())
    parse_thp(text)


PIECES = ["MemTotal:", "SwapTotal:", " 12", " 99999999999999999999", " kB", "\n", "x"]


@given(st.lists(st.sampled_from(PIECES)))
def test_meminfo_like_text(parts: list[str]) -> None:
    with contextlib.suppress(ParseError):
        parse_meminfo("".join(parts))
