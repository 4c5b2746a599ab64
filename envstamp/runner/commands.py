"""Running external commands: no shell, a timeout, and nothing left running afterwards.

Each command is the root of a :class:`~envstamp.runner.processes.Tree` in a session of its
own: when it exits, times out or the capture's deadline passes, the whole tree ends (its
process group, and the descendants that left the group, found through the subreaper).  The
answer comes when the command exits, not when the last holder of its output pipe lets go,
and at most ``MAX_OUTPUT_BYTES`` of each stream is kept (``"truncated": true`` says more
was printed).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from envstamp.runner.answers import CHILD_ENV_OVERRIDES, MAX_OUTPUT_BYTES, decode
from envstamp.runner.processes import Pump, Tree

if TYPE_CHECKING:
    from envstamp.runner.answer_types import CommandAnswer

# How long the output of a finished command may stay open before it is given up on: only a
# process that envstamp could not find and end still holds it then.
PIPE_GRACE_S = 0.5

# ------------------------------------------------------------------------------- commands


class ChildRegistry:
    """Trees started and not yet ended, so a deadline can end them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trees: set[Tree] = set()

    def add(self, tree: Tree) -> None:
        with self._lock:
            self._trees.add(tree)

    def discard(self, tree: Tree) -> None:
        with self._lock:
            self._trees.discard(tree)

    def kill_all(self) -> None:
        with self._lock:
            trees = list(self._trees)
        for tree in trees:
            tree.abort()


CHILDREN = ChildRegistry()


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CHILD_ENV_OVERRIDES)
    env.update(extra)
    return env


def run_command(
    argv: Sequence[str],
    timeout: float,
    extra_env: dict[str, str],
    registry: ChildRegistry | None = None,
) -> CommandAnswer:
    """Run one command live.  Never raises; the answer says what happened."""
    start = time.perf_counter()
    argv = list(argv)

    def elapsed() -> float:
        return round((time.perf_counter() - start) * 1000, 3)

    if not timeout > 0:  # NaN included
        return {"status": "timeout", "detail": "no time left before the deadline", "duration_ms": 0}
    tree = Tree(own_group=True)
    try:
        proc = tree.popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(extra_env),
        )
    except FileNotFoundError:
        return {"status": "absent", "detail": "not found", "duration_ms": elapsed()}
    except PermissionError:
        return {"status": "permission", "detail": "permission denied", "duration_ms": elapsed()}
    except OSError as exc:
        return {"status": "error", "detail": f"cannot start: {exc}", "duration_ms": elapsed()}
    registry = CHILDREN if registry is None else registry
    registry.add(tree)
    assert proc.stdout is not None and proc.stderr is not None
    pumps = (Pump(proc.stdout, MAX_OUTPUT_BYTES), Pump(proc.stderr, MAX_OUTPUT_BYTES))
    try:
        finished = wait_exit(proc, timeout, pumps)
    finally:
        tree.end()  # whatever it left running; on a timeout, the command itself
        registry.discard(tree)
        proc.wait()
    held = not all(pump.join(PIPE_GRACE_S) for pump in pumps)
    answer: CommandAnswer = {
        "status": "ok",
        "returncode": proc.returncode,
        "stdout": decode(pumps[0].data),
        "stderr": decode(pumps[1].data),
        "duration_ms": elapsed(),
    }
    if not finished or tree.aborted:
        answer.pop("returncode")
        answer["status"] = "timeout"
        answer["detail"] = (
            "killed at the capture's deadline"
            if finished
            else f"no answer within {timeout:g} s; killed"
        )
    if any(pump.truncated for pump in pumps):
        answer["truncated"] = True
    if held:
        answer["detail"] = _joined(answer.get("detail"), "its output stayed open; not all read")
    return answer


def _joined(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def wait_exit(
    proc: subprocess.Popen[bytes], timeout: float, pumps: Sequence[Pump] = ()
) -> bool:
    """Wait for the process to exit (not for its pipes to close); False on the timeout.

    A pidfd (Linux 5.3+) wakes the wait the moment the process exits.  Elsewhere the end of
    its output (which comes with the exit, unless something it started holds the pipe) wakes
    the wait, and it looks at the process at least every 50 ms.
    """
    pidfd = _pidfd(proc.pid)
    if pidfd is not None:
        import select

        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            if not poller.poll(int(min(timeout, 86400.0) * 1000) + 1):
                return False
        finally:
            os.close(pidfd)
        proc.wait()
        return True
    stop_at = time.monotonic() + timeout
    while proc.poll() is None:
        remaining = stop_at - time.monotonic()
        if remaining <= 0:
            return False
        reading = [pump for pump in pumps if not pump.join(0)]
        if reading:
            reading[0].join(min(remaining, 0.05))
        else:  # its output ended: the exit is a moment away
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(min(remaining, 0.05))
    return True


def _pidfd(pid: int) -> int | None:
    opener: Callable[[int], int] | None = getattr(os, "pidfd_open", None)  # Linux 5.3+
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:  # an old kernel, or a sandbox that forbids it
        return None
