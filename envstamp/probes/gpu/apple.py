"""Apple: ``system_profiler SPDisplaysDataType SPHardwareDataType -json`` (macOS): GPUs and
Metal, the chip's core split, memory and the machine model (read by
:mod:`envstamp.parsers.system_profiler`).  The command takes about a second, so its answer is
kept in the static cache for the boot.
"""

from __future__ import annotations

from envstamp.errors import ParseError
from envstamp.parsers.system_profiler import SOURCE, parse_system_profiler
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure, failure_from

SYSTEM_PROFILER = "/usr/sbin/system_profiler"
DATA_TYPES = ("SPDisplaysDataType", "SPHardwareDataType")


def probe(ctx: ProbeContext) -> Outcome:
    """GPUs, Metal, chip and memory of this Mac."""
    result = ctx.runner.run([SYSTEM_PROFILER, *DATA_TYPES, "-json"], cache=True)
    if not result.succeeded:
        raise failure_from(result, SOURCE)
    try:
        sections = parse_system_profiler(result.stdout)
    except ParseError as exc:
        raise ProbeFailure("error", str(exc), SOURCE) from None
    return Outcome(sections, source=" ".join(["system_profiler", *DATA_TYPES, "-json"]))


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "gpu_apple", "order": 220, "systems": ("Darwin",)},)
