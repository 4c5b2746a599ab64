"""Properties of diff over generated manifests: reflexive and symmetric."""

from __future__ import annotations

import functools
import types
import typing
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.diffing.differ import DiffReport, diff
from envstamp.manifest.model import Manifest

# Small pools, so that two generated manifests often agree, and lists often share keys.
WORDS = st.sampled_from(["CUDA", "cuda", "Vulkan", "NVIDIA GeForce RTX 4090", "GeForce RTX 4090",
                         "550.54.14", "v0.5.7", "0.5.7", "b5e95468", "x", "", "GPU-1", "GPU-2"])
# Whole numbers in a manifest are counts and sizes: loading refuses negative ones.
NUMBERS = st.one_of(st.integers(0, 5000), st.sampled_from([24564, 24576, 450, 0]))
FLOATS = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([450.0, 350.0, 83.0]))


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@functools.cache
def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for any type the manifest model uses, derived from its hints."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[strategy_for(a) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(strategy_for(args[0]), max_size=2)
    if origin is dict:
        return st.dictionaries(st.sampled_from(["GGML_X", "CUDA_VISIBLE_DEVICES", "k"]),
                               strategy_for(args[1]), max_size=3)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        type(None): st.none(), str: WORDS, int: NUMBERS, float: FLOATS, bool: st.booleans(),
        typing.Any: WORDS,
    }
    if tp in simple:
        return simple[tp]
    if attrs.has(tp):
        hints = typing.get_type_hints(tp)
        fields = {a.name: _field(tp, a, hints[a.name]) for a in attrs.fields(tp)}
        return st.builds(tp, **fields)
    raise TypeError(f"no strategy for {tp!r}")


def _field(cls: type, field: attrs.Attribute[Any], tp: Any) -> st.SearchStrategy[Any]:
    if cls is Manifest and field.name in ("schema", "envstamp_version", "captured_at"):
        return st.just({"schema": "envstamp.manifest/1"}.get(field.name, "x"))
    if cls is Manifest and field.name == "identity_digest":
        return st.none()
    inner = strategy_for(tp)
    # most fields unknown most of the time keeps examples small
    return inner if field.default is attrs.NOTHING else _optional(inner) if _nullable(tp) else inner


def _nullable(tp: Any) -> bool:
    return type(None) in typing.get_args(tp)


MANIFESTS = strategy_for(Manifest)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def paths(report: DiffReport) -> list[tuple[str, bool]]:
    entries = report.differences + report.state + report.unknown
    return sorted((d.path, d in report.unknown) for d in entries)


@SETTINGS
@given(MANIFESTS)
def test_a_manifest_has_no_difference_with_itself(manifest: Manifest) -> None:
    report = diff(manifest, manifest)
    assert report.differences == report.state == report.unknown == []
    assert report.same_identity


@SETTINGS
@given(MANIFESTS, MANIFESTS)
def test_diff_is_symmetric(a: Manifest, b: Manifest) -> None:
    forward, backward = diff(a, b), diff(b, a)
    assert paths(forward) == paths(backward)
    assert forward.max_impact == backward.max_impact
    assert forward.same_identity == backward.same_identity
    for d in backward.differences:
        mirrored = [f for f in forward.differences if f.path == d.path and f.a == d.b]
        assert mirrored, d
