"""The published JSON Schema and the one loader agree: every manifest the model can hold is
valid, and a manifest with any one value replaced is accepted by both or refused by both.

Users validate manifests with schemas/manifest.json in their own pipelines before handing them
to envstamp; a file the schema passes and envstamp refuses (or the reverse) breaks that.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import cache
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.manifest import schema
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import manifest_from_data, unstructure
from tests.diffing.test_diff_props import MANIFESTS

Path = tuple[str | int, ...]


@cache
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema.manifest_schema())


def paths(value: Any, path: Path = ()) -> Iterator[Path]:
    """Every member and item below the top, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*path, index)
            yield from paths(item, (*path, index))


def replaced(data: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(data)
    node: Any = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copied


def loads(data: dict[str, Any]) -> str | None:
    """None when the loader accepts the data, else its message."""
    try:
        manifest_from_data(data)
    except InputError as exc:
        return str(exc)
    return None


# Values of every JSON type, and numbers at the edges the loader cares about: negative,
# beyond 2**53-1, whole numbers written as floats (2.0, 1e300).
REPLACEMENTS = st.sampled_from(
    ["x", "", 0, 1, 1.5, 0.25, True, False, None, [], ["x"], [1], {}, {"k": "v"},
     -1, -1.0, 2**53 - 1, 2**53, 2**60, 2.0, 1e300, -4]
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MANIFESTS)
def test_every_manifest_the_model_holds_is_valid(manifest: Manifest) -> None:
    validator().validate(unstructure(manifest))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(manifest=MANIFESTS, data=st.data())
def test_schema_and_loader_agree_on_any_one_value_replaced(
    manifest: Manifest, data: st.DataObject
) -> None:
    original = unstructure(manifest)
    path = data.draw(st.sampled_from(list(paths(original))))
    value = data.draw(REPLACEMENTS)
    edited = replaced(original, path, value)
    schema_ok = validator().is_valid(edited)
    refusal = loads(edited)
    assert schema_ok == (refusal is None), (path, value, refusal)
    if refusal is not None:
        assert "\n" not in refusal
        named = [step for step in path if isinstance(step, str)]
        assert any(step in refusal for step in named[-2:]), (refusal, path)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("schema",), "envstamp.manifest/2"),
        (("schema",), "envstamp.results/1"),
        (("captured_at",), None),
        (("gpus",), {"0": {}}),
        (("cpu", "isa"), "avx2"),
        (("env",), {"HOME": 1}),
        (("probes",), [{"name": "cpu", "status": "fine"}]),
        (("probes",), [{"status": "ok"}]),
    ],
)
def test_shapes_both_refuse(path: Path, value: Any) -> None:
    data = unstructure(Manifest(envstamp_version="0.3.0", captured_at="2026-12-06T08:00:00Z"))
    edited = replaced(data, path, value)
    assert not validator().is_valid(edited)
    assert loads(edited) is not None


def test_fields_of_a_newer_minor_version_pass_both() -> None:
    data = unstructure(Manifest(envstamp_version="0.3.0", captured_at="2026-12-06T08:00:00Z"))
    data["cpu"]["future_field"] = {"any": ["thing"]}
    data["future_section"] = 1
    assert validator().is_valid(data)
    assert loads(data) is None


@pytest.mark.parametrize(
    ("path", "value"),
    [(("cpu", "max_mhz"), -1), (("memory", "total_bytes"), 2**60),
     (("memory", "numa_nodes"), 1e300), (("cpu", "logical_cpus"), -2.0),
     (("memory", "total_bytes"), 2**53), (("gpus",), [{"index": -1}])],
)
def test_counts_out_of_range_are_refused_by_both(path: Path, value: float) -> None:
    """Regression: the schema's bare "integer" admitted these; it now carries the loader's
    range, 0..2**53-1."""
    data = unstructure(Manifest(envstamp_version="0.3.0", captured_at="2026-12-06T08:00:00Z"))
    edited = replaced(data, path, value)
    refusal = loads(edited)
    assert refusal is not None and "from 0 to 2**53-1" in refusal  # the loader refuses ...
    assert not validator().is_valid(edited)  # ... and so does the schema


