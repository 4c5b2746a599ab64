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


def os_reason(exc: OSError) -> str:
    """What went wrong with a path, in a few words for a one-line message."""
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is not a folder"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc) or type(exc).__name__


def input_error(subject: object, exc: OSError) -> InputError:
    """``InputError("<subject>: <reason>")`` for an OSError on something the user named."""
    return InputError(f"{subject}: {os_reason(exc)}")
