"""The shared eq / repr / hash of envstamp's attrs classes behave as attrs' generated ones."""

from __future__ import annotations

import attrs
import pytest

from envstamp.manifest.records import FrozenRecord, Record, frozen_record, record


@frozen_record
class Point(FrozenRecord):
    x: int
    y: int = 0


@frozen_record
class OtherPoint(FrozenRecord):
    x: int
    y: int = 0


@record
class Box(Record):
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


def test_records_are_plain_attrs_classes() -> None:
    assert attrs.has(Point) and attrs.has(Box)
    assert attrs.evolve(Point(1, 2), y=5) == Point(1, 5)
    assert attrs.asdict(Box([1, 2])) == {"items": [1, 2]}
