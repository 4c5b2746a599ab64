"""Stamped results and the results log (DESIGN 7).

A results log is JSONL: one record per line, each line chained to the one before it by hash
(:mod:`envstamp.stamping.chainlog`).  Line kinds, in the order a Recorder writes them:

* ``log`` - the first line of the file: schema, log id, creation time;
* ``manifest`` - a signed manifest envelope, written before the first result that uses it;
* ``result`` - one :class:`Result`, naming its manifest by ``manifest_digest``;
* ``head`` - a signed statement over the hash of the line before it (every N records or
  seconds, and ``final`` at close), so no line before it can change unnoticed;
* ``torn`` - written by the next writer after a crash: accounts for a torn fragment.

:func:`verify_log` checks the chain, the signatures and that every result's manifest is in the
file; :func:`load_results` returns the results, each with its ``.manifest``.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import re
import statistics
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.errors import CheckFailed, InputError, input_error
from envstamp.manifest.model import Manifest, Volatile, field, list_field
from envstamp.stamping import chainlog

if TYPE_CHECKING:
    from envstamp.manifest.document import Document, Verification
    from envstamp.signing.keys import PublicKey, SigningKey

LOG_SCHEMA = "envstamp.results/1"
HEAD_PREDICATE = "https://envstamp.dev/results-chain/v1"
HEAD_SUBJECT = "results-chain"

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HEADER_START = chainlog.PREFIX + chainlog.GENESIS.encode() + b'","kind":"log"'
# Byte positions of the manifest reference in result and manifest lines (fixed layout).
_RESULT_REF = chainlog.KIND_START + len(b'result","manifest_digest":"')
_DIGEST_LEN = len("sha256:") + 64


def _doc(text: str) -> dict[str, Any]:
    return {"doc": text, "volatile": False}


# ------------------------------------------------------------------------------- classes


@attrs.define(kw_only=True)
class Summary:
    """Statistics of one series of samples."""

    mean: float = attrs.field(metadata=_doc("Arithmetic mean."))
    median: float | None = field(
        "Median; null when the tool printed only its mean and stddev (llama-bench md/csv)."
    )
    stddev: float | None = field("Sample standard deviation (n-1); null with one sample.")
    min: float | None = field("Smallest sample; null when the samples were not printed.")
    max: float | None = field("Largest sample; null when the samples were not printed.")
    n: int = attrs.field(metadata=_doc("Number of samples (repetitions)."))


def summarize(samples: Sequence[float]) -> Summary:
    """mean, median, stddev, min, max and n of a non-empty series."""
    n = len(samples)
    if n == 1:
        only = float(samples[0])
        return Summary(mean=only, median=only, stddev=None, min=only, max=only, n=1)
    return Summary(
        mean=statistics.fmean(samples),
        median=float(statistics.median(samples)),
        stddev=statistics.stdev(samples),
        min=float(min(samples)),
        max=float(max(samples)),
        n=n,
    )


def summarize_stats(parts: Sequence[tuple[float, float | None, int]]) -> Summary:
    """The summary of series known only by (mean, stddev, n) each - a tool that printed its
    statistics but not its samples (llama-bench md/csv).  Pooled mean and sample standard
    deviation of all the samples together; median, min and max stay unknown."""
    total = sum(n for _, _, n in parts)
    if total < 1:
        raise InputError("a summary needs at least one sample")
    mean = sum(m * n for m, _, n in parts) / total
    stddev: float | None = None
    if total > 1 and all(s is not None or n == 1 for _, s, n in parts):
        squares = sum((n - 1) * (s or 0.0) ** 2 + n * (m - mean) ** 2 for m, s, n in parts)
        stddev = math.sqrt(squares / (total - 1))
    return Summary(mean=mean, median=None, stddev=stddev, min=None, max=None, n=total)


@attrs.define(kw_only=True)
class MemoryUse:
    """Peak memory over a timed region or a command's run."""

    rss_peak_bytes: int | None = field("Peak resident memory of this process seen, bytes.")
    rss_growth_bytes: int | None = field(
        "Peak resident memory minus what it was when the region began, bytes (timers)."
    )
    child_rss_peak_bytes: int | None = field(
        "Peak resident memory of the command's process tree, from the OS's accounting of the "
        "finished processes (largest single process), bytes (envstamp run)."
    )
    gpu_process_peak_mib: int | None = field(
        "Peak GPU memory used by the measured processes, summed over GPUs, MiB."
    )
    gpu_total_peak_mib: int | None = field(
        "Peak GPU memory used by all processes, summed over GPUs, MiB."
    )
    samples: int | None = field("Readings the background sampler took.")
    source: str | None = field('What answered ("proc", "rusage", "nvml", "amdgpu sysfs"...).')


@attrs.define(kw_only=True)
class Advice:
    """Something that makes a number less trustworthy; printed once, never acted on."""

    code: str = attrs.field(
        metadata=_doc(
            "governor, battery, throttling, spread, few_samples, gpu_shared or another code."
        )
    )
    message: str = attrs.field(metadata=_doc("One line for a person."))


_KNOWN_DIGESTS: set[str] = set()  # digests already checked (a recorder repeats its own)


def _check_digest(_instance: Any, _attribute: Any, value: Any) -> None:
    if value in _KNOWN_DIGESTS:
        return
    if isinstance(value, str) and _DIGEST.fullmatch(value) and len(_KNOWN_DIGESTS) < 1024:
        _KNOWN_DIGESTS.add(value)
        return
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise InputError(
            "a result needs the digest of the manifest it ran under (sha256:<64 hex>), "
            f"got {value!r}"
        )


def _check_name(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"a result needs a non-empty name, got {value!r}")


