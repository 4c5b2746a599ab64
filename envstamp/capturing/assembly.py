"""Assembling a manifest: every probe's sections merged in probe order, then the digest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import attrs

from envstamp._version import __version__
from envstamp.manifest.model import Manifest, ProbeRecord, Sections
from envstamp.probes.context import Outcome


def combine(first: object, second: object) -> object:
    """Merge two contributions to one section: lists concatenate, the first value wins.

    A section's value: a list, a mapping, an attrs class of the model or a plain value."""
    if first is None:
        return second
    if second is None:
        return first
    if isinstance(first, list) and isinstance(second, list):
        return first + second
    if isinstance(first, dict) and isinstance(second, dict):
        return {**second, **first}
    kind = type(first)
    if attrs.has(kind) and kind is type(second):
        changes = {
            a.name: combine(getattr(first, a.name), getattr(second, a.name))
            for a in attrs.fields(kind)
        }
        # attrs.has checked the class; mypy's attrs plugin wants a class it knows by name.
        return attrs.evolve(cast("Any", first), **changes)
    return first


def assemble(outcomes: Sequence[Outcome]) -> Sections:
    """All probes' sections merged, in probe order."""
    merged: Sections = {}
    for outcome in outcomes:
        for name, value in outcome.sections.items():
            merged[name] = combine(merged.get(name), value)
    if "gpus" in merged:
        from envstamp.probes.gpu.consolidate import consolidate

        merged["gpus"] = consolidate(merged["gpus"])
    return merged


def build_manifest(sections: Sections, records: list[ProbeRecord], captured_at: str) -> Manifest:
    """A Manifest from merged sections and probe records, with its identity digest."""
    from envstamp.manifest.serialize import with_digest

    known = {a.name for a in attrs.fields(Manifest)}
    values = {name: value for name, value in sections.items() if name in known}
    manifest = Manifest(
        envstamp_version=__version__, captured_at=captured_at, probes=records, **values
    )
    return with_digest(manifest)
