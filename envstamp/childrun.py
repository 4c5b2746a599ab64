"""Run the user's command for ``envstamp run``: output echoed live and captured, wall time,
exit code, and the peak resident memory of the finished process tree from the OS.

This is not the probe runner (:mod:`envstamp.runner`): a benchmark runs as long as it runs,
keeps the terminal (stdin, Ctrl-C), and its output is echoed as it comes.  Peak memory comes
from ``os.wait4``'s rusage (``ru_maxrss``: the largest process of the tree, KiB on Linux,
bytes on macOS); Windows reports none.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import IO, Any

import attrs

from envstamp.errors import InputError

MAX_CAPTURE_BYTES = 64 << 20  # kept for parsing; the digest covers everything


@attrs.define
class ChildRun:
    """One run of the command."""

    argv: list[str]
    wall_s: float
    exit_code: int
    stdout: bytes
    stderr: bytes
    stdout_sha256: str
    rss_peak_bytes: int | None


class _Tee:
    """Copies a child's pipe to a stream while keeping (a capped copy of) it and its digest."""

    def __init__(self, pipe: IO[bytes], echo: IO[bytes] | None) -> None:
        self.pipe = pipe
        self.echo = echo
        self.data = bytearray()
        self.digest = hashlib.sha256()
        self.thread = threading.Thread(target=self._pump, name="envstamp-tee", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        read = getattr(self.pipe, "read1", self.pipe.read)
        while True:
            chunk = read(65536)
            if not chunk:
                break
            self.digest.update(chunk)
            if len(self.data) < MAX_CAPTURE_BYTES:
                self.data += chunk[: MAX_CAPTURE_BYTES - len(self.data)]
            if self.echo is not None:
                try:
                    self.echo.write(chunk)
                    self.echo.flush()
                except (OSError, ValueError):
                    self.echo = None  # our own stdout went away; keep capturing
        self.pipe.close()

    def join(self) -> None:
        self.thread.join()


def run_child(
    argv: Sequence[str],
    *,
    echo: bool = True,
    on_start: Callable[[int], None] | None = None,
) -> ChildRun:
    """Run ``argv`` to completion (stdin inherited); ``on_start(pid)`` right after spawn."""
    out_echo = _binary(sys.stdout) if echo else None
    err_echo = _binary(sys.stderr) if echo else None
    start = perf_counter()
    try:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise InputError(f"command not found: {argv[0]}") from None
    except PermissionError:
        raise InputError(f"cannot run {argv[0]}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    if on_start is not None:
        on_start(proc.pid)
    assert proc.stdout is not None and proc.stderr is not None
    tees = (_Tee(proc.stdout, out_echo), _Tee(proc.stderr, err_echo))
    try:
        code, rss = _wait(proc)
    except KeyboardInterrupt:
        # Ctrl-C reached the child too (same process group); give it a moment, then stop it.
        _stop(proc)
        raise
    wall = perf_counter() - start
    for tee in tees:
        tee.join()
    return ChildRun(
        argv=list(argv),
        wall_s=wall,
        exit_code=code,
        stdout=bytes(tees[0].data),
        stderr=bytes(tees[1].data),
        stdout_sha256="sha256:" + tees[0].digest.hexdigest(),
        rss_peak_bytes=rss,
    )


def _wait(proc: subprocess.Popen[bytes]) -> tuple[int, int | None]:
    """Exit code (shell style: 128+N for a signal) and peak RSS of the tree, bytes."""
    if not hasattr(os, "wait4"):
        return _exit_code(proc.wait()), None
    from envstamp.sampler import rusage_bytes

    while True:
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:  # reaped elsewhere
            return _exit_code(proc.wait()), None
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    return _exit_code(code), rusage_bytes(usage.ru_maxrss)


def _exit_code(code: int) -> int:
    return 128 - code if code < 0 else code


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _binary(stream: Any) -> IO[bytes] | None:
    buffer = getattr(stream, "buffer", None)
    return buffer if buffer is not None else None
