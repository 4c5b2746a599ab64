"""Files and folders, read and written."""

from __future__ import annotations

import os
import stat as stat_mod
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING

from envstamp.errors import InputError
from envstamp.runner.answers import AnswerStatus, decode

if TYPE_CHECKING:
    from envstamp.runner.answer_types import (
        BytesAnswer,
        DirAnswer,
        FileAnswer,
        StatAnswer,
    )

# ---------------------------------------------------------------------------------- files


def os_error_status(exc: OSError) -> tuple[AnswerStatus, str]:
    """The status and detail of an answer whose question raised ``exc``."""
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return "absent", "not found"
    if isinstance(exc, PermissionError):
        return "permission", "permission denied"
    return "error", exc.strerror or str(exc)


def read_text_answer(path: str, limit: int) -> FileAnswer:
    """Read a file live (at most ``limit`` bytes; never waiting on a FIFO)."""
    try:
        with _open_for_reading(path) as handle:
            data = handle.read(limit)
    except NotRegularError as exc:
        return {"status": "error", "detail": str(exc)}
    except OSError as exc:
        status, detail = os_error_status(exc)
        return {"status": status, "detail": detail}
    return {"status": "ok", "text": decode(data)}


def read_bytes_answer(path: str, offset: int, length: int) -> BytesAnswer:
    """Read a byte range live."""
    try:
        with _open_for_reading(path) as handle:
            handle.seek(offset)
            data = handle.read(length)
    except NotRegularError as exc:
        return {"status": "error", "detail": str(exc)}
    except OSError as exc:
        status, detail = os_error_status(exc)
        return {"status": status, "detail": detail}
    return {"status": "ok", "hex": data.hex()}


class NotRegularError(OSError):
    """A path that names something other than a file to read (a FIFO, a socket...)."""


# What a file's type is called in messages and stat answers.
_KINDS = (
    (stat_mod.S_ISREG, "file"),
    (stat_mod.S_ISDIR, "dir"),
    (stat_mod.S_ISFIFO, "fifo"),
    (stat_mod.S_ISCHR, "char device"),
    (stat_mod.S_ISBLK, "block device"),
    (stat_mod.S_ISSOCK, "socket"),
)
_KIND_WORDS = {
    "dir": "a folder",
    "fifo": "a FIFO (named pipe)",
    "char device": "a character device",
    "block device": "a block device",
    "socket": "a socket",
    "other": "not a regular file",
}


def kind_of(mode: int) -> str:
    """"file", "dir", "fifo", "char device", "block device", "socket" or "other"."""
    return next((name for test, name in _KINDS if test(mode)), "other")


def kind_words(kind: str) -> str:
    """A file kind as a message says it ("a character device")."""
    return _KIND_WORDS.get(kind, "a regular file" if kind == "file" else "not a regular file")