# Checked once, in __attrs_post_init__ (setting fields later runs no hooks: results are
# made by the thousand, and prev/hash are filled in when the line is written).
@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class Result:
    """One stamped measurement.  It cannot exist without its manifest's digest."""

    manifest_digest: str = attrs.field(
        metadata=_doc("sha256: of the signed manifest (canonical JSON) it ran under."),
    )
    name: str = attrs.field(metadata=_doc("What was measured."))
    at: str | None = field("UTC time the measurement ended, RFC 3339.")
    origin: str | None = field('How it was recorded: timer, timed, bench, record, run, pytest.')
    params: dict[str, Any] = attrs.field(
        factory=dict, metadata=_doc("Parameters (model, n_gpu_layers...): JSON scalars.")
    )
    metrics: dict[str, float] = attrs.field(
        factory=dict,
        metadata=_doc("Caller metrics (tokens_per_s, prompt_tps...); the mean when repeated."),
    )
    wall_s: list[float] = list_field("Wall time of each repetition, seconds.")
    metric_samples: dict[str, list[float]] = attrs.field(
        factory=dict, metadata=_doc("Each metric's value per repetition, where repeated.")
    )
    summary: dict[str, Summary] = attrs.field(
        factory=dict,
        metadata=_doc('Statistics per series: "wall_s" and each metric that has samples.'),
    )
    memory: MemoryUse | None = field("Peak memory during the measurement.")
    state_before: Volatile | None = field("Readings of the moment just before.")
    state_after: Volatile | None = field("Readings of the moment just after.")
    advice: list[Advice] = list_field("Reasons to distrust the number, if any.")
    command: list[str] | None = field("The command that ran (envstamp run).")
    exit_code: int | None = attrs.field(
        default=None,
        # Negative where Python reported a signal (-4: SIGILL); checked as a signed number.
        metadata={**_doc("The command's exit code (envstamp run)."), "signed": True},
    )
    output_digest: str | None = field("sha256: of the command's stdout (envstamp run).")
    failed: bool = attrs.field(
        default=False,
        metadata=_doc(
            "The measured command exited non-zero or was killed, or the measured code raised: "
            "its timings are not speeds. Written only when true."
        ),
    )
    exit_signal: str | None = field('The signal that ended the command ("SIGILL"...).')
    param_tolerance: dict[str, float] = attrs.field(
        factory=dict,
        metadata=_doc(
            "Precision of parameters read from rounded text (llama-bench Markdown sizes and "
            "counts): half the last printed unit, in the parameter's own unit. Two values "
            "within the sum of their tolerances are the same."
        ),
    )
    prev: str | None = attrs.field(
        default=None, eq=False, metadata={**_doc("Hash of the line before."), "internal": True}
    )
    hash: str | None = attrs.field(
        default=None, eq=False, metadata={**_doc("Hash of this line."), "internal": True}
    )
    manifest: Manifest | None = attrs.field(
        default=None,
        eq=False,
        repr=False,
        metadata={**_doc("The manifest, attached when loaded."), "internal": True},
    )
    signed_by: tuple[str, ...] | None = attrs.field(
        default=None,
        eq=False,
        repr=False,
        metadata={
            **_doc(
                "Keyids of the trusted keys whose signed heads cover this result, attached "
                "when loaded with verification; empty: unsigned; None: not checked (no "
                "trusted key, or loaded without verification)."
            ),
            "internal": True,
        },
    )

    def __attrs_post_init__(self) -> None:
        _check_digest(self, None, self.manifest_digest)
        _check_name(self, None, self.name)
        if not _all_finite(self.metrics.values()):
            for name, value in self.metrics.items():
                check_number(value, f"metric {name!r}")
        if not _all_finite(self.wall_s):
            for value in self.wall_s:
                check_number(value, "wall time")
        if self.metric_samples:
            for name, values in self.metric_samples.items():
                if not _all_finite(values):
                    for value in values:
                        check_number(value, f"metric {name!r}")
        if self.params:
            for name, value in self.params.items():
                if value.__class__ not in _PLAIN_PARAMS:
                    check_param(name, value)
        for name, tolerance in self.param_tolerance.items():
            check_number(tolerance, f"tolerance of parameter {name!r}")
            if tolerance < 0:
                raise InputError(f"tolerance of parameter {name!r} is negative ({tolerance})")
        if _any_negative(self):
            _check_not_negative(self)


_PLAIN_PARAMS = (str, int, bool, type(None))
# Metric names that mean a duration or a rate: such a number cannot be negative.
_TIME_OR_SPEED_SUFFIXES = (
    "_s", "_ms", "_us", "_ns", "_sec", "_seconds", "_per_second", "_tps", "_ts", "/s",
)
_TIME_OR_SPEED_NAMES = frozenset({"seconds", "tps", "ts", "t/s", "wall", "elapsed"})


def is_time_or_speed(name: str) -> bool:
    """True for a metric whose name says it is a duration or a rate (``tokens_per_s``,
    ``prompt_ms``, ``avg_ts``...): a negative value of it is not a measurement."""
    lowered = name.lower()
    return lowered in _TIME_OR_SPEED_NAMES or lowered.endswith(_TIME_OR_SPEED_SUFFIXES)


def _any_negative(result: Result) -> bool:
    """Fast look: a negative number anywhere a time or a speed may be (results come by the
    thousand; the slow check says which)."""
    if result.wall_s and min(result.wall_s) < 0:
        return True
    if result.metrics and min(result.metrics.values()) < 0:
        return True
    samples, summary = result.metric_samples, result.summary
    if samples and any(values and min(values) < 0 for values in samples.values()):
        return True
    return bool(summary) and any(
        s.mean < 0 or (s.min is not None and s.min < 0) for s in summary.values()
    )


def _check_not_negative(result: Result) -> None:
    """Refuse a negative wall time, or a negative value of a time or speed metric."""
    for value in result.wall_s:
        if value < 0:
            raise InputError(f"wall time is {value}: a time cannot be negative")
    series = [(name, [value]) for name, value in result.metrics.items()]
    series += list(result.metric_samples.items())
    series += [(name, [s.mean, *(v for v in (s.min, s.median) if v is not None)])
               for name, s in result.summary.items()]
    for name, values in series:
        if name != "wall_s" and not is_time_or_speed(name):
            continue
        for value in values:
            if value < 0:
                what = "wall time" if name == "wall_s" else f"metric {name!r}"
                raise InputError(f"{what} is {value}: a time or speed cannot be negative")


def _all_finite(values: Iterable[Any], isfinite: Any = math.isfinite) -> bool:
    """Fast path: every value a non-bool number and finite (the slow path names the bad one)."""
    try:
        for value in values:
            if value.__class__ is bool or not isfinite(value):
                return False
    except TypeError:
        return False
    return True


def check_number(value: Any, what: str) -> None:
    """Refuse what JSON cannot carry: NaN, infinities, and anything not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InputError(f"{what} is {value}: results must be finite numbers (NaN/inf refused)")


def check_param(name: str, value: Any) -> None:
    """Parameters are JSON scalars or lists of them; floats finite."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"parameter {name!r} is {value}: NaN/inf refused")
    if value is None or isinstance(value, (str, int, float, bool)):
        return
    if isinstance(value, list) and all(
        v is None or isinstance(v, (str, int, bool)) or (isinstance(v, float) and math.isfinite(v))
        for v in value
    ):
        return
    raise InputError(
        f"parameter {name!r} is a {type(value).__name__}; use a string, number, bool or list"
    )


def clean_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as stored: tuples become lists, other objects their ``str()``; secrets
    redacted (results logs get shared: no ``api_key`` values, no URL passwords)."""
    from envstamp.manifest.secrets import redact_params

    if all(v.__class__ in _PLAIN_PARAMS or v.__class__ is float for v in params.values()):
        return redact_params(params)
    cleaned: dict[str, Any] = {}
    for name, given in params.items():
        value = list(given) if isinstance(given, tuple) else given
        if not (value is None or isinstance(value, (str, int, float, bool, list))):
            value = str(value)
        cleaned[str(name)] = value
    return redact_params(cleaned)


def clean_name(name: str) -> str:
    """A result's name as stored: secrets inside it redacted (``-n "pp512 Bearer ..."``)."""
    from envstamp.manifest.secrets import redact_value_cached

    return redact_value_cached(name) if isinstance(name, str) else name


# ------------------------------------------------------------------------------ encoding


def result_body(result: Result) -> bytes:
    """The result's line body (without ``prev``); empty and null members left out."""
    data: dict[str, Any] = {
        "kind": "result",
        "manifest_digest": result.manifest_digest,
        "name": result.name,
    }
    r = result
    if r.at is not None:
        data["at"] = r.at
    if r.origin is not None:
        data["origin"] = r.origin
    if r.params:
        data["params"] = r.params
    if r.metrics:
        data["metrics"] = r.metrics
    if r.wall_s:
        data["wall_s"] = r.wall_s
    if r.metric_samples:
        data["metric_samples"] = r.metric_samples
    if r.summary:
        data["summary"] = {k: _summary_data(v) for k, v in r.summary.items()}
    if r.memory is not None or r.state_before is not None or r.state_after is not None:
        from envstamp.manifest.serialize import unstructure

        for name, value in (
            ("memory", r.memory),
            ("state_before", r.state_before),
            ("state_after", r.state_after),
        ):
            if value is not None:
                data[name] = unstructure(value)
    if r.advice:
        data["advice"] = [{"code": a.code, "message": a.message} for a in r.advice]
    if r.command is not None:
        data["command"] = r.command
    if r.exit_code is not None:
        data["exit_code"] = r.exit_code
    if r.output_digest is not None:
        data["output_digest"] = r.output_digest
    if r.failed:
        data["failed"] = True
    if r.exit_signal is not None:
        data["exit_signal"] = r.exit_signal
    if r.param_tolerance:
        data["param_tolerance"] = r.param_tolerance
    return chainlog.encode_body(data)


