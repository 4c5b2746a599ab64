"""manifest/serialize as properties: the identity digest follows exactly the non-volatile fields
(read from the model's metadata, at every depth), a stored digest is checked against what the
file holds, strict JSON reads back what json writes and refuses the rest, and a manifest's
JSON is a fixed point of load and write.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.manifest import model
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import (
    StrictJSONError,
    canonical_bytes,
    checked_identity,
    identity_data,
    identity_digest,
    manifest_from_data,
    manifest_from_json,
    parse_json_strict,
    strict_loads,
    to_json,
    unstructure,
    with_digest,
)
from tests.diffing.test_diff_props import MANIFESTS

FIXTURES = Path(__file__).parents[1] / "fixtures"


# ------------------------------------------------------------------- the model's leaves


def _attrs_class(tp: Any) -> type | None:
    if attrs.has(tp):
        return typing.cast(type, tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) == 1 and attrs.has(options[0]):
            return typing.cast(type, options[0])
    return None


def leaves(cls: type, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any, bool]]:
    """(path, type, volatile) of every field reachable through sections (not through lists),
    volatile when the field or a section above it is marked so."""
    hints = typing.get_type_hints(cls)
    for a in attrs.fields(cls):
        path = (*prefix, a.name)
        volatile = bool(a.metadata.get("volatile"))
        inner = _attrs_class(hints[a.name])
        if inner is not None:
            for sub, tp, sub_volatile in leaves(inner, path):
                yield sub, tp, volatile or sub_volatile
        else:
            yield path, hints[a.name], volatile


def full_manifest() -> Manifest:
    """A manifest whose every section (also the optional ones) is present."""
    return typing.cast(Manifest, _filled(Manifest, {"envstamp_version": "0.3.0",
                                                    "captured_at": "2026-12-06T08:00:00Z"}))


def _filled(cls: type, given_values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    values = dict(given_values)
    for a in attrs.fields(cls):
        inner = _attrs_class(hints[a.name])
        if inner is not None and a.name not in values:
            values[a.name] = _filled(inner, {})
    return cls(**values)


def another_value(tp: Any, current: Any) -> Any:
    """A value of the field's type different from ``current``, or None where there is none."""
    kind = tp
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        kind = next(a for a in typing.get_args(tp) if a is not type(None))
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        others = [v for v in typing.get_args(kind) if v != current]
        return others[0] if others else None
    if kind is bool:
        return not current
    if kind is int:
        return (current or 0) + 7
    if kind is float:
        return (current or 0.0) + 7.5
    if kind is str:
        return f"{current}-changed"
    if origin is list and typing.get_args(kind)[0] is str:
        return [*(current or []), "changed"]
    if origin is list and attrs.has(typing.get_args(kind)[0]):
        return [*(current or []), a_record(typing.get_args(kind)[0])]
    if origin is dict:
        return {**(current or {}), "CHANGED": "1"}
    return None


def a_record(cls: type) -> Any:
    if cls is model.ProbeRecord:
        return model.ProbeRecord(name="gpu_nvidia", status="ok")
    return _filled(cls, {})


def evolved(record: Any, path: tuple[str, ...], value: Any) -> Any:
    changes: dict[str, Any] = {
        path[0]: value if len(path) == 1 else evolved(getattr(record, path[0]), path[1:], value)
    }
    return attrs.evolve(record, **changes)


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj


LEAVES = [(p, tp, v) for p, tp, v in leaves(Manifest) if p != ("identity_digest",)]


def test_the_model_marks_readings_of_the_moment_volatile() -> None:
    volatile = {".".join(p) for p, _, v in LEAVES if v}
    assert {"captured_at", "envstamp_version", "probes", "frontends.ollama.loaded_models",
            "frontends.lmstudio.loaded_models"} <= volatile
    assert any(p.startswith("volatile.") for p in volatile)
    assert not {"gpus", "cpu.model_name", "runtimes.cuda_driver", "env"} & volatile


@pytest.mark.parametrize(
    ("path", "tp", "volatile"), LEAVES, ids=[".".join(p) for p, _, _ in LEAVES]
)
def test_the_digest_changes_with_every_identity_field_and_no_volatile_one(
    path: tuple[str, ...], tp: Any, volatile: bool
) -> None:
    base = full_manifest()
    value = another_value(tp, _get(base, path))
    assert value is not None and value != _get(base, path)
    changed = evolved(base, path, value)
    if volatile:
        assert identity_digest(changed) == identity_digest(base)
    else:
        assert identity_digest(changed) != identity_digest(base)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MANIFESTS)
def test_the_digest_is_that_of_the_identity_data(manifest: Manifest) -> None:
    digested = with_digest(manifest)
    assert digested.identity_digest == identity_digest(manifest)
    assert identity_digest(digested) == identity_digest(manifest)  # the digest is not hashed
    data = identity_data(manifest)
    assert "probes" not in data and "captured_at" not in data and "volatile" not in data
    assert canonical_bytes(data) == canonical_bytes(identity_data(digested))


# ------------------------------------------------------------------- checked_identity


def _written(manifest: Manifest) -> dict[str, Any]:
    return typing.cast(dict[str, Any], json.loads(to_json(with_digest(manifest))))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MANIFESTS)
