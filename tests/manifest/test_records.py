"""The shared eq / repr / hash of envstamp's attrs classes behave as attrs' generated ones, and
every class built on them asks attrs for neither (the speed measure, docs/decisions.md)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import attrs
import pytest

import envstamp
from envstamp.manifest.records import FrozenRecord, Record


@attrs.frozen(eq=False, repr=False)
class Point(FrozenRecord):
    x: int
    y: int = 0


@attrs.frozen(eq=False, repr=False)
class OtherPoint(FrozenRecord):
    x: int
    y: int = 0


@attrs.define(eq=False, repr=False)
class Box(Record):
    items: list[int] = attrs.field(factory=list)


@attrs.frozen
class AttrsPoint:
    x: int
    y: int = 0


@attrs.define
class AttrsBox:
    items: list[int] = attrs.field(factory=list)


def test_frozen_records_compare_and_hash_by_fields() -> None:
    assert Point(1, 2) == Point(1, 2) and hash(Point(1, 2)) == hash(Point(1, 2))
    assert Point(1, 2) != Point(2, 1)
    assert Point(1, 2) != OtherPoint(1, 2)  # another class is never equal
    assert len({Point(1, 2), Point(1, 2), Point(1, 3)}) == 2
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Point(1).x = 3  # type: ignore[misc]


def test_mutable_records_compare_by_fields_and_are_unhashable() -> None:
    assert Box([1]) == Box([1]) and Box([1]) != Box([2])
    assert Box([1]).__ne__(Box([1])) is False
    assert Box([1]).__eq__(Point(1)) is NotImplemented
    with pytest.raises(TypeError):
        hash(Box())
    assert repr(Box([3])) == "Box(items=[3])"


def test_records_behave_as_attrs_generated_methods_do() -> None:
    assert repr(Point(1, 2)).removeprefix("Point") == repr(AttrsPoint(1, 2)).removeprefix(
        "AttrsPoint"
    )
    assert repr(Box([3])).removeprefix("Box") == repr(AttrsBox([3])).removeprefix("AttrsBox")
    assert (Point(1, 2) == Point(1, 2)) is (AttrsPoint(1, 2) == AttrsPoint(1, 2)) is True
    assert (Point(1, 2) != Point(1, 3)) is (AttrsPoint(1, 2) != AttrsPoint(1, 3)) is True
    assert (Point(1) == AttrsPoint(1)) is False  # neither claims another class's instance
    assert AttrsBox.__hash__ is None and Box.__hash__ is None


def test_records_are_plain_attrs_classes() -> None:
    assert attrs.has(Point) and attrs.has(Box)
    assert attrs.evolve(Point(1, 2), y=5) == Point(1, 5)
    assert attrs.asdict(Box([1, 2])) == {"items": [1, 2]}


def _record_classes() -> list[tuple[str, str, bool]]:
    """(module, class, frozen) of every class in envstamp/ whose bases name a record base."""
    root = Path(envstamp.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(("envstamp", *path.relative_to(root).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                if bases & {"Record", "FrozenRecord"}:
                    found.append((module, node.name, "FrozenRecord" in bases))
    return found


def test_every_record_class_leaves_eq_and_repr_to_its_base() -> None:
    """A class on a record base that let attrs generate eq or repr would silently pay for
    them again (the methods override the base's); one that is not an attrs class would
    compare nothing."""
    classes = _record_classes()
    assert len(classes) >= 30  # the manifest's classes alone are more
    for module, name, frozen in classes:
        cls = getattr(importlib.import_module(module), name)
        assert attrs.has(cls), f"{module}.{name} is not an attrs class"
        own = {"__eq__", "__ne__", "__repr__", "__hash__"} & set(vars(cls))
        assert not own - {"__hash__"}, f"{module}.{name} has attrs' own {sorted(own)}"
        base = FrozenRecord if frozen else Record
        assert cls.__hash__ is base.__hash__, f"{module}.{name}: hash is not its base's"
