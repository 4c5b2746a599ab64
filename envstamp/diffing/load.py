"""Loading inputs for ``diff`` and ``compare`` quickly.

``envstamp diff A B`` has to start, load two manifests and answer in less time than
``python -m pyperf collect_metadata`` takes.  Importing cattrs and generating its structure
code costs about as much as everything else together, so a plain manifest takes a lean path:
strict JSON, then a small structurer driven by the model's attrs fields and type hints.

The lean path only ever handles the happy case.  Anything it does not accept exactly - a
signed envelope, a results log, another schema, a duplicate key, a value of the wrong type,
a missing required field - goes to :func:`envstamp.documents.document_from_bytes`, the one
loader of record, which either loads it or raises its usual one-line error.  The tests check
that both paths build equal manifests.
"""

from __future__ import annotations

import functools
import json
import math
import re
import types
import typing
from typing import Any

import attrs

from envstamp.manifest.document import Document
from envstamp.manifest.model import SCHEMA_MAJOR, SCHEMA_NAME, Manifest

_MAX_SAFE_INT = 2**53 - 1
# The schema ids the lean path takes; any other goes to the loader of record (which accepts
# older majors and explains newer ones).
_CURRENT_SCHEMA = re.compile(rf"{re.escape(SCHEMA_NAME)}/{SCHEMA_MAJOR}(?:\.\d+)*")


class _Fallback(Exception):  # noqa: N818 - control flow, never seen by users
    """The lean path declines; the loader of record decides."""


def load(path: str) -> Document:
    """A Document from a file, as :func:`envstamp.documents.load_document` would."""
    from envstamp.documents import read_file

    return load_bytes(read_file(path), source=path)


def load_bytes(data: bytes, *, source: str) -> Document:
    """A Document from a file's bytes (the command line reads ``-`` from stdin)."""
    try:
        manifest = lean_manifest(data)
    except _Fallback:
        from envstamp.documents import document_from_bytes

        return document_from_bytes(data, source=source, verify=True)
    from envstamp.documents import plain_manifest_document

    return plain_manifest_document(manifest, source, data)


def lean_manifest(data: bytes) -> Manifest:
    """A Manifest from the bytes of a plain manifest of the current schema, or _Fallback."""
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text, parse_constant=_decline, object_pairs_hook=_unique)
    except (ValueError, RecursionError):
        raise _Fallback from None
    if not isinstance(parsed, dict) or "payloadType" in parsed:
        raise _Fallback
    schema = parsed.get("schema")
    if not isinstance(schema, str) or not _CURRENT_SCHEMA.fullmatch(schema):
        raise _Fallback
    return build(Manifest, parsed)  # type: ignore[no-any-return]


def _decline(_name: str) -> Any:
    raise _Fallback


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Fallback
    return result


# ------------------------------------------------------------------------------ structuring


@functools.cache
def _fields(cls: Any) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, required) of each field of an attrs class, types resolved."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (a.name, hints[a.name], a.default is attrs.NOTHING) for a in attrs.fields(cls)
    )


def build(cls: Any, data: Any) -> Any:
    """An attrs object from a JSON object; unknown keys are ignored, as the converter does."""
    if not isinstance(data, dict):
        raise _Fallback
    values: dict[str, Any] = {}
    for name, tp, required in _fields(cls):
        if name in data:
            values[name] = value(tp, data[name])
        elif required:
            raise _Fallback
    return cls(**values)


def value(tp: Any, item: Any) -> Any:
    """One JSON value as ``tp``: exactly the values the converter accepts, else _Fallback."""
    if tp is str or tp is bool:
        if type(item) is not tp:
            raise _Fallback
        return item
    if tp is int:
        # Counts and sizes: 0..2**53-1, as the loader of record checks (issue 12).
        if type(item) is not int or not 0 <= item <= _MAX_SAFE_INT:
            raise _Fallback
        return item
    if tp is float:
        if (type(item) is float and math.isfinite(item)) or type(item) is int:
            return float(item)
        raise _Fallback
    if tp is Any:
        return item
    origin = typing.get_origin(tp)
    if origin is types.UnionType or origin is typing.Union:
        return _union(tp, item)
    if origin is list:
        if not isinstance(item, list):
            raise _Fallback
        (inner,) = typing.get_args(tp)
        return [value(inner, x) for x in item]
    if origin is dict:
        if not isinstance(item, dict):
            raise _Fallback
        key_type, inner = typing.get_args(tp)
        if key_type is not str:
            raise _Fallback
        return {key: value(inner, x) for key, x in item.items()}
    if origin is typing.Literal:
        if item not in typing.get_args(tp) or type(item) is bool:
            raise _Fallback
        return item
    if attrs.has(tp):
        return build(tp, item)
    raise _Fallback


def _union(tp: Any, item: Any) -> Any:
    options = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    if item is None and len(options) < len(typing.get_args(tp)):
        return None
    if len(options) != 1:
        raise _Fallback  # ambiguous unions are the converter's business
    return value(options[0], item)
