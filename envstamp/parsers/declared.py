"""A module's own declaration, read from its source text without importing the module.

Probes declare themselves (``PROBES``) and parser modules their parse kinds (``KINDS``) beside
their code, as a module-level constant written in literals only.  The registries find those
declarations by reading the package's files: listing probes or kinds then imports none of
them (importing every parser module costs about as much as ``envstamp parse`` itself, every
probe module about a third of a capture), and a module is imported only when it is used.
A test holds each declaration read this way equal to the module's own constant.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any


def declared_literal(source: str, name: str) -> Any:
    """The value of ``NAME = <literal>`` (or ``NAME: T = <literal>``) at column 0 of a module's
    source, else None.  The literal may span lines; anything but literals is not read."""
    for start in _line_starts(source, name):
        lines = source[start:].splitlines()
        value_text = _assigned_text(lines[0], name)
        if value_text is not None:
            return _literal_from(value_text, lines[1:])
    return None


def _line_starts(source: str, name: str) -> Iterator[int]:
    """Where the lines that begin with ``name`` begin (a find, not a split of every line)."""
    if source.startswith(name):
        yield 0
    found = source.find("\n" + name)
    while found >= 0:
        yield found + 1
        found = source.find("\n" + name, found + 1)


def _literal_from(value_text: str, following: list[str]) -> Any:
    """The literal that begins with ``value_text`` and may go on over the following lines."""
    for line in [*following, None]:
        try:
            return ast.literal_eval(value_text.strip())
        except (ValueError, TypeError, RecursionError, MemoryError):
            return None  # well formed, but not literals only (or not a value: {[]: 1})
        except SyntaxError:  # not complete yet: a literal over several lines
            if line is None or not _continues(line):
                return None
            value_text += "\n" + line
    return None


def _continues(line: str) -> bool:
    """Whether ``line`` can belong to a literal begun above (indented, blank, or closing it)."""
    return not line or line[0] in " \t)]}"


def _assigned_text(line: str, name: str) -> str | None:
    """What follows ``=`` when ``line`` assigns ``name`` at column 0 (an annotation allowed)."""
    if not line.startswith(name):
        return None
    rest = line[len(name):]
    if not rest or rest[0] not in " :=":
        return None
    target, equals, value = rest.partition("=")
    if not equals or (target.strip() and not target.strip().startswith(":")):
        return None
    return value