def _summary_data(summary: Summary) -> dict[str, Any]:
    return {
        "mean": summary.mean,
        "median": summary.median,
        "stddev": summary.stddev,
        "min": summary.min,
        "max": summary.max,
        "n": summary.n,
    }


def header_body() -> bytes:
    """The first line of a new log."""
    from envstamp._version import __version__
    from envstamp.manifest.model import utc_now

    return chainlog.encode_body(
        {
            "kind": "log",
            "schema": LOG_SCHEMA,
            "log_id": uuid.uuid4().hex,
            "created_at": utc_now(),
            "envstamp_version": __version__,
        }
    )


def is_header(line: bytes) -> bool:
    """True for the first line of an envstamp results log."""
    return line.startswith(_HEADER_START)


def manifest_body(envelope: Mapping[str, Any], digest: str, identity: str | None) -> bytes:
    """The line that stores a signed manifest."""
    return chainlog.encode_body(
        {
            "kind": "manifest",
            "manifest_digest": digest,
            "identity_digest": identity,
            "envelope": dict(envelope),
        }
    )


def head_statement(
    prev: str,
    *,
    final: bool,
    results: int,
    own_lines: Sequence[Sequence[int]] = (),
    writer: str | None = None,
    head_every: int | None = None,
) -> dict[str, Any]:
    """The statement a head signs: the hash of the line before it, and which lines are the
    writer's own since its previous head (byte ranges ``[start, end)`` in the file).

    The chain head makes every earlier line tamper-evident; ``own_lines`` is what the writer
    vouches for.  Lines of other writers it signs over stay theirs to vouch for, so a
    writer that appends after a forgery never turns the forged lines into signed ones.
    ``writer`` (an id the writer draws at random) ties a writer's heads together and
    ``head_every`` is its promise to sign a head at least every that many results: what a
    verifier needs to tell a writer's unsigned tail from results added after its final head
    or after heads that were removed.
    """
    from envstamp.signing.dsse import make_statement

    predicate: dict[str, Any] = {
        "chain_head": prev,
        "final": final,
        "results_by_writer": results,
        "own_lines": [[int(start), int(end)] for start, end in own_lines],
    }
    if writer is not None:
        predicate["writer"] = writer
    if head_every is not None:
        predicate["head_every"] = head_every
    return make_statement([(HEAD_SUBJECT, prev)], HEAD_PREDICATE, predicate)


def head_body(envelope: Mapping[str, Any], *, final: bool) -> bytes:
    """The line that stores a signed chain head."""
    return chainlog.encode_body({"kind": "head", "final": final, "envelope": dict(envelope)})


