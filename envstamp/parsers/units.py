"""Numbers with units as GPU tools print them: "65520 MB", {"value": 300, "unit": "W"}.

A tool's unit label is not trusted blindly: amd-smi's and rocm-smi's "MB" are MiB.
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar

from envstamp.parsers.textutil import size_to_bytes, to_float
from envstamp.parsers.tooljson import value_and_unit

_Number = TypeVar("_Number", int, float)
_LARGEST = 2.0**53  # beyond this a reading is garbage, and JSON numbers lose precision

_MIB_PER_UNIT = {
    "b": 1 / (1 << 20),
    "kb": 1 / 1024,
    "kib": 1 / 1024,
    "mb": 1.0,
    "mib": 1.0,
    "gb": 1024.0,
    "gib": 1024.0,
    "tb": float(1 << 20),
    "tib": float(1 << 20),
}
_WATTS_PER_UNIT = {"w": 1.0, "mw": 1e-3, "uw": 1e-6, "µw": 1e-6, "kw": 1e3}
_MHZ_PER_UNIT = {"hz": 1e-6, "khz": 1e-3, "mhz": 1.0, "ghz": 1e3}
_UNIT = re.compile(r"[-+]?[\d.,]+\s*([a-zA-Zµ/]+)")


def _number_and_unit(value: Any, default: str) -> tuple[float | None, str]:
    raw, unit = value_and_unit(value)
    number = to_float(raw)
    if unit is None and isinstance(raw, str):
        match = _UNIT.search(raw)
        unit = match.group(1) if match else None
    return number, (unit or default).strip().lower()


def _scaled(value: Any, default_unit: str, factors: dict[str, float]) -> float | None:
    """The value in the table's unit; None when unknown, not positive or absurdly large."""
    number, unit = _number_and_unit(value, default_unit)
    factor = factors.get(unit)
    if number is None or factor is None or number <= 0:
        return None
    scaled = number * factor
    return scaled if math.isfinite(scaled) and scaled < _LARGEST else None


def to_mib(value: Any, default_unit: str = "MB") -> int | None:
    """A memory size in whole MiB (binary units, whatever the label says; truncated, as the
    tools print sizes); None when unknown, not positive, or under 1 MiB: a positive size that
    truncates to 0 is not 0, and the manifest's unit cannot hold it, so it is unknown."""
    scaled = _scaled(value, default_unit, _MIB_PER_UNIT)
    return None if scaled is None else _positive(int(scaled))


def to_watts(value: Any, default_unit: str = "W") -> float | None:
    """A power in watts, rounded to milliwatts; None when unknown, not positive, or under
    half a milliwatt (it would round to 0 W, which is not what was read)."""
    scaled = _scaled(value, default_unit, _WATTS_PER_UNIT)
    return None if scaled is None else _positive(round(scaled, 3))


def to_mhz(value: Any, default_unit: str = "MHz") -> int | None:
    """A clock in whole MHz, rounded; None when unknown, not positive, or under half a MHz
    (it would round to 0 MHz, which is not what was read)."""
    scaled = _scaled(value, default_unit, _MHZ_PER_UNIT)
    return None if scaled is None else _positive(round(scaled))


def _positive(number: _Number) -> _Number | None:
    """A positive reading that rounds to 0 in the manifest's unit is unknown, never 0."""
    return number if number > 0 else None


def bytes_from_size(value: Any) -> int | None:
    """ "16 GB" -> 16 GiB in bytes; None when unknown or too large to be real."""
    try:
        size = size_to_bytes(value)
    except (OverflowError, ValueError):
        return None
    return size if size is not None and 0 < size < _LARGEST else None
