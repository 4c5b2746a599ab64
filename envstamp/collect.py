"""Capture: run the probes concurrently under timeouts and a deadline; assemble the manifest.

(The module is ``collect`` rather than ``capture`` so that ``envstamp.capture`` stays the
function: a submodule of the same name would shadow it once imported.)

Static probes (hardware, versions) run once per process and options; volatile probes (clocks,
load, AC state) run on every capture, so a second capture in one process costs only them.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from envstamp import __version__
from envstamp.manifest.model import Manifest, ProbeRecord, ProbeStatus, Sections
from envstamp.manifest.records import FrozenRecord, frozen_record
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure
from envstamp.runner import DEFAULT_COMMAND_TIMEOUT, Runner, make_runner

DEFAULT_DEADLINE = 5.0


# Converters are plain functions, not the tuple / frozenset builtins: attrs reads a converter's
# signature, and a builtin's goes through inspect's tokenizer (~3 ms of regex compiling).
def _tuple_of(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _set_of(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _seconds(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    """A time limit is a positive, finite number (NaN would pass every comparison)."""
    if not 0 < value < float("inf"):
        from envstamp.errors import InputError

        raise InputError(f"{attribute.name} must be a positive number of seconds, not {value!r}")


@frozen_record
class CaptureOptions(FrozenRecord):
    """What to capture and how long to wait."""

    llama_cpp: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of)
    """llama.cpp binaries, build folders or checkouts to describe (beside those on PATH)."""
    models: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of)
    """Model files (or Ollama model names) to fingerprint."""
    ollama_models: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of)
    """Ollama model names (``ollama run MODEL``) whose digest and details the ollama probe
    asks the Ollama server for; each becomes an entry of ``models``."""
    command_timeout: float = attrs.field(default=DEFAULT_COMMAND_TIMEOUT, validator=_seconds)
    """Seconds any one external command may take."""
    deadline: float = attrs.field(default=DEFAULT_DEADLINE, validator=_seconds)
    """Seconds the whole capture may take."""
    skip: frozenset[str] = attrs.field(default=frozenset(), converter=_set_of)
    """Probe names not to run (recorded as unsupported)."""
    progress: bool = False
    """Show progress (hashing large model files) on a terminal."""
    python: str | None = None
    """An interpreter whose version and packages the ``python`` section describes instead of
    envstamp's own (``envstamp run`` of a Python program: the child's interpreter)."""


@frozen_record
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


PROBES: tuple[ProbeSpec, ...] = (
    ProbeSpec("host", "envstamp.probes.system.host:probe"),
    ProbeSpec("os", "envstamp.probes.system.os_:probe"),
    ProbeSpec("cpu", "envstamp.probes.system.cpu:probe"),
    ProbeSpec("memory", "envstamp.probes.system.memory:probe"),
    ProbeSpec("python", "envstamp.probes.system.python:probe"),
    ProbeSpec("env", "envstamp.probes.system.env:probe"),
    ProbeSpec("power", "envstamp.probes.system.power:probe"),
    ProbeSpec("gpu_nvidia", "envstamp.probes.gpu.nvidia:probe", waits=True),
    ProbeSpec("gpu_amd", "envstamp.probes.gpu.amd:probe", systems=("Linux", "Windows")),
    ProbeSpec("gpu_apple", "envstamp.probes.gpu.apple:probe", systems=("Darwin",)),
    ProbeSpec("gpu_windows", "envstamp.probes.gpu.windows:probe", systems=("Windows",)),
    ProbeSpec("gpu_intel", "envstamp.probes.gpu.intel:probe", systems=("Linux", "Windows")),
    ProbeSpec("runtimes", "envstamp.probes.gpu.runtimes:probe", waits=True),
    ProbeSpec("llamacpp", "envstamp.probes.llm.llamacpp:probe", waits=True),
    ProbeSpec("ollama", "envstamp.probes.llm.ollama:probe", waits=True),
    ProbeSpec("lmstudio", "envstamp.probes.llm.lmstudio:probe"),
    ProbeSpec("jan", "envstamp.probes.llm.jan:probe"),
    ProbeSpec("engines", "envstamp.probes.llm.engines:probe"),
    ProbeSpec("models", "envstamp.probes.llm.model_file:probe", outlives_deadline=True),
    ProbeSpec("state", "envstamp.probes.system.state:probe", volatile=True),
    ProbeSpec("gpu_nvidia_state", "envstamp.probes.gpu.nvidia:state", volatile=True, waits=True),
)


def _load(target: str) -> Any:
    module_name, _, function = target.partition(":")
    return getattr(importlib.import_module(module_name), function)


# ------------------------------------------------------------------------- running probes


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
        slot.outcome = _load(slot.spec.target)(ctx)
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
# probe costs the others only that pause.
GROW_AFTER = 0.010


class _Pool:
    def __init__(
        self,
        slots: list[_Slot],
        ctx: ProbeContext,
        deadline_at: float,
        on_stall: Callable[[], object] | None = None,
    ) -> None:
        # Probes apt to wait go first (stably: otherwise in PROBES order).
        self.queue = collections.deque(sorted(slots, key=lambda slot: not slot.spec.waits))
        self.ctx = ctx
        self.deadline_at = deadline_at
        self.progress = threading.Condition()
        self.workers = 0
        self.on_stall = on_stall

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
                elif not self.progress.wait(min(GROW_AFTER, remaining)):
                    if self.queue:
                        self.start_worker()
                    elif self.on_stall is not None:
                        self._use_stall()

    def _use_stall(self) -> None:
        # Every probe has begun and none is moving: they wait on commands, sockets or NVML
        # with the GIL released, so the caller's own work (once) costs the capture nothing.
        task, self.on_stall = self.on_stall, None
        if task is None:
            return
        self.progress.release()
        try:
            with contextlib.suppress(Exception):  # the caller redoes it, and sees the error
                task()
        finally:
            self.progress.acquire()


def run_probes(
    specs: Sequence[ProbeSpec],
    ctx: ProbeContext,
    deadline_at: float,
    on_stall: Callable[[], object] | None = None,
) -> list[tuple[ProbeSpec, Outcome, ProbeRecord]]:
    """Run probes on a growing pool of daemon threads; wait for each until the deadline.

    ``on_stall`` runs at most once, when every probe has begun and all are waiting."""
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
        pool = _Pool(slots, ctx, deadline_at, on_stall)
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


# ------------------------------------------------------------------------------ assembling


def combine(first: Any, second: Any) -> Any:
    """Merge two contributions to one section: lists concatenate, the first value wins."""
    if first is None:
        return second
    if second is None:
        return first
    if isinstance(first, list) and isinstance(second, list):
        return first + second
    if isinstance(first, dict) and isinstance(second, dict):
        return {**second, **first}
    if attrs.has(type(first)) and type(first) is type(second):
        changes = {
            a.name: combine(getattr(first, a.name), getattr(second, a.name))
            for a in attrs.fields(type(first))
        }
        return attrs.evolve(first, **changes)
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


def utc_now() -> str:
    """Now, UTC, RFC 3339 with milliseconds (time, not datetime: one import less)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


