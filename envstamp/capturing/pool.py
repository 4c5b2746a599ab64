"""Running probes: a pool of daemon threads that grows only while probes wait, one deadline.

Each probe's outcome becomes its record (status, source, duration, detail); a probe that
raises, hangs or is not begun before the deadline is recorded as such, never lost.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import threading
import time
from collections.abc import Iterable, Sequence

from envstamp.manifest.model import ProbeRecord, ProbeStatus
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.probes.registry import ProbeSpec, load


class _Slot:
    """One probe's run: filled in by the worker that ran it (internal bookkeeping)."""

    __slots__ = ("done", "duration_ms", "outcome", "spec", "started")

    def __init__(self, spec: ProbeSpec) -> None:
        self.spec = spec
        self.started = 0.0  # perf_counter() when a worker began it; 0.0: never began
        self.outcome: Outcome | None = None
        self.duration_ms: float | None = None
        self.done = threading.Event()


def _run_one(slot: _Slot, ctx: ProbeContext) -> None:
    slot.started = time.perf_counter()
    try:
        slot.outcome = load(slot.spec.target)(ctx)
    except ProbeFailure as failure:
        slot.outcome = Outcome(status=failure.status, detail=failure.detail, source=failure.source)
    except Exception as exc:  # noqa: BLE001 - any probe bug becomes that probe's record
        from envstamp.runner import NotRecorded

        status: ProbeStatus = "error"
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, NotRecorded):
            detail = str(exc)
        slot.outcome = Outcome(status=status, detail=detail[:300])
    finally:
        slot.duration_ms = round((time.perf_counter() - slot.started) * 1000, 3)


def _applies(spec: ProbeSpec, system: str) -> bool:
    return spec.systems is None or system in spec.systems


def _preload(specs: Iterable[ProbeSpec]) -> None:
    """Import probe modules one after another before the threads start.

    Importing is CPU work under the import lock and the GIL: twenty threads importing at once
    spend more time handing those over than importing.  A module that fails to import is left
    for its probe's thread, which records the error.
    """
    for spec in specs:
        with contextlib.suppress(Exception):  # the probe's own thread reports it
            importlib.import_module(spec.target.partition(":")[0])


# A worker pool that grows only while the probes are waiting.  Most probes read a few files
# and finish in a millisecond; on one thread each, twenty of them spend more time handing the
# GIL over than working.  A probe blocked on a command, a socket or NVML stops the progress,
# and after GROW_AFTER another worker takes the next probe, so waits still overlap and a hung
# probe costs the others only that pause.  Measured against fixed pools and a thread per
# probe in docs/decisions.md ("Speed tricks of the runner and the capture, measured").
GROW_AFTER = 0.010


class _Pool:
    def __init__(
        self,
        slots: list[_Slot],
        ctx: ProbeContext,
        deadline_at: float,
    ) -> None:
        # Probes apt to wait go first (stably: otherwise in PROBES order).
        self.queue = collections.deque(sorted(slots, key=lambda slot: not slot.spec.waits))
        self.ctx = ctx
        self.deadline_at = deadline_at
        self.progress = threading.Condition()
        self.workers = 0

    def start_worker(self) -> None:
        self.workers += 1
        name = f"envstamp-probes-{self.workers}"
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                slot = self.queue.popleft()  # atomic: each slot goes to one worker
            except IndexError:
                return
            # Past the deadline a probe nobody began is not begun (except model hashing).
            if slot.spec.outlives_deadline or time.monotonic() < self.deadline_at:
                _run_one(slot, self.ctx)
            slot.done.set()
            with self.progress:
                self.progress.notify()

    def wait(self, slots: list[_Slot]) -> None:
        """Until every probe finished, or the deadline for all but those that outlive it."""
        with self.progress:
            while True:
                remaining = self.deadline_at - time.monotonic()
                awaited = [
                    s
                    for s in slots
                    if not s.done.is_set() and (remaining > 0 or s.spec.outlives_deadline)
                ]
                if not awaited:
                    return
                if remaining <= 0:
                    if self.queue:  # the probes outliving the deadline still need a worker
                        self.start_worker()
                    self.progress.wait(GROW_AFTER * 10)
                elif not self.progress.wait(min(GROW_AFTER, remaining)) and self.queue:
                    self.start_worker()


def run_probes(
    specs: Sequence[ProbeSpec],
    ctx: ProbeContext,
    deadline_at: float,
) -> list[tuple[ProbeSpec, Outcome, ProbeRecord]]:
    """Run probes on a growing pool of daemon threads; wait for each until the deadline."""
    system = ctx.system
    _preload(s for s in specs if s.name not in ctx.options.skip and _applies(s, system))
    slots: list[_Slot] = []
    results: list[tuple[ProbeSpec, Outcome, ProbeRecord]] = []
    for spec in specs:
        if spec.name in ctx.options.skip:
            outcome = Outcome(status="unsupported", detail="skipped by request")
        elif not _applies(spec, system):
            outcome = Outcome(status="unsupported", detail=f"not applicable on {system or '?'}")
        else:
            slots.append(_Slot(spec))
            continue
        results.append((spec, outcome, _record(spec.name, outcome, 0.0)))
    if slots:
        pool = _Pool(slots, ctx, deadline_at)
        pool.start_worker()
        pool.wait(slots)
    for slot in slots:
        results.append((slot.spec, *_settled(slot)))
    order = {spec.name: i for i, spec in enumerate(specs)}
    results.sort(key=lambda item: order[item[0].name])
    return results


def _settled(slot: _Slot) -> tuple[Outcome, ProbeRecord]:
    """A slot's outcome and record as the capture ends: finished, still running, or never
    begun before the deadline."""
    outcome = slot.outcome if slot.done.is_set() else None
    if outcome is not None:
        return outcome, _record(slot.spec.name, outcome, slot.duration_ms)
    if not slot.started:
        outcome = Outcome(status="timeout", detail="not begun before the capture deadline")
        return outcome, _record(slot.spec.name, outcome, 0.0)
    outcome = Outcome(status="timeout", detail="did not finish before the capture deadline")
    duration = round((time.perf_counter() - slot.started) * 1000, 3)
    return outcome, _record(slot.spec.name, outcome, duration)


def _record(name: str, outcome: Outcome, duration_ms: float | None) -> ProbeRecord:
    from envstamp.manifest.secrets import redact_value

    return ProbeRecord(
        name=name,
        status=outcome.status,
        source=outcome.source,
        duration_ms=duration_ms,
        # A detail quotes what failed: a tool's last line, a URL, a setting (issue 12).
        detail=redact_value(outcome.detail) if outcome.detail else None,
    )
