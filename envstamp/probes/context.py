"""What a probe is given and what it returns.

A probe is two parts:

* a thin ``probe(ctx) -> Outcome`` that asks ``ctx.runner`` for commands, files and APIs;
* pure parsers (``envstamp.parsers``) from text (or recorded API answers) to typed sections of
  the manifest.

Parsers never touch the system; they raise :class:`envstamp.errors.ParseError` and nothing
else.  Probes never raise either: :class:`ProbeFailure` (or any other exception) becomes the
probe's record with a status, so one broken tool never costs the rest of the capture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from envstamp.manifest.model import ProbeStatus, Sections
from envstamp.manifest.records import FrozenRecord, Record
from envstamp.runner.answers import DEFAULT_COMMAND_TIMEOUT

if TYPE_CHECKING:
    from envstamp.runner import CommandResult, FileResult, Runner
    from envstamp.runner.answer_types import PlatformAnswer


@attrs.define(eq=False, repr=False)
class Outcome(Record):
    """What a probe found, and how."""

    sections: Sections = attrs.field(factory=dict)
    source: str | None = None
    status: ProbeStatus = "ok"
    detail: str | None = None


class ProbeFailure(Exception):  # noqa: N818 - a failure is data here, not an error
    """Raised inside a probe to end it with a status other than ok."""

    def __init__(self, status: ProbeStatus, detail: str, source: str | None = None) -> None:
        super().__init__(detail)
        self.status: ProbeStatus = status
        self.detail = detail
        self.source = source


@attrs.define(eq=False, repr=False)
class ProbeContext(Record):
    """What a probe may use: the runner and the capture's options."""

    runner: Runner
    options: CaptureOptions
    _platform: PlatformAnswer | None = None

    @property
    def platform(self) -> PlatformAnswer:
        """The runner's platform answer (system, release, machine, node, python...)."""
        if self._platform is None:
            self._platform = self.runner.platform()
        return self._platform

    @property
    def system(self) -> str:
        """ "Linux", "Darwin", "Windows" or another platform.system() value."""
        return str(self.platform.get("system") or "")


def by_system(
    ctx: ProbeContext, handlers: Mapping[str, Callable[[Runner], Outcome]], what: str
) -> Outcome:
    """Run the handler for this platform.system(); ``unsupported`` where there is none."""
    handler = handlers.get(ctx.system)
    if handler is None:
        raise ProbeFailure("unsupported", f"no {what} on {ctx.system or 'this system'}")
    return handler(ctx.runner)


def failure_from(result: CommandResult | FileResult, source: str) -> ProbeFailure:
    """A ProbeFailure that carries a command's or file's status and detail."""
    status: ProbeStatus = "error"
    if result.status in ("absent", "permission", "timeout", "unsupported"):
        status = result.status
    detail = result.describe() if hasattr(result, "describe") else (result.detail or status)
    return ProbeFailure(status, detail, source)


def first_ok(
    attempts: list[tuple[str, Callable[[], Sections]]],
) -> Outcome:
    """Try sources in order; the first that yields sections wins, the failures become detail.

    Each attempt raises ProbeFailure (or ParseError) to pass to the next one.  When all fail,
    the most telling failure (anything but "absent") decides the status.
    """
    from envstamp.errors import ParseError

    failures: list[ProbeFailure] = []
    for source, attempt in attempts:
        try:
            sections = attempt()
        except ProbeFailure as failure:
            failure.source = failure.source or source
            failures.append(failure)
            continue
        except ParseError as exc:
            failures.append(ProbeFailure("error", f"unparseable output: {exc}", source))
            continue
        detail = "; ".join(f"{f.source}: {f.detail}" for f in failures) or None
        return Outcome(sections=sections, source=source, detail=detail)
    if not failures:
        raise ProbeFailure("unsupported", "no source to try")
    telling = [f for f in failures if f.status != "absent"] or failures
    worst = telling[0]
    detail = "; ".join(f"{f.source}: {f.detail}" for f in failures)
    raise ProbeFailure(worst.status, detail, worst.source)


# ------------------------------------------------------------------------ capture options

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


@attrs.frozen(eq=False, repr=False)
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
    progress: bool | None = None
    """Progress lines on stderr for long work (hashing a large model file): None (the
    default) shows them when stderr is a terminal, True always, False never."""
    python: str | None = None
    """An interpreter whose version and packages the ``python`` section describes instead of
    envstamp's own (``envstamp run`` of a Python program: the child's interpreter)."""
