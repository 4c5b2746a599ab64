"""Stamped timing: every number recorded here carries the signed manifest it ran under.

Two lines give a benchmark provenance::

    rec = envstamp.Recorder("results.jsonl")      # captures and signs a manifest, or fails now
    with rec.timer("pp512", model="llama-3-8b-q4_k_m.gguf") as t:
        run_prompt()
        t.metrics["tokens_per_s"] = 512 / t.elapsed

Also: ``rec.record(name, metrics=...)`` for numbers measured elsewhere, ``rec.repeat(...)``
and ``rec.bench(fn, ...)`` for repetitions with a summary, ``@rec.timed`` for functions
(sync or async: every call into ``rec``, named when decorating), ``async with rec.timer(...)``.

What is measured and what is not: the clock is read as the last thing on entry and the first
thing on exit.  Reading the volatile state, opening a memory region, building the record and
writing it all happen outside that interval.  Records are written right after each region by
default (``buffer=1``: a crash loses nothing already timed); ``buffer=N`` batches them.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import inspect
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, overload

import attrs

from envstamp.errors import CaptureError, EnvstampError, InputError
from envstamp.stamping import advice as advice_rules
from envstamp.stamping.results import (
    Advice,
    MemoryUse,
    Result,
    ResultLog,
    Summary,
    check_number,
    clean_name,
    clean_params,
    summarize,
)

if TYPE_CHECKING:
    from types import TracebackType

    from envstamp.manifest.model import Manifest, Volatile
    from envstamp.probes.context import CaptureOptions
    from envstamp.runner import Runner
    from envstamp.signing.keys import SigningKey
    from envstamp.stamping.sampler import MemorySampler, Region

__all__ = ["Lap", "Recorder", "Series", "Summary", "Timer", "summarize", "timed"]

F = TypeVar("F", bound=Callable[..., Any])

# What a region watches besides the clock (bit flags).
STATE = 1
MEMORY = 2


# ------------------------------------------------------------------------------ recorder


class Recorder:
    """Records stamped results into a results log.

    Construction captures this machine's manifest (or takes ``manifest=``: a Manifest, or an
    envelope signed already), signs it, and writes it into ``path`` - or raises, before any
    benchmark runs.  ``close()`` (or leaving a ``with Recorder(...)`` block, or interpreter
    exit) flushes and signs the chain head.

    ``state`` / ``memory`` sample the volatile state around each region and peak memory
    during it; ``state_max_age`` lets back-to-back short regions share one state reading.
    ``head_every`` / ``head_seconds`` sign the chain head periodically.  ``durable`` fsyncs
    every write.  ``advice`` prints advice once to stderr (or to a given stream; False:
    silent - it is stored either way).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "results.jsonl",
        *,
        manifest: Manifest | Mapping[str, Any] | None = None,
        key: SigningKey | str | os.PathLike[str] | None = None,
        options: CaptureOptions | None = None,
        durable: bool = False,
        head_every: int = 1000,
        head_seconds: float = 60.0,
        buffer: int = 1,
        state: bool = True,
        memory: bool = True,
        sample_hz: float = 10.0,
        state_max_age: float = 1.0,
        advice: bool | TextIO = True,
        runner: Runner | None = None,
    ) -> None:
        from envstamp.stamping.advice import AdvicePrinter, manifest_advice
        from envstamp.stamping.sampler import StateCache

        if buffer < 1:
            raise InputError("buffer must be at least 1")
        if not sample_hz > 0:
            raise InputError("sample_hz must be positive")
        self._runner = runner
        self._lock = threading.RLock()
        self._pending: deque[Any] = deque()
        self._call_logs: list[CallLog] = []
        self._buffer = int(buffer)
        self._closed = False
        self.state = bool(state)
        self.memory = bool(memory)
        self._flags = self.flags(None, None)
        self._sample_hz = sample_hz
        self._sampler: MemorySampler | None = None
        signing_key = _signing_key(key)
        captured_now = manifest is None
        envelope, self.manifest = _signed_manifest(manifest, signing_key, options, runner)
        self._log = ResultLog(
            path,
            envelope=envelope,
            key=signing_key,
            durable=durable,
            head_every=head_every,
            head_seconds=head_seconds,
        )
        self.manifest_digest: str = self._log.manifest_digest
        self.path = self._log.path
        self.count = 0
        # Looked up at each reading, so a test (or subclass) can replace _read_state.
        self._states = StateCache(lambda: self._read_state(), max_age=state_max_age)  # noqa: PLW0108
        if captured_now:
            self._states.seed(self.manifest.volatile)
        self._base_advice = manifest_advice(self.manifest)
        stream = None if isinstance(advice, bool) else advice
        self._printer = AdvicePrinter(stream, enabled=advice is not False)
        _OPEN.add(self)

    # -- measuring ----------------------------------------------------------------------

    def timer(
        self, name: str, /, *, state: bool | None = None, memory: bool | None = None,
        **params: Any,
    ) -> Timer:
        """A :class:`Timer` for one region (sync or async): ``with rec.timer("pp512",
        n_ctx=4096) as t:``.  Keyword arguments are the result's parameters; ``state`` and
        ``memory`` (True/False) override this recorder's settings for this region."""
        flags = self._flags if state is None and memory is None else self.flags(state, memory)
        return Timer(self, name, params, flags)

    @overload
    def timed(self, name: F, /) -> F: ...

    @overload
    def timed(
        self, name: str | None = None, /, *, state: bool | None = None,
        memory: bool | None = None, **params: Any,
    ) -> Callable[[F], F]: ...

    def timed(
        self, name: Any = None, /, *, state: bool | None = None, memory: bool | None = None,
        **params: Any,
    ) -> Any:
        """Decorator: record each call of a function (sync or async) into this recorder.

        ``@rec.timed`` names the result after the function; ``@rec.timed("load_model",
        quant="q4_k_m")`` names it and adds parameters; ``state`` / ``memory`` override this
        recorder's settings for its calls.  The same as ``@envstamp.timed(..., recorder=rec)``.
        """
        if callable(name):
            return _decorate(name, name=None, recorder=self, state=state, memory=memory,
                             params=params)
        return timed(name, recorder=self, state=state, memory=memory, **params)

    def flags(self, state: bool | None, memory: bool | None) -> int:
        """What to watch around a region: this recorder's settings, overridden per region."""
        state = self.state if state is None else state
        memory = self.memory if memory is None else memory
        return (STATE if state else 0) | (MEMORY if memory else 0)

    def repeat(
        self,
        name: str,
        /,
        *,
        repeat: int = 5,
        warmup: int = 1,
        state: bool | None = None,
        memory: bool | None = None,
        **params: Any,
    ) -> Series:
        """Laps to iterate: ``for lap in rec.repeat("pp512", repeat=5): with lap: run()``.

        Warm-up laps are timed and dropped; the others become one result with every sample
        and their summary.
        """
        return Series(
            self, name, repeat=repeat, warmup=warmup, state=state, memory=memory, params=params
        )

    def bench(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        name: str | None = None,
        repeat: int = 5,
        warmup: int = 1,
        params: Mapping[str, Any] | None = None,
        metrics: Callable[[Any, float], Mapping[str, float]] | None = None,
        state: bool | None = None,
        memory: bool | None = None,
        **kwargs: Any,
    ) -> Result:
        """Call ``fn(*args, **kwargs)`` ``warmup + repeat`` times; return the stamped result.

        ``metrics(return_value, seconds)`` turns each call into metrics, e.g.
        ``lambda out, s: {"tokens_per_s": out.n_tokens / s}``.
        """
        series = self.repeat(
            name or _callable_name(fn),
            repeat=repeat,
            warmup=warmup,
            state=state,
            memory=memory,
            **dict(params or {}),
        )
        for lap in series:
            with lap:
                value = fn(*args, **kwargs)
            if metrics is not None:
                lap.metrics.update(metrics(value, lap.elapsed))
        return series.result_now()

    async def abench(
        self,
        fn: Callable[..., Awaitable[Any]],
        /,
        *args: Any,
        name: str | None = None,
        repeat: int = 5,
        warmup: int = 1,
        params: Mapping[str, Any] | None = None,
        metrics: Callable[[Any, float], Mapping[str, float]] | None = None,
        **kwargs: Any,
    ) -> Result:
        """:meth:`bench` for a coroutine function."""
        series = self.repeat(
            name or _callable_name(fn), repeat=repeat, warmup=warmup, **dict(params or {})
        )
        for lap in series:
            async with lap:
                value = await fn(*args, **kwargs)
            if metrics is not None:
                lap.metrics.update(metrics(value, lap.elapsed))
        return series.result_now()

    def record(
        self,
        name: str,
        /,
        *,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        wall_s: float | Sequence[float] | None = None,
        metric_samples: Mapping[str, Sequence[float]] | None = None,
        origin: str = "record",
        failed: bool = False,
    ) -> Result:
        """Record numbers measured elsewhere (``metrics={"tokens_per_s": 41.2}``).

        ``failed=True`` records a measurement that did not complete (its numbers are kept
        for the record but never read as speeds: ``load_results`` leaves it out unless
        asked)."""
        if wall_s is None and not metric_samples:
            # Plain numbers: no series, so no summary or sample advice to work out.
            if self._base_advice:
                self._printer.show(self._base_advice)
            result = Result(
                manifest_digest=self.manifest_digest,
                name=clean_name(name),
                at=_utc_stamp(time.time()),
                origin=origin,
                params=clean_params(params) if params else {},
                metrics=dict(metrics) if metrics else {},
                advice=list(self._base_advice),
                failed=bool(failed),
            )
            self._queue(result)
            return result
        walls = [wall_s] if isinstance(wall_s, (int, float)) else list(wall_s or ())
        result = self.make_result(
            name,
            origin=origin,
            params=params or {},
            metrics=metrics or {},
            wall_s=list(walls),
            metric_samples=metric_samples or {},
            failed=bool(failed),
        )
        self._queue(result)
        return result

    def make_result(
        self,
        name: str,
        *,
        origin: str,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        wall_s: Sequence[float],
        metric_samples: Mapping[str, Sequence[float]] | None = None,
        state_before: Volatile | None = None,
        state_after: Volatile | None = None,
        region: Region | None = None,
        memory: MemoryUse | None = None,
        at: str | None = None,
        summary: Mapping[str, Summary] | None = None,
        advise_samples: bool = True,
        **extra: Any,
    ) -> Result:
        """A Result stamped with this recorder's manifest, with summary and advice.

        ``region`` (a closed memory region) gives the memory section unless ``memory`` is
        given, and the other GPU processes it saw feed the advice.  ``summary`` adds
        statistics known without their samples (a tool printed its mean, stddev and count);
        ``advise_samples=False`` gives no advice about the number or spread of samples (the
        wrapper's time of a benchmark that did its own repetitions).
        """
        samples = {k: list(v) for k, v in metric_samples.items() if v} if metric_samples else {}
        _check_numbers(wall_s, "wall time")
        for key, values in samples.items():
            _check_numbers(values, f"metric {key!r}")
        summaries: dict[str, Summary] = {}
        if wall_s:
            summaries["wall_s"] = summarize(wall_s)
        for key, values in samples.items():
            summaries[key] = summarize(values)
        if summary:
            summaries.update(summary)
        # A failed measurement is not a speed: no advice about its samples.
        advised = summaries if advise_samples and not extra.get("failed") else {}
        found: list[Advice] = self._base_advice
        if state_before is not None or state_after is not None or region is not None:
            found = advice_rules.merge(
                found,
                advice_rules.state_advice((state_before, state_after)),
                advice_rules.sample_advice(advised),
                advice_rules.gpu_advice(region.other_gpu_pids if region else ()),
            )
        elif advised:
            # Manifest advice (governor, battery) and sample advice never share a code.
            found = found + advice_rules.sample_advice(advised)
        if found:
            self._printer.show(found)
        if region is not None and memory is None:
            from envstamp.stamping.sampler import memory_use

            memory = memory_use(region, self._memory_source())
        return Result(
            manifest_digest=self.manifest_digest,
            name=clean_name(name),
            at=at or _utc_stamp(time.time()),
            origin=origin,
            params=clean_params(params) if params else {},
            metrics=dict(metrics),
            wall_s=list(wall_s),
            metric_samples=samples,
            summary=summaries,
            memory=memory,
            state_before=state_before,
            state_after=state_after,
            advice=list(found),
            **extra,
        )

    def mute_advice(self, *codes: str) -> None:
        """Store advice of these codes with the results but never print it: for a caller that
        says it its own way (``envstamp run`` names its ``--repeat`` flag)."""
        self._printer.mute(*codes)

    def add(self, result: Result) -> Result:
        """Queue a result built elsewhere (``envstamp run``); it must carry this manifest."""
        if result.manifest_digest != self.manifest_digest:
            raise InputError("the result names another manifest than this recorder's")
        # Stored as every result is: secrets in its name and parameters redacted.
        result.name = clean_name(result.name)
        result.params = clean_params(result.params)
        self._queue(result)
        return result

    # -- writing ------------------------------------------------------------------------

    def _queue(self, item: Any) -> None:
        pending = self._pending
        pending.append(item)
        if len(pending) >= self._buffer:
            self.flush()

    def call_log(self, name: str, params: dict[str, Any]) -> CallLog:
        """A list for one @timed function's calls (its fast path), drained at flush."""
        log = CallLog(name, params)
        with self._lock:
            self._call_logs.append(log)
        return log

    def flush(self) -> None:
        """Write every queued record now (one locked append)."""
        with self._lock:
            pending = self._pending
            items = []
            while pending:
                items.append(pending.popleft())
            for log in self._call_logs:
                items += log.drain()
            if not items:
                return
            offset = time.time() - perf_counter()
            results: list[Result] = []
            owners: list[Any] = []
            error: EnvstampError | None = None
            for item in items:
                try:
                    result = item if isinstance(item, Result) else self._from_item(item, offset)
                except EnvstampError as exc:
                    error = error or exc
                    continue
                results.append(result)
                owners.append(item)
            self._log.write(results)
            self.count += len(results)
            for owner, result in zip(owners, results, strict=True):
                if isinstance(owner, Timer):
                    owner.extras().result = result
            if error is not None:
                raise error

    def _from_item(self, item: Any, offset: float) -> Result:
        if isinstance(item, Timer):
            return item.to_result(offset)
        # A call recorded by @timed's fast path; a fourth member marks a call that raised.
        (name, params), start, end, *failed = item
        return self.make_result(
            name,
            origin="timed",
            params=params,
            metrics={},
            wall_s=[end - start],
            at=_utc_stamp(end + offset),
            failed=bool(failed),
        )

    def close(self) -> None:
        """Flush, stop the sampler and sign the final chain head (idempotent)."""
        with self._lock:
            if self._closed:
                return
            try:
                self.flush()
            finally:
                self._closed = True
                _OPEN.discard(self)
                if self._sampler is not None:
                    self._sampler.stop()
                self._log.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Recorder({str(self.path)!r}, manifest={self.manifest_digest[:19]}...)"

    # -- state and memory ---------------------------------------------------------------

    def _read_state(self) -> Volatile | None:
        from envstamp.stamping.sampler import volatile_state

        try:
            return volatile_state(self._runner)
        except Exception:  # noqa: BLE001 - a missing probe must never cost the measurement
            return None

    def watch_open(self, state: int, memory: int) -> tuple[Volatile | None, Region | None]:
        """Before a region: a state reading and an open memory region (as asked)."""
        before = self._states.get() if state else None
        region = self._memory_sampler().open_region() if memory else None
        return before, region

    def watch_close(
        self, state: int, region: Region | None
    ) -> tuple[Volatile | None, Region | None]:
        """After a region: close the memory region, then read the state."""
        if region is not None:
            region = self._memory_sampler().close_region(region)
        after = self._states.get() if state else None
        return after, region

    def _memory_sampler(self) -> MemorySampler:
        with self._lock:
            if self._sampler is None:
                from envstamp.runner import LiveRunner
                from envstamp.stamping.sampler import MemoryReader, MemorySampler

                reader = MemoryReader(self._runner or LiveRunner())
                self._sampler = MemorySampler(reader, hz=self._sample_hz)
            return self._sampler

    def _memory_source(self) -> str:
        return self._sampler.reader.source if self._sampler is not None else "none"


