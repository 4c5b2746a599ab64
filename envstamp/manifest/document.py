"""A loaded input: a manifest, and what kind of file carried it (see envstamp.documents).

Plain data, so that everything that builds one (the loader of record, envelope verification,
results logs) depends on this class and not on the loader.
"""

from __future__ import annotations

from typing import Any

import attrs

from envstamp.manifest.model import Manifest


@attrs.define
class Document:
    """A loaded input: its manifest, and what kind of file carried it."""

    kind: str  # "manifest" | "envelope" | "results"
    manifest: Manifest
    source: str
    results: list[Any] = attrs.field(factory=list)
    signature: str = "unsigned"  # "unsigned" | "not verified" | "verified" | "invalid: ..."
    signers: list[str] = attrs.field(factory=list)

    @property
    def note(self) -> str:
        """How this input reached us, in a few words."""
        if self.kind == "manifest":
            edited = self.signature.startswith("invalid")
            return f"plain manifest (unsigned; {self.signature})" if edited else (
                "plain manifest (unsigned)"
            )
        if self.kind == "envelope":
            return f"signed envelope ({self.signature})"
        return f"results log, {len(self.results)} results ({self.signature})"