def envelope_predicate(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The statement predicate inside an envelope, decoded without checking the signature."""
    from envstamp.signing.verify import open_envelope, parse_statement

    statement = parse_statement(open_envelope(envelope).payload)
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise CheckFailed("the envelope's statement has no predicate")
    return predicate


def manifest_digest_of(predicate: Mapping[str, Any]) -> str:
    """``sha256:`` of a manifest's canonical JSON (what results name)."""
    from envstamp.manifest.serialize import canonical_bytes, sha256_digest

    return sha256_digest(canonical_bytes(dict(predicate)))


# -------------------------------------------------------------------------------- writer


class ResultLog:
    """One writer's side of a results log: its manifest line, results, signed heads.

    Several writers (threads, processes) may share a file; each signs heads over the chain as
    it finds it when it appends - after checking what it has not checked yet
    (:class:`_SigningGuard`), so a signed head never vouches for a forged line.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        envelope: Mapping[str, Any],
        key: SigningKey,
        durable: bool = False,
        head_every: int = 1000,
        head_seconds: float = 60.0,
    ) -> None:
        import time

        if head_every < 1 or head_seconds <= 0:
            raise InputError("head_every must be >= 1 and head_seconds > 0")
        predicate = envelope_predicate(envelope)
        self.manifest_digest = manifest_digest_of(predicate)
        identity = predicate.get("identity_digest")
        self._key = key
        self._head_every = head_every
        self._head_seconds = head_seconds
        self._clock = time.monotonic
        self._since_head = 0
        self._last_head = self._clock()
        self._written = 0
        self._closed = False
        self._lock = threading.Lock()
        self._writer = uuid.uuid4().hex  # names this writer's heads (head_statement)
        self._own: list[tuple[int, int]] = []  # this writer's lines since its last head
        self._appender = chainlog.LockedAppender(
            path, header=header_body, accepts_first_line=is_header, durable=durable
        )
        self._guard = _SigningGuard(self._appender, key)
        body = manifest_body(envelope, self.manifest_digest, identity)
        # The writer's first head goes out in the same write as its manifest line: every
        # manifest line of a log is followed by a signed head, so a log whose heads were
        # deleted (and its chain recomputed) never passes for one not signed yet.
        try:
            self._signed_append([body], final=False)
        except BaseException:
            self._appender.close()
            raise

    @property
    def path(self) -> Path:
        return self._appender.path

    def write(self, results: Sequence[Result]) -> None:
        """Append results (one locked write); a signed head follows when one is due."""
        if self._closed:
            raise InputError(f"{self.path}: the results log is closed")
        if not results:
            return
        bodies = [result_body(r) for r in results]
        # Counted under the lock, with the append: the heads promise a head at least every
        # head_every results (head_statement), which threads sharing this writer must keep.
        with self._lock:
            since = self._since_head + len(bodies)
            due = (
                since >= self._head_every
                or self._clock() - self._last_head >= self._head_seconds
            )
            self._written += len(bodies)  # the head signed with them counts them
            try:
                if due:
                    appended = self._signed_append(bodies, final=False)
                    since, self._last_head = 0, self._clock()
                else:
                    appended = self._appender.append(bodies)
                    self._claim(appended.span)
            except BaseException:
                self._written -= len(bodies)  # nothing was written
                raise
            self._since_head = since
        prev = appended.prev
        for result, line_hash in zip(results, appended.hashes, strict=True):
            result.prev, result.hash = prev, line_hash
            prev = line_hash

    def close(self) -> None:
        """Write the final signed head and close the file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            with self._lock:
                self._signed_append([], final=True)
        finally:
            self._appender.close()

    def _signed_append(self, bodies: Sequence[bytes], *, final: bool) -> chainlog.Appended:
        """Append ``bodies`` and a signed head, once the guard has checked what it covers."""
        appended = self._appender.append(bodies, last=self._head(final), check=self._guard.check)
        self._guard.checked_through(appended.size, appended.last)
        self._own = []
        return appended

    def _claim(self, span: tuple[int, int]) -> None:
        """Remember the byte range of lines this writer wrote (its next head vouches for it)."""
        start, end = span
        if end <= start:
            return
        if self._own and self._own[-1][1] == start:
            self._own[-1] = (self._own[-1][0], end)
        else:
            self._own.append((start, end))

    def _head(self, final: bool) -> Any:
        def make(prev: str, start: int, end: int) -> bytes:
            from envstamp.signing.sign import sign_statement

            own = [*self._own, (start, end)] if end > start else self._own
            statement = head_statement(
                prev,
                final=final,
                results=self._written,
                own_lines=own,
                writer=self._writer,
                head_every=self._head_every,
            )
            return head_body(sign_statement(statement, self._key), final=final)

        return make


class _SigningGuard:
    """What a writer checks before it signs a head over lines it did not write.

    A signed head vouches for every line before it.  Lines after the last valid signed head
    are unsigned: another writer's results not signed yet, a crashed writer's tail - or a
    forgery whose heads were deleted and whose chain was recomputed with plain sha256.  So
    before signing, the writer verifies what it has not checked yet (at first: from the last
    head that verifies with its own or a trusted key; later: from its own last head) and
    refuses to sign over a broken chain, a bad head, or a manifest line without its signed
    head.  Reading from the last valid head keeps opening a long log cheap.
    """

    def __init__(self, appender: chainlog.LockedAppender, key: SigningKey) -> None:
        self._appender = appender
        self._key = key
        self._keys: list[PublicKey] | None = None
        self._checked: tuple[int, str] | None = None  # (size, hash of the line ending there)

    def check(self, size: int) -> None:
        """Called under the file lock with the file's size, before anything is written."""
        if size == 0:
            return  # a new file: nothing before this writer's own lines
        keys = self._trusted()
        start_prev: bytes | None
        if self._checked is not None and self._checked[0] <= size:
            start, prev = self._checked
            data, start_prev = self._appender.read_range(start, size), prev.encode()
        else:
            data, start_prev = self._from_last_head(size, keys)
        report = LogReport(source=str(self._appender.path))
        lines = data.split(b"\n")
        lines.pop()  # b"", or a torn fragment that this append closes with a marker
        if lines or start_prev is None:
            _Verifier(report, keys, start_prev=start_prev).run(data, lines)
        if report.problems:
            self._refuse(size, keys, report.problems[0])
        if self._checked is None and start_prev is not None and _results_after_final(lines):
            # Results after a final head are another open writer's - or added after the
            # log was closed; only the whole file tells which (a rare case: it is read).
            self._refuse_if_whole_has_problems(size, keys)

    def checked_through(self, size: int, last_hash: str) -> None:
        """Everything up to ``size`` bytes (ending with the line ``last_hash``) is vouched for."""
        self._checked = (size, last_hash)

    def _trusted(self) -> list[PublicKey]:
        if self._keys is None:
            from envstamp.signing import keys

            self._keys = keys.unique_keys([self._key.public_key, *keys.trusted_keys()])
        return self._keys

    def _from_last_head(self, size: int, keys: list[PublicKey]) -> tuple[bytes, bytes | None]:
        """The file from the line before its last valid signed head, and that line's ``prev``;
        the whole file and None when no head verifies."""
        window = 1 << 16
        while True:
            start = max(0, size - window)
            data = self._appender.read_range(start, size)
            lines = data.split(b"\n")
            first = 0 if start == 0 else 1  # a window's first piece may be part of a line
            for index in range(len(lines) - 2, first, -1):
                if chainlog.line_kind(lines[index]) == b"head" and _valid_head(lines[index], keys):
                    offset = sum(len(line) + 1 for line in lines[: index - 1])
                    before = lines[index - 1]
                    return data[offset:], before[len(chainlog.PREFIX) : chainlog.HASH_END]
            if start == 0:
                return data, None
            window *= 4

    def _refuse_if_whole_has_problems(self, size: int, keys: list[PublicKey]) -> None:
        data = self._appender.read_range(0, size)
        whole = LogReport(source=str(self._appender.path))
        lines = data.split(b"\n")
        lines.pop()
        _Verifier(whole, keys).run(data, lines)
        if whole.problems:
            self._refuse(size, keys, whole.problems[0])

    def _refuse(self, size: int, keys: list[PublicKey], problem: str) -> None:
        """Raise CheckFailed naming the first problem of the whole file (for its line number)."""
        path = self._appender.path
        data = self._appender.read_range(0, size)
        whole = LogReport(source=str(path))
        lines = data.split(b"\n")
        lines.pop()
        with contextlib.suppress(InputError):  # not a log at all: the part's problem stands
            _Verifier(whole, keys).run(data, lines)
        first = whole.problems[0] if whole.problems else problem
        raise CheckFailed(
            f"{path}: refusing to sign over lines this writer cannot vouch for: {first}; "
            f"see 'envstamp verify {path}', and write to a new file"
        )


def _results_after_final(lines: list[bytes]) -> bool:
    """The part read from the last valid head (``lines[1]``) is a final head followed by
    results."""
    return (
        len(lines) > 2
        and lines[1].startswith(b'head","final":true', chainlog.KIND_START)
        and any(chainlog.line_kind(line) == b"result" for line in lines[2:])
    )


def _valid_head(line: bytes, keys: list[PublicKey]) -> bool:
    """True when a head line's signature verifies with ``keys`` and it covers its ``prev``."""
    from envstamp.manifest.serialize import parse_json_strict
    from envstamp.signing.verify import verify_envelope

    try:
        data = parse_json_strict(line, what="head")
        verified = verify_envelope(
            data["envelope"], trusted=keys, expected_predicate_type=HEAD_PREDICATE
        )
    except (CheckFailed, InputError, KeyError, TypeError):
        return False
    predicate = verified.predicate
    prev = line[len(chainlog.PREFIX) : chainlog.HASH_END].decode()
    return isinstance(predicate, dict) and predicate.get("chain_head") == prev


# ----------------------------------------------------------------------------- verifying


@attrs.define
class LogReport:
    """What :func:`verify_log` found.  ``problems`` is evidence of tampering or damage.

    ``results_signed`` counts the results that a valid signed head of their own writer
    vouches for; ``covered`` says how many results each trusted signer vouches for.  The other
    results are *unsigned*: nothing vouches for them (a writer still running, a crash, or
    lines forged after the last signed head).
    """

    source: str
    lines: int = 0
    results: int = 0
    manifests: int = 0
    heads: int = 0
    signed_lines: int = 0
    results_signed: int = 0
    covered: dict[str, int] = attrs.field(factory=dict)
    closed: bool = False
    torn_last_line: bool = False
    torn_lines: list[int] = attrs.field(factory=list)
    problems: list[str] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)
    signers: list[str] = attrs.field(factory=list)
    # Keys whose valid heads are in the log (``signers`` also counts manifest signatures).
    head_signers: list[str] = attrs.field(factory=list)
    signatures_checked: bool = True
    allow_open: bool = False
    # Signed results as runs of positions (0-based, file order): (first, end, keyids).
    spans: list[tuple[int, int, tuple[str, ...]]] = attrs.field(factory=list, repr=False)

    @property
    def intact(self) -> bool:
        """No line was edited, removed or reordered, and every signature verified."""
        return not self.problems

    @property
    def ok(self) -> bool:
        """Intact, signatures checked, closed and every result vouched for by a signed head -
        or, with ``allow_open``, intact and checked (unsigned results are still counted)."""
        if not self.intact or not self.signatures_checked:
            return False
        return (self.closed and not self.results_unsigned) or self.allow_open

    @property
    def unsigned_lines(self) -> int:
        """Complete lines after the last valid signed head."""
        return self.lines - self.signed_lines

    @property
    def results_unsigned(self) -> int:
        """Results no valid signed head covers (all of them when signatures were not checked)."""
        return self.results - self.results_signed

    def signed_by(self, position: int) -> tuple[str, ...]:
        """Keyids whose signed heads vouch for the result at ``position`` (0-based, file
        order); empty for an unsigned result."""
        import bisect

        at = bisect.bisect_right(self.spans, position, key=lambda span: span[0]) - 1
        if at >= 0 and position < self.spans[at][1]:
            return self.spans[at][2]
        return ()

    def coverage_text(self, *, explain: bool = True) -> str:
        """How many results each signer covers, and how many nothing covers, in one line."""
        if not self.signatures_checked:
            return f"{self.results} results, signatures not checked (no trusted key)"
        text = f"{self.results_signed} of {self.results} results signed"
        if len(self.covered) == 1:
            text += f" by {next(iter(self.covered))[:16]}"
        elif self.covered:
            text += " by " + ", ".join(f"{k[:16]} ({n})" for k, n in self.covered.items())
        if self.results_unsigned:
            text += f"; {self.results_unsigned} unsigned"
            if explain:
                text += (
                    " (no signed head of their writer vouches for them: a writer still "
                    "running or crashed, or forged lines)"
                )
        return text

    def summary_lines(self) -> list[str]:
        """The report for a person, one finding per line, verdict first."""
        verdict = "OK" if self.ok else ("FAILED" if self.problems else "NOT FULLY VERIFIED")
        if self.ok and (self.results_unsigned or not self.closed):
            unsigned = self.results_unsigned
            verdict = (
                f"OK (open, {unsigned} result{'' if unsigned == 1 else 's'} unsigned)"
                if unsigned
                else "OK (open)"
            )
        counts = ", ".join(
            f"{count} {noun}{'' if count == 1 else 's'}"
            for count, noun in ((self.results, "result"), (self.manifests, "manifest"),
                                (self.heads, "signed head"), (self.lines, "line"))
        )  # fmt: skip
        lines = [f"{verdict}: {self.source}: {counts}"]
        lines += [f"  problem: {p}" for p in self.problems]
        if not self.signatures_checked:
            lines.append("  signatures not checked: no trusted public key")
        if self.torn_last_line:
            lines.append(
                f"  torn last line (line {self.lines + 1}): a write cut short by a crash; "
                "ignored, the lines before it are unaffected"
            )
        for number in self.torn_lines:
            lines.append(f"  line {number}: torn by a crash, accounted for by the next line")
        if not self.problems:
            lines.append(f"  {self._chain_text()}")
            lines.append(f"  results: {self.coverage_text()}")
        lines += [f"  note: {n}" for n in self.notes]
        if self.head_signers:
            lines.append(f"  heads signed by: {', '.join(k[:16] for k in self.head_signers)}")
        manifests_only = [k for k in self.signers if k not in self.head_signers]
        if manifests_only:
            # A key that signed a manifest vouches for that manifest, not for any result.
            lines.append(
                f"  manifests signed by: {', '.join(k[:16] for k in manifests_only)}"
            )
        return lines

    def open_text(self) -> str:
        """Why a log with no problems is still not closed."""
        if self.unsigned_lines == 0:
            return (
                f"the log ends at a signed head (line {self.signed_lines}) that is not its "
                "final one: the writer is still running or crashed, or the lines after that "
                "head were removed"
            )
        count = self.unsigned_lines
        lines = "1 line" if count == 1 else f"{count} lines"
        return (
            f"{lines} after line {self.signed_lines} {'is' if count == 1 else 'are'} not "
            "covered by a signature (the writer is still running, crashed, or lines were "
            "removed from the end)"
        )

    def _chain_text(self) -> str:
        if self.closed:
            # Closed says how the log ends, not that every line is signed: a final head
            # makes earlier lines tamper-evident but vouches only for its writer's own.
            return f"chain intact through line {self.lines}; it ends with a final signed head"
        return f"chain intact through line {self.lines}; {self.open_text()}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able report."""
        data = attrs.asdict(self, filter=lambda a, _v: a.name != "spans")
        data.update(
            ok=self.ok,
            intact=self.intact,
            unsigned_lines=self.unsigned_lines,
            results_unsigned=self.results_unsigned,
        )
        return data


