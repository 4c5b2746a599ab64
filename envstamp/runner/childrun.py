"""Run the user's command for ``envstamp run``: output echoed live and captured, wall time,
exit code, and the peak resident memory of the finished process tree from the OS.

This is not the probe runner (:mod:`envstamp.runner`): a benchmark runs as long as it runs,
keeps the terminal (stdin, Ctrl-C: it stays in envstamp's process group), and its output is
echoed as it comes.  Peak memory comes from ``os.wait4``'s rusage (``ru_maxrss``: the largest
process of the tree, KiB on Linux, bytes on macOS); Windows reports none.

``ru_maxrss`` has a catch: the child starts as a fork (or vfork) of this Python process, and
Linux carries the high-water mark across ``exec``, so a small command reports envstamp's own
peak.  The figure is therefore trusted only when it exceeds what this process has reached
by the time the command ended; otherwise the child's own high-water mark after ``exec``
(``VmHWM`` in /proc/PID/status, watched while it runs) is used, or nothing (null, never a
start-up reading of a few KiB) when it ended before it was read twice.  That mark is the
child's alone: when the child waited for processes of its own (``sh -c 'llama-bench ...;
true'``: seen in its ``/proc/PID/stat`` once it has ended, before it is reaped) it is not the
tree's peak - the shell's few MiB are not the benchmark's - and the peak is null.

The command is measured, not what it leaves behind: the run ends when the command exits
(not when a background process it started lets go of its output), the wall time is the
command's own, and whatever of its process tree is still running then is stopped (SIGTERM,
then SIGKILL a second later; see :mod:`envstamp.runner.processes`), said on stderr and
recorded as ``descendants_outlived``.  When envstamp itself is interrupted (SIGINT, SIGTERM,
SIGHUP) the command gets the signal too and, if it has not ended a few seconds later, the
whole tree is killed; then :class:`Stopped` is raised, carrying what the command printed
until it ended, so that ``envstamp run`` can record what completed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from time import monotonic, perf_counter
from typing import IO, TYPE_CHECKING

import attrs

from envstamp.errors import InputError, input_error

if TYPE_CHECKING:
    from envstamp.runner.processes import Tree

MAX_CAPTURE_BYTES = 64 << 20  # kept for parsing; the digest covers everything
# Leftovers get SIGTERM and this long to go before SIGKILL (a server may remove its socket).
LEFTOVER_TERM_GRACE_S = 1.0
# After envstamp is interrupted: how long the command may take to end on the signal.
INTERRUPT_GRACE_S = 3.0
# A terminal's Ctrl-C reaches the command too (same process group): this long before
# envstamp passes SIGINT on itself (for a SIGINT sent to envstamp alone).
SIGINT_HEADSTART_S = 0.5
# How long the output may stay open after the tree was ended (a process out of reach).
PIPE_GRACE_S = 1.0


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
    signal: str | None = None  # "SIGILL" when a signal ended the command
    descendants_outlived: bool = False  # some process it started was still running after it
    left_running: list[str] = attrs.field(factory=list)  # "name (pid N)" of those, stopped
    # "SIGINT" when envstamp was interrupted by that signal while the command ran and stopped
    # it: the output is what it printed until it ended; its exit status is the stop's.
    stopped_by: str | None = None


class Stopped(KeyboardInterrupt):
    """envstamp was interrupted (SIGINT, SIGTERM, SIGHUP) while the command ran.

    The command got the signal and has ended (with all it started); ``run`` holds what it
    did until then, for a caller that records what completed.  Still a KeyboardInterrupt
    with ``signum``, so a caller that does not look stops as before."""

    def __init__(self, signum: int, run: ChildRun) -> None:
        super().__init__(signum)
        self.signum = signum
        self.run = run


def run_child(
    argv: Sequence[str],
    *,
    echo: bool = True,
    on_start: Callable[[int], None] | None = None,
) -> ChildRun:
    """Run ``argv`` to completion (stdin inherited); ``on_start(pid)`` right after spawn."""
    from envstamp.runner.processes import Pump, Tree
    from envstamp.runner.system import max_rss_self

    out_echo = _binary(sys.stdout) if echo else None
    err_echo = _binary(sys.stderr) if echo else None
    tree = Tree(own_group=False)
    start = perf_counter()
    try:
        proc = tree.popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise InputError(f"command not found: {argv[0]}") from None
    except OSError as exc:
        raise input_error(f"cannot run {argv[0]}", exc) from None
    assert proc.stdout is not None and proc.stderr is not None
    digest = hashlib.sha256()
    pumps: list[Pump] = []
    watcher: _HighWaterWatcher | None = None
    stopped_by: int | None = None
    # Everything after the spawn sits inside the try: a signal that lands while the pumps or
    # the watcher start (their threads take a while on a loaded machine) must still stop the
    # command's whole tree, as one that lands during the wait does.
    try:
        if on_start is not None:
            on_start(proc.pid)
        pumps.append(Pump(proc.stdout, MAX_CAPTURE_BYTES, echo=out_echo, digest=digest.update))
        pumps.append(Pump(proc.stderr, MAX_CAPTURE_BYTES, echo=err_echo))
        watcher = _HighWaterWatcher(proc.pid)
        code, rss, waited = _wait(proc)
    except KeyboardInterrupt as interrupt:  # SIGINT, or SIGTERM / SIGHUP through the CLI
        stopped_by = _signum(interrupt)
        _interrupted(proc, tree, stopped_by)
        code = proc.returncode if proc.returncode is not None else -stopped_by
        rss, waited = None, None
    finally:
        if watcher is not None:
            watcher.stop()
    if len(pumps) < 2:  # stopped before its output was being read: read what is left
        streams = (proc.stdout, proc.stderr)[len(pumps) :]
        pumps.extend(Pump(stream, MAX_CAPTURE_BYTES) for stream in streams)
    wall = perf_counter() - start  # the command's own time, whatever it left running
    left = tree.end(term_grace=LEFTOVER_TERM_GRACE_S)
    held = not all(pump.join(PIPE_GRACE_S) for pump in pumps)
    if left or held:
        _say_stopped(argv, left, held)
    # This process's high-water mark only grows: read now, it is at least what the fork
    # carried into the command's rusage (read before the spawn, it could be less).
    seen_peak = watcher.seen_peak() if watcher is not None else None
    rss, rss_source = trusted_peak(rss, max_rss_self(), seen_peak, waited)
    child = ChildRun(
        argv=list(argv),
        wall_s=wall,
        exit_code=_exit_code(code),
        stdout=pumps[0].data,
        stderr=pumps[1].data,
        stdout_sha256="sha256:" + digest.hexdigest(),
        rss_peak_bytes=rss,
        rss_source=rss_source,
        signal=_signal_of(code),
        descendants_outlived=bool(left) or held,
        left_running=left,
        stopped_by=_signal_of(-stopped_by) if stopped_by is not None else None,
    )
    if stopped_by is not None:
        raise Stopped(stopped_by, child)
    return child


def _wait(proc: subprocess.Popen[bytes]) -> tuple[int, int | None, bool | None]:
    """Exit status (negative -N for signal N, as Popen has it), peak RSS of the tree, bytes,
    and whether the command waited for processes of its own (None: not known).  Sets
    ``proc.returncode``."""
    if not hasattr(os, "wait4"):
        return proc.wait(), None, None
    from envstamp.runner.system import rusage_bytes

    waited = _waited_for_others(proc.pid)
    while True:
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:  # reaped elsewhere
            return proc.wait(), None, None
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    return code, rusage_bytes(usage.ru_maxrss), waited


def _waited_for_others(pid: int) -> bool | None:
    """Once the command has ended, before it is reaped: did it wait for processes it started?

    Its ``/proc/PID/stat`` still counts the page faults of every process it waited for
    (``cminflt``), and any program that ran faulted.  Linux only; None when not known."""
    if not sys.platform.startswith("linux"):
        return None
    while True:
        try:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # ended, left unreaped
            break
        except InterruptedError:
            continue
        except OSError:  # reaped elsewhere
            return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:  # one small read
            fields = handle.read().rpartition(b")")[2].split()
        return int(fields[8]) > 0  # cminflt, the 11th field (the 3rd after the name)
    except (OSError, ValueError, IndexError):
        return None


def _signum(interrupt: KeyboardInterrupt) -> int:
    """The signal behind an interruption (a plain KeyboardInterrupt is SIGINT's)."""
    import signal

    signum = getattr(interrupt, "signum", None)
    return signum if isinstance(signum, int) and signum > 0 else int(signal.SIGINT)


def _interrupted(proc: subprocess.Popen[bytes], tree: Tree, signum: int) -> None:
    """envstamp was interrupted: pass the signal on, give the command a moment, end it all.

    A terminal's Ctrl-C already reached the command (same process group), so SIGINT is
    passed on only if the command is still running after a short head start."""
    import signal

    if signum == signal.SIGINT:
        _wait_quietly(proc, SIGINT_HEADSTART_S)
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.send_signal(signum)
        _wait_quietly(proc, INTERRUPT_GRACE_S)
    tree.end()
    _wait_quietly(proc, None)


def _wait_quietly(proc: subprocess.Popen[bytes], timeout: float | None) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout)


