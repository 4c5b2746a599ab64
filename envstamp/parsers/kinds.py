"""Parse kinds (DESIGN 3.2): one captured output -> the manifest fragment it feeds.

A parser module declares its kinds beside its functions, as a constant of literals::

    KINDS = {"llamafile-version": ("parse_llamafile_version_kind", "llamafile --version")}

(kind -> (the function of that module, what it reads)).  This registry reads those
declarations from the text of the modules of ``envstamp/parsers/``
(:mod:`envstamp.parsers.declared`); a parser module is imported only when its kind is
parsed, so listing kinds costs reading the folder, not importing it.  Adding a kind is adding
it to its module's ``KINDS``; a test holds every declaration read here to the module's own.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from envstamp.errors import InputError, ParseError
from envstamp.manifest.model import Sections
from envstamp.parsers.declared import declared_literal

_PACKAGE = "envstamp.parsers"
_HERE = Path(__file__).resolve().parent


def kinds_declared(module: str, declared: Any) -> dict[str, tuple[str, str]]:
    """A module's ``KINDS`` declaration as registry entries (ValueError when malformed)."""
    if not isinstance(declared, dict):
        raise ValueError(f"{module}.KINDS is not a mapping of kinds")
    entries = {}
    for kind, value in declared.items():
        if not (
            isinstance(kind, str)
            and isinstance(value, tuple)
            and len(value) == 2
            and all(isinstance(part, str) and part for part in value)
        ):
            raise ValueError(f"{module}.KINDS: {kind!r} is not kind -> (function, what it reads)")
        entries[kind] = (f"{module}:{value[0]}", value[1])
    return entries


def discover(root: Path = _HERE, package: str = _PACKAGE) -> dict[str, tuple[str, str]]:
    """Every kind the modules in ``root`` declare, sorted by name (ValueError: one kind
    declared twice)."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(root.glob("*.py")):
        declared = declared_literal(path.read_text(encoding="utf-8"), "KINDS")
        if declared is None or path.stem == "kinds":
            continue
        for kind, entry in kinds_declared(f"{package}.{path.stem}", declared).items():
            if kind in found:
                raise ValueError(f"kind {kind!r} is declared by {found[kind][0]} and {entry[0]}")
            found[kind] = entry
    return dict(sorted(found.items()))


# kind -> ("module:function", what it reads)
KINDS: dict[str, tuple[str, str]] = discover()


def parser_for(kind: str) -> Any:
    """The parse function of a kind; InputError listing the kinds when unknown."""
    entry = KINDS.get(kind)
    if entry is None:
        raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(sorted(KINDS))}")
    module_name, _, function = entry[0].partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, function)
    except (ImportError, AttributeError):
        raise InputError(f"kind {kind!r} is not available in this build of envstamp") from None


def parse(kind: str, text: str) -> Sections:
    """Parse one captured output of ``kind`` into typed manifest sections."""
    function = parser_for(kind)
    try:
        sections: Sections = function(text)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # A parser bug must still look like a parse failure to the user, never a traceback.
        raise ParseError(f"cannot parse {kind}: {type(exc).__name__}: {exc}") from None
    return sections


def parse_to_data(kind: str, text: str) -> dict[str, Any]:
    """Parse into the plain JSON fragment that ``envstamp parse`` prints."""
    from envstamp.manifest.serialize import unstructure

    return {name: unstructure(value) for name, value in parse(kind, text).items()}