# ------------------------------------------------------------------------------ capture()

# Static results per (runner mode, options), so a second capture re-runs only volatile probes.
_STATIC_MEMO: dict[Any, tuple[list[Outcome], list[ProbeRecord]]] = {}
_MEMO_LOCK = threading.Lock()


def capture(
    options: CaptureOptions | None = None,
    *,
    runner: Runner | None = None,
    record: str | None = None,
    replay: str | Sequence[str] | None = None,
    refresh: bool = False,
    on_stall: Callable[[], object] | None = None,
    **option_values: Any,
) -> Manifest:
    """Fingerprint this machine (or a recorded one) into a :class:`Manifest`.

    ``capture(models=["m.gguf"], llama_cpp=["~/llama.cpp"])`` takes options as keywords;
    ``record=DIR`` writes every raw answer to DIR and ``replay=DIR`` answers from one (or from
    a list of folders, the first holding an answer giving it).
    A second call in the same process reuses the static parts unless ``refresh=True``.
    ``on_stall`` is work of the caller's (say, imports it will need next) that runs once if
    every probe ends up waiting on the system; it must not raise or print.
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
        ran = run_probes(specs, ctx, deadline_at, on_stall)
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
    return build_manifest(assemble(outcomes), records, captured_at)


def forget_static() -> None:
    """Drop the in-process static memo (the next capture re-runs every probe)."""
    with _MEMO_LOCK:
        _STATIC_MEMO.clear()
