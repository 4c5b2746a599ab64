"""A loaded input: a manifest, what kind of file carried it (see envstamp.documents), and how
far its signatures vouch for it.

Plain data, so that everything that builds one (the loader of record, envelope verification,
results logs) depends on these classes and not on the loader.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from envstamp.manifest.model import Manifest


class Status(enum.Enum):
    """How far a loaded input's signatures vouch for it."""

    VERIFIED = "verified"  # every part checked with a trusted key
    PARTLY_SIGNED = "partly signed"  # a results log holding results no valid head covers
    UNSIGNED = "unsigned"  # nothing signed it
    INVALID = "invalid"  # a signature, the statement or the log's chain does not hold
    EDITED = "edited"  # a manifest changed after capture: its identity digest disagrees
    NOT_CHECKED = "not checked"  # signed, but not verified (no trusted key, or not asked)


# How each status reads in the one-line text that views print; ``not verified (why)`` and
# ``verified: 4 of 4 results signed`` put the message in parentheses or after a colon.
_LABELS = {
    Status.VERIFIED: "verified",
    Status.PARTLY_SIGNED: "partly signed",
    Status.UNSIGNED: "unsigned",
    Status.INVALID: "invalid",
    Status.EDITED: "invalid",
    Status.NOT_CHECKED: "not verified",
}


@attrs.frozen
class Verification:
    """What checking a loaded input's signatures found."""

    status: Status = Status.UNSIGNED
    # Keyids: the trusted keys that verified it; for an envelope not checked, those its
    # signatures claim; none for an invalid input.
    signers: tuple[str, ...] = ()
    # Results logs only: results a valid signed head covers, and all results.
    results_signed: int | None = None
    results: int | None = None
    # For a person: why it is invalid or edited, or the coverage of a log; may be empty.
    message: str = ""

    @property
    def failed(self) -> bool:
        """A signature or the content does not hold: tampered, forged or edited after capture."""
        return self.status in (Status.INVALID, Status.EDITED)

    @property
    def verified(self) -> bool:
        return self.status is Status.VERIFIED

    @property
    def text(self) -> str:
        """One line for views: "verified", "unsigned", "not verified (no trusted key)",
        "partly signed: 1 of 5 results signed...", "invalid: <why>"."""
        label = _LABELS[self.status]
        if not self.message:
            return label
        if self.status is Status.NOT_CHECKED:
            return f"{label} ({self.message})"
        return f"{label}: {self.message}"

    def __str__(self) -> str:
        return self.text


@attrs.define
class Document:
    """A loaded input: its manifest, what kind of file carried it, its verification."""

    kind: str  # "manifest" | "envelope" | "results"
    manifest: Manifest
    source: str
    results: list[Any] = attrs.field(factory=list)
    verification: Verification = attrs.field(factory=Verification)

    @property
    def signature(self) -> str:
        """The verification in words, as ``show`` and ``diff`` print it."""
        return self.verification.text

    @property
    def note(self) -> str:
        """How this input reached us, in a few words."""
        if self.kind == "manifest":
            edited = self.verification.failed
            return f"plain manifest (unsigned; {self.signature})" if edited else (
                "plain manifest (unsigned)"
            )
        if self.kind == "envelope":
            return f"signed envelope ({self.signature})"
        count = len(self.results)
        return f"results log, {count} result{'' if count == 1 else 's'} ({self.signature})"
