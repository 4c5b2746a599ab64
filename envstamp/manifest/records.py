"""One shared ``__eq__``, ``__repr__`` and (frozen) ``__hash__`` for envstamp's many small attrs
classes: the one speed measure of its data classes.

attrs generates and compiles these methods for every class it builds, about 0.25 ms a class.
The forty-odd classes on the import path of every capture (the manifest, the runner's answers,
the probes' bookkeeping) paid ~10 ms of a cold ``envstamp capture`` for them (measured in
docs/decisions.md, "attrs classes share one eq, repr and hash").  Those classes are written

    @attrs.define(eq=False, repr=False)         # or attrs.frozen(eq=False, repr=False)
    class Host(Record):                         # or FrozenRecord
        ...

so attrs generates neither, and they inherit the methods below; type checkers see exactly
that.  Equality compares the fields in order and only between instances of one class, as
attrs' would; a mutable class is unhashable, a frozen one hashes by its fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

__all__ = ["FrozenRecord", "Record"]


def _names(obj: object) -> Iterator[str]:
    """Field names of an instance of a record class, in order (the subclass is the attrs
    class; the bases themselves are not)."""
    cls: Any = type(obj)
    return (a.name for a in attrs.fields(cls))


class _Shared:  # noqa: PLW1641 - each subclass decides its __hash__
    """Field-wise ``__eq__`` and ``__repr__`` of an attrs class."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _names(self))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in _names(self))
        return f"{type(self).__name__}({values})"


class Record(_Shared):
    """Base of mutable attrs classes: unhashable, as attrs makes mutable classes with eq."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


class FrozenRecord(_Shared):
    """Base of frozen attrs classes: hashable by their fields."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(getattr(self, name) for name in _names(self))))
