"""What another Python interpreter says of itself: the one JSON line the python probe's
``-c`` script prints (version, implementation, prefixes, package versions)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from envstamp.errors import ParseError
from envstamp.manifest.model import PythonInfo
from envstamp.parsers.textutil import clean

# sys.implementation.name -> what platform.python_implementation() prints
_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalVM"}


def is_virtualenv(platform: Mapping[str, object], virtual_env: str | None) -> bool | None:
    """Inside a venv: sys.prefix differs from sys.base_prefix, or VIRTUAL_ENV is set."""
    prefix, base = platform.get("prefix"), platform.get("base_prefix")
    if virtual_env:
        return True
    if prefix is None or base is None:
        return None
    return bool(prefix != base)


def parse_interpreter_answer(text: str) -> PythonInfo:
    """The python section from what :data:`INTERPRETER_SCRIPT` printed (the last JSON line:
    a sitecustomize may print before it)."""
    data = None
    for line in reversed(text.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        break
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise ParseError("no interpreter description (a JSON object with a version) printed")
    packages = data.get("packages")
    implementation = clean(data.get("implementation"))
    return PythonInfo(
        version=clean(data.get("version")),
        implementation=_IMPLEMENTATIONS.get(implementation or "", implementation),
        executable=clean(data.get("executable")),
        virtualenv=is_virtualenv(data, None),
        packages={
            str(name): str(found)
            for name, found in sorted(packages.items())
            if isinstance(found, str) and found
        }
        if isinstance(packages, dict)
        else {},
    )