def verify_log(
    source: str | bytes | os.PathLike[str],
    *,
    trusted: Sequence[PublicKey] | None = None,
    allow_open: bool = False,
    name: str | None = None,
) -> LogReport:
    """Verify a results log: hash chain, signatures, manifests, torn lines.

    ``source`` is a path, or the log's bytes.  ``trusted`` None uses the default and trusted
    keys.  ``allow_open`` accepts a log whose last lines are not yet covered by a signed head
    (still being written, or a crash); tampering always fails, and so does a manifest line
    without the signed head its writer writes right after it (heads were removed).
    """
    data, label = _read_source(source, name)
    report = LogReport(source=label, allow_open=allow_open)
    keys = _resolve_trusted(trusted, report)
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    if tail:
        report.torn_last_line = True
    _Verifier(report, keys).run(data, lines)
    return report


def _read_source(source: str | bytes | os.PathLike[str], name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, name or "results log"
    path = Path(source)
    try:
        return path.read_bytes(), name or str(source)
    except OSError as exc:
        raise input_error(source, exc) from None


def _resolve_trusted(
    trusted: Sequence[PublicKey] | None, report: LogReport
) -> list[PublicKey] | None:
    if trusted is not None:
        found = list(trusted)
    else:
        from envstamp.signing import keys

        found = keys.trusted_keys()
    if not found:  # no key to check with, given or found: not checked, never "tampered"
        report.signatures_checked = False
        return None
    return found


class _Verifier:
    """One pass over the lines; result lines are checked without parsing their JSON.

    ``start_prev`` verifies a part of a log that starts after its header (a writer's check
    before signing): the first line must chain from it, and results may name manifests
    stored before the part.
    """

    def __init__(
        self,
        report: LogReport,
        keys: list[PublicKey] | None,
        *,
        start_prev: bytes | None = None,
    ) -> None:
        self.report = report
        self.keys = keys
        self.start_prev = start_prev
        self.known: set[bytes] = set()
        self.signers: dict[str, None] = {}
        self.final_at = -1
        self.fragments: set[int] = set()
        self.manifest_at: list[int] = []
        # Valid heads: (line index, keyids that signed it, byte ranges of its writer's lines).
        self.valid_heads: list[tuple[int, tuple[str, ...], list[tuple[int, int]]]] = []
        self.special: list[int] = []  # lines that are not results (headers, heads, ...)
        self.digest_at: dict[int, bytes] = {}  # manifest line index -> its manifest digest
        # Trusted heads: line index -> (writer id, final, head_every) as the head signed them.
        self.head_info: dict[int, tuple[str | None, bool, int | None]] = {}
        self.head_signers: dict[str, None] = {}

    def run(self, data: bytes, lines: list[bytes]) -> None:
        import hashlib

        report = self.report
        prev = chainlog.GENESIS.encode() if self.start_prev is None else self.start_prev
        if self.start_prev is None and (not lines or not is_header(lines[0])):
            first = (lines[0] if lines else data)[:60]
            if not lines or chainlog.line_kind(lines[0]) in (None, b"log"):
                raise InputError(
                    f"{report.source} is not an envstamp results log "
                    f"(it starts with {first.decode('utf-8', 'replace')!r})"
                )
            # A chained line first: an envstamp log whose header was removed.
            self._problem(0, "the log's first line (its header) is missing: lines were removed")
            prev = lines[0][9 : chainlog.HASH_END]
        fragments = self.fragments = _torn_fragments(data, lines)
        sha = hashlib.sha256
        prefix, hash_end, known = chainlog.PREFIX, chainlog.HASH_END, self.known
        ref, ref_end = _RESULT_REF, _RESULT_REF + _DIGEST_LEN
        check_refs = self.start_prev is None
        results = 0
        for index, line in enumerate(lines):
            if fragments and index in fragments:
                # The marker after a torn fragment chains from the line before it.
                self.special.append(index)
                self._fragment(index, line, lines)
                continue
            if line[9:hash_end] != prev or not line.startswith(prefix):
                self.special.append(index)
                self._broken(index, line)
            elif line.startswith(b'result"', chainlog.KIND_START):
                results += 1
                if check_refs and line[ref:ref_end] not in known:
                    self._unknown_manifest(index, line)
            else:
                self.special.append(index)
                self._special(index, line)
            prev = sha(line).hexdigest().encode()
        self._check_manifest_heads()
        report.lines = len(lines)
        report.results = results
        report.signers = list(self.signers)
        report.head_signers = list(self.head_signers)
        report.closed = self.final_at == len(lines) - 1 and not report.torn_last_line
        if check_refs:  # a whole log (a writer's check of a part needs no coverage)
            self._coverage(data)
            if not report.problems:
                self._check_unsigned(lines)

    def _check_manifest_heads(self) -> None:
        """Each writer signs a head right after its manifest line, in the same write."""
        headed = {index for index, _, _ in self.valid_heads}
        for index in self.manifest_at:
            if index + 1 not in headed:
                self._problem(
                    index,
                    "the manifest line is not followed by its writer's signed head (heads "
                    "were removed, or the writer was stopped while opening the log)",
                )

    def _coverage(self, data: bytes) -> None:
        """Which results each valid head vouches for: those among its writer's own lines."""
        import bisect

        claims = self._claimed_lines(data)
        special = self.special  # indexes of the lines that are not results, ascending
        report = self.report
        for first, end, keyids in claims:
            # Results before a line: the lines before it that are not special.
            start = first - bisect.bisect_left(special, first)
            stop = end - bisect.bisect_left(special, end)
            if stop > start:
                report.spans.append((start, stop, keyids))
                for keyid in keyids:
                    report.covered[keyid] = report.covered.get(keyid, 0) + stop - start
        report.results_signed = sum(stop - start for start, stop, _ in report.spans)

    def _check_unsigned(self, lines: list[bytes]) -> None:
        """Unsigned results must be what a writer may leave unsigned: the tail after its
        last head, while it runs or after it crashed - never results after its final head,
        and never more than it promised to leave between heads (``head_every``)."""
        report = self.report
        if self.keys is None or report.results_signed == report.results:
            return
        unsigned = self._unsigned_result_lines(report.results)
        openings = [index for index in sorted(self.head_info) if index - 1 in self.digest_at]
        if openings and all(self.head_info[index][0] is not None for index in openings):
            self._check_writers(unsigned, lines)
        else:  # heads written before they named their writer
            self._check_open_count(unsigned, openings)

    def _unsigned_result_lines(self, results: int) -> list[int]:
        """Line indexes of the results no span covers, in file order."""
        special, found, p, ordinal = self.special, [], 0, 0
        bounds = [*((start, stop) for start, stop, _ in self.report.spans), (results, results)]
        for start, stop in bounds:
            for k in range(ordinal, start):
                line = k + p
                while p < len(special) and special[p] <= line:
                    p += 1
                    line = k + p
                found.append(line)
            ordinal = max(ordinal, stop)
        return found

    def _check_writers(self, unsigned: list[int], lines: list[bytes]) -> None:
        """Each unsigned result must fit a writer of its manifest that was still open after
        its last head, within what that writer may leave unsigned."""
        writers: dict[str, _Writer] = {}
        for index in sorted(self.head_info):
            writer_id, final, every = self.head_info[index]
            if writer_id is None:
                continue
            writer = writers.get(writer_id)
            if writer is None:
                if index - 1 not in self.digest_at:
                    continue  # no opening head: not a writer of this log's
                writer = writers[writer_id] = _Writer(self.digest_at[index - 1], every)
            writer.last, writer.final = index, final
        ref, ref_end = _RESULT_REF, _RESULT_REF + _DIGEST_LEN
        seen: dict[bytes, int] = {}
        for index in unsigned:
            digest = lines[index][ref:ref_end]
            mine = [w for w in writers.values() if w.digest == digest and w.last < index]
            eligible = [w for w in mine if not w.final]
            if not eligible:
                closed = [w.last for w in mine if w.final]
                self._problem(index, (
                    f"a result after its writer's final head (line {max(closed) + 1}): it "
                    "was added after that writer closed its log" if closed else
                    "a result that no writer of this log left unsigned (its writer's later "
                    "heads do not claim it): it was inserted"
                ))
                return
            # The k-th unsigned result of a manifest needs room among the writers that may
            # have left it; those grow as the file goes on, so checking each k suffices.
            seen[digest] = count = seen.get(digest, 0) + 1
            room = sum(w.room for w in eligible)
            if count > room:
                last = max(w.last for w in eligible)
                promised = ", ".join(sorted({str(w.every) for w in eligible}))
                self._problem(index, (
                    f"{count} results of its manifest are unsigned after line {last + 1}, but "
                    f"{'its writer signs' if len(eligible) == 1 else 'their writers sign'} a "
                    f"head at least every {promised} results: signed heads after them were "
                    "removed"
                ))
                return

    def _check_open_count(self, unsigned: list[int], openings: list[int]) -> None:
        """Without writer ids: an unsigned result needs some writer still open before it
        (more writers opened than closed), as every writer opens with a head and closes
        with a final one."""
        import bisect

        finals = sorted(index for index, info in self.head_info.items() if info[1])
        for index in unsigned:
            closed = bisect.bisect_left(finals, index)
            if bisect.bisect_left(openings, index) - closed <= 0 and closed:
                self._problem(
                    index,
                    "a result after every writer of the log signed its final head (the last "
                    f"at line {finals[closed - 1] + 1}): it was added after the log was closed",
                )
                return

    def _claimed_lines(self, data: bytes) -> list[tuple[int, int, tuple[str, ...]]]:
        """Each valid head's byte ranges as line ranges [first, end), in file order.

        A range that is not whole lines before its head, or that another head claims too, is
        a problem: a legitimate writer claims only lines it wrote.  Newlines are counted
        between consecutive ranges only, so this is one pass over the bytes at C speed.
        """
        ranges = sorted(
            (start, end, head, keyids)
            for head, keyids, own in self.valid_heads
            if keyids
            for start, end in own
        )
        claims: list[tuple[int, int, tuple[str, ...]]] = []
        line = position = 0
        for start, end, head, keyids in ranges:
            if start < position:
                self._problem(head, "the signed head claims lines another head claims too")
                return []
            newline = 10
            whole = end <= len(data) and data[end - 1] == newline
            whole = whole and (start == 0 or data[start - 1] == newline)
            line += data.count(b"\n", position, start)
            first = line
            line += data.count(b"\n", start, end) if whole else 0
            position = end
            if not whole or line > head:
                self._problem(head, "the signed head claims lines that are not there")
                return []
            claims.append((first, line, keyids))
        return claims

    # -- the rare lines ----------------------------------------------------------------

    def _special(self, index: int, line: bytes) -> None:
        kind = chainlog.line_kind(line)
        if kind == b"manifest":
            self._manifest(index, line)
        elif kind == b"head":
            self._head(index, line)
        elif kind == b"torn":
            if index - 1 not in self.fragments and not (index == 0 and self.start_prev):
                self._problem(index, "a torn-line marker that follows no torn line")
        elif kind == b"log":
            if index:
                self._problem(index, "a second log header in the middle of the file")
        else:
            self._problem(index, f"unknown line kind {kind!r}")

    def _parse(self, index: int, line: bytes) -> dict[str, Any] | None:
        from envstamp.manifest.serialize import parse_json_strict

        try:
            data = parse_json_strict(line, what=f"line {index + 1}")
        except InputError as exc:
            self._problem(index, str(exc))
            return None
        if not isinstance(data, dict):
            self._problem(index, "not a JSON object")
            return None
        return data

    def _manifest(self, index: int, line: bytes) -> None:
        self.manifest_at.append(index)
        data = self._parse(index, line)
        if data is None:
            return
        digest = data.get("manifest_digest")
        envelope = data.get("envelope")
        if not isinstance(envelope, dict) or not isinstance(digest, str):
            self._problem(index, "manifest line without an envelope or digest")
            return
        self.known.add(digest.encode())
        self.digest_at[index] = digest.encode()
        self.report.manifests += 1
        predicate, _ = self._verified_predicate(index, envelope, None)
        if predicate is not None and manifest_digest_of(predicate) != digest:
            self._problem(index, "the manifest's digest does not match its signed contents")

    def _head(self, index: int, line: bytes) -> None:
        data = self._parse(index, line)
        if data is None:
            return
        envelope = data.get("envelope")
        if not isinstance(envelope, dict):
            self._problem(index, "head line without an envelope")
            return
        predicate, keyids = self._verified_predicate(index, envelope, HEAD_PREDICATE)
        if predicate is None:
            return
        prev = line[9 : chainlog.HASH_END].decode()
        if predicate.get("chain_head") != prev:
            self._problem(index, "signed head does not cover the line before it (moved here?)")
            return
        if bool(predicate.get("final")) != bool(data.get("final")):
            self._problem(index, "head's final flag differs from what was signed")
            return
        ranges = _byte_ranges(predicate.get("own_lines", []))
        if ranges is None:
            self._problem(index, "the signed head's own_lines are not [start, end] byte ranges")
            return
        self.report.heads += 1
        self.report.signed_lines = index + 1
        self.valid_heads.append((index, keyids, ranges))
        if keyids:
            writer, every = predicate.get("writer"), predicate.get("head_every")
            self.head_info[index] = (
                writer if isinstance(writer, str) and writer else None,
                bool(predicate.get("final")),
                every if type(every) is int and every >= 1 else None,
            )
            for keyid in keyids:
                self.head_signers[keyid] = None
        if predicate.get("final"):
            self.final_at = index
            if line != _canonical_line(data):
                self._problem(index, "the final head line was edited")

    def _verified_predicate(
        self, index: int, envelope: dict[str, Any], predicate_type: str | None
    ) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
        """The envelope's predicate and the trusted keys that signed it (none when the
        signatures are not checked); (None, ()) after reporting a problem."""
        from envstamp.signing.verify import verify_envelope

        if self.keys is None:
            try:
                return envelope_predicate(envelope), ()
            except (CheckFailed, InputError) as exc:
                self._problem(index, f"unreadable envelope: {exc}")
                return None, ()
        try:
            verified = verify_envelope(
                envelope, trusted=self.keys, expected_predicate_type=predicate_type
            )
        except (CheckFailed, InputError) as exc:
            self._problem(index, f"signature: {exc}")
            return None, ()
        for keyid in verified.keyids:
            self.signers[keyid] = None
        predicate = verified.predicate
        if not isinstance(predicate, dict):
            return None, ()
        return predicate, tuple(verified.keyids)

    # -- failures ----------------------------------------------------------------------

    def _broken(self, index: int, line: bytes) -> None:
        """A line that does not follow the one before it: tampering or damage."""
        if not line.startswith(chainlog.PREFIX):
            self._problem(index, "not an envstamp record (edited, or written by another tool)")
            return
        self._problem(
            index,
            f"does not follow line {index}: line {index} was edited, or lines were removed, "
            "inserted or reordered here",
        )
        if not line.startswith(b'result"', chainlog.KIND_START):
            self._special(index, line)

    def _fragment(self, index: int, fragment: bytes, lines: list[bytes]) -> None:
        """A fragment torn by a crash must match the marker line that follows it."""
        data = self._parse(index + 1, lines[index + 1])
        if not (
            data
            and data.get("fragment_sha256") == chainlog.line_hash(fragment)
            and data.get("fragment_bytes") == len(fragment)
        ):
            self._problem(index, "a torn line whose marker does not match it")
        self.report.torn_lines.append(index + 1)

    def _unknown_manifest(self, index: int, line: bytes) -> None:
        digest = line[_RESULT_REF : _RESULT_REF + _DIGEST_LEN].decode("ascii", "replace")
        self._problem(
            index,
            f"result refers to manifest {digest[:23]}..., which is not stored before it "
            "(the manifest line was removed?)",
        )

    def _problem(self, index: int, text: str) -> None:
        problems = self.report.problems
        if len(problems) < 50:
            problems.append(f"line {index + 1}: {text}")
        elif len(problems) == 50:
            problems.append("... more problems not shown")


@attrs.define
class _Writer:
    """One writer of a log as its signed heads describe it."""

    digest: bytes  # the manifest it opened with
    every: int | None  # it signs a head at least every this many results (None: unknown)
    last: int = -1  # line index of its last head
    final: bool = False  # that head is its final one

    @property
    def room(self) -> float:
        """How many results it may have left unsigned after its last head."""
        return math.inf if self.every is None else self.every - 1


def _byte_ranges(value: Any) -> list[tuple[int, int]] | None:
    """``own_lines`` of a head as (start, end) pairs, or None when malformed."""
    if not isinstance(value, list):
        return None
    ranges: list[tuple[int, int]] = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2):
            return None
        start, end = item
        if type(start) is not int or type(end) is not int or not 0 <= start < end:
            return None
        ranges.append((start, end))
    return ranges


