"""Probe ``llamacpp``: every llama.cpp build on this machine -> {"llamacpp": [LlamaCppBuild]}.

Where builds are found and how each is described lives in :mod:`llamacpp_build`; the
banner and log parser in :mod:`envstamp.parsers.llamacpp_log`.  This module stays tiny and
imports them only once a build is in sight: with no llama.cpp installed the probe costs a few
``which`` calls.
"""

from __future__ import annotations

from envstamp.manifest.model import ProbeStatus
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure

PATH_NAMES = ("llama-cli", "llama-server", "llama-bench", "main")
ENV_VAR = "ENVSTAMP_LLAMA_CPP"


def _anything_to_look_at(ctx: ProbeContext) -> bool:
    if ctx.options.llama_cpp or ctx.runner.env(ENV_VAR):
        return True
    return any(ctx.runner.which(name) for name in PATH_NAMES)


def probe(ctx: ProbeContext) -> Outcome:
    """Every llama.cpp build found, with its version, backends, devices, flags and git."""
    if not _anything_to_look_at(ctx):
        raise ProbeFailure("absent", "no llama-cli, llama-server or llama-bench on PATH", "PATH")
    from envstamp.probes.llm.llamacpp_build import describe_all, discover

    candidates, notes = discover(ctx)
    if not candidates:
        status: ProbeStatus = "error" if notes else "absent"
        detail = "; ".join(notes) or "no llama.cpp build found"
        raise ProbeFailure(status, detail, "PATH")
    described = describe_all(ctx, candidates)
    problems = notes + [f"{d.build.path}: {d.problem}" for d in described if d.problem]
    failed = [d for d in described if d.status != "ok"]
    status = failed[0].status if len(failed) == len(described) else "ok"
    sources = sorted({s for d in described for s in (d.build.source or "").split("+") if s})
    return Outcome(
        sections={"llamacpp": [d.build for d in described]},
        source=", ".join(sources) or "PATH",
        status=status,
        detail="; ".join(problems) or None,
    )


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "llamacpp", "order": 300, "waits": True},)
