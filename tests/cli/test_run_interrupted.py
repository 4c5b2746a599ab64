"""``envstamp run`` stopped by a signal (Ctrl-C, or TERM/HUP from a supervisor).

A llama-server run normally ends that way, and a llama-bench run may.  What completed before
the stop is recorded as ordinary results; the command's own result is failed, ended by the
signal; the log is closed with its signed head; envstamp exits 128+N with one line saying
what was recorded; nothing the command started keeps running.

The fake tools here are hand-made Python scripts, each printing the text of a real llama.cpp
recording (tests/fixtures/llamacpp-real/, see the README there) - all of it, or cut inside a
line where the test is about a line the stop cut short - then waiting to be stopped, as a
server waits for requests.  Every test drives a real ``envstamp run`` subprocess and sends
the signal as a terminal (to the process group) or a supervisor (to envstamp alone) would.
No assertion is about wall time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envstamp.cli.run import complete_reports
from envstamp.parsers.llama_bench import parse_cut_json, parse_llama_bench
from envstamp.parsers.llama_server import parse_server_log_timings
from envstamp.stamping.results import load_results, verify_log
from tests.adversarial.test_processes import signals_at_their_defaults

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="POSIX signals and /proc to find survivors"
)

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real" / "0.5.0-dev-0c1e57098"
SERVER_LOG = (REAL / "server.log").read_text(encoding="utf-8")
BENCH_MD = (REAL / "bench.md").read_text(encoding="utf-8")
BENCH_JSON = (REAL / "bench.json").read_text(encoding="utf-8")
RETURN_WITHIN = 60  # seconds: "it returned" on a loaded machine, never a measurement
VERSION = "version: 0.5.0-dev (build 0, commit 0c1e57098)\nbuilt with GNU 12.2.0 for Linux x86_64\n"

# Run with -m: prints HEAD to STREAM, notes its pid in READY, then waits.  On SIGINT, SIGTERM
# or SIGHUP it prints TAIL and exits 0, as llama-server does (its recording says "stopped
# with SIGINT (exit 0)"); with GRACEFUL false it ignores them (a tool that hangs on exit).
FAKE = """#!{python}
import os, signal, sys, time
if "-m" not in sys.argv[1:]:  # the capture's --version and --list-devices
    sys.stderr.write({version!r} if "--version" in sys.argv else "Available devices:\\n")
    sys.exit(0)
stream = getattr(sys, {stream!r})
def stop(signum, frame):
    stream.write({tail!r})
    stream.flush()
    sys.exit(0)
for name in ("SIGINT", "SIGTERM", "SIGHUP"):
    signal.signal(getattr(signal, name), stop if {graceful!r} else signal.SIG_IGN)
stream.write({head!r})
stream.flush()
with open({ready!r}, "w") as handle:
    handle.write(str(os.getpid()))
while True:
    time.sleep(60)
"""


class Fake:
    """One fake tool in a folder of its own."""

    def __init__(self, root: Path, name: str, head: str, *, tail: str = "",
                 stream: str = "stderr", graceful: bool = True) -> None:
        self.root = root
        self.ready = root / f"{name}.ready"
        self.path = root / "bin" / name
        self.path.parent.mkdir(exist_ok=True)
        self.path.write_text(FAKE.format(python=sys.executable, version=VERSION, head=head,
                                         tail=tail, stream=stream, graceful=graceful,
                                         ready=str(self.ready)), encoding="utf-8")
        self.path.chmod(0o755)

    def pid(self) -> int | None:
        text = self.ready.read_text() if self.ready.exists() else ""
        return int(text) if text.isdigit() else None


def server_log_until_exit() -> tuple[str, str]:
    """The real log up to its last request, and its last words (printed on the signal)."""
    at = SERVER_LOG.index("0.00.233.358 I srv    operator(): operator(): cleaning up")
    return SERVER_LOG[:at], SERVER_LOG[at:]


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:  # never leave a test's processes behind, even when it fails
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)


def run_and_stop(
    started: list[subprocess.Popen[str]], fake: Fake, sig: int, *args: str,
    group: bool = False,
) -> tuple[int, str, str]:
    """``envstamp run -q -o r.jsonl ARGS -- fake``; once the fake has printed, ``sig`` to
    envstamp alone (kill(1), a supervisor) or to its process group (a terminal's Ctrl-C).
    Returns (status, stderr, the last line of stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "envstamp", "run", "-q", "-o", "r.jsonl", *args, "--",
         str(fake.path), "-m", "tiny.gguf"],
        cwd=fake.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # a group of its own, as a shell's job is
        preexec_fn=signals_at_their_defaults,  # noqa: PLW1509 - resets two signals, then execs
    )
    started.append(proc)
    stop_at = time.monotonic() + RETURN_WITHIN
    while fake.pid() is None:
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < stop_at, "the fake tool did not start"
        time.sleep(0.05)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=RETURN_WITHIN)
    assert "Traceback" not in err and "internal error" not in err, err
    return proc.returncode, err, err.strip().splitlines()[-1]


