"""What a recorded answer must look like, field by field, before a replay may give it out.

A recording is input: it is shared with bug reports and edited by hand to try a case.  The
live runner's answers have fixed shapes (a command's ``stdout`` is text, its ``returncode`` an
integer, its ``status`` one of six words); a replayed answer that breaks them would surface
much later as a TypeError or KeyError inside some probe's detail, or worse be stored as it
is (a list where a string belongs).  :func:`answer_problem` says what is wrong, naming the
field, so that loading the recording fails in one line instead.

The fields are those of the operation's TypedDict in ``answer_types`` (a test holds the two
equal); others are left alone (a later envstamp may record more), and so are the answers of
an operation this version does not know.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import get_args

from envstamp.runner.answers import AnswerStatus

STATUSES = frozenset(get_args(AnswerStatus))

# A check returns None when the value is fine, else what it should have been.
Check = Callable[[object], str | None]


def _text(value: object) -> str | None:
    return None if isinstance(value, str) else "a string"


def _integer(value: object) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return None if ok else "an integer"


def _number(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "a number"
    return None if math.isfinite(value) else "a finite number"


def _boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _status(value: object) -> str | None:
    # A string first: a list or an object is not hashable, and is no status either.
    known = isinstance(value, str) and value in STATUSES
    return None if known else "one of " + ", ".join(sorted(STATUSES))


def _object(value: object) -> str | None:
    return None if isinstance(value, dict) else "an object"


def _optional(check: Check) -> Check:
    def optional(value: object) -> str | None:
        problem = check(value)
        return None if value is None or problem is None else f"{problem} or null"

    return optional


def _list_of(check: Check, what: str) -> Check:
    def list_of(value: object) -> str | None:
        if isinstance(value, list) and all(check(item) is None for item in value):
            return None
        return f"a list of {what}"

    return list_of


def _versions(value: object) -> str | None:
    if isinstance(value, dict) and all(
        isinstance(v, str) or v is None for v in value.values()
    ):
        return None
    return "an object of version strings (or null)"


def _nvml_item(value: object) -> str | None:
    ok = isinstance(value, dict) and ("value" in value or "error" in value)
    return None if ok else "an object with a value or an error"


def _seconds(value: object) -> str | None:
    if isinstance(value, int | float) and _number(value) is None and value >= 0:
        return None
    return "a non-negative number of seconds"


def _headers(value: object) -> str | None:
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return None
    return "an object of strings"


def _timed_lines(value: object) -> str | None:
    """A stream's lines: ``[seconds, text]`` pairs whose times never go backwards."""
    expected = "a list of [seconds, text] pairs, times in order"
    if not isinstance(value, list):
        return expected
    last = 0.0
    for item in value:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)):
            return expected
        if _seconds(item[0]) is not None or item[0] < last:
            return expected
        last = item[0]
    return None


def _registry_value(value: object) -> str | None:
    if value is None or isinstance(value, str | list) or _integer(value) is None:
        return None
    return "a string, an integer, a list or null"


_TEXT_OR_NULL = _optional(_text)
_INT_OR_NULL = _optional(_integer)
_DETAIL: dict[str, Check] = {"detail": _TEXT_OR_NULL}

_SECONDS_OR_NULL = _optional(_seconds)

_PLATFORM_TEXT = (
    "system", "node", "release", "version", "machine", "libc", "python_version",
    "python_implementation", "executable", "prefix", "base_prefix", "home",
)

# op -> (required fields, optional fields), each field with its check.
SHAPES: dict[str, tuple[dict[str, Check], dict[str, Check]]] = {
    "cmd": (
        {"status": _status},
        {
            "returncode": _INT_OR_NULL,
            "stdout": _text,
            "stderr": _text,
            "duration_ms": _number,
            "truncated": _boolean,
            **_DETAIL,
        },
    ),
    "file": ({"status": _status}, {"text": _TEXT_OR_NULL, **_DETAIL}),
    "bytes": ({"status": _status}, {"hex": _text, **_DETAIL}),
    "dir": ({"status": _status}, {"names": _optional(_list_of(_text, "strings")), **_DETAIL}),
    "stat": (
        {"exists": _boolean},
        {
            "is_dir": _boolean,
            "size": _INT_OR_NULL,
            "mtime_ns": _INT_OR_NULL,
            "mode": _INT_OR_NULL,
            "kind": _TEXT_OR_NULL,
        },
    ),
    "realpath": ({"path": _text}, {}),
    "sha256": ({"status": _status}, {"sha256": _TEXT_OR_NULL, "cached": _boolean, **_DETAIL}),
    "which": ({}, {"path": _TEXT_OR_NULL}),
    "env": ({}, {"value": _TEXT_OR_NULL}),
    "env_names": ({"names": _list_of(_text, "strings")}, {}),
    "platform": ({}, {**dict.fromkeys(_PLATFORM_TEXT, _TEXT_OR_NULL), "cpu_count": _INT_OR_NULL}),
    "packages": ({"versions": _versions}, {}),
    "registry": ({}, {"value": _registry_value}),
    "memory_status": (
        {},
        {
            "status": _status,
            "total_bytes": _INT_OR_NULL,
            "available_bytes": _INT_OR_NULL,
            **_DETAIL,
        },
    ),
    "power_status": (
        {},
        {
            "status": _status,
            "ac_online": _optional(_boolean),
            "battery_percent": _optional(_number),
            **_DETAIL,
        },
    ),
    "http": (
        {"status": _status},
        {"code": _INT_OR_NULL, "body": _text, **_DETAIL},
    ),
    "nvml": (
        {"status": _status},
        {"answers": _list_of(_nvml_item, "objects with a value or an error"), **_DETAIL},
    ),
    "git": (
        {"status": _status},
        {
            "commit": _TEXT_OR_NULL,
            "describe": _TEXT_OR_NULL,
            "branch": _TEXT_OR_NULL,
            "remote": _TEXT_OR_NULL,
            "dirty": _optional(_boolean),
            **_DETAIL,
        },
    ),
    "library": (
        {"status": _status},
        {"info": _object, "gpus": _list_of(_object, "objects"), **_DETAIL},
    ),
    "http_stream": (
        {"status": _status},
        {
            "code": _INT_OR_NULL,
            "headers": _headers,
            "failure": _TEXT_OR_NULL,
            "connect_s": _SECONDS_OR_NULL,
            "first_byte_s": _SECONDS_OR_NULL,
            "total_s": _SECONDS_OR_NULL,
            "lines": _timed_lines,
            "truncated": _boolean,
            **_DETAIL,
        },
    ),
    "bench_clock": (
        {"wall_s": _seconds, "started_s": _list_of(_seconds, "non-negative seconds")},
        {},
    ),
}


def answer_problem(op: str, answer: Mapping[str, object]) -> str | None:
    """What is wrong with a recorded answer to ``op`` ("field 'stdout' must be a string, not
    123"), or None when it has the shape the live runner gives."""
    shape = SHAPES.get(op)
    if shape is None:
        return None  # an operation of another envstamp version: never asked by this one
    required, optional = shape
    for name in required:
        if name not in answer:
            return f"field {name!r} of a {op} answer is missing"
    for name, check in (*required.items(), *optional.items()):
        if name in answer:
            expected = check(answer[name])
            if expected is not None:
                shown = _shown(answer[name])
                return f"field {name!r} of a {op} answer must be {expected}, not {shown}"
    return None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
