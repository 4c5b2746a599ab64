"""Process trees: nothing a command starts outlives envstamp's use of it.

Every command envstamp starts (a probe's tool, or the benchmark of ``envstamp run``) is the
root of a :class:`Tree`:

* its environment carries ``ENVSTAMP_TREE=<token>`` (a random token per tree, appended to
  any tokens already there, so nested envstamps find each other's trees), which every
  descendant inherits unless it clears its environment;
* it inherits a *marker*, an extra open descriptor on a pipe of the tree's own, which every
  descendant inherits too unless it closes descriptors it does not know (``env -i``,
  ``setsid`` and redirecting stdin/stdout/stderr keep it);
* a probe's command runs in a session and process group of its own, so one ``killpg`` ends
  all of it that stayed in the group (``envstamp run``'s benchmark stays in envstamp's own
  group, where the terminal's Ctrl-C and stdin reach it as they would without envstamp);
* on Linux envstamp's process becomes a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``,
  set once, the first time a tree starts): a process of the tree whose parent exits is
  re-parented to envstamp instead of init, so it stays findable among envstamp's own children
  even after ``setsid`` or a double fork.

When the root exits (or times out, or envstamp is interrupted) :meth:`Tree.end` kills what
is left, round after round until nothing is: the tree's process group, then every child of
envstamp that belongs to the tree - it carries the token, is in the tree's group, or holds
one of the tree's output pipes or its marker - together with the group it leads; those
re-parented to envstamp are reaped.  A process that clears its environment, leaves the
session and closes every descriptor it inherited is not found (a cgroup would find it;
envstamp does not require one).  Processes the host program started are never touched:
they carry none of these marks.

A third-party library that starts processes itself (GitPython runs ``git``) has its spawn
function routed for the length of envstamp's call (:class:`Route`): each process it starts
is a tree too.  And once the CLI is exiting (:func:`stop_spawning`), nothing new is
started, so its last sweep cannot miss a process forked just after it looked.

Output is read by :class:`Pump` threads that keep at most a cap of each stream (the rest is
read and counted, never kept), so a tool that prints without end costs time, not memory.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import threading
import time
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

TREE_ENV = "ENVSTAMP_TREE"
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
END_ROUNDS_LIMIT_S = 2.0  # how long Tree.end keeps finding and killing before it gives up
_ROUND_PAUSE_S = 0.005

_SUBREAPER: list[bool] = []  # [result] once tried
_SUBREAPER_LOCK = threading.Lock()


def enable_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux); True when it is.

    Once per process.  The effect lasts for the process's life: a program that uses envstamp
    as a library also becomes the parent of orphans of children it started itself (see
    docs/security.md, "Processes and resources").
    """
    with _SUBREAPER_LOCK:
        if not _SUBREAPER:
            _SUBREAPER.append(_prctl_subreaper())
        return _SUBREAPER[0]


def _prctl_subreaper() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        one, zero = ctypes.c_ulong(1), ctypes.c_ulong(0)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, one, zero, zero, zero) == 0)
    except (OSError, AttributeError):  # no libc symbol (musl oddities, sandboxes)
        return False


def signal_name(returncode: int | None) -> str | None:
    """"SIGILL" for a process a signal ended (a negative return code), else None."""
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


# --------------------------------------------------------------------- starting at all