def _open_for_reading(path: str) -> IO[bytes]:
    """Open a regular file to read.  The open does not block (O_NONBLOCK: a FIFO would
    wait for a writer); a FIFO, socket or device is then refused - reading one may never end
    (/dev/zero, a terminal) - and a folder raises IsADirectoryError as open() would."""
    nonblock = getattr(os, "O_NONBLOCK", 0)
    flags = os.O_RDONLY | nonblock | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        kind = kind_of(os.fstat(fd).st_mode)
        if kind == "dir":
            raise IsADirectoryError(21, "Is a directory")
        if kind != "file":
            raise NotRegularError(f"{kind_words(kind)}, not a regular file")
        if nonblock:
            os.set_blocking(fd, True)  # O_NONBLOCK was for the open only
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """All of a regular file of at most ``limit`` bytes; InputError (one line) for anything
    else: a FIFO, a device (a link to /dev/zero), a folder, a larger file.  Used for
    recordings, whose every answer file must be a plain file."""
    name = os.fspath(path)
    try:
        with _open_for_reading(name) as handle:
            data = handle.read(limit + 1)
    except NotRegularError as exc:
        raise InputError(f"{name}: {exc}") from None
    except OSError as exc:
        raise InputError(f"{name}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(f"{name}: larger than {limit >> 20} MiB")
    return data


def list_dir_answer(path: str) -> DirAnswer:
    """List a folder live."""
    try:
        return {"status": "ok", "names": sorted(os.listdir(path))}
    except OSError as exc:
        status, detail = os_error_status(exc)
        return {"status": status, "detail": detail}


def stat_answer(path: str) -> StatAnswer:
    """Stat a path live (links followed)."""
    try:
        st = os.stat(path)
    except OSError:
        return {"exists": False}
    return {
        "exists": True,
        "is_dir": stat_mod.S_ISDIR(st.st_mode),
        "kind": kind_of(st.st_mode),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "mode": stat_mod.S_IMODE(st.st_mode),
    }


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> None:
    """Write a file so readers see the old or the new contents, never a part.

    Only a regular file (or nothing) is replaced, through a temporary file renamed over it;
    a symbolic link stays a link and the file it points to is replaced.  A character
    device or a FIFO (``-o /dev/null``, ``-o /dev/stdout``, ``-o >(gzip > m.gz)``) is
    written through, as the shell's ``>`` would: renaming a file over it would replace the
    device node itself (as root, a broken /dev/null).  A block device, socket or folder is
    refused.  Raises InputError (one line) when the target cannot be written.
    """
    target = Path(path)
    kind = _existing_kind(target)
    if kind in ("char device", "fifo"):
        _write_through(target, data)
        return
    if kind not in (None, "file"):
        raise InputError(f"cannot write {target}: it is {kind_words(kind)}")
    destination = Path(os.path.realpath(target)) if target.is_symlink() else target
    _replace_regular(destination, data, mode, shown=target)


def refuse_special(path: str | os.PathLike[str]) -> None:
    """InputError unless ``path`` names a regular file or nothing: for a writer that renames
    a file into place (a key), which must never replace a device node, FIFO or socket."""
    kind = _existing_kind(Path(path))
    if kind not in (None, "file"):
        raise InputError(f"cannot write {os.fspath(path)}: it is {kind_words(kind)}")


def make_folder(path: str | os.PathLike[str]) -> None:
    """Create a folder to write into, its parents too (nothing when it is there); InputError
    in one line when it cannot be (something else has the name, the system refused)."""
    what = not_a_folder(path)
    if what is not None:
        raise InputError(f"cannot write into {path}: it is {what}")
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {path}: {exc.strerror or exc}") from None


def not_a_folder(path: str | os.PathLike[str]) -> str | None:
    """What ``path`` is when it cannot be a folder to write into ("a regular file", "a link
    to X, which does not exist"); None when it is a folder or names nothing yet."""
    target = Path(path)
    kind = _existing_kind(target)
    if kind is None:
        if not target.is_symlink():
            return None
        try:
            return f"a link to {target.readlink()}, which does not exist"
        except OSError:
            return "a link to nothing"
    return None if kind == "dir" else kind_words(kind)


def _existing_kind(target: Path) -> str | None:
    """What the path names now (links followed); None when nothing (or a dangling link)."""
    try:
        return kind_of(os.stat(target).st_mode)
    except OSError:
        return None


def _write_through(target: Path, data: bytes) -> None:
    """Write into an existing character device or FIFO; blocks until a FIFO has a reader."""
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        kind = kind_of(os.fstat(fd).st_mode)
        if kind not in ("char device", "fifo"):  # it changed since it was looked at
            raise InputError(f"cannot write {target}: it changed while being opened")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _replace_regular(destination: Path, data: bytes, mode: int, *, shown: Path) -> None:
    tmp = destination.with_name(
        f".{destination.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    )
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        kind = _existing_kind(destination)
        if kind not in (None, "file"):  # a device or FIFO appeared there meanwhile
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot write {shown}: it is now {kind_words(kind)}")
        os.replace(tmp, destination)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot write {shown}: {reason}") from None
