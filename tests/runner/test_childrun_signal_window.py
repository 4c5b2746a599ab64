"""A signal that reaches ``envstamp run`` between the spawn and the wait stops the whole tree.

On a loaded machine the pump and watcher threads take a while to start; CI once sent SIGHUP
in that window and envstamp neither stopped the command nor returned.  The signal is
simulated where the CLI's handler would raise it: in the main thread, inside the start-up."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from envstamp.runner import childrun, processes
from envstamp.runner.childrun import Stopped, run_child
from tests.adversarial.test_processes import RETURN_WITHIN, Tools, with_suppressed_kill


class _Signalled(KeyboardInterrupt):
    """What the CLI's handler raises for SIGTERM (it carries the signal's number)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _wait_for(tools: Tools, count: int) -> None:
    stop_at = time.monotonic() + RETURN_WITHIN
    while len(tools.pids.read_text().split()) < count:
        assert time.monotonic() < stop_at, "the fake tool did not start"
        time.sleep(0.05)


@pytest.mark.parametrize("where", ["first pump", "second pump", "watcher"])
def test_a_signal_while_the_run_starts_up_stops_the_whole_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    tools = Tools(tmp_path)
    tool = tools.hanger("bench")
    real_pump, real_watcher = processes.Pump.__init__, childrun._HighWaterWatcher.__init__
    pumps_made: list[object] = []

    def landing() -> None:  # the command and both grandchildren run when the signal lands
        _wait_for(tools, 3)
        raise _Signalled(signal.SIGTERM)

    def pump(self: processes.Pump, *args: object, **kwargs: object) -> None:
        pumps_made.append(self)
        if (where, len(pumps_made)) in {("first pump", 1), ("second pump", 2)}:
            landing()
        real_pump(self, *args, **kwargs)  # type: ignore[arg-type]

    def watcher(self: object, pid: int) -> None:
        if where == "watcher":
            landing()
        real_watcher(self, pid)  # type: ignore[arg-type]

    monkeypatch.setattr(processes.Pump, "__init__", pump)
    monkeypatch.setattr(childrun._HighWaterWatcher, "__init__", watcher)
    try:
        try:
            run_child([str(tool)], echo=False)
        except Stopped as stopped:  # what the CLI turns into exit 128+N, the tree ended
            run = stopped.run
        except KeyboardInterrupt as escaped:  # would stop pytest itself: fail this test only
            pytest.fail(f"the signal left run_child before the tree was stopped: {escaped!r}")
        else:
            pytest.fail("run_child returned although a signal reached it")
        assert run.stopped_by == "SIGTERM"
        assert run.exit_code == 128 + signal.SIGTERM  # the command got the signal and ended
        assert tools.survivors() == []  # and so did everything it started
    finally:
        for pid in tools._ours():
            with_suppressed_kill(pid)