def _torn_fragments(data: bytes, lines: list[bytes]) -> set[int]:
    """Indexes of torn fragments: each is the line before a ``torn`` marker."""
    found: set[int] = set()
    needle = b'","kind":"torn"'
    pos = data.find(needle)
    while pos >= 0:
        index = data.count(b"\n", 0, pos)
        if 0 < index < len(lines) and chainlog.line_kind(lines[index]) == b"torn":
            found.add(index - 1)
        pos = data.find(needle, pos + 1)
    return found


def _canonical_line(data: dict[str, Any]) -> bytes:
    prev = data.pop("prev", "")
    line = chainlog.chain_line(str(prev), chainlog.encode_body(data))
    data["prev"] = prev
    return line


# ------------------------------------------------------------------------------- loading


def load_results(
    source: str | bytes | os.PathLike[str],
    *,
    verify: bool = True,
    trusted: Sequence[PublicKey] | None = None,
    include_failed: bool = False,
    require_signed: bool | None = None,
) -> list[Result]:
    """Every result of a log, each with its ``.manifest`` and its ``.signed_by``.

    ``verify`` (the default) checks the chain and signatures first and raises CheckFailed
    on tampering; a log still being written (or cut short by a crash) is intact as far as
    it goes.  A result's ``signed_by`` names the trusted keys whose signed heads cover it;
    it is empty for an *unsigned* result (after its writer's last signed head: a writer
    still running, a crash - or a forgery), and None when nothing was checked (no trusted
    key, or ``verify=False``).

    ``require_signed`` decides what happens to unsigned results.  By default (None) a log
    that a trusted key checked must have none: CheckFailed says how many, so a forged
    number never reaches a caller who did not ask for unsigned ones.  ``False`` returns them,
    marked ``signed_by=()`` (a benchmark in progress reading its own log).  ``True`` also
    refuses a log that no trusted key could check.  Results marked ``failed`` (a command
    that exited non-zero or was killed, a timed block that raised) are left out unless
    ``include_failed``: their times are not speeds.
    """
    data, label = _read_source(source, None)
    report = None
    if verify:
        report = verify_log(data, trusted=trusted, allow_open=True, name=label)
        if report.problems:
            raise CheckFailed(f"{label}: {report.problems[0]}")
    results = _parse_log(data, label)[1]
    checked = report is not None and report.signatures_checked
    if report is not None and checked:
        for position, result in enumerate(results):
            result.signed_by = report.signed_by(position)
    kept = results if include_failed else [r for r in results if not r.failed]
    if require_signed is None:
        require_signed = checked
    if require_signed:
        unsigned = sum(not r.signed_by for r in kept)
        if unsigned:
            why = "" if checked else " (no trusted key checked it)"
            raise CheckFailed(
                f"{label}: {unsigned} of {len(kept)} results are not covered by a signed head "
                f"from a trusted key{why}; load_results(..., require_signed=False) returns "
                "them marked unsigned (signed_by=())"
            )
    return kept


