"""Every probe by name: where its function lives (``"module:function"``) and when it applies.

A probe declares itself in its own module, beside its code, as a constant of literals::

    PROBES = ({"name": "jan", "order": 330},)

(keys: ``name``; ``function``, default ``"probe"``; ``order``; and the :class:`ProbeSpec`
flags ``volatile``, ``systems``, ``outlives_deadline``, ``waits``).  This registry finds the
probe modules by listing the folders of ``envstamp.probes`` (``system/``, ``gpu/``, ``llm/``,
any folder with an ``__init__.py``) and reads each module's declaration from its text
(:mod:`envstamp.parsers.declared`): a capture imports a probe's module only when that probe
runs on this platform.  Adding a probe is adding its module; a test checks that every
declaration read here is the module's own and resolves to a probe function.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from envstamp.manifest.records import FrozenRecord
from envstamp.parsers.declared import declared_literal

_PACKAGE = "envstamp.probes"
_HERE = Path(__file__).resolve().parent


@attrs.frozen(eq=False, repr=False)
class ProbeSpec(FrozenRecord):
    """A probe: where its function lives and when it applies."""

    name: str
    target: str  # "module:function"
    volatile: bool = False
    systems: tuple[str, ...] | None = None  # platform.system() values it applies to
    # Waited for past the deadline: hashing the model files the user named takes as long as
    # reading them (once: hashes are cached), and a manifest without them is not what was asked.
    outlives_deadline: bool = False
    # Apt to wait on the system (NVML start-up, commands, sockets): begun before the others so
    # that its wait overlaps their work instead of ending the capture.
    waits: bool = False
    # Probes run and their sections merge in this order (the first value of a field wins, and
    # the manifest lists the probes' records so): a number, so that no file listing decides it.
    order: int = 0


def probe_modules(root: Path = _HERE, package: str = _PACKAGE) -> Iterator[tuple[str, Path]]:
    """(module name, file) of every module in the probe groups' folders, sorted."""
    for folder in sorted(root.iterdir()):
        if not (folder / "__init__.py").is_file():
            continue
        for path in sorted(folder.glob("*.py")):
            if path.stem != "__init__":
                yield f"{package}.{folder.name}.{path.stem}", path


def specs_declared(module: str, declared: Any) -> list[ProbeSpec]:
    """The ProbeSpecs a module's ``PROBES`` declaration names (ValueError when malformed)."""
    if not isinstance(declared, tuple | list):
        raise ValueError(f"{module}.PROBES is not a tuple of probes")
    specs = []
    for entry in declared:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"{module}.PROBES: {entry!r} is not a probe with a name")
        values = dict(entry)
        function = values.pop("function", "probe")
        if "systems" in values and values["systems"] is not None:
            values["systems"] = tuple(values["systems"])
        specs.append(ProbeSpec(target=f"{module}:{function}", **values))
    return specs


def discover(root: Path = _HERE, package: str = _PACKAGE) -> tuple[ProbeSpec, ...]:
    """Every probe the modules under ``root`` declare, in their order."""
    specs: list[ProbeSpec] = []
    for module, path in probe_modules(root, package):
        declared = declared_literal(path.read_text(encoding="utf-8"), "PROBES")
        if declared is not None:
            specs.extend(specs_declared(module, declared))
    return tuple(sorted(specs, key=lambda spec: (spec.order, spec.name)))


PROBES: tuple[ProbeSpec, ...] = discover()


def load(target: str) -> Any:
    """The function a ``module:function`` target names (its module imported now)."""
    module_name, _, function = target.partition(":")
    return getattr(importlib.import_module(module_name), function)
