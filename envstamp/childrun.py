"""Run the user's command for ``envstamp run``: output echoed live and captured, wall time,
exit code, and the peak resident memory of the finished process tree from the OS.

This is not the probe runner (:mod:`envstamp.runner`): a benchmark runs as long as it runs,
keeps the terminal (stdin, Ctrl-C), and its output is echoed as it comes.  Peak memory comes
from ``os.wait4``'s rusage (``ru_maxrss``: the largest process of the tree, KiB on Linux,
bytes on macOS); Windows reports none.

``ru_maxrss`` has a catch: the child starts as a fork (or vfork) of this Python process, and
Linux carries the high-water mark across ``exec``, so a small command reports envstamp's own
peak.  The figure is therefore trusted only when it exceeds what this process has reached
by the time the command ended; otherwise the child's own high-water mark after ``exec``
(``VmHWM`` in /proc/PID/status, watched while it runs) is used, or nothing (null, never a
start-up reading of a few KiB) when it ended before it was read twice.
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

from envstamp.errors import InputError, input_error

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
    rss_source: str | None = None  # "rusage" or "procfs" (VmHWM), see the module docstring


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
    from envstamp.sampler import max_rss_self

    start = perf_counter()
    try:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise InputError(f"command not found: {argv[0]}") from None
    except OSError as exc:
        raise input_error(f"cannot run {argv[0]}", exc) from None
    if on_start is not None:
        on_start(proc.pid)
    assert proc.stdout is not None and proc.stderr is not None
    tees = (_Tee(proc.stdout, out_echo), _Tee(proc.stderr, err_echo))
    watcher = _HighWaterWatcher(proc.pid)
    try:
        code, rss = _wait(proc)
    except KeyboardInterrupt:
        # Ctrl-C reached the child too (same process group); give it a moment, then stop it.
        _stop(proc)
        raise
    finally:
        watcher.stop()
    wall = perf_counter() - start
    # This process's high-water mark only grows: read now, it is at least what the fork
    # carried into the command's rusage (read before the spawn, it could be less).
    rss, rss_source = trusted_peak(rss, max_rss_self(), watcher.seen_peak())
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
        rss_source=rss_source,
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


def trusted_peak(
    rusage: int | None, inherited: int | None, watched: int | None
) -> tuple[int | None, str | None]:
    """The child's peak RSS and its source: rusage when it is above what a fork of ours
    starts with, else the VmHWM seen while it ran (None when it ended unseen)."""
    if rusage is not None and (inherited is None or rusage > inherited):
        return rusage, "rusage"
    return watched, ("procfs" if watched is not None else None)


class _HighWaterWatcher:
    """Polls a child's VmHWM (its peak RSS since exec) on Linux while it runs."""

    INTERVAL = 0.02
    # One reading may come right after exec, before the program has even loaded (VmHWM of a
    # few KiB): the peak counts only once the child was read again an interval later.
    MIN_READINGS = 2

    def __init__(self, pid: int) -> None:
        self.path = f"/proc/{pid}/status"
        self.peak: int | None = None
        self.readings = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if sys.platform.startswith("linux"):
            self._thread = threading.Thread(target=self._poll, name="envstamp-hwm", daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        while True:
            value = _vm_hwm(self.path)
            if value is not None:
                self.peak = max(self.peak or 0, value)
                self.readings += 1
            if self._stop.wait(self.INTERVAL):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def seen_peak(self) -> int | None:
        """The peak seen, or None when the child ended before it was read twice."""
        return self.peak if self.readings >= self.MIN_READINGS else None


def _vm_hwm(path: str) -> int | None:
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - hot loop, no Path objects
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


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