class _Spawning:
    """The gate every process envstamp starts goes through (``with SPAWNING:`` around the
    spawn).  :meth:`stop` closes it for good and waits for the spawns under way: the CLI's
    last sweep must not miss a process that a probe thread still starting a command (past
    the capture, in a state reading) forks just after the sweep looked."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._under_way = 0
        self._stopped = False

    def __enter__(self) -> None:
        with self._cond:
            if self._stopped:
                raise OSError("envstamp is exiting: no new process is started")
            self._under_way += 1

    def __exit__(self, *_: object) -> None:
        with self._cond:
            self._under_way -= 1
            self._cond.notify_all()

    def stop(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stopped = True
            self._cond.wait_for(lambda: self._under_way == 0, timeout)


SPAWNING = _Spawning()


def stop_spawning() -> None:
    """No process is started from now on (envstamp is exiting); returns once the spawns
    under way are done, so that a sweep after it sees every process there will be."""
    SPAWNING.stop()


# ------------------------------------------------------------------------------- the tree


class Tree:
    """One command and everything it starts.

    ``own_group`` puts the command in a new session and process group (probe commands);
    without it the command shares envstamp's group (``envstamp run``: the terminal's job
    control sees the benchmark as part of envstamp).
    """

    def __init__(self, *, own_group: bool) -> None:
        self.token = os.urandom(8).hex()
        self.own_group = own_group and os.name == "posix"
        self._windows_group = own_group and os.name == "nt"
        self.proc: subprocess.Popen[bytes] | None = None
        self.pipe_inodes: set[int] = set()  # its output pipes and its marker (see popen)
        self._marker: int | None = None
        self.aborted = False  # ended from outside (a capture's deadline, an interruption)
        self._seen: set[int] = set()  # pids found belonging to the tree (to reap them later)
        self._ended = False
        self._lock = threading.Lock()

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with this tree's token added to ENVSTAMP_TREE."""
        env = dict(base)
        env[TREE_ENV] = (env.get(TREE_ENV, "") + " " + self.token).strip()
        return env

    def popen(self, argv: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start the command (``subprocess.Popen`` keywords; ``env`` gets the token).

        On POSIX the command also inherits a *marker*: one end of a pipe of the tree's own,
        open on an extra descriptor.  Descriptors pass through ``fork``, ``exec``, ``env -i``,
        ``setsid`` and redirections of stdin/stdout/stderr alike, so a descendant that
        cleared its environment and left the session is still found by it (only one that
        also closes every descriptor it does not know, as a daemon may, goes unseen).  The
        other end is closed at once: reading the marker gives end-of-file, and nothing can
        be written to it.  This process keeps its end until the tree has ended, so the
        pipe's inode cannot be reused meanwhile.  Raises OSError once envstamp is exiting
        (:func:`stop_spawning`).
        """
        enable_subreaper()
        kwargs["env"] = self.environ(kwargs.get("env") or os.environ)
        if self.own_group:
            kwargs["start_new_session"] = True
        elif self._windows_group:
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        with SPAWNING:
            if os.name == "posix":
                self._open_marker()
                kwargs["pass_fds"] = (*kwargs.get("pass_fds", ()), self._marker)
            try:
                self.proc = subprocess.Popen(argv, **kwargs)
            except BaseException:
                self._close_marker()
                raise
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                self.pipe_inodes.add(os.fstat(pipe.fileno()).st_ino)
        return self.proc

    def _open_marker(self) -> None:
        read_end, write_end = os.pipe()
        os.close(write_end)
        self._marker = read_end
        self.pipe_inodes.add(os.fstat(read_end).st_ino)

    def _close_marker(self) -> None:
        marker, self._marker = self._marker, None
        if marker is not None:
            with contextlib.suppress(OSError):
                os.close(marker)

    # -- ending ---------------------------------------------------------------------------

    def abort(self) -> None:
        """End the whole tree from another thread (the command's own thread sees ``aborted``)."""
        self.aborted = True
        self.end()

    def end(self, *, term_grace: float = 0.0, limit: float = END_ROUNDS_LIMIT_S) -> list[str]:
        """Kill every process of the tree; the root itself is left to its owner to reap.

        ``term_grace`` > 0 first sends SIGTERM and waits that long for the processes to go
        (a server the benchmark started may want to remove its socket); then SIGKILL.
        Returns "name (pid N)" for each process other than the root found alive, for a
        report.  Never raises; gives up after ``limit`` seconds more (a process stuck in
        uninterruptible sleep cannot be killed in time).
        """
        proc = self.proc
        if proc is None:
            return []
        if os.name != "posix":
            _end_windows(proc)
            return []
        with self._lock:
            if self._ended and proc.returncode is not None:
                return []  # its group id may be another's by now: never signal it again
            left: dict[int, str] = {}
            if term_grace > 0:
                self._rounds(proc, signal.SIGTERM, term_grace, left)
            self._rounds(proc, signal.SIGKILL, limit, left)
            self._ended = True
            self._close_marker()  # every process of the tree that could be found has ended
            return [f"{name} (pid {pid})" for pid, name in left.items()]

    def _rounds(
        self, proc: subprocess.Popen[bytes], sig: int, limit: float, left: dict[int, str]
    ) -> None:
        """Signal the group, the root and every member found, reap the members that ended,
        and again, until none is left or ``limit`` seconds passed.  A signal is sent once
        to each process (a second SIGTERM may cut a clean shutdown short)."""
        stop_at = time.monotonic() + limit
        signalled: set[int] = set()
        while True:
            if self.own_group and proc.pid not in signalled:
                _kill_group(proc.pid, sig)
            # Whether the root had ended is read before its children are looked for: the
            # kernel hands a dying process's children over before it shows as ended, so an
            # empty look after that is final, and one before it is not.
            root_ended = _exited(proc)
            if not root_ended and proc.pid not in signalled:
                _kill(proc.pid, sig)
            signalled.add(proc.pid)
            members = self._members(proc.pid)
            for pid, state, pgid, name in members:
                if state == "Z" or pid in signalled:
                    continue
                left.setdefault(pid, name)
                self._seen.add(pid)
                signalled.add(pid)
                _kill(pid, sig)
                if pgid == pid and pgid != os.getpgrp():  # it leads a group of its own
                    _kill_group(pgid, sig)
            for pid, *_ in members:
                self._reap(pid)
            if (not members and root_ended) or time.monotonic() >= stop_at:
                return
            time.sleep(_ROUND_PAUSE_S)

    def _members(self, root: int) -> list[tuple[int, str, int, str]]:
        """(pid, state, pgid, name) of the processes found belonging to the tree: this
        process's children (orphans of the tree come to it as the subreaper), or every
        process where no subreaper could be set."""
        found = []
        candidates = children_of_self() if enable_subreaper() else all_pids()
        for pid in candidates:
            if pid in (root, os.getpid()):
                continue  # the root is its owner's to reap
            info = _stat(pid)
            if info is None:
                continue
            state, pgid, name = info
            if self._belongs(pid, state, pgid):
                found.append((pid, state, pgid, name))
        return found

    def _belongs(self, pid: int, state: str, pgid: int) -> bool:
        if pid in self._seen:
            return True
        if self.own_group and self.proc is not None and pgid == self.proc.pid:
            return True
        if state == "Z":
            return False  # a zombie's environment and files are gone: nothing to tell by
        return self.token in _tokens(pid) or self._holds_pipe(pid)

    def _holds_pipe(self, pid: int) -> bool:
        if not self.pipe_inodes:
            return False
        wanted = {f"pipe:[{ino}]" for ino in self.pipe_inodes}
        folder = f"/proc/{pid}/fd"
        try:
            names = os.listdir(folder)
        except OSError:
            return False
        for name in names:
            try:
                if os.readlink(f"{folder}/{name}") in wanted:
                    return True
            except OSError:
                continue
        return False

    def _reap(self, pid: int) -> None:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid  # not (or no longer) ours
        if done == pid:
            self._seen.discard(pid)


# ------------------------------------------------------------- processes a library starts


class _Registry(Protocol):
    def add(self, tree: Tree) -> None: ...
    def discard(self, tree: Tree) -> None: ...


_ROUTES = threading.local()  # .route: the Route of the library call on this thread
_INSTALL_LOCK = threading.Lock()


class Route:
    """The processes that a third-party library starts during one call (GitPython runs
    ``git`` itself): each is started as a :class:`Tree` -
    token, session of its own, marker - and registered where the runner's commands are, so
    a capture's deadline ends it, and :meth:`close` ends whatever is left of them when the
    call returns or is given up on.  Only spawns made on a thread inside :meth:`active`
    are routed: the same library used by the host program elsewhere is left alone."""

    def __init__(self, registry: _Registry | None = None) -> None:
        self.registry = registry
        self.trees: list[Tree] = []
        self.closed = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Route the spawns of this thread (through :func:`install_route`'d functions)."""
        previous = getattr(_ROUTES, "route", None)
        _ROUTES.route = self
        try:
            yield
        finally:
            _ROUTES.route = previous

    def popen(self, args: Any, kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
        with self._lock:  # held through the spawn: close() cannot slip in between
            if self.closed:
                raise OSError("the library call was given up on: no new process is started")
            tree = Tree(own_group=True)
            proc = tree.popen(args, **kwargs)
            self.trees.append(tree)
            if self.registry is not None:
                self.registry.add(tree)
            return proc

    def close(self) -> None:
        """End every tree started through this route and refuse new ones."""
        with self._lock:
            self.closed = True
            trees = list(self.trees)
        for tree in trees:
            tree.end()
            if self.registry is not None:
                self.registry.discard(tree)


def install_route(module: ModuleType, name: str) -> None:
    """Replace ``module.name`` (a library's ``Popen``-like function) by one that starts the
    process through the thread's :class:`Route` while a routed call runs on that thread,
    and calls the original everywhere else.  Once per function; a missing name (another
    version of the library) is left alone."""
    with _INSTALL_LOCK:
        original = getattr(module, name, None)
        if original is None or getattr(original, "_envstamp_route", False):
            return

        @functools.wraps(original)
        def spawn(args: Any, *rest: Any, **kwargs: Any) -> Any:
            route: Route | None = getattr(_ROUTES, "route", None)
            if route is None or rest:  # not ours (or a call shape Popen does not use)
                return original(args, *rest, **kwargs)
            return route.popen(args, kwargs)

        spawn._envstamp_route = True  # type: ignore[attr-defined]
        setattr(module, name, spawn)


def _end_windows(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        subprocess.run(
            ["taskkill", "/T", "/F", "/PID", str(proc.pid)],
            capture_output=True,
            timeout=2,
            check=False,
        )
        proc.kill()
    except (OSError, subprocess.SubprocessError):
        pass


def end_descendants(limit: float = 1.0) -> None:
    """Kill every descendant of this process and reap its children: it is about to exit
    (the CLI's last step).  Linux; elsewhere nothing can be found this way.  Starts nothing
    new afterwards (:func:`stop_spawning`)."""
    stop_spawning()
    stop_at = time.monotonic() + limit
    signalled: set[int] = set()
    while True:
        children = children_of_self()
        if not children:
            return
        for pid in _descendants(children):
            if pid not in signalled:
                signalled.add(pid)
                _kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        if time.monotonic() >= stop_at:
            return
        time.sleep(_ROUND_PAUSE_S)


def _descendants(roots: list[int]) -> list[int]:
    """``roots`` and every process below them (one pass over /proc)."""
    below: dict[int, list[int]] = {}
    for pid in all_pids():
        stat = _read_stat(pid)
        if stat is not None:
            below.setdefault(stat[1], []).append(pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += below.get(pid, [])
    return sorted(found)


# ------------------------------------------------------------------------- /proc readings


def children_of_self() -> list[int]:
    """Pids of this process's children (every thread's), Linux; [] elsewhere."""
    me = os.getpid()
    try:
        tasks = os.listdir(f"/proc/{me}/task")
    except OSError:
        return []
    pids: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{me}/task/{tid}/children", "rb") as handle:
                pids += [int(word) for word in handle.read().split()]
        except FileNotFoundError:
            continue  # the thread ended
        except OSError:
            return _scan_children(me)  # a kernel without CONFIG_PROC_CHILDREN
    return pids


def all_pids() -> list[int]:
    """Every process id in /proc ([] without /proc)."""
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _scan_children(parent: int) -> list[int]:
    pids = []
    for pid in all_pids():
        stat = _read_stat(pid)
        if stat is not None and stat[1] == parent:
            pids.append(pid)
    return pids


def _read_stat(pid: int) -> tuple[str, int, int, str] | None:
    """(state, ppid, pgid, name) from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    open_at, close_at = data.find(b"("), data.rfind(b")")
    fields = data[close_at + 2 :].split()
    if open_at < 0 or close_at < 0 or len(fields) < 3:
        return None
    name = data[open_at + 1 : close_at].decode(errors="replace")
    try:
        return fields[0].decode(), int(fields[1]), int(fields[2]), name
    except ValueError:
        return None


def _stat(pid: int) -> tuple[str, int, str] | None:
    stat = _read_stat(pid)
    return None if stat is None else (stat[0], stat[2], stat[3])


def _tokens(pid: int) -> list[str]:
    """The ENVSTAMP_TREE tokens in a process's environment ([] when unreadable)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            data = handle.read()
    except OSError:
        return []
    prefix = TREE_ENV.encode() + b"="
    for entry in data.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace").split()
    return []


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """The root has ended (reaped by its owner, or a zombie waiting to be)."""
    if proc.returncode is not None:
        return True
    stat = _read_stat(proc.pid)
    return stat is None or stat[0] in ("Z", "X")


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# ---------------------------------------------------------------------------------- pumps


class Pump:
    """Reads a child's pipe on a thread until EOF: keeps at most ``cap`` bytes (the rest is
    read and counted, so the child never blocks on a full pipe), optionally hashes all of
    it and copies it to ``echo`` as it comes."""

    CHUNK = 65536

    def __init__(
        self,
        pipe: IO[bytes],
        cap: int,
        *,
        echo: IO[bytes] | None = None,
        digest: Callable[[bytes], object] | None = None,
    ) -> None:
        self.pipe = pipe
        self.cap = cap
        self.echo = echo
        self.digest = digest
        self.total = 0
        self._data = bytearray()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="envstamp-pump", daemon=True)
        self._thread.start()

    @property
    def truncated(self) -> bool:
        """More was printed than kept."""
        return self.total > self.cap

    @property
    def data(self) -> bytes:
        """What was kept so far."""
        with self._lock:
            return bytes(self._data)

    def _pump(self) -> None:
        read = getattr(self.pipe, "read1", self.pipe.read)
        try:
            while True:
                chunk = read(self.CHUNK)
                if not chunk:
                    break
                self._take(chunk)
        except (OSError, ValueError):
            pass  # the pipe was closed under us
        finally:
            self._done.set()
            with contextlib.suppress(OSError):
                self.pipe.close()

    def _take(self, chunk: bytes) -> None:
        if self.digest is not None:
            self.digest(chunk)
        with self._lock:
            room = self.cap - len(self._data)
            if room > 0:
                self._data += chunk[:room]
            self.total += len(chunk)
        if self.echo is not None:
            try:
                self.echo.write(chunk)
                self.echo.flush()
            except (OSError, ValueError):
                self.echo = None  # our own output went away; keep capturing

    def join(self, timeout: float | None = None) -> bool:
        """Wait for EOF; False when the pipe is still held open after ``timeout``."""
        return self._done.wait(timeout)
