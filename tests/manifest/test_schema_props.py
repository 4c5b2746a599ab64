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


# Values of every JSON type, and numbers at the edges the loader cares about.
# (Whole numbers written as floats, 2.0 or 1e300, are the xfail below.)
REPLACEMENTS = st.sampled_from(
    ["x", "", 0, 1, 1.5, 0.25, True, False, None, [], ["x"], [1], {}, {"k": "v"}]
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


@pytest.mark.xfail(
    strict=True,
    reason="bug: the published schema accepts counts and sizes the loader refuses: "
    "'integer' without minimum 0 / maximum 2**53-1 (the loader: 'a count or size must be "
    "from 0 to 2**53-1'), and JSON Schema's 'integer' admits 2.0 and 1e300, which the "
    "loader refuses as 'not a whole number'",
)
@pytest.mark.parametrize(
    ("path", "value"),
    [(("cpu", "max_mhz"), -1), (("memory", "total_bytes"), 2**60),
     (("cpu", "logical_cpus"), 2.0), (("memory", "numa_nodes"), 1e300)],
)
def test_counts_out_of_range_are_refused_by_both(path: Path, value: float) -> None:
    data = unstructure(Manifest(envstamp_version="0.3.0", captured_at="2026-12-06T08:00:00Z"))
    edited = replaced(data, path, value)
    assert loads(edited) is not None  # the loader refuses ...
    assert not validator().is_valid(edited)  # ... and so should the schema
