"""Attacks on envstamp's processes and resources (issue 12, items 9-11, 13 and 14).

Hand-made fake tools (shell scripts written into a temporary folder, described where they are
made) stand in for the tools a capture runs and for the benchmark of ``envstamp run``: they
fork grandchildren and exit, escape with ``setsid``, hang, print without end.  Every process
they start has a unique ``sleep`` duration, so a test can tell from /proc whether any of them
is still running - and none may be after ``capture`` or ``run`` returned.

No assertion here is about wall time beyond "it returned": timeouts are generous, for a
loaded two-core machine.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.capturing.capture import capture
from envstamp.errors import InputError
from envstamp.probes.context import CaptureOptions
from envstamp.probes.registry import PROBES
from envstamp.runner import LiveRunner

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to find surviving processes"
)

PY = sys.executable
RETURN_WITHIN = 60  # seconds: "it returned" on a loaded machine, never a measurement
# Durations of this session's own: other pytest sessions on the machine (a developer's run
# beside CI's) must never take our sleeps for theirs when they look for survivors.
_DURATIONS = itertools.count(880001 + (os.getpid() % 100_000) * 1000)
ALL_PROBES_BUT_LLAMACPP = frozenset(s.name for s in PROBES if s.name != "llamacpp")


# ------------------------------------------------------------------------------ the tools


class Tools:
    """A folder of fake tools; every process they start notes its pid in ``pids``."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.pids = root / "pids"
        self.pids.touch()
        self.sleeps: list[str] = []

    def _sleep(self) -> str:
        # A duration no other process on the machine uses: /proc tells ours apart by it.
        duration = str(next(_DURATIONS))
        self.sleeps.append(duration)
        return duration

    def write(self, name: str, body: str) -> Path:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\necho $$ >> {self.pids}\n{body}\n")
        path.chmod(0o755)
        return path

    def forker(self, name: str = "llama-cli") -> Path:
        """Prints a version, leaves a grandchild running (holding its output) and exits."""
        return self.write(
            name,
            f"sh -c 'echo $$ >> {self.pids}; exec sleep {self._sleep()}' &\n"
            'echo "version: 1 (abc1234)"',
        )

    def escaper(self, name: str = "llama-cli") -> Path:
        """Starts a grandchild in a new session (setsid) with its output closed, and exits."""
        return self.write(
            name,
            f"setsid sh -c 'echo $$ >> {self.pids}; exec sleep {self._sleep()}' "
            "</dev/null >/dev/null 2>&1 &\n"
            'echo "version: 1 (abc1234)"',
        )

    def daemonizer(self, name: str = "llama-cli") -> Path:
        """Starts a grandchild the way a daemon leaves: environment cleared (no token),
        a session of its own, stdin/stdout/stderr away from the tool's pipes; waits until it
        has done all that, and exits.  Only what it inherited beyond fd 2 can tell it is the
        tool's."""
        ready = self.bin / f"{name}.ready"
        return self.write(
            name,
            f"rm -f {ready}\n"
            f"env -i setsid sh -c 'echo $$ >> {self.pids}; : > {ready}; exec sleep "
            f"{self._sleep()}' </dev/null >/dev/null 2>&1 &\n"
            f"i=0; while [ ! -e {ready} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n"
            'echo "version: 1 (abc1234)"',
        )

    def hanger(self, name: str = "llama-cli") -> Path:
        """Starts an escaping grandchild, then never answers."""
        return self.write(
            name,
            f"setsid sh -c 'echo $$ >> {self.pids}; exec sleep {self._sleep()}' "
            "</dev/null >/dev/null 2>&1 &\n"
            f"sh -c 'echo $$ >> {self.pids}; exec sleep {self._sleep()}' &\n"
            f"exec sleep {self._sleep()}",
        )

    def flooder(self, name: str = "llama-cli") -> Path:
        """Prints without end (and leaves a grandchild behind)."""
        return self.write(
            name,
            f"sh -c 'echo $$ >> {self.pids}; exec sleep {self._sleep()}' &\n"
            "exec yes 'version: 1 (abc1234) and a long line of output to fill pipes quickly'",
        )

    def survivors(self, wait: float = 5.0) -> list[str]:
        """Processes of these tools still running after up to ``wait`` seconds."""
        stop_at = time.monotonic() + wait
        while True:
            alive = [p for p in self._ours() if _running(p)]
            if not alive or time.monotonic() > stop_at:
                return [f"{pid}: {_cmdline(pid)}" for pid in alive]
            time.sleep(0.05)

    def _ours(self) -> list[int]:
        pids = {int(w) for w in self.pids.read_text().split() if w.isdigit()}
        # Also any process running one of our sleeps that did not get to note its pid.
        for name in os.listdir("/proc"):
            if name.isdigit() and set(self.sleeps) & set(_cmdline(int(name)).split()):
                pids.add(int(name))
        return sorted(pids)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def signals_at_their_defaults() -> None:
    """In a child about to exec: SIGINT and SIGHUP as a shell starts a command.  A suite run
    under ``nohup`` (or from a shell that ignores SIGINT in background jobs) passes them on
    ignored, and envstamp rightly keeps an ignored signal ignored."""
    for number in (signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has ended; only its exit status waits to be read)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] not in (b"Z", b"X")


