"""attrs classes with one shared ``__eq__``, ``__repr__`` and (frozen) ``__hash__``.

attrs generates and compiles these methods for every class it builds.  With some forty classes
on the import path of every capture (the manifest, the runner's answers, the probes'
bookkeeping) that is a noticeable share of a start-up budget measured in tens of milliseconds,
so the classes here inherit them instead: ``@record`` / ``@frozen_record`` in place of
``@attrs.define`` / ``@attrs.frozen``, with ``Record`` / ``FrozenRecord`` as the base.
Equality compares the fields in order, as attrs' would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

__all__ = ["FrozenRecord", "Record", "frozen_record", "record"]

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(a.name for a in attrs.fields(cls))
    return names


class _Shared:  # noqa: PLW1641 - each subclass decides its __hash__
    """Field-wise ``__eq__`` and ``__repr__``."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _field_names(type(self)))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in _field_names(type(self)))
        return f"{type(self).__name__}({values})"


class Record(_Shared):
    """Base of mutable record classes: unhashable, as attrs makes mutable classes with eq."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


class FrozenRecord(_Shared):
    """Base of frozen record classes: hashable by their fields."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(getattr(self, n) for n in _field_names(type(self)))))


if TYPE_CHECKING:
    from attrs import define as record  # type checkers see plain attrs classes
    from attrs import frozen as frozen_record
else:

    def record(cls=None, **options):
        """``attrs.define`` without generated eq/repr (:class:`Record` provides them);
        ``@record`` or ``@record(kw_only=True)``."""

        def wrap(target):
            return attrs.define(target, eq=False, repr=False, **options)

        return wrap if cls is None else wrap(cls)

    def frozen_record(cls=None, **options):
        """``attrs.frozen`` without generated eq/repr/hash (:class:`FrozenRecord` provides
        them)."""

        def wrap(target):
            return attrs.frozen(target, eq=False, repr=False, **options)

        return wrap if cls is None else wrap(cls)