def _parse_log(
    data: bytes, label: str, edits: list[str] | None = None
) -> tuple[dict[str, Manifest], list[Result]]:
    """Manifests and results of a log (not verified); a manifest whose stored identity digest
    does not match its contents gets the recomputed one, and ``edits`` says where."""
    with gc_paused():
        return _parse_lines(data, label, edits)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block, then as the caller had it (a
    caller that had it off keeps it off), also when the block raises.

    The library's one place to pause it (the CLI's brief verbs run without it altogether:
    cli/main.py; docs/decisions.md, issue 14): building a log's results
    allocates a few containers per result that all stay alive, and each of the collector's
    full passes walks everything loaded so far to free nothing - a quarter of load_results
    on 100,000 results.  What is built here holds no reference cycle, so a pause leaves the
    collector nothing to catch up on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_lines(
    data: bytes, label: str, edits: list[str] | None
) -> tuple[dict[str, Manifest], list[Result]]:
    from envstamp.manifest.serialize import (
        check_fields,
        checked_identity,
        exact_structure,
        manifest_from_data,
        parse_json_strict,
        structure,
    )

    lines = data.split(b"\n")
    if not lines or not is_header(lines[0]):
        if lines and chainlog.line_kind(lines[0]) not in (None, b"log"):
            raise InputError(
                f"{label}: its first line (the log's header) is missing: lines were removed"
            )
        raise InputError(f"{label} is not an envstamp results log")
    if lines[-1]:
        lines[-1] = b""  # a torn last line: not a record
    lines.pop()
    fragments = _torn_fragments(data, lines)
    manifests: dict[str, Manifest] = {}
    results: list[Result] = []
    for number, line in enumerate(lines, 1):
        kind = chainlog.line_kind(line) if number - 1 not in fragments else None
        if kind not in (b"manifest", b"result"):
            continue
        record = parse_json_strict(line, what=f"{label} line {number}")
        if kind == b"manifest":
            predicate = envelope_predicate(record["envelope"])
            loaded, edited = checked_identity(
                manifest_from_data(predicate, what=f"{label} line {number}"), predicate
            )
            if edited and edits is not None:
                edits.append(f"line {number}: the signed manifest was {edited}")
            manifests[record["manifest_digest"]] = loaded
            continue
        digest = record.get("manifest_digest")
        manifest = manifests.get(digest) if isinstance(digest, str) else None
        if manifest is None:
            raise InputError(
                f"{label} line {number}: result {record.get('name')!r} refers to manifest "
                f"{str(digest)[:23]}..., which is not in this file (was its line removed?)"
            )
        prev = record.pop("prev", None)
        result = exact_structure(record, Result)  # the common case, without the converter
        if result is None:
            # Types first (a string is not a command line, a dict not a list), in one line
            # naming the path; then the converter, whose Result checks ranges.
            check_fields(record, Result, what=f"{label} line {number}")
            result = structure(record, Result, what=f"{label} line {number}")
        result.prev, result.hash, result.manifest = prev, chainlog.line_hash(line), manifest
        results.append(result)
    return manifests, results