@pytest.fixture
def tools(tmp_path: Path) -> Iterator[Tools]:
    made = Tools(tmp_path)
    yield made
    for pid in made._ours():  # never leave a test's processes behind, even when it fails
        if _running(pid):
            with_suppressed_kill(pid)


def with_suppressed_kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def envstamp_cli(
    *args: str, env_path: Path | None = None, timeout: float = RETURN_WITHIN
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if env_path is not None:
        env["PATH"] = f"{env_path}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [PY, "-m", "envstamp", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def _in_thread(fn: Any, timeout: float = RETURN_WITHIN) -> Any:
    """fn() on a thread; fails (instead of hanging the suite) if it does not return."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert box, f"did not return within {timeout} s"
    return box[0]


# -------------------------------------------------------------- item 9: orphans, capture


@pytest.mark.parametrize("kind", ["forker", "escaper", "hanger", "daemonizer"])
def test_capture_in_process_leaves_no_process_of_its_tools(tools: Tools, kind: str) -> None:
    tool = getattr(tools, kind)()
    options = CaptureOptions(
        llama_cpp=(str(tool),), skip=ALL_PROBES_BUT_LLAMACPP, command_timeout=1, deadline=3
    )
    manifest = _in_thread(lambda: capture(options))
    assert any(p.name == "llamacpp" for p in manifest.probes)
    assert tools.survivors() == []


@pytest.mark.parametrize("kind", ["forker", "escaper", "hanger", "daemonizer"])
def test_capture_cli_leaves_no_process_of_its_tools(
    tools: Tools, kind: str, tmp_path: Path
) -> None:
    # The same tool is also nvidia-smi on PATH: the GPU probes (and GPUtil, a library that
    # runs it itself) start it where no NVIDIA driver answers.
    tool = getattr(tools, kind)()
    getattr(tools, kind)("nvidia-smi")
    out = tmp_path / "m.json"
    done = envstamp_cli(
        "capture", "--no-sign", "--json", "-o", str(out), "--llama-cpp", str(tool),
        "--timeout", "1", "--deadline", "3", env_path=tools.bin,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["probes"]
    assert tools.survivors() == []


def _gputil_imports() -> bool:
    try:
        import GPUtil  # noqa: F401
    except Exception:  # noqa: BLE001 - it imports distutils, gone in Python 3.12
        return False
    return True


def _nvidia_smi_leaving_everything(tools: Tools) -> None:
    """An nvidia-smi on PATH that fails (no driver answers) after leaving every kind of
    process behind: a background child, a setsid escapee, TERM-ignoring ones and a daemon
    (environment cleared, own session, no pipe).  GPUtil runs it too, itself."""
    tools.write(
        "nvidia-smi",
        f"sleep {tools._sleep()} &\n"
        f"setsid sleep {tools._sleep()} &\n"
        f"( trap '' TERM; exec sleep {tools._sleep()} ) &\n"
        f"sh -c 'trap \"\" TERM HUP INT; sleep {tools._sleep()}' &\n"
        f"env -i setsid sh -c 'exec sleep {tools._sleep()}' </dev/null >/dev/null 2>&1 &\n"
        "echo 'NVIDIA-SMI has failed'\n"
        "exit 9",
    )


def test_capture_in_process_ends_what_its_gpu_tools_and_gputil_left(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # capture() used as a library: no CLI sweep at exit; every process that the probes'
    # commands, and GPUtil's own nvidia-smi, left must be gone when it returns.
    _nvidia_smi_leaving_everything(tools)
    monkeypatch.setenv("PATH", f"{tools.bin}{os.pathsep}{os.environ['PATH']}")
    wanted = {"gpu_nvidia", "gpu_nvidia_state"}
    options = CaptureOptions(
        skip=frozenset(s.name for s in PROBES if s.name not in wanted),
        command_timeout=1,
        deadline=3,
    )
    manifest = _in_thread(lambda: capture(options, refresh=True))
    gpu = next(p for p in manifest.probes if p.name == "gpu_nvidia")
    if _gputil_imports():  # GPUtil ran nvidia-smi itself, after the runner's attempts
        assert "gputil" in (gpu.detail or ""), gpu.detail
    assert tools.survivors() == []


def test_capture_in_process_never_ends_the_host_programs_own_processes(
    tools: Tools, tmp_path: Path
) -> None:
    # The host's children look like an escaped daemon (no token, a session of their own,
    # no pipe of envstamp's): one started before the capture, one while it runs.
    tool = tools.daemonizer()
    options = CaptureOptions(
        llama_cpp=(str(tool),), skip=ALL_PROBES_BUT_LLAMACPP, command_timeout=1, deadline=3
    )
    host: list[subprocess.Popen[bytes]] = []

    def start_host_process() -> None:
        quiet = subprocess.DEVNULL
        env = {"PATH": os.environ["PATH"]}
        argv = ["sleep", tools._sleep()]
        host.append(
            subprocess.Popen(
                argv, env=env, start_new_session=True, stdin=quiet, stdout=quiet, stderr=quiet
            )
        )

    start_host_process()
    during = threading.Timer(0.05, start_host_process)
    try:
        during.start()
        _in_thread(lambda: capture(options, refresh=True))
        during.join()
        time.sleep(0.3)
        assert len(host) == 2
        assert all(proc.poll() is None for proc in host), "a host process was ended"
    finally:
        for proc in host:
            proc.kill()
            proc.wait()
    assert tools.survivors() == []


def test_a_routed_spawn_is_a_tree_and_the_same_function_elsewhere_is_left_alone(
    tools: Tools,
) -> None:
    # What GitPython's spawn function becomes once envstamp used it: on the thread of
    # envstamp's call a process tree (session, token), ended by the route with what it left;
    # anywhere else - the host's own calls - the original, unchanged.
    import types

    from envstamp.runner.processes import Route, install_route

    library = types.SimpleNamespace(Popen=subprocess.Popen)
    install_route(library, "Popen")
    report = "echo $(ps -o sid= -p $$) ${ENVSTAMP_TREE:-}"
    env = {k: v for k, v in os.environ.items() if k != "ENVSTAMP_TREE"}

    def ask() -> list[str]:
        proc = library.Popen(["sh", "-c", report], stdout=subprocess.PIPE, env=env)
        out, _ = proc.communicate(timeout=RETURN_WITHIN)
        return out.decode().split()

    route = Route()
    with route.active():
        sid, *token = ask()
        leaver = library.Popen([str(tools.forker())], stdout=subprocess.DEVNULL, env=env)
        leaver.wait(RETURN_WITHIN)
    assert int(sid) != os.getsid(0) and token
    route.close()
    assert tools.survivors() == []
    with route.active(), pytest.raises(OSError, match="given up on"):
        library.Popen(["true"])  # a closed route starts nothing
    sid, *token = ask()  # the host's call
    assert int(sid) == os.getsid(0) and not token


def test_git_info_in_process_ends_what_git_left(
    tools: Tools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GitPython runs git itself: a git that leaves a background child and a daemon behind
    # (then does its work) must leave nothing once git_info returned.  (GitPython's import
    # checks "git version" once per process, before envstamp can route anything: that one
    # call is left to the CLI's sweep, so the fake behaves there.)
    import shutil

    real_git = shutil.which("git")
    if real_git is None:
        pytest.skip("needs git to make a checkout")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    subprocess.run([real_git, "init", "-q", str(checkout)], check=True)
    ready = tools.bin / "git.ready"
    tools.write(
        "git",
        f'[ "$1" = version ] && exec {real_git} "$@"\n'
        f"sleep {tools._sleep()} </dev/null >/dev/null 2>&1 &\n"
        f"env -i setsid sh -c 'echo $$ >> {tools.pids}; : > {ready}; exec sleep "
        f"{tools._sleep()}' </dev/null >/dev/null 2>&1 &\n"
        f"i=0; while [ ! -e {ready} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n"
        f"rm -f {ready}\n"
        f'exec {real_git} "$@"',
    )
    monkeypatch.setenv("PATH", f"{tools.bin}{os.pathsep}{os.environ['PATH']}")
    answer = _in_thread(lambda: LiveRunner().git_info(str(checkout), timeout=30))
    assert answer["status"] == "ok", answer
    assert len(tools.pids.read_text().split()) >= 2  # the fake git ran and left its daemon
    assert tools.survivors() == []


def test_nothing_is_started_once_envstamp_is_exiting() -> None:
    # The CLI's last sweep first closes the gate: a probe thread still running (past the
    # capture's deadline, in a state reading) cannot start a command the sweep would miss.
    script = (
        "from envstamp.runner.processes import stop_spawning, Tree\n"
        "from envstamp.runner.commands import run_command\n"
        "stop_spawning()\n"
        "print(run_command(['true'], 5.0, {})['detail'])\n"
        "try:\n"
        "    Tree(own_group=True).popen(['true'])\n"
        "except OSError as exc:\n"
        "    print('refused:', exc)\n"
    )
    done = subprocess.run(
        [PY, "-c", script], capture_output=True, text=True, timeout=RETURN_WITHIN, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("envstamp is exiting") == 2, done.stdout
    assert "refused:" in done.stdout


def test_a_timed_out_command_is_reported_and_its_whole_tree_ended(tools: Tools) -> None:
    result = LiveRunner().run([str(tools.hanger())], timeout=1.0)
    assert result.status == "timeout" and "killed" in (result.detail or "")
    assert tools.survivors() == []


def test_the_answer_comes_when_the_command_exits_not_when_its_pipe_closes(tools: Tools) -> None:
    # The grandchild keeps the command's stdout open for 880000+ seconds.
    result = _in_thread(lambda: LiveRunner().run([str(tools.forker())], timeout=30))
    assert result.status == "ok" and result.returncode == 0
    assert result.stdout.strip() == "version: 1 (abc1234)"
    assert tools.survivors() == []


def test_without_a_pidfd_the_answer_still_comes_when_the_command_exits(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # macOS, or Linux before 5.3: the wait watches the output and the process instead.
    from envstamp.runner import commands

    monkeypatch.setattr(commands, "_pidfd", lambda pid: None)
    result = _in_thread(lambda: LiveRunner().run([str(tools.forker())], timeout=30))
    assert result.status == "ok" and result.stdout.strip() == "version: 1 (abc1234)"
    result = LiveRunner().run([str(tools.hanger())], timeout=1.0)
    assert result.status == "timeout"
    assert tools.survivors() == []


# ------------------------------------------------------------- items 9, 10: envstamp run


@pytest.mark.parametrize(
    "background",
    [
        "sleep {sleep}",
        # A child that is not named "sleep" (as a background sleep is not while it is caught
        # between fork and exec on a loaded machine: it is still "sh" then).
        f"{PY} -c 'import time; time.sleep({{sleep}})'",
    ],
    ids=["sleep", "other-name"],
)
def test_run_child_returns_when_the_command_exits_and_ends_what_it_left(
    tools: Tools, capfd: pytest.CaptureFixture[str], background: str
) -> None:
    from envstamp.runner.childrun import run_child

    bg_pid = tools.bin / "bg.pid"
    command = background.format(sleep=tools._sleep())
    # $! is the background child's pid, the same before and after it execs: the report is
    # matched on that lineage, never on a process name.
    script = f"echo $$ >> {tools.pids}; {command} & echo $! > {bg_pid}; echo hi"
    child = _in_thread(lambda: run_child(["sh", "-c", script], echo=False))
    assert child.exit_code == 0 and child.signal is None
    assert child.stdout == b"hi\n"
    assert child.descendants_outlived is True
    assert f"(pid {bg_pid.read_text().strip()})" in " ".join(child.left_running)
    err = capfd.readouterr().err
    assert f"left {len(child.left_running)} process(es) running" in err
    assert tools.survivors() == []


def test_the_peak_memory_watcher_reads_often_at_first_then_backs_off() -> None:
    # VmHWM is a high-water mark: after the first second a reading every half second loses
    # at most the child's last half second, and a long benchmark is not woken at 50 Hz.
    from envstamp.runner.childrun import _HighWaterWatcher as Watcher

    assert Watcher.interval_after(0.0) == Watcher.INTERVAL <= 0.02
    assert Watcher.interval_after(Watcher.FAST_FOR - 0.01) == Watcher.INTERVAL
    assert Watcher.interval_after(Watcher.FAST_FOR) == Watcher.SLOW_INTERVAL == 0.5
    assert Watcher.interval_after(3600.0) == Watcher.SLOW_INTERVAL
    assert Watcher.FAST_FOR / Watcher.INTERVAL >= Watcher.MIN_READINGS * 10


def test_run_child_of_a_tidy_command_reports_no_descendants() -> None:
    from envstamp.runner.childrun import run_child

    child = run_child(["sh", "-c", "sleep 0 & wait; echo done"], echo=False)
    assert child.stdout == b"done\n" and child.descendants_outlived is False


def test_run_child_names_the_signal_that_ended_the_command() -> None:
    from envstamp.runner.childrun import run_child

    child = run_child(["sh", "-c", "kill -ILL $$"], echo=False)
    assert child.signal == "SIGILL" and child.exit_code == 128 + signal.SIGILL


@pytest.mark.parametrize("kind", ["forker", "escaper", "daemonizer"])
def test_envstamp_run_leaves_no_process_behind(tools: Tools, kind: str, tmp_path: Path) -> None:
    tool = getattr(tools, kind)("bench")
    log = tmp_path / "r.jsonl"
    done = envstamp_cli("run", "-q", "-o", str(log), "--", str(tool))
    assert done.returncode == 0, done.stderr
    assert "left 1 process(es) running" in done.stderr and "stopped" in done.stderr
    assert tools.survivors() == []
    # The results log says so too: the command's result carries the advice.
    result = next(json.loads(x) for x in log.read_text().splitlines() if '"result"' in x)
    outlived = [a for a in result.get("advice", []) if a["code"] == "descendants_outlived"]
    assert len(outlived) == 1, result.get("advice")
    assert "left 1 process(es) running" in outlived[0]["message"]
    assert "stopped" in outlived[0]["message"]


def test_a_tidy_run_carries_no_descendants_advice() -> None:
    from envstamp.cli.run import outlived_advice
    from envstamp.runner.childrun import run_child

    tidy = run_child(["sh", "-c", "sleep 0 & wait; echo done"], echo=False)
    assert outlived_advice([tidy, tidy]) == []
    messy = attrs.evolve(tidy, descendants_outlived=True, left_running=["sleep (pid 7)"])
    held = attrs.evolve(tidy, descendants_outlived=True)
    (advice,) = outlived_advice([tidy, messy, messy])
    assert advice.code == "descendants_outlived"
    assert "left 2 process(es) running" in advice.message and "2 of 3 runs" in advice.message
    (advice,) = outlived_advice([held])
    assert "kept its output open" in advice.message


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_signal_to_envstamp_run_stops_the_whole_tree(
    tools: Tools, tmp_path: Path, sig: int, status: int
) -> None:
    tool = tools.hanger("bench")
    # Started like a shell starts a command: SIGINT and SIGHUP at their defaults.
    proc = subprocess.Popen(
        [PY, "-m", "envstamp", "run", "-q", "-o", str(tmp_path / "r.jsonl"), "--", str(tool)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a terminal's Ctrl-C would reach the group; this is kill(1)
        preexec_fn=signals_at_their_defaults,  # noqa: PLW1509 - resets two signals, then execs
    )
    try:
        _wait_for_pids(tools, 3)  # the tool and both grandchildren are running
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=RETURN_WITHIN)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == status, err
    assert "Traceback" not in err
    # The stop is recorded (the command's result, failed) and said in one line.
    assert err.strip().splitlines()[-1].startswith(
        f"envstamp run: stopped by {signal.Signals(sig).name}: the command's result "
    ), err
    assert tools.survivors() == []


def _wait_for_pids(tools: Tools, count: int) -> None:
    stop_at = time.monotonic() + RETURN_WITHIN
    while len(tools.pids.read_text().split()) < count:
        assert time.monotonic() < stop_at, "the fake tool did not start"
        time.sleep(0.05)


# ------------------------------------------------------------ item 11: endless output


def test_capture_under_an_endlessly_printing_tool_keeps_its_memory(
    tools: Tools, tmp_path: Path
) -> None:
    tool = tools.flooder()
    out = tmp_path / "m.json"
    # The peak resident memory of the capturing process itself (VmHWM of its own address
    # space: a fork's inherited high-water mark does not count, see envstamp/runner/childrun.py).
    script = (
        "import sys\n"
        "from envstamp.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(int(hwm.split()[1]) * 1024)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [PY, "-c", script, "capture", "--no-sign", "--json", "-o", str(out),
         "--llama-cpp", str(tool), "--timeout", "1.5", "--deadline", "3"],
        capture_output=True, text=True, timeout=RETURN_WITHIN, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    peak = int(done.stdout.split()[-1])
    assert peak < 200 << 20, f"peak RSS {peak >> 20} MiB"
    assert json.loads(out.read_text())["probes"]
    assert tools.survivors() == []


def test_a_flood_is_kept_up_to_the_cap_and_recorded_as_truncated(tools: Tools) -> None:
    from envstamp.runner.answers import MAX_OUTPUT_BYTES

    result = LiveRunner().run([str(tools.flooder())], timeout=1.5)
    assert result.status == "timeout"  # it never ended on its own
    assert result.truncated is True
    assert 0 < len(result.stdout.encode()) <= MAX_OUTPUT_BYTES
    assert tools.survivors() == []


def test_a_large_but_finite_output_is_truncated_not_failed(tmp_path: Path) -> None:
    from envstamp.runner.answers import MAX_OUTPUT_BYTES

    tool = tmp_path / "big"
    tool.write_text(f"#!{PY}\nimport sys\nsys.stdout.write('x' * {MAX_OUTPUT_BYTES + 4096})\n")
    tool.chmod(0o755)
    result = LiveRunner().run([str(tool)], timeout=30)
    assert result.status == "ok" and result.returncode == 0
    assert result.truncated and len(result.stdout) == MAX_OUTPUT_BYTES
    assert "(output truncated)" in result.describe()


# ----------------------------------------------------- item 13: NaN and infinite limits


@pytest.mark.parametrize(
    "args",
    [
        ["capture", "--timeout", "nan"],
        ["capture", "--deadline", "NaN"],
        ["capture", "--deadline", "inf"],
        ["capture", "--timeout", "1e999"],
        ["check", "--timeout=-inf"],
        ["run", "--sample-hz", "nan", "--", "true"],
    ],
    ids=lambda a: " ".join(a[:3]),
)
def test_nan_and_infinite_limits_are_refused_at_parsing(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.cli import main as cli

    with pytest.raises(SystemExit) as exited:  # argparse's own exit, one line first
        cli.main(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "finite number" in err


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0.0, -1.0])
def test_capture_options_refuse_a_limit_that_is_not_a_positive_number(value: float) -> None:
    with pytest.raises(InputError, match="positive number of seconds"):
        CaptureOptions(deadline=value)
    with pytest.raises(InputError, match="positive number of seconds"):
        CaptureOptions(command_timeout=value)


# ---------------------------------------------------------------- item 14: runner state


def test_capture_leaves_the_callers_runner_as_it_was(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\necho fine\n")
    tool.chmod(0o755)
    runner = LiveRunner(command_timeout=7.0)
    options = CaptureOptions(skip=ALL_PROBES_BUT_LLAMACPP, deadline=0.2, command_timeout=0.1)
    capture(options, runner=runner)
    time.sleep(0.3)  # the capture's deadline has passed
    assert runner.deadline is None
    assert runner.command_timeout == 7.0
    answer = runner.run([str(tool)])
    assert answer.status == "ok" and answer.stdout == "fine\n", answer.detail


def test_a_recorder_on_a_runner_keeps_gpu_memory_sampling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for NVML that behaves as the real watchdog does: a call with no time left
    # gives up at once.  One GPU, 1 GiB used by this process.
    from envstamp.runner import nvml
    from envstamp.stamping.timing import Recorder

    def fake_nvml(calls: Any, timeout: float | None, cache: bool) -> dict[str, Any]:
        if timeout is not None and timeout <= 0:
            return {"status": "timeout", "detail": "NVML gave no answer within 0 s"}
        answers: list[dict[str, Any]] = []
        for call in calls:
            if call.fn == "nvmlDeviceGetCount":
                answers.append({"value": 1})
            elif call.fn == "nvmlDeviceGetMemoryInfo":
                answers.append({"value": {"total": 8 << 30, "free": 7 << 30, "used": 1 << 30}})
            elif call.fn == "nvmlDeviceGetComputeRunningProcesses":
                answers.append({"value": [{"pid": os.getpid(), "usedGpuMemory": 1 << 30}]})
            else:
                answers.append({"error": "Not Supported"})
        return {"status": "ok", "answers": answers}

    monkeypatch.setattr(nvml, "nvml_answer", fake_nvml)
    runner = LiveRunner()
    options = CaptureOptions(skip=ALL_PROBES_BUT_LLAMACPP, deadline=0.2)
    from envstamp.signing.keys import SigningKey

    with Recorder(
        tmp_path / "r.jsonl", key=SigningKey.generate(), options=options, runner=runner,
        state=False, advice=False,
    ) as rec:  # fmt: skip
        time.sleep(0.3)  # past the capture's deadline
        with rec.timer("region", memory=True):
            time.sleep(0.25)
    line = next(
        json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines() if '"result"' in x
    )
    assert "nvml" in (line["memory"]["source"] or "")
    assert line["memory"]["gpu_process_peak_mib"] == 1024
