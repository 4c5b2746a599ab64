"""Running external commands: no shell, a timeout, the whole process group killed on it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any

from envstamp.runner.answers import CHILD_ENV_OVERRIDES, Answer, decode

# ------------------------------------------------------------------------------- commands


class _ChildRegistry:
    """Processes started and not yet reaped, so a deadline can kill them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            kill_tree(proc)


CHILDREN = _ChildRegistry()


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CHILD_ENV_OVERRIDES)
    env.update(extra)
    return env



def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Kill a child and everything in its process group."""
    if proc.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            subprocess.run(
                ["taskkill", "/T", "/F", "/PID", str(proc.pid)],
                capture_output=True,
                timeout=2,
                check=False,
            )
            proc.kill()
    except (OSError, subprocess.SubprocessError):
        pass


def run_command(argv: Sequence[str], timeout: float, extra_env: dict[str, str]) -> Answer:
    """Run one command live.  Never raises; the answer says what happened."""
    start = time.perf_counter()
    argv = list(argv)

    def elapsed() -> float:
        return round((time.perf_counter() - start) * 1000, 3)

    if timeout <= 0:
        return {"status": "timeout", "detail": "no time left before the deadline", "duration_ms": 0}
    kwargs: dict[str, Any] = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True  # own process group: killpg reaches grandchildren
    else:
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(extra_env),
            **kwargs,
        )
    except FileNotFoundError:
        return {"status": "absent", "detail": "not found", "duration_ms": elapsed()}
    except PermissionError:
        return {"status": "permission", "detail": "permission denied", "duration_ms": elapsed()}
    except OSError as exc:
        return {"status": "error", "detail": f"cannot start: {exc}", "duration_ms": elapsed()}
    CHILDREN.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        out, err = _drain(proc)
        return {
            "status": "timeout",
            "detail": f"no answer within {timeout:g} s; killed",
            "stdout": decode(out),
            "stderr": decode(err),
            "duration_ms": elapsed(),
        }
    finally:
        CHILDREN.discard(proc)
    return {
        "status": "ok",
        "returncode": proc.returncode,
        "stdout": decode(out),
        "stderr": decode(err),
        "duration_ms": elapsed(),
    }


def _drain(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Collect what a killed child printed, without waiting on stray pipe holders."""
    try:
        return proc.communicate(timeout=0.5)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
        return b"", b""


