"""An append-only JSONL file with a hash chain, appended to under an exclusive file lock.

Every line is a compact JSON object that starts with the hash of the line before it::

    {"prev":"<64 hex: sha256 of the previous line's bytes>","kind":"...", ...}

so deleting, reordering or editing any line breaks the chain at the next one.  The first line
chains from :data:`GENESIS`.  The prefix has a fixed layout on purpose: a verifier checks a
line with two byte comparisons and one sha256, without parsing its JSON.

Appends take an exclusive lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) around
"read the tail's hash, write the new lines", so several processes can share one file: nothing
is lost or interleaved.  Each batch is one ``write`` of whole lines on an ``O_APPEND``
descriptor; a crash can leave only a torn last line (no newline).  The next writer
closes such a fragment with a newline and a ``torn`` marker line that records the fragment's
hash and size and chains from the last complete line, so the fragment is accounted for
rather than silently skipped.

This module knows nothing of signing or of what the lines mean;
:mod:`envstamp.stamping.results` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from envstamp.errors import InputError, input_error

GENESIS = "0" * 64
"""The ``prev`` of a log's first line."""
PREFIX = b'{"prev":"'
HASH_END = len(PREFIX) + 64
KIND_START = HASH_END + len(b'","kind":"')
_TAIL_CHUNK = 1 << 16
# Windows locks are mandatory: lock one byte far beyond any real data so readers never block.
_WINDOWS_LOCK_OFFSET = 1 << 40

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _fast_encoder() -> Any:
    """json's C encoder, made once: compact, ASCII, NaN refused, no cycle check (line bodies
    are trees that envstamp builds).  About twice as fast as ``JSONEncoder.encode``, which
    matters at tens of thousands of records a second.  None where the C module is missing."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    if make is None:
        return None
    # (markers, default, string encoder, indent, ":", ",", sort_keys, skipkeys, allow_nan)
    return make(
        None, _not_json, encoder.encode_basestring_ascii, None, ":", ",", False, False, False
    )


_C_ENCODER = _fast_encoder()


def encode_body(data: dict[str, Any]) -> bytes:
    """Compact ASCII JSON of a line body (a dict whose first key is ``kind``); NaN refused."""
    if _C_ENCODER is not None:
        return "".join(_C_ENCODER(data, 0)).encode("ascii")
    return _ENCODER.encode(data).encode("ascii")


def line_hash(line: bytes) -> str:
    """Hex sha256 of one line's bytes (without its newline)."""
    return hashlib.sha256(line).hexdigest()


def chain_line(prev: str, body: bytes) -> bytes:
    """The full line: ``{"prev":"<prev>",`` followed by the body's members."""
    return PREFIX + prev.encode("ascii") + b'",' + body[1:]


def line_kind(line: bytes) -> bytes | None:
    """The ``kind`` of a chained line, read from its fixed layout; None when not one."""
    if not line.startswith(PREFIX) or line[HASH_END:KIND_START] != b'","kind":"':
        return None
    end = line.find(b'"', KIND_START)
    return line[KIND_START:end] if end > 0 else None


def is_chained_line(line: bytes) -> bool:
    """True when ``line`` has the chained layout (it may still be torn)."""
    return line_kind(line) is not None


@attrs.define
class Appended:
    """What one append wrote: each body's line hash and the hash before the first."""

    prev: str
    hashes: list[str]
    size: int
    last: str = ""  # hash of the last line now in the file
    span: tuple[int, int] = (0, 0)  # byte offsets of the bodies' lines: [start, end)