def _signing_key(key: SigningKey | str | os.PathLike[str] | None) -> SigningKey:
    from envstamp.signing import keys

    if isinstance(key, keys.SigningKey):
        return key
    return keys.load_signing_key(key)


def _signed_manifest(
    manifest: Manifest | Mapping[str, Any] | None,
    key: SigningKey,
    options: CaptureOptions | None,
    runner: Runner | None,
) -> tuple[dict[str, Any], Manifest]:
    """The signed envelope and the manifest; CaptureError when either cannot be had."""
    from envstamp.manifest.model import Manifest
    from envstamp.manifest.serialize import manifest_from_data, with_digest
    from envstamp.signing import sign
    from envstamp.stamping.results import envelope_predicate

    if manifest is None:
        manifest = _capture(options, runner)
    if isinstance(manifest, Mapping):
        if "payloadType" in manifest:  # an envelope signed already
            predicate = envelope_predicate(manifest)
            return dict(manifest), manifest_from_data(predicate, what="the manifest envelope")
        manifest = manifest_from_data(dict(manifest), what="the manifest")
    if not isinstance(manifest, Manifest):
        raise InputError(f"manifest must be a Manifest or an envelope, not {type(manifest)}")
    try:
        envelope = sign.sign_manifest(manifest, key)
    except EnvstampError as exc:
        raise CaptureError(f"cannot sign the manifest: {exc}") from None
    return envelope, with_digest(manifest)