def assert_gone(pid: int | None) -> None:
    assert pid is not None
    stop_at = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists():
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        if state == "Z":
            break
        assert time.monotonic() < stop_at, f"the fake tool {pid} still runs"
        time.sleep(0.05)


def assert_closed_and_verified(log: Path) -> None:
    report = verify_log(log)
    assert report.ok, report
    done = subprocess.run([sys.executable, "-m", "envstamp", "verify", str(log)],
                          capture_output=True, text=True, timeout=RETURN_WITHIN, check=False)
    assert done.returncode == 0, done.stdout + done.stderr  # closed: no --allow-open needed


# --------------------------------------------------------------------------- llama-server


@pytest.mark.parametrize(
    ("sig", "group", "status"),
    [
        (signal.SIGINT, True, 130),  # Ctrl-C in a terminal: the server gets it too
        (signal.SIGTERM, False, 143),  # a supervisor stops envstamp
    ],
)
def test_a_stopped_server_keeps_the_requests_it_completed(
    tmp_path: Path, started: list[subprocess.Popen[str]], sig: int, group: bool, status: int
) -> None:
    head, tail = server_log_until_exit()
    fake = Fake(tmp_path, "llama-server", head, tail=tail)
    code, err, last = run_and_stop(started, fake, sig, group=group)
    name = signal.Signals(sig).name
    assert code == status, err
    assert last.startswith(f"envstamp run: stopped by {name}: 4 results completed before "
                           "the stop and the command's result (failed: stopped) appended to "
                           "r.jsonl"), err
    log = tmp_path / "r.jsonl"
    assert_closed_and_verified(log)
    everything = load_results(log, include_failed=True)
    requests, (wrapper,) = everything[:-1], everything[-1:]
    # The four requests the real log reports, as it printed them, ok.
    printed = parse_server_log_timings(head)
    assert [r.origin for r in requests] == ["run:server"] * 4
    assert [r.params["request"] for r in requests] == [1, 2, 3, 4]
    assert [r.metrics["tokens_per_s"] for r in requests] == [
        t.predicted_per_second for t in printed] == [6635.07, 4475.70, 729.32, 4329.00]
    assert [r.wall_s for r in requests] == [
        [pytest.approx(s)] for s in (0.00164, 0.00569, 0.01158, 0.00225)]
    assert all(not r.failed and r.exit_code is None and r.exit_signal is None
               for r in requests)
    # The command's own result: stopped by the signal, so failed; its time is no speed.
    assert wrapper.origin == "run" and wrapper.name == "llama-server"
    assert (wrapper.failed, wrapper.exit_signal, wrapper.exit_code) == (True, name, status)
    assert load_results(log) == requests  # what a reader of speeds gets
    assert_gone(fake.pid())