class LockedAppender:
    """Appends chained lines to one file; safe across threads and processes.

    ``header`` makes the first line of a new (empty) file; an existing non-empty file must
    start with a line for which ``accepts_first_line`` is true, so another tool's JSONL is
    never appended to.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        header: Callable[[], bytes],
        accepts_first_line: Callable[[bytes], bool],
        durable: bool = False,
    ) -> None:
        self.path = Path(path)
        self.durable = durable
        self._header = header
        self._thread_lock = threading.Lock()
        self._known: tuple[int, str] | None = None  # (file size, hash of its last line)
        self._fd = _open_append(self.path)
        try:
            first = self._first_line()
            if first is not None and not accepts_first_line(first):
                raise InputError(
                    f"{self.path} is not an envstamp results log (another tool's file?); "
                    "choose another file name"
                )
        except BaseException:
            os.close(self._fd)
            raise

    # -- public -----------------------------------------------------------------------

    def append(
        self,
        bodies: Sequence[bytes],
        *,
        last: Callable[[str, int, int], bytes] | None = None,
        check: Callable[[int], None] | None = None,
    ) -> Appended:
        """Chain and write ``bodies`` (then ``last(prev, start, end)``, e.g. a signed head)
        atomically; ``start``/``end`` are the byte offsets in the file of the bodies' lines.

        ``check(size)`` runs under the lock before anything is written, with the file's size
        then (it may read the file through :meth:`read_range`); raising stops the append.
        """
        with self._thread_lock, _FileLock(self._fd):
            size = os.fstat(self._fd).st_size
            prev, lead = self._tail(size)
            if check is not None:
                check(size)
            first_prev = prev
            lines: list[bytes] = []
            hashes: list[str] = []
            for body in bodies:
                line = chain_line(prev, body)
                prev = line_hash(line)
                hashes.append(prev)
                lines.append(line)
            start = size + len(lead)
            end = start + sum(map(len, lines)) + len(lines)
            if last is not None:
                line = chain_line(prev, last(prev, start, end))
                prev = line_hash(line)
                lines.append(line)
            data = lead + b"\n".join(lines) + b"\n" if lines else lead
            if data:
                self._write(data)
            self._known = (size + len(data), prev)
            return Appended(
                prev=first_prev, hashes=hashes, size=size + len(data), last=prev, span=(start, end)
            )

    def read_range(self, start: int, end: int) -> bytes:
        """The file's bytes from ``start`` to ``end`` (for a ``check`` under the lock)."""
        return _pread(self._fd, self.path, end - start, start) if end > start else b""

    def close(self) -> None:
        """Close the file (idempotent)."""
        with self._thread_lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    # -- internals --------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self.durable:
            _fsync(self._fd)

    def _first_line(self) -> bytes | None:
        if os.fstat(self._fd).st_size == 0:
            return None
        with self.path.open("rb") as handle:
            line = handle.readline(1 << 20)
        return line.rstrip(b"\n")

    def _tail(self, size: int) -> tuple[str, bytes]:
        """(hash to chain from, bytes to write before the new lines).

        An empty file gets the header first.  A file whose last byte is not a newline ends in
        a fragment torn by a crash: it is closed with a newline and a ``torn`` marker line,
        and the new lines chain from the marker.
        """
        if size == 0:
            header = chain_line(GENESIS, self._header())
            return line_hash(header), header + b"\n"
        if self._known is not None and self._known[0] == size:
            return self._known[1], b""
        complete, fragment = self._read_tail(size)
        if complete is None:
            raise InputError(f"{self.path} holds no complete line; it is not a usable log")
        if not is_chained_line(complete):
            raise InputError(
                f"{self.path}: its last line is not an envstamp record (another tool wrote "
                "to it); refusing to append"
            )
        prev = line_hash(complete)
        if fragment is None:
            return prev, b""
        marker = chain_line(prev, torn_marker_body(fragment))
        return line_hash(marker), b"\n" + marker + b"\n"

    def _read_tail(self, size: int) -> tuple[bytes | None, bytes | None]:
        """The last complete line and the torn fragment after it (None when none)."""
        window = _TAIL_CHUNK
        while True:
            start = max(0, size - window)
            data = _pread(self._fd, self.path, size - start, start)
            torn = not data.endswith(b"\n")
            parts = data.rsplit(b"\n", 2)
            # parts[-2] is a whole line when a newline precedes it or it starts the file.
            if len(parts) == 3 or (start == 0 and len(parts) == 2):
                return parts[-2], (parts[-1] if torn else None)
            if start == 0:  # no newline at all: the whole file is one torn fragment
                return None, parts[0]
            window *= 4


def torn_marker_body(fragment: bytes) -> bytes:
    """The body of the line that accounts for a torn fragment."""
    return encode_body(
        {"kind": "torn", "fragment_sha256": line_hash(fragment), "fragment_bytes": len(fragment)}
    )


class _FileLock:
    """An exclusive lock on an open file, for the duration of a ``with`` block."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> None:
        _lock(self.fd)

    def __exit__(self, *exc: object) -> None:
        _unlock(self.fd)


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        while True:
            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after about 10 s: keep waiting
                continue

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def _fsync(fd: int) -> None:
        os.fsync(fd)

    def _pread(fd: int, path: Path, length: int, offset: int) -> bytes:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(length)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    def _fsync(fd: int) -> None:
        # macOS fsync only reaches the drive's cache; F_FULLFSYNC reaches the platter.
        full = getattr(fcntl, "F_FULLFSYNC", None)
        if full is not None:
            try:
                fcntl.fcntl(fd, full)
                return
            except OSError:
                pass
        os.fsync(fd)

    def _pread(fd: int, path: Path, length: int, offset: int) -> bytes:
        return os.pread(fd, length, offset)


def _open_append(path: Path) -> int:
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
    try:
        return os.open(path, flags, 0o644)
    except FileNotFoundError:
        raise InputError(f"cannot write results to {path}: its folder does not exist") from None
    except OSError as exc:
        raise input_error(f"cannot write results to {path}", exc) from None
