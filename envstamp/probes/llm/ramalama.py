"""RamaLama: its version, the runtime and container engine it runs models with, its models.

* ``ramalama info`` (JSON) states the version, the runtime (llama.cpp, vLLM, MLX), the
  container engine and image, and the accelerator it detected.  With a container engine
  installed it also asks that engine for its own ``info`` and fails when the engine does not
  answer (Docker's daemon stopped): the failure goes to the detail and the version comes
  from ``ramalama version`` (cached by binary) instead.
* ``ramalama --nocontainer list --json`` lists the models of its store; ``--nocontainer``
  keeps it from asking the container engine for models kept as images, so listing never
  reaches a daemon.

Nothing is started: neither command runs a model or a container.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import Ramalama
from envstamp.parsers.frontend_text import frontends
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure

if TYPE_CHECKING:
    from envstamp.runner import CommandResult

T = TypeVar("T")


class _Notes(list[str]):
    """What went wrong along the way, and whether a command hung."""

    timed_out = False


def _ask(
    ctx: ProbeContext, argv: list[str], parse: Callable[[str], T], notes: _Notes, *,
    cache: bool = False,
) -> T | None:
    """``parse`` of what a ramalama command printed on stdout; None (and a note) when it
    failed or printed nothing of the kind."""
    result: CommandResult = ctx.runner.run(argv, cache=cache)
    what = " ".join(["ramalama", *argv[1:]])
    if result.status != "ok" or result.returncode != 0:
        notes.append(f"{what}: {result.describe()}")
        notes.timed_out = notes.timed_out or result.status == "timeout"
        return None
    try:
        return parse(result.stdout)
    except ParseError as exc:
        notes.append(f"{what}: {exc}")
        return None


def probe(ctx: ProbeContext) -> Outcome:
    """RamaLama on PATH: ``ramalama info``, its models, its version when info fails."""
    binary = ctx.runner.which("ramalama")
    if binary is None:
        raise ProbeFailure("absent", "ramalama not on PATH")
    # Its parser only once RamaLama is found: a capture without it spares the import (the
    # frontend probes' idiom, docs/decisions.md "Cold capture against pyperf").
    from envstamp.parsers.ramalama import (
        parse_ramalama_info,
        parse_ramalama_list,
        parse_ramalama_version,
    )

    notes = _Notes()
    found = _ask(ctx, [binary, "info"], parse_ramalama_info, notes) or Ramalama()
    if found.version is None:
        version = _ask(ctx, [binary, "version"], parse_ramalama_version, notes, cache=True)
        found = attrs.evolve(found, version=version)
    models = _ask(ctx, [binary, "--nocontainer", "list", "--json"], parse_ramalama_list, notes)
    found = attrs.evolve(found, models=models or [])
    if found.version is None and found.runtime is None and models is None:
        raise ProbeFailure("timeout" if notes.timed_out else "error", "; ".join(notes), "ramalama")
    return Outcome(
        sections=frontends(ramalama=found),
        source="ramalama info, ramalama list --json",
        status="timeout" if notes.timed_out else "ok",
        detail="; ".join(notes) or None,
    )


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "ramalama", "order": 350, "waits": True},)
