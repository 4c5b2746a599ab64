"""JSON Schema (2020-12) generated from the attrs model, and the field reference for docs."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import attrs

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://envstamp.dev/schemas/"

# The loader's range of a whole number (serialize.MAX_SAFE_INT; a test holds them equal):
# every integer of the model is a count, size, clock or index, 0..2**53-1, except the fields
# marked ``signed`` (an exit code), which may be negative down to -(2**53-1).
MAX_SAFE_INT = 2**53 - 1
_BOUNDS = ("minimum", "maximum")

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INT},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    typing.Any: {},
}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return _union_schema([_type_schema(a, defs) for a in args])
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (list, tuple) or tp in (list, tuple):
        item = _type_schema(args[0], defs) if args else {}
        return {"type": "array", "items": item}
    if origin is dict or tp is dict:
        value = _type_schema(args[1], defs) if len(args) == 2 else {}
        return {"type": "object", "additionalProperties": value}
    if attrs.has(tp):
        _define(tp, defs)
        return {"$ref": f"#/$defs/{tp.__name__}"}
    raise TypeError(f"no JSON Schema mapping for {tp!r}")


def _union_schema(options: list[dict[str, Any]]) -> dict[str, Any]:
    """One of ``options``: a list of types where they are plain types (bounds apply only to
    numbers, so ``int | None`` keeps its integer's range); ``anyOf`` otherwise."""
    types_ = [o.get("type") for o in options]
    if "number" in types_:  # a number of any size is admitted: the integer's range is moot
        options = [{k: v for k, v in o.items() if k not in _BOUNDS} for o in options]
    bounded = [o for o in options if set(o) == {"type", *_BOUNDS}]
    simple = [o for o in options if set(o) == {"type"}]
    if len(simple) == len(options) or (len(bounded) == 1 and len(simple) + 1 == len(options)):
        bounds = {k: v for o in bounded for k, v in o.items() if k in _BOUNDS}
        return {"type": [o["type"] for o in options], **bounds}
    return {"anyOf": options}


def _signed(prop: dict[str, Any]) -> dict[str, Any]:
    """A field marked ``signed`` (an exit code: -4 is SIGILL): negative whole numbers too."""
    return {**prop, "minimum": -MAX_SAFE_INT} if "minimum" in prop else prop


def _define(cls: type, defs: dict[str, Any]) -> None:
    name = cls.__name__
    if name in defs:
        return
    defs[name] = {}  # placeholder against recursion
    hints = _hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for a in attrs.fields(cls):
        prop = _type_schema(hints[a.name], defs)
        if a.metadata.get("signed"):
            prop = _signed(prop)
        doc = a.metadata.get("doc")
        if doc:
            prop["description"] = doc
        if a.metadata.get("volatile"):
            prop["x-envstamp-volatile"] = True
        properties[a.name] = prop
        if a.default is attrs.NOTHING:
            required.append(a.name)
    entry: dict[str, Any] = {
        "type": "object",
        "description": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
        "properties": properties,
    }
    if required:
        entry["required"] = required
    defs[name] = entry


def schema_for(
    root: type, *, schema_id: str, title: str, patterns: dict[str, str]
) -> dict[str, Any]:
    """A 2020-12 schema for an attrs root class; ``patterns`` pin string fields to a regex."""
    defs: dict[str, Any] = {}
    _define(root, defs)
    top = defs.pop(root.__name__)
    for key, value in patterns.items():
        top["properties"][key] = {**top["properties"][key], "pattern": value}
    return {
        "$schema": DIALECT,
        "$id": BASE_ID + schema_id,
        "title": title,
        **top,
        "$defs": dict(sorted(defs.items())),
    }


def manifest_schema() -> dict[str, Any]:
    """The manifest's JSON Schema."""
    from envstamp.manifest.model import SCHEMA_MAJOR, SCHEMA_NAME, Manifest

    return schema_for(
        Manifest,
        schema_id=f"manifest.v{SCHEMA_MAJOR}.schema.json",
        title="envstamp manifest",
        patterns={"schema": f"^{SCHEMA_NAME.replace('.', '[.]')}/{SCHEMA_MAJOR}$"},
    )


def dumps(schema: dict[str, Any]) -> str:
    """Stable text of a schema (what is committed under schemas/)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def field_reference(root: type | None = None) -> str:
    """Markdown reference of every manifest field, from the model's docstrings."""
    from envstamp.manifest.model import Manifest

    root = root or Manifest
    defs: dict[str, Any] = {}
    _define(root, defs)
    lines = ["# Manifest field reference", "", "Generated from `envstamp/manifest/model.py`.", ""]
    lines.append("Fields marked *volatile* are readings of the moment, left out of the digest.")
    for name, entry in [(root.__name__, defs.pop(root.__name__)), *sorted(defs.items())]:
        lines += ["", f"## {name}", "", entry.get("description", ""), ""]
        lines += ["| field | type | meaning |", "|---|---|---|"]
        for field_name, prop in entry["properties"].items():
            kind = _describe_type(prop)
            note = " *(volatile)*" if prop.get("x-envstamp-volatile") else ""
            lines.append(f"| `{field_name}` | {kind} | {prop.get('description', '')}{note} |")
    return "\n".join(lines) + "\n"


def _describe_type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_describe_type(prop.get('items', {}))}"
    if kind == "object":
        return "mapping"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if "enum" in prop:
        return " / ".join(str(v) for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(_describe_type(p) for p in prop["anyOf"])
    return str(kind or "any")