@pytest.mark.parametrize(
    ("path", "value", "loaded"),
    [(("cpu", "logical_cpus"), 2.0, 2), (("memory", "total_bytes"), 1e12, 10**12),
     (("memory", "numa_nodes"), 0.0, 0), (("memory", "swap_bytes"), 2.0**53 - 1, 2**53 - 1)],
)
def test_whole_numbers_written_as_floats_are_accepted_by_both_as_ints(
    path: Path, value: float, loaded: int
) -> None:
    """JSON Schema's "integer" admits 2.0 (no keyword tells it from 2), so the loader reads an
    integral float as the whole number (docs/decisions.md): the two agree, and the manifest
    holds an int."""
    data = unstructure(Manifest(envstamp_version="0.3.0", captured_at="2026-12-06T08:00:00Z"))
    edited = replaced(data, path, value)
    assert validator().is_valid(edited)
    manifest = manifest_from_data(edited)
    section = getattr(manifest, str(path[0]))
    held = getattr(section, str(path[1]))
    assert held == loaded and type(held) is int


def test_a_whole_number_as_a_float_keeps_the_manifests_digest() -> None:
    """RFC 8785 writes 2.0 as 2: reading 2.0 as 2 changes neither the identity nor its check."""
    from envstamp.manifest.serialize import canonical_bytes, checked_identity

    data = unstructure(Manifest(envstamp_version="0.3.0", captured_at="2026-12-06T08:00:00Z"))
    as_int = replaced(data, ("cpu", "logical_cpus"), 16)
    as_float = replaced(data, ("cpu", "logical_cpus"), 16.0)
    assert canonical_bytes(as_int) == canonical_bytes(as_float)
    assert manifest_from_data(as_float) == manifest_from_data(as_int)
    assert checked_identity(manifest_from_data(as_float), as_float)[1] is None


def test_the_schemas_range_is_the_loaders() -> None:
    from envstamp.manifest.serialize import MAX_SAFE_INT

    assert schema.MAX_SAFE_INT == MAX_SAFE_INT
    cpus = schema.manifest_schema()["$defs"]["Cpu"]["properties"]["logical_cpus"]
    assert (cpus["type"], cpus["minimum"], cpus["maximum"]) == (["integer", "null"], 0,
                                                                 MAX_SAFE_INT)


@pytest.mark.parametrize(
    ("value", "valid"),
    [(-4, True), (-4.0, True), (0, True), (132, True), (-(2**53) + 1, True), (2**53, False),
     (-(2**53), False), (1.5, False), ("1", False), (None, True)],
)
def test_a_signed_field_may_be_negative_in_both(value: object, valid: bool) -> None:
    """A field marked ``signed`` (a result's exit_code: Python reports SIGILL as -4): the
    schema admits -(2**53-1)..2**53-1 as the loader's checks do."""
    from envstamp.manifest.serialize import check_fields

    published = schema.schema_for(Exited, schema_id="t", title="t", patterns={})
    assert jsonschema.Draft202012Validator(published).is_valid({"code": value}) is valid
    try:
        check_fields({"code": value}, Exited)
    except InputError as exc:
        assert not valid and "code" in str(exc)
    else:
        assert valid


@attrs.define
class Exited:
    """A class with a signed field, as stamping's Result has (its exit_code)."""

    code: int | None = attrs.field(default=None, metadata={"signed": True})


def test_published_exit_codes_may_be_negative_and_counts_may_not() -> None:
    """The results log's and the diff's exit codes are signed (-4: SIGILL); a count is not."""
    from envstamp.cli import schema as published
    from envstamp.manifest.serialize import MAX_SAFE_INT

    results = published.build("results.v1.schema.json")
    failed_run = published.build("diff.v1.schema.json")["$defs"]["FailedRun"]["properties"]
    for exit_code in (results["properties"]["exit_code"], failed_run["exit_code"]):
        assert (exit_code["minimum"], exit_code["maximum"]) == (-MAX_SAFE_INT, MAX_SAFE_INT)
    assert failed_run["setup"]["minimum"] == 0