def _capture(options: CaptureOptions | None, runner: Runner | None) -> Manifest:
    from envstamp.capturing.capture import capture
    from envstamp.probes.context import CaptureOptions

    try:
        return capture(options or CaptureOptions(), runner=runner)
    except EnvstampError as exc:
        raise CaptureError(f"cannot capture the manifest: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any failure here must stop the benchmark now
        raise CaptureError(f"cannot capture the manifest: {type(exc).__name__}: {exc}") from None


# -------------------------------------------------------------------------------- timers


@attrs.define
class TimerExtras:
    """What only some regions need: the caller's metrics, the written result, a failure, the
    origin of a @timed call, the readings around a watched region.  Made on first use."""

    origin: str = "timer"
    metrics: dict[str, float] = attrs.Factory(dict)
    result: Result | None = None
    failed: bool = False
    before: Volatile | None = None
    after: Volatile | None = None
    region: Region | None = None


@attrs.define(eq=False, init=False)
class Timer:
    """Times one region: ``with rec.timer("name") as t:`` or ``async with``.

    ``t.elapsed`` is the time so far inside the block and the region's time after it;
    ``t.metrics`` takes the caller's numbers; ``t.result`` is the stamped result once
    written.  A region that raises is recorded as ``failed`` (its time is not a speed) and
    the exception goes on.

    ``flags`` (STATE | MEMORY bits) say what it watches besides the clock: the volatile state
    is read and a memory region opened before the clock starts, and both are closed after it
    stops, so the measured interval costs the same either way.

    A timer is made per region, so what its construction costs is what a timed loop pays:
    it holds what every region needs, and the rest in :class:`TimerExtras`, made on first
    use; its ``__init__`` is written out (attrs' reads each default from a table).  Both are
    measured in docs/decisions.md.
    """

    _rec: Recorder
    name: str
    params: dict[str, Any]
    flags: int
    start: float
    _end: float | None
    _more: TimerExtras | None

    def __init__(self, rec: Recorder, name: str, params: dict[str, Any], flags: int = 0
                 ) -> None:
        self._rec = rec
        self.name = name
        self.params = params
        self.flags = flags
        self._end = None
        self._more = None

    def extras(self) -> TimerExtras:
        """This timer's less used attributes (made on first use)."""
        more = self._more
        if more is None:
            more = self._more = TimerExtras()
        return more

    @property
    def metrics(self) -> dict[str, float]:
        """The caller's metrics for this region (``t.metrics["tokens_per_s"] = ...``)."""
        return self.extras().metrics

    @property
    def result(self) -> Result | None:
        """The stamped result, once written."""
        return self._more.result if self._more is not None else None

    @property
    def origin(self) -> str:
        return self._more.origin if self._more is not None else "timer"

    @property
    def elapsed(self) -> float:
        """Seconds: so far inside the block, the region's duration after it."""
        end = self._end
        return (perf_counter() if end is None else end) - self.start

    def __enter__(self) -> Timer:
        if self.flags:
            self._open()
        self.start = perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end = perf_counter()
        if self.flags:
            self._close()
        if exc_type is None:
            self._rec._queue(self)
        else:
            self._record_failure(exc)

    async def __aenter__(self) -> Timer:
        if self.flags:
            # Reading state may block (NVML, files): keep it off the event loop.
            await asyncio.to_thread(self._open)
        self.start = perf_counter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end = perf_counter()
        if self.flags:
            await asyncio.to_thread(self._close)
        if exc_type is None:
            await asyncio.to_thread(self._rec._queue, self)  # a write: off the event loop
        else:
            await asyncio.to_thread(self._record_failure, exc)

    def _open(self) -> None:
        more = self.extras()
        more.before, more.region = self._rec.watch_open(self.flags & STATE, self.flags & MEMORY)

    def _close(self) -> None:
        more = self.extras()
        more.after, more.region = self._rec.watch_close(self.flags & STATE, more.region)

    def _record_failure(self, exc: BaseException | None) -> None:
        """Queue this region as a failed result; the caller's exception stays the one raised
        (a write error is added to it as a note, never put in its place)."""
        self.extras().failed = True
        queue_failure(self._rec._queue, self, exc)

    def to_result(self, offset: float) -> Result:
        """The stamped result (``offset`` maps perf_counter to wall-clock time)."""
        end = self._end
        if end is None:
            raise InputError(f"timer {self.name!r} has not finished")
        more = self._more or TimerExtras()
        return self._rec.make_result(
            self.name,
            origin=more.origin,
            params=self.params,
            metrics=more.metrics,
            wall_s=[end - self.start],
            state_before=more.before,
            state_after=more.after,
            region=more.region,
            at=_utc_stamp(end + offset),
            failed=more.failed,
        )


@attrs.define(eq=False)
class Lap:
    """One repetition of a :class:`Series`: ``with lap:`` (or ``async with lap:``).

    A lap whose block raises records its series as failed (see :meth:`Series.fail`)."""

    warmup: bool
    _series: Series | None = None
    metrics: dict[str, float] = attrs.Factory(dict)
    start: float = attrs.field(init=False)
    _end: float | None = attrs.field(init=False, default=None)

    @property
    def elapsed(self) -> float:
        end = self._end
        return (perf_counter() if end is None else end) - self.start

    @property
    def done(self) -> bool:
        return self._end is not None

    def __enter__(self) -> Lap:
        self.start = perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        self._end = perf_counter()
        if exc_type is not None and self._series is not None:
            self._series.fail(self, exc)

    async def __aenter__(self) -> Lap:
        self.start = perf_counter()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        self._end = perf_counter()
        if exc_type is not None and self._series is not None:
            await asyncio.to_thread(self._series.fail, self, exc)


class Series:
    """Repetitions of one measurement; iterate it for laps.  One result when complete."""

    def __init__(
        self,
        recorder: Recorder,
        name: str,
        *,
        repeat: int,
        warmup: int,
        state: bool | None,
        memory: bool | None,
        params: dict[str, Any],
    ) -> None:
        if repeat < 1 or warmup < 0:
            raise InputError("repeat must be at least 1 and warmup at least 0")
        self._rec = recorder
        self.name = name
        self.repeat = repeat
        self.warmup = warmup
        self._state = recorder.state if state is None else state
        self._memory = recorder.memory if memory is None else memory
        self.params = {**params, "repeat": repeat, "warmup": warmup}
        self.laps: list[Lap] = []
        self.result: Result | None = None

    def __iter__(self) -> Iterator[Lap]:
        rec = self._rec
        before, region = rec.watch_open(self._state, self._memory)
        complete = False
        try:
            for index in range(self.warmup + self.repeat):
                lap = Lap(index < self.warmup, self)
                yield lap
                if not lap.done:
                    raise InputError("use each lap as a context manager: 'with lap: ...'")
                if not lap.warmup:
                    self.laps.append(lap)
            complete = True
        finally:
            after, region = rec.watch_close(self._state, region)
        if complete:
            self._finish(before, after, region)

    def _finish(self, before: Volatile | None, after: Volatile | None, region: Any) -> None:
        if self.result is not None:  # a lap raised (and the caller went on): failed already
            return
        names: dict[str, None] = {}
        for lap in self.laps:
            names.update(dict.fromkeys(lap.metrics))
        samples = {n: [lap.metrics[n] for lap in self.laps if n in lap.metrics] for n in names}
        metrics = {n: sum(v) / len(v) for n, v in samples.items()}
        result = self._rec.make_result(
            self.name,
            origin="bench",
            params=self.params,
            metrics=metrics,
            wall_s=[lap.elapsed for lap in self.laps],
            metric_samples=samples,
            state_before=before,
            state_after=after,
            region=region if self._memory else None,
        )
        self._rec._queue(self._wrap(result))

    def fail(self, lap: Lap, exc: BaseException | None = None) -> None:
        """A lap raised: one failed result with the laps so far, the failed one included
        (written now: the loop that raised may never resume this series).  A write error
        becomes a note on the lap's exception, never its replacement."""
        if self.result is not None:
            return
        laps = [*self.laps, lap] if not lap.warmup else list(self.laps)
        result = self._rec.make_result(
            self.name,
            origin="bench",
            params=self.params,
            metrics={},
            wall_s=[done.elapsed for done in laps],
            failed=True,
        )
        queue_failure(self._rec._queue, self._wrap(result), exc)

    def _wrap(self, result: Result) -> Result:
        self.result = result
        return result

    def result_now(self) -> Result:
        """The result, written to the log now."""
        self._rec.flush()
        if self.result is None:
            raise InputError(f"{self.name!r}: no complete series to record")
        return self.result


# --------------------------------------------------------------------------------- timed


def timed(
    name: str | None = None,
    /,
    *,
    recorder: Recorder | None = None,
    path: str | os.PathLike[str] | None = None,
    state: bool | None = None,
    memory: bool | None = None,
    **params: Any,
) -> Callable[[F], F]:
    """Decorator: record each call's wall time (sync or async functions) into one Recorder,
    named when decorating.

    ``@timed("load_model", recorder=rec)`` (or ``@rec.timed("load_model")``) records into
    ``rec``; ``@timed(path="results.jsonl")`` opens (once per path and process) a Recorder
    right away and records into it.  A bare ``@timed`` names no recorder: it raises
    ``InputError`` when decorating - a function's results never go to whichever recorder
    happened to be opened last.
    """
    fn: Any = name if callable(name) else None  # a bare @timed: refused below, by name
    label = None if fn is not None else name
    if recorder is None:
        if path is None:
            what = _callable_name(fn) if fn is not None else label or "(unnamed)"
            raise InputError(
                f"@timed {what!r} names no recorder: write @rec.timed (rec = "
                "envstamp.Recorder(...)), @envstamp.timed(recorder=rec) or "
                "@envstamp.timed(path='results.jsonl')"
            )
        recorder = recorder_for_path(path)
    bound = recorder

    def decorate(function: F) -> F:
        wrapped: F = _decorate(
            function, name=label, recorder=bound, state=state, memory=memory, params=params
        )
        return wrapped

    return decorate if fn is None else decorate(fn)  # timed(fn, recorder=rec) called directly


def _decorate(
    fn: Any,
    *,
    name: str | None,
    recorder: Recorder,
    state: bool | None,
    memory: bool | None,
    params: dict[str, Any],
) -> Any:
    label = name or _callable_name(fn)
    frozen = dict(params)

    def make_timer() -> Timer:
        timer = Timer(recorder, label, dict(frozen), recorder.flags(state, memory))
        timer.extras().origin = "timed"
        return timer

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            async with make_timer():
                return await fn(*args, **kwargs)

        return awrapper

    if not recorder.flags(state, memory):
        times = recorder.call_log(label, frozen).times
        extend, limit, flush = times.extend, 2 * recorder._buffer, recorder.flush

        queue = recorder._queue
        what = (label, frozen)

        @functools.wraps(fn)
        def fast(*args: Any, **kwargs: Any) -> Any:
            # Two clock reads around the call, kept as a pair in this function's own list
            # (one extend: atomic, so threads never split a pair); the record is built at
            # flush time, outside any measured call.  A call that raises is queued apart,
            # marked failed.
            start = perf_counter()
            try:
                value = fn(*args, **kwargs)
            except BaseException as exc:
                queue_failure(queue, (what, start, perf_counter(), True), exc)
                raise
            extend((start, perf_counter()))
            if len(times) >= limit:
                flush()
            return value

        return fast

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with make_timer():
            return fn(*args, **kwargs)

    return wrapper


@attrs.define(eq=False)
class CallLog:
    """One @timed function's calls waiting to be written: ``[start, end, start, end...]``."""

    name: str
    params: dict[str, Any]
    times: list[float] = attrs.Factory(list)

    def drain(self) -> list[tuple[tuple[str, dict[str, Any]], float, float]]:
        """The complete pairs so far, removed (pairs appended meanwhile stay)."""
        times = self.times
        count = len(times) & ~1
        if not count:
            return []
        taken = times[:count]
        del times[:count]
        what = (self.name, self.params)
        return [(what, taken[i], taken[i + 1]) for i in range(0, count, 2)]


def queue_failure(queue: Callable[[Any], None], item: Any, exc: BaseException | None) -> None:
    """Queue the record of a measurement that raised ``exc``.  The caller re-raises ``exc``:
    a write error must not take its place, so it becomes a note on it (Python 3.11+)."""
    try:
        queue(item)
    except EnvstampError as error:
        if exc is not None and hasattr(exc, "add_note"):
            exc.add_note(f"envstamp: the failed measurement was not recorded: {error}")


def _check_numbers(values: Sequence[float], what: str) -> None:
    for value in values:
        check_number(value, what)


def _callable_name(fn: Any) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or fn)