def test_a_server_that_ignores_the_signal_is_killed_and_its_requests_kept(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    head, _ = server_log_until_exit()
    fake = Fake(tmp_path, "llama-server", head, graceful=False)
    code, err, last = run_and_stop(started, fake, signal.SIGHUP)
    assert code == 129, err
    assert "stopped by SIGHUP: 4 results completed before the stop" in last, err
    results = load_results(tmp_path / "r.jsonl", include_failed=True)
    assert [r.failed for r in results] == [False] * 4 + [True]
    assert results[-1].exit_signal == "SIGHUP"  # why it ended, not the SIGKILL that did it
    assert_gone(fake.pid())


def test_a_report_cut_by_the_stop_is_not_a_request(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    head, _ = server_log_until_exit()
    # A fifth request's report whose total line the stop never let out.
    cut = "".join(line for line in head.splitlines(keepends=True)
                  if "task 27 |       total time" not in line
                  and "task 27 |    graphs reused" not in line
                  and "task 27 | stop processing" not in line)
    fake = Fake(tmp_path, "llama-server", cut)
    code, err, last = run_and_stop(started, fake, signal.SIGTERM)
    assert code == 143, err
    assert "stopped by SIGTERM: 3 results completed before the stop" in last, err
    results = load_results(tmp_path / "r.jsonl")
    assert [r.params["request"] for r in results] == [1, 2, 3]


def test_stopped_during_a_warm_up_nothing_is_measured(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    head, tail = server_log_until_exit()
    fake = Fake(tmp_path, "llama-server", head, tail=tail)
    code, err, last = run_and_stop(started, fake, signal.SIGINT, "--warmup", "1", group=True)
    assert code == 130, err
    assert last == ("envstamp run: stopped by SIGINT before a timed run: nothing measured, "
                    "no result appended to r.jsonl"), err
    assert load_results(tmp_path / "r.jsonl", include_failed=True) == []
    assert_closed_and_verified(tmp_path / "r.jsonl")


# ---------------------------------------------------------------------------- llama-bench


def test_a_stopped_llama_bench_keeps_the_tests_it_printed_whole(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    (tg8,) = [line for line in BENCH_MD.splitlines(keepends=True) if " tg8 |" in line]
    # The stop came while llama-bench wrote the tg8 line: "... |   10481.84 ± 83" (cut).
    head = BENCH_MD[: BENCH_MD.index(tg8)] + tg8[: tg8.index("±") + 4]
    fake = Fake(tmp_path, "llama-bench", head, stream="stdout")
    code, err, last = run_and_stop(started, fake, signal.SIGINT, group=True)
    assert code == 130, err
    assert "stopped by SIGINT: 1 result completed before the stop" in last, err
    test, wrapper = load_results(tmp_path / "r.jsonl", include_failed=True)
    assert (test.origin, test.name, test.failed) == ("run:llama-bench", "pp16", False)
    series = test.summary["tokens_per_s"]
    assert (series.mean, series.stddev, series.n) == (55252.96, 15402.17, 5)  # llama-bench -r
    assert (wrapper.name, wrapper.failed, wrapper.exit_signal) == ("llama-bench", True, "SIGINT")
    assert_gone(fake.pid())


def test_a_stopped_llama_bench_json_keeps_its_whole_objects(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    second = BENCH_JSON.index("  {", BENCH_JSON.index("  },"))
    head = BENCH_JSON[: second + 200]  # the tg8 object cut inside
    fake = Fake(tmp_path, "llama-bench", head, stream="stdout")
    code, err, _ = run_and_stop(started, fake, signal.SIGTERM, "--name", "bench")
    assert code == 143, err
    test, wrapper = load_results(tmp_path / "r.jsonl", include_failed=True)
    assert (test.name, test.failed) == ("pp16", False)
    assert test.metric_samples["tokens_per_s"] == [49858.8, 64915.3, 67197.8]
    assert (wrapper.name, wrapper.failed, wrapper.exit_code) == ("bench", True, 143)


# ------------------------------------------------------------------------ pure functions


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(BENCH_JSON)))
@example(1133).via("the text ends just before the first object's closing brace")
@example(1134).via("the text ends with it")
def test_a_cut_json_array_gives_exactly_its_whole_objects(cut: int) -> None:
    text = BENCH_JSON[:cut]
    whole = json.loads(BENCH_JSON)
    # An object is whole once its closing brace was printed.
    ends = [i + 4 for i in range(len(BENCH_JSON)) if BENCH_JSON.startswith("\n  }", i)]
    expected = [r["test_time"] for r, end in zip(whole, ends, strict=True) if end <= cut]
    assert [row.test_time for row in parse_cut_json(text)] == expected


def test_a_cut_json_array_reads_like_the_whole_one() -> None:
    rows, _ = parse_llama_bench(BENCH_JSON)
    assert parse_cut_json(BENCH_JSON.rstrip().removesuffix("]")) == rows
    assert parse_cut_json("no json here") == []


def test_only_a_last_report_without_its_total_is_dropped() -> None:
    timings = parse_server_log_timings(SERVER_LOG)
    assert complete_reports(timings) == timings
    timings[-1].total_ms = None
    assert complete_reports(timings) == timings[:-1]
    # A log whose reports carry no total at all (nothing tells a cut one): all kept.
    for timing in timings:
        timing.total_ms = None
    assert complete_reports(timings) == timings
