"""The 1-minute load average of /proc/loadavg or macOS' ``sysctl -n vm.loadavg``."""

from __future__ import annotations

import re

from envstamp.parsers.textutil import to_float


def parse_loadavg(text: str) -> float | None:
    """/proc/loadavg "0.52 0.58 0.59 1/467 12345" (or sysctl's "{ 0.52 0.58 0.59 }") -> 0.52."""
    match = re.search(r"(\d+(?:\.\d+)?)", text)
    return to_float(match.group(1)) if match else None