# ---------------------------------------------------------------------------- registry

_OPEN: weakref.WeakSet[Recorder] = weakref.WeakSet()
_BY_PATH: dict[str, Recorder] = {}
_BY_PATH_LOCK = threading.Lock()


def recorder_for_path(path: str | os.PathLike[str]) -> Recorder:
    """One shared Recorder per results path in this process (for ``timed(path=...)``)."""
    key = str(Path(path).resolve())
    with _BY_PATH_LOCK:
        rec = _BY_PATH.get(key)
        if rec is None or rec.closed:
            rec = _BY_PATH[key] = Recorder(path)
        return rec


@atexit.register
def _close_all() -> None:
    # A forgotten close() still gets its records written and its chain head signed.
    for rec in list(_OPEN):
        with contextlib.suppress(Exception):  # nothing useful to do at interpreter exit
            rec.close()


# ------------------------------------------------------------------------------ helpers

# (second, its text): one tuple, replaced whole, so threads never see a torn pair.
_STAMP_CACHE: list[tuple[int, str]] = [(-1, "")]


def _utc_stamp(now: float) -> str:
    """RFC 3339 UTC with milliseconds; the seconds part is formatted once per second."""
    whole = int(now)
    second, text = _STAMP_CACHE[0]
    if whole != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _STAMP_CACHE[0] = (whole, text)
    millis = min(999, int((now - whole) * 1000))
    return f"{text}.{millis:03d}Z"
