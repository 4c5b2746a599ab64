"""Serialization: one converter, strict loading, canonical bytes, schema versions."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.manifest.model import Cpu, Gpu, Manifest, ProbeRecord
from envstamp.manifest.serialize import (
    canonical_bytes,
    check_schema,
    manifest_from_json,
    parse_json_strict,
    structure,
    to_json,
    unstructure,
    with_digest,
)


def _manifest() -> Manifest:
    return with_digest(
        Manifest(
            envstamp_version="0.1.0",
            captured_at="2026-11-27T10:00:00.000Z",
            cpu=Cpu(model_name="AMD Ryzen 9 7950X 16-Core Processor", logical_cpus=32),
            gpus=[
                Gpu(index=0, vendor="nvidia", name="NVIDIA GeForce RTX 4090", power_limit_w=450.0)
            ],
            probes=[ProbeRecord(name="cpu", status="ok", source="/proc/cpuinfo", duration_ms=0.4)],
        )
    )


def test_round_trip() -> None:
    manifest = _manifest()
    assert manifest_from_json(to_json(manifest)) == manifest


def test_strict_types_with_the_offending_path() -> None:
    data = unstructure(_manifest())
    data["cpu"]["logical_cpus"] = "32"
    with pytest.raises(InputError, match=r"cpu.*logical_cpus|logical_cpus"):
        manifest_from_json(json.dumps(data))
    data["cpu"]["logical_cpus"] = True
    with pytest.raises(InputError):
        manifest_from_json(json.dumps(data))


def test_integer_is_accepted_for_a_float_field() -> None:
    data = unstructure(_manifest())
    data["gpus"][0]["power_limit_w"] = 450
    assert manifest_from_json(json.dumps(data)).gpus[0].power_limit_w == 450.0


def test_probe_status_must_be_known() -> None:
    data = unstructure(_manifest())
    data["probes"][0]["status"] = "maybe"
    with pytest.raises(InputError):
        manifest_from_json(json.dumps(data))


def test_unknown_fields_of_a_newer_minor_version_are_tolerated() -> None:
    data = unstructure(_manifest())
    data["cpu"]["new_field_from_the_future"] = 1
    assert manifest_from_json(json.dumps(data)).cpu.logical_cpus == 32


def test_newer_major_schema_is_refused_naming_both() -> None:
    data = unstructure(_manifest())
    data["schema"] = "envstamp.manifest/2"
    with pytest.raises(InputError, match=r"envstamp.manifest/2.*envstamp.manifest/1"):
        manifest_from_json(json.dumps(data))


@pytest.mark.parametrize(
    "schema", [None, 3, "other.thing/1", "envstamp.manifest", "envstamp.manifest/0"]
)
def test_not_a_manifest(schema: object) -> None:
    with pytest.raises(InputError):
        check_schema(schema)


@pytest.mark.parametrize(
    "text",
    ['{"a": 1, "a": 2}', '{"a": NaN}', '{"a": Infinity}', "{", "", "\ufeff{}x"],
)
def test_strict_json(text: str) -> None:
    with pytest.raises(InputError):
        parse_json_strict(text)


def test_canonical_bytes_are_rfc8785() -> None:
    assert canonical_bytes({"b": 1, "a": [1.0, "é"], "c": None}) == (
        b'{"a":[1,"\xc3\xa9"],"b":1,"c":null}'
    )


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 2**53 + 1, -(2**60)])
def test_canonical_bytes_refuse_inexact_values(value: float) -> None:
    with pytest.raises(InputError):
        canonical_bytes({"x": [value]})


def test_structure_reports_one_line() -> None:
    with pytest.raises(InputError) as info:
        structure({"index": "zero"}, Gpu, what="gpu")
    assert "\n" not in str(info.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_bytes_are_stable_json(value: object) -> None:
    once = canonical_bytes(value)
    assert canonical_bytes(json.loads(once)) == once


# Every float spelling the fast path must agree on: tiny, huge, integral, negative, fractional.
json_numbers = (
    st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 1e-4, 9.999e-5, 1e16, 9999999999999998.0, 0.1, -2.5, 1e21])
    | st.integers(-(2**53) + 1, 2**53 - 1)
)
json_values_with_floats = st.recursive(
    st.none() | st.booleans() | json_numbers | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(json_values_with_floats)
def test_canonical_bytes_equal_rfc8785_whichever_path_writes_them(value: object) -> None:
    """The stdlib fast path and the rfc8785 package give identical bytes on any JSON value."""
    import rfc8785

    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:  # a lone surrogate in generated text
        with pytest.raises(InputError):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected


def test_canonical_bytes_take_the_fast_path_for_a_manifest() -> None:
    from envstamp.manifest.serialize import _GENERAL, _as_stdlib_canonical

    plain = unstructure(_manifest())
    assert _as_stdlib_canonical(plain) is not _GENERAL
    assert _as_stdlib_canonical({"n": [2.0, 0.5]}) == {"n": [2, 0.5]}  # repr "2.0", RFC "2"
    assert _as_stdlib_canonical({"\u00e9": 1}) is _GENERAL  # non-ASCII keys: the general way
    assert _as_stdlib_canonical([1e-7]) is _GENERAL  # repr "1e-07", RFC "1e-7"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_type(Manifest))
def test_fast_unstructure_equals_the_converter(manifest: Manifest) -> None:
    from envstamp.manifest.serialize import converter

    assert unstructure(manifest) == converter().unstructure(manifest)


def test_records_compare_by_value_and_show_their_fields() -> None:
    from envstamp.manifest.model import Cpu, Memory

    a, b = Cpu(model_name="x", logical_cpus=4), Cpu(model_name="x", logical_cpus=4)
    assert a == b
    assert (a != b) is False
    assert a != Cpu(model_name="x", logical_cpus=8)
    assert a != Memory() and (a == object()) is False
    assert repr(a).startswith("Cpu(vendor=None, model_name='x'")
    with pytest.raises(TypeError):
        hash(a)  # mutable, so unhashable (as attrs would make it)
