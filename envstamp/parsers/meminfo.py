"""Linux memory files: /proc/meminfo, the transparent huge pages setting, NUMA node names."""

from __future__ import annotations

import re

from envstamp.errors import ParseError
from envstamp.parsers.textutil import clean


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo -> bytes by field name ("MemTotal": ...); counts without a unit kept."""
    values: dict[str, int] = {}
    for match in re.finditer(r"^([\w()]+):\s*(\d{1,20})(?:\s*(kB))?\s*$", text, re.MULTILINE):
        number = int(match.group(2))
        values[match.group(1)] = number * 1024 if match.group(3) else number
    if "MemTotal" not in values:
        raise ParseError("no MemTotal line: not /proc/meminfo")
    return values


def parse_thp(text: str) -> str | None:
    """ "always [madvise] never" -> "madvise"."""
    match = re.search(r"\[([^\]]+)\]", text)
    return clean(match.group(1)) if match else None


def numa_node_count(names: list[str]) -> int | None:
    """Count node0, node1, ... among /sys/devices/system/node entries."""
    count = sum(1 for name in names if name.startswith("node") and name[4:].isdecimal())
    return count or None