def load_results_document(text: str, *, source: str, verify: bool = True) -> Document:
    """A :class:`~envstamp.manifest.document.Document` of a results log (``show``, ``diff``)."""
    from envstamp.manifest.document import Document, Status, Verification

    data = text.encode("utf-8")
    verification = Verification(Status.NOT_CHECKED)
    report = None
    if verify:
        report = verify_log(data, allow_open=True, name=source)
        verification = results_verification(report)
    edits: list[str] = []
    manifests, results = _parse_log(data, source, edits)
    if report is not None and report.signatures_checked:
        # Each result says whether a signed head vouches for it, so the views never pool
        # an unsigned number with signed ones (None, the default: nothing was checked).
        for position, result in enumerate(results):
            result.signed_by = report.signed_by(position)
    if edits and not verification.failed:
        verification = attrs.evolve(verification, status=Status.EDITED, message=edits[0])
    if not manifests:
        raise InputError(f"{source}: a results log without any manifest")
    manifest = results[0].manifest if results else next(iter(manifests.values()))
    assert manifest is not None
    return Document("results", manifest, source, results=results, verification=verification)


def results_verification(report: LogReport) -> Verification:
    """A log's verification, for ``show`` and ``diff``.

    VERIFIED only when every result is covered by a valid signed head; a log with results
    that nothing covers is PARTLY_SIGNED or UNSIGNED, never VERIFIED.
    """
    from envstamp.manifest.document import Status, Verification

    signers = tuple(report.covered) if report.intact else ()
    if report.problems:
        return Verification(Status.INVALID, signers, message=report.problems[0])
    if not report.signatures_checked:
        return Verification(Status.NOT_CHECKED, signers, message="no trusted key")
    coverage = report.coverage_text(explain=False)
    if report.results_unsigned == 0:
        status = Status.VERIFIED
        coverage += "" if report.closed else "; the log is not closed"
    else:
        status = Status.PARTLY_SIGNED if report.results_signed else Status.UNSIGNED
    return Verification(
        status,
        signers,
        results_signed=report.results_signed,
        results=report.results,
        message=coverage,
    )


def is_results_log(data: bytes) -> bool:
    """True when ``data`` starts like an envstamp results log (for verify's dispatch) - or
    like one whose header line was removed (a chained line first), which verify then
    reports as such instead of as an envelope that is not JSON."""
    return is_header(data[: len(_HEADER_START) + 1]) or chainlog.is_chained_line(data[:200])


# -------------------------------------------------------------------------------- schema


def results_schema() -> dict[str, Any]:
    """JSON Schema of one result line of a results log."""
    from envstamp.manifest.schema import schema_for

    schema = schema_for(
        Result,
        schema_id="results.v1.schema.json",
        title="envstamp result record (one line of a results log)",
        patterns={"manifest_digest": "^sha256:[0-9a-f]{64}$"},
    )
    internal = [a.name for a in attrs.fields(Result) if a.metadata.get("internal")]
    for name in internal:
        schema["properties"].pop(name, None)
    schema["properties"] = {
        "prev": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "sha256 (hex) of the previous line's bytes.",
        },
        "kind": {"const": "result", "description": "Line kind."},
        **schema["properties"],
    }
    schema["required"] = ["prev", "kind", *schema.get("required", [])]
    return schema
