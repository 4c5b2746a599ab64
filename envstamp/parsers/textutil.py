"""Small pure helpers shared by the parsers: nulls, numbers with units, booleans, versions."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

# Values tools print for "unknown".  Compared case-insensitively after cleaning.
NULL_TOKENS = frozenset(
    {
        "",
        "n/a",
        "[n/a]",
        "na",
        "none",
        "null",
        "unknown",
        "not supported",
        "[not supported]",
        "not available",
        "not applicable",
        "[unknown error]",
        "unknown error",
        "requested functionality has been deprecated",
        "-",
    }
)

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_WS = re.compile(r"\s+")

_BINARY_UNITS = {
    "b": 1,
    "k": 1 << 10,
    "kb": 1 << 10,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mb": 1 << 20,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gb": 1 << 30,
    "gib": 1 << 30,
    "t": 1 << 40,
    "tb": 1 << 40,
    "tib": 1 << 40,
}
_DECIMAL_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def collapse(text: str) -> str:
    """Strip and collapse runs of inner whitespace."""
    return _WS.sub(" ", text).strip()


def clean(value: object) -> str | None:
    """A printed value as a clean string, or None for the tool's ways of saying unknown."""
    if value is None:
        return None
    text = collapse(str(value))
    if text.lower() in NULL_TOKENS:
        return None
    return text


def first_number(value: object) -> float | None:
    """The first number in a printed value ("1287 MHz" -> 1287.0), None when unknown."""
    text = clean(value)
    if text is None:
        return None
    match = _NUMBER.search(text.replace(",", ""))
    if not match:
        return None
    try:
        return float(match.group())
    except ValueError:
        return None


def to_int(value: object) -> int | None:
    """The first number of a printed value as an int (rounded), None when unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = first_number(value)
    if number is None or not math.isfinite(number) or abs(number) > 2**53:
        return None
    return round(number)


def to_float(value: object) -> float | None:
    """The first number of a printed value as a float, None when unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number: float | None = float(value)
    else:
        number = first_number(value)
    if number is None or not math.isfinite(number):
        return None
    return number


_TRUE = {"yes", "true", "enabled", "enable", "on", "1", "active", "supported"}
_FALSE = {"no", "false", "disabled", "disable", "off", "0", "inactive"}


def to_bool(value: object) -> bool | None:
    """Yes/No, Enabled/Disabled, On/Off, True/False, 1/0 -> bool; else None."""
    if isinstance(value, bool):
        return value
    text = clean(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def size_to_bytes(value: object, *, binary: bool = True) -> int | None:
    """ "16 GB" -> bytes.  ``binary`` reads GB as GiB, as most hardware tools mean it."""
    text = clean(value)
    if text is None:
        return None
    match = re.match(r"^\s*([-+]?[\d.,]+)\s*([a-zA-Z]*)", text)
    if not match:
        return None
    try:
        number = float(match.group(1).replace(",", ""))
    except ValueError:
        return None
    unit = match.group(2).lower() or "b"
    table = _BINARY_UNITS if binary or unit not in _DECIMAL_UNITS else _DECIMAL_UNITS
    factor = table.get(unit)
    if factor is None:
        return None
    return round(number * factor)


def bare_version(value: object) -> str | None:
    """ "v0.0.47" -> "0.0.47"; unknown -> None."""
    text = clean(value)
    if text is None:
        return None
    if len(text) > 1 and text[0] in "vV" and text[1].isdigit():
        return text[1:]
    return text


def key_values(lines: Iterable[str], sep: str = ":") -> Iterator[tuple[str, str]]:
    """(key, value) pairs of ``key SEP value`` lines; keys and values collapsed."""
    for line in lines:
        key, found, value = line.partition(sep)
        if found and key.strip():
            yield collapse(key), collapse(value)


def csv_row(line: str, **options: Any) -> list[str] | None:
    """The cells of one CSV line; None where ``csv`` cannot read it (a field beyond its
    128 KiB limit, a NUL byte): tool output of any size is data, never an internal error."""
    import csv

    try:
        return next(csv.reader([line], **options), [])
    except csv.Error:
        return None


def sorted_unique(items: Iterable[str]) -> list[str]:
    """Sorted list without duplicates or empties."""
    return sorted({item for item in items if item})
