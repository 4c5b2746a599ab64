"""capture(): run the probes concurrently under timeouts and a deadline; assemble the manifest.

Static probes (hardware, versions) run once per process and options; volatile probes (clocks,
load, AC state) run on every capture, so a second capture in one process costs only them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import attrs

from envstamp.capturing.assembly import assemble, build_manifest
from envstamp.capturing.pool import run_probes
from envstamp.manifest.model import (
    Manifest,
    Power,
    ProbeRecord,
    Volatile,
    utc_now,
)
from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext
from envstamp.probes.registry import PROBES
from envstamp.runner import Runner, make_runner
from envstamp.runner.caches import register

# Static results per (runner mode, options), so a second capture re-runs only volatile probes.
_STATIC_MEMO: dict[tuple[str, CaptureOptions], tuple[list[Outcome], list[ProbeRecord]]] = {}
_MEMO_LOCK = threading.Lock()


def capture(
    options: CaptureOptions | None = None,
    *,
    runner: Runner | None = None,
    record: str | None = None,
    replay: str | Sequence[str] | None = None,
    refresh: bool = False,
    **option_values: Any,  # CaptureOptions' fields, checked by its validators
) -> Manifest:
    """Fingerprint this machine (or a recorded one) into a :class:`Manifest`.

    ``capture(models=["m.gguf"], llama_cpp=["~/llama.cpp"])`` takes options as keywords;
    ``record=DIR`` writes every raw answer to DIR and ``replay=DIR`` answers from one (or from
    a list of folders, the first holding an answer giving it).
    A second call in the same process reuses the static parts unless ``refresh=True``
    (:func:`envstamp.runner.caches.reset` forgets them, and every other cache, for good).
    """
    if options is None:
        options = CaptureOptions(**option_values)
    elif option_values:
        options = attrs.evolve(options, **option_values)
    if runner is None:
        runner = make_runner(record=record, replay=replay, command_timeout=options.command_timeout)
    started = time.monotonic()
    deadline_at = started + options.deadline
    # The deadline and the command timeout (the options decide, whoever made the runner)
    # belong to this call: the probes get a bounded copy, the caller's runner is left as it
    # was and keeps answering after this deadline has passed.
    runner = runner.bounded(deadline_at, options.command_timeout)
    ctx = ProbeContext(runner=runner, options=options)
    captured_at = utc_now()
    memo_key = (runner.mode, options) if runner.mode == "live" else None
    try:
        with _MEMO_LOCK:
            cached = None if refresh or memo_key is None else _STATIC_MEMO.get(memo_key)
        specs = [s for s in PROBES if s.volatile] if cached else list(PROBES)
        ran = run_probes(specs, ctx, deadline_at)
    finally:
        runner.abort()  # nothing outlives the capture
        runner.finish()
    if cached is None:
        static = [(o, r) for spec, o, r in ran if not spec.volatile]
        cached = ([o for o, _ in static], [r for _, r in static])
        if memo_key is not None:
            with _MEMO_LOCK:
                _STATIC_MEMO[memo_key] = cached
    volatile = [(o, r) for spec, o, r in ran if spec.volatile]
    outcomes = cached[0] + [o for o, _ in volatile]
    records = cached[1] + [r for _, r in volatile]
    manifest = build_manifest(assemble(outcomes), records, captured_at)
    if runner.replayed_from:  # answered by a recording: say so (volatile, not in the digest)
        manifest = attrs.evolve(manifest, replayed_from=list(runner.replayed_from))
    return manifest


@register(__name__, "_STATIC_MEMO")
def forget_static() -> None:
    """Drop the in-process static memo (the next capture re-runs every probe)."""
    with _MEMO_LOCK:
        _STATIC_MEMO.clear()


def capture_volatile(runner: Runner | None = None, *, deadline: float = 1.0) -> Volatile | None:
    """Readings of the moment from the volatile probes; None when none answered (the
    stamping sampler reads them before and after a timed region)."""
    from envstamp.runner import LiveRunner

    runner = runner or LiveRunner(command_timeout=deadline)
    options = CaptureOptions(deadline=deadline, command_timeout=deadline)
    specs = [spec for spec in PROBES if spec.volatile]
    deadline_at = time.monotonic() + deadline
    # The deadline belongs to this reading, not to the caller's runner (which the memory
    # sampler may be using from its own thread meanwhile): a bounded copy carries it.
    bounded = runner.bounded(deadline_at)
    try:
        ran = run_probes(specs, ProbeContext(runner=bounded, options=options), deadline_at)
    except Exception:  # noqa: BLE001 - no platform answer (a partial recording): no state
        return None
    finally:
        bounded.abort()  # a command still running at the deadline ends with it
    outcomes = [outcome for _, outcome, _ in ran if outcome.status == "ok"]
    if not outcomes:
        return None
    sections = assemble(outcomes)
    state = sections.get("volatile")
    if not isinstance(state, Volatile):
        state = Volatile()
    power = sections.get("power")
    if state.ac_online is None and isinstance(power, Power):
        state = attrs.evolve(state, ac_online=power.ac_online)
    return state