def test_a_freshly_written_manifest_checks_from_its_object_its_data_and_its_bytes(
    manifest: Manifest,
) -> None:
    data = _written(manifest)
    loaded = manifest_from_data(data)
    for source in (None, data, json.dumps(data).encode()):
        checked, reason = checked_identity(loaded, source)
        assert reason is None
        assert checked is loaded


def test_an_edited_identity_field_is_named_and_the_digest_recomputed() -> None:
    data = _written(full_manifest())
    data["cpu"]["model_name"] = "AMD EPYC 9654"
    edited = manifest_from_data(data)
    checked, reason = checked_identity(edited, data)
    assert reason is not None and reason.startswith("edited after capture")
    assert data["identity_digest"][:19] in reason
    assert checked.identity_digest == identity_digest(edited) != data["identity_digest"]


def test_an_edited_reading_of_the_moment_is_no_edit() -> None:
    data = _written(full_manifest())
    data["captured_at"] = "2030-01-01T00:00:00Z"
    data["probes"] = [{"name": "cpu", "status": "ok"}]
    _, reason = checked_identity(manifest_from_data(data), data)
    assert reason is None


def test_fields_of_a_newer_minor_version_are_hashed_as_written() -> None:
    """A newer envstamp's field is part of what it hashed: keeping it checks, editing it is an
    edit, though this envstamp does not know the field and drops it on loading."""
    data = _written(full_manifest())
    data["cpu"]["future_field"] = "as written"
    manifest = manifest_from_data(data)
    digest_with_field = checked_identity(
        attrs.evolve(manifest, identity_digest="sha256:" + "0" * 64), data
    )[0].identity_digest
    data["identity_digest"] = digest_with_field
    assert checked_identity(manifest_from_data(data), data)[1] is None
    data["cpu"]["future_field"] = "edited"
    assert checked_identity(manifest_from_data(data), data)[1] is not None
    assert checked_identity(manifest_from_data(data), None)[1] is not None  # not in the object


def test_no_stored_digest_claims_nothing() -> None:
    manifest = full_manifest()
    assert manifest.identity_digest is None
    assert checked_identity(manifest, unstructure(manifest)) == (manifest, None)


# ------------------------------------------------------------------------- strict JSON


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60)
@given(json_values)
def test_strict_loads_reads_back_whatever_json_writes(value: Any) -> None:
    assert strict_loads(json.dumps(value)) == value
    assert parse_json_strict(json.dumps(value).encode()) == value


@settings(max_examples=100)
@given(value=json_values, key=st.text(max_size=5), depth=st.integers(0, 3))
def test_a_duplicate_key_is_refused_at_any_depth(value: Any, key: str, depth: int) -> None:
    text = "{%s: %s, %s: 1}" % (json.dumps(key), json.dumps(value), json.dumps(key))  # noqa: UP031
    for _ in range(depth):
        text = '{"outer": [%s]}' % text  # noqa: UP031
    with pytest.raises(StrictJSONError, match="duplicate key"):
        strict_loads(text)


@pytest.mark.parametrize(
    "text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e400", "[-1e999]",
             "9" * 5000]
)
def test_numbers_json_cannot_hold_exactly_are_refused(text: str) -> None:
    with pytest.raises(StrictJSONError):
        strict_loads(text)
    with pytest.raises(InputError, match=r"^manifest is not valid JSON") as caught:
        parse_json_strict(text, what="manifest")
    assert "\n" not in str(caught.value) and "set_int_max_str_digits" not in str(caught.value)


def test_bytes_that_are_not_utf8_are_named_so() -> None:
    with pytest.raises(InputError, match=r"^results is not UTF-8 text$"):
        parse_json_strict(b'{"a": "\xff"}', what="results")


def test_the_largest_and_smallest_doubles_still_read() -> None:
    assert strict_loads("1.7976931348623157e308") == 1.7976931348623157e308
    assert strict_loads("5e-324") == 5e-324
    assert strict_loads("-0.0") == 0.0 and math.copysign(1, strict_loads("-0.0")) == -1


# ------------------------------------------------------------------------- fixed point


MANIFEST_FILES = sorted(
    p for p in (FIXTURES / "diff").rglob("*.json")
    if p.name not in ("not-a-manifest.json", "newer-major-schema.json")
    and '"envstamp.manifest/' in p.read_text(encoding="utf-8")[:200]
)


def test_there_are_manifest_files_to_load() -> None:
    assert len(MANIFEST_FILES) >= 3


@pytest.mark.parametrize("path", MANIFEST_FILES, ids=lambda p: p.name)
def test_written_json_is_a_fixed_point_of_loading(path: Path) -> None:
    manifest = manifest_from_json(path.read_bytes())
    text = to_json(manifest)
    again = manifest_from_json(text)
    assert again == manifest
    assert to_json(again) == text
    assert json.loads(text)["schema"] == model.SCHEMA_ID


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MANIFESTS)
def test_compact_and_indented_json_load_alike(manifest: Manifest) -> None:
    assert manifest_from_json(to_json(manifest, indent=None)) == manifest
    assert "\n" not in to_json(manifest, indent=None).strip()
    assert to_json(manifest_from_json(to_json(manifest))) == to_json(manifest)