def _say_stopped(argv: Sequence[str], left: list[str], held: bool) -> None:
    name = Path(str(argv[0])).name
    if left:
        what = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        line = f"{name} left {len(left)} process(es) running after it exited: {what}; stopped"
    else:
        line = f"{name} exited but something it started still holds its output; not waited for"
    try:
        sys.stderr.write(f"envstamp run: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _signal_of(returncode: int | None) -> str | None:
    from envstamp.runner.processes import signal_name

    return signal_name(returncode)


def trusted_peak(
    rusage: int | None, inherited: int | None, watched: int | None, waited: bool | None
) -> tuple[int | None, str | None]:
    """The peak RSS of the command's tree and its source: rusage (the largest of the command
    and the processes it waited for) when it is above what a fork of ours starts with, else
    the command's VmHWM seen while it ran - the tree's only when it ``waited`` for no process
    of its own (None when it did, when that is not known, or when it ended unseen)."""
    if rusage is not None and (inherited is None or rusage > inherited):
        return rusage, "rusage"
    if waited is not False:
        return None, None  # a wrapper's own peak is not what it ran
    return watched, ("procfs" if watched is not None else None)


class _HighWaterWatcher:
    """Polls a child's VmHWM (its peak RSS since exec) on Linux while it runs.

    VmHWM is a high-water mark: a reading taken late still holds every earlier peak, and
    what a gap between readings can lose is only what the child reached in the last one
    before it exited.  So the child is read often while it may still be a short command
    (every ``INTERVAL`` for its first ``FAST_FOR`` seconds, where a few readings are all
    there will be), then every ``SLOW_INTERVAL``: a benchmark that runs for minutes is not
    woken for 50 times a second (each reading costs ~0.2 ms of a CPU it is measuring).
    """

    INTERVAL = 0.02
    FAST_FOR = 1.0
    SLOW_INTERVAL = 0.5
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

    @classmethod
    def interval_after(cls, elapsed: float) -> float:
        """Seconds to the next reading, ``elapsed`` seconds after the watch began."""
        return cls.INTERVAL if elapsed < cls.FAST_FOR else cls.SLOW_INTERVAL

    def _poll(self) -> None:
        began = monotonic()
        while True:
            value = _vm_hwm(self.path)
            if value is not None:
                self.peak = max(self.peak or 0, value)
                self.readings += 1
            if self._stop.wait(self.interval_after(monotonic() - began)):
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
        with open(path, "rb") as handle:  # hot loop, no Path objects
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _exit_code(code: int) -> int:
    return 128 - code if code < 0 else code


def _binary(stream: object) -> IO[bytes] | None:
    """The bytes stream under a text stream (None for one without, such as a StringIO)."""
    buffer: IO[bytes] | None = getattr(stream, "buffer", None)
    return buffer
