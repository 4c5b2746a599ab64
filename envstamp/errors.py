"""One exception root; every error a user can see carries a one-line message and an exit code."""

from __future__ import annotations


class EnvstampError(Exception):
    """Base of every error envstamp raises on purpose.  ``str(exc)`` is the user's message."""

    exit_code = 2


class InputError(EnvstampError):
    """A file, argument or document that envstamp cannot use (exit 2)."""


class ParseError(InputError):
    """Text that a parser cannot make sense of.  The only exception parsers raise."""


class CheckFailed(EnvstampError):  # noqa: N818 - a failed check is an outcome, not a bug
    """A check ran and said no: bad signature, drift found (exit 1)."""

    exit_code = 1


class CaptureError(EnvstampError):
    """A capture that could not produce a manifest at all."""
