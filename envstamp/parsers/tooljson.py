"""JSON printed by a tool, possibly after warning lines (rocm-smi, amd-smi, system_profiler)."""

from __future__ import annotations

import json
import re
from typing import Any

from envstamp.errors import ParseError

# Where a JSON document can begin: a line starting with "{" followed by a key or "}", or
# "[" followed by a value or "]".  "[WARNING] ..." lines do not qualify.
_START = re.compile(r'^[ \t]*(\{\s*(?:"|\})|\[\s*(?:[\[{"\]\d-]|true|false|null|$))', re.M)


def json_in_text(text: str, what: str) -> Any:
    """The first JSON document in ``text``, skipping lines printed before it.

    Only the first line that can start a document is tried: a truncated document is an
    error, never silently replaced by one of its complete inner objects.
    """
    if not text or not text.strip():
        raise ParseError(f"empty {what} output")
    cleaned = text.lstrip("\ufeff")
    match = _START.search(cleaned)
    if match is None:
        raise ParseError(f"no JSON in the {what} output")
    try:
        value, _end = json.JSONDecoder().raw_decode(cleaned, match.start(1))
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"truncated or invalid JSON in the {what} output: {exc}") from None
    return value


def value_and_unit(value: Any) -> tuple[Any, str | None]:
    """ ``{"value": 300, "unit": "W"}`` -> (300, "W"); "300 W" -> ("300 W", None)."""
    if isinstance(value, dict) and "value" in value:
        unit = value.get("unit")
        return value["value"], unit if isinstance(unit, str) else None
    return value, None


def dig(data: Any, *keys: str) -> Any:
    """data[k1][k2]... or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def section(data: Any, key: str) -> dict[str, Any]:
    """data[key] when it is a mapping, else an empty one."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}
