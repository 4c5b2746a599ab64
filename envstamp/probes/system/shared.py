"""Sources that several probes read, fetched once per runner.

The cpu and os probes both need /proc/cpuinfo (flags, hypervisor bit); on macOS the cpu,
memory, host and os probes all read one ``sysctl`` listing.  Probes run concurrently, so the
first asker fetches and the others wait for that answer instead of asking the system again.
The memo lives as long as the runner (one capture), never longer.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from envstamp.runner.caches import register

if TYPE_CHECKING:
    from envstamp.runner import CommandResult, FileResult, Runner

# One macOS spawn answers every probe: hardware, CPU features, swap, and the VM bit.
DARWIN_SYSCTL_ARGV = ("sysctl", "hw", "machdep.cpu", "vm.swapusage", "kern.hv_vmm_present")
PROC_CPUINFO = "/proc/cpuinfo"

_LOCK = threading.Lock()
_MEMOS: weakref.WeakKeyDictionary[Runner, dict[str, _Cell]] = weakref.WeakKeyDictionary()
register(__name__, "_MEMOS")(_MEMOS.clear)


class _Cell:
    """One memoised answer; later askers wait until the first has it."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


def once(runner: Runner, key: str, fetch: Callable[[], Any]) -> Any:
    """``fetch()`` the first time ``key`` is asked of this runner; the same answer after."""
    with _LOCK:
        cells = _MEMOS.setdefault(runner, {})
        cell = cells.get(key)
        first = cell is None
        if cell is None:
            cell = cells[key] = _Cell()
    if first:
        try:
            cell.value = fetch()
        except BaseException as exc:  # replay's NotRecorded must reach every asker
            cell.error = exc
            raise
        finally:
            cell.ready.set()
        return cell.value
    cell.ready.wait()
    if cell.error is not None:
        raise cell.error
    return cell.value


def proc_cpuinfo(runner: Runner) -> FileResult:
    """/proc/cpuinfo, read once per runner (its static parts: flags, model, topology)."""
    result: FileResult = once(
        runner, "file:" + PROC_CPUINFO, lambda: runner.read_text(PROC_CPUINFO)
    )
    return result


def darwin_sysctl(runner: Runner) -> CommandResult:
    """The macOS ``sysctl hw machdep.cpu ...`` listing, run once per runner."""
    result: CommandResult = once(
        runner, "cmd:sysctl", lambda: runner.run(DARWIN_SYSCTL_ARGV, cache=True)
    )
    return result


def command_text(result: CommandResult) -> str | None:
    """stdout of a command that ran, even when it exited non-zero.

    ``sysctl`` exits 1 when one of several names is unknown on this macOS version, yet prints
    every other value: that output is still good.
    """
    if result.status != "ok":
        return None
    return result.stdout if result.stdout.strip() else None
