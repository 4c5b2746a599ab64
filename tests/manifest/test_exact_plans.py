"""The exact loader's per-class plans (issue 14): each field's converter is decided once per
class from its type hints, not once per value; the plans are module state that
``envstamp.runner.reset()`` empties; and a plan reads every kind of field type the model may
use exactly as the checks and the converter do (or declines and leaves it to them)."""

from __future__ import annotations

import json
from typing import Any, Literal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.manifest import serialize
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import exact_plan, exact_structure
from envstamp.runner import reset
from envstamp.stamping.results import Result
from tests.diff_support import WORKSTATION

DIGEST = "sha256:" + "ab" * 32


@attrs.define(kw_only=True)
class Inner:
    """A nested class, as the model nests sections."""

    label: str
    size: int | None = None


@attrs.define(kw_only=True)
class Shapes:
    """One field of each type shape the exact path knows, and two it must decline."""

    word: str
    flag: bool = False
    count: int | None = None
    ratio: float | None = None
    anything: Any = None
    choice: Literal["low", "high"] | None = None
    words: list[str] = attrs.field(factory=list)
    loose: list[Any] = attrs.field(factory=list)
    by_name: dict[str, float] = attrs.field(factory=dict)
    free: dict[str, Any] = attrs.field(factory=dict)
    inner: Inner | None = None
    inners: list[Inner] = attrs.field(factory=list)
    mixed: bool | str | None = None  # several types could fit: the converter's business
    by_number: dict[int, str] = attrs.field(factory=dict)  # not a JSON object's keys


def test_a_plan_is_made_once_per_class_and_names_every_field() -> None:
    converters, required = exact_plan(Result)
    assert exact_plan(Result) is exact_plan(Result)  # kept, not re-derived per value
    assert set(converters) == {a.name for a in attrs.fields(Result)}
    assert required == {"manifest_digest", "name"}
    assert exact_plan(Shapes)[1] == {"word"}


def test_reset_forgets_the_plans_and_loading_makes_them_again() -> None:
    record = {"manifest_digest": DIGEST, "name": "pp512", "metrics": {"tokens_per_s": 10}}
    before = exact_structure(record, Result)
    assert Result in serialize._EXACT_PLANS
    reset()
    assert serialize._EXACT_PLANS == {}
    after = exact_structure(record, Result)
    assert after is not None and after == before
    assert after.metrics == {"tokens_per_s": 10.0} and type(after.metrics["tokens_per_s"]) is float
    assert Result in serialize._EXACT_PLANS


def test_manifests_still_load_exactly_after_a_reset() -> None:
    data = json.loads(WORKSTATION.read_text())
    first = exact_structure(data, Manifest)
    reset()
    assert first is not None and exact_structure(data, Manifest) == first


def test_each_type_shape_is_read_as_the_hints_say() -> None:
    data = {
        "word": "w", "flag": True, "count": 3.0, "ratio": 2, "anything": {"x": [1]},
        "choice": "high", "words": ["a"], "loose": [1, "b", None], "by_name": {"x": 1},
        "free": {"k": [1, 2]}, "inner": {"label": "l", "size": 1}, "inners": [{"label": "m"}],
        "mixed": None, "unknown member": "left alone",
    }  # fmt: skip
    built = exact_structure(data, Shapes)
    assert built == Shapes(
        word="w", flag=True, count=3, ratio=2.0, anything={"x": [1]}, choice="high",
        words=["a"], loose=[1, "b", None], by_name={"x": 1.0}, free={"k": [1, 2]},
        inner=Inner(label="l", size=1), inners=[Inner(label="m")],
    )  # fmt: skip
    assert type(built.count) is int and type(built.ratio) is float
    # Containers are the loader's own, never the caller's data.
    assert built.free is not data["free"] and built.loose is not data["loose"]


@pytest.mark.parametrize(
    "change",
    [
        {"word": None},  # a required string
        {"flag": 1},  # a number is not a flag
        {"count": -1},  # counts are not negative
        {"count": True},
        {"count": 2**60},  # beyond what JSON readers keep exactly
        {"ratio": "1"},
        {"ratio": 10**400},  # beyond any double
        {"choice": "medium"},
        {"words": "a"},
        {"words": [1]},
        {"by_name": {"x": "1"}},
        {"by_name": [["x", 1.0]]},
        {"inner": {"size": 1}},  # its required label is missing
        {"inners": [{"label": 1}]},
        {"mixed": "a"},
        {"by_number": {"1": "a"}},
    ],
    ids=repr,
)
def test_what_a_field_does_not_hold_exactly_is_declined(change: dict[str, Any]) -> None:
    assert exact_structure({"word": "w", **change}, Shapes) is None


def test_null_is_exact_for_every_optional_field_even_one_of_several_types() -> None:
    built = exact_structure({"word": "w", "count": None, "mixed": None, "inner": None}, Shapes)
    assert built == Shapes(word="w")


def test_a_missing_required_field_is_declined() -> None:
    assert exact_structure({"flag": True}, Shapes) is None
    assert exact_structure({"name": "no digest"}, Result) is None


scalars = st.none() | st.booleans() | st.integers(-3, 2**54) | st.floats() | st.text(max_size=3)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3),
    max_leaves=6,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([a.name for a in attrs.fields(Shapes)]), values))
def test_what_the_plan_accepts_the_converter_builds_alike(fields: dict[str, Any]) -> None:
    data = {"word": "w", **fields}
    exact = exact_structure(data, Shapes)
    if exact is None:
        return  # declined: the converter decides, as always
    assert exact == serialize.structure(data, Shapes)
