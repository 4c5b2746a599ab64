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

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.manifest.model import ProbeStatus, Sections
from envstamp.manifest.records import Record, record

if TYPE_CHECKING:
    from envstamp.collect import CaptureOptions
    from envstamp.runner import CommandResult, FileResult, Runner

@record
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


@record
class ProbeContext(Record):
    """What a probe may use: the runner and the capture's options."""

    runner: Runner
    options: CaptureOptions
    _platform: dict[str, Any] | None = None

    @property
    def platform(self) -> dict[str, Any]:
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
