"""Several writers on one results log (processes and threads), and kill -9 mid-write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from envstamp.manifest.serialize import to_json
from envstamp.stamping.results import load_results, verify_log
from tests.timing_support import lines_of, make_manifest, open_recorder

pytestmark = pytest.mark.slow  # subprocesses: seconds each

WORKER = """
import sys
from envstamp.manifest.serialize import manifest_from_json
from envstamp.stamping.timing import Recorder

path, manifest_path, worker, count, buffer, size = sys.argv[1:]
manifest = manifest_from_json(open(manifest_path, encoding="utf-8").read())
filler = "x" * int(size)
with Recorder(path, manifest=manifest, state=False, memory=False, advice=False,
              buffer=int(buffer), head_every=500) as rec:
    for i in range(int(count)):
        params = {"worker": int(worker)}
        if filler:
            params["filler"] = filler
        rec.record("w", metrics={"seq": float(i)}, params=params)
"""


def _spawn(
    tmp_path: Path, path: Path, worker: int, count: int, buffer: int, size: int = 0
) -> subprocess.Popen[bytes]:
    manifest_path = tmp_path / "manifest.json"
    if not manifest_path.exists():
        manifest_path.write_text(to_json(make_manifest()), encoding="utf-8")
    script = tmp_path / "worker.py"
    if not script.exists():  # rewriting it could truncate it under a worker still reading it
        script.write_text(WORKER, encoding="utf-8")
    argv = [sys.executable, str(script), str(path), str(manifest_path)]
    argv += [str(worker), str(count), str(buffer), str(size)]
    return subprocess.Popen(argv, stderr=subprocess.PIPE)


def test_processes_lose_nothing_and_interleave_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    counts = {0: 2500, 1: 2500, 2: 2000, 3: 2000}
    buffers = {0: 1, 1: 7, 2: 50, 3: 1}
    procs = [_spawn(tmp_path, path, w, counts[w], buffers[w]) for w in counts]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    for line in lines_of(path):
        json.loads(line)  # every line whole: nothing interleaved
    seen: dict[int, list[float]] = {w: [] for w in counts}
    for result in load_results(path):
        seen[result.params["worker"]].append(result.metrics["seq"])
    for worker, count in counts.items():
        assert seen[worker] == [float(i) for i in range(count)], worker
    report = verify_log(path)
    assert report.ok, report.problems
    assert report.results == sum(counts.values()) and report.manifests == 4


def test_threads_share_one_recorder(tmp_path: Path) -> None:
    path = tmp_path / "threads.jsonl"
    rec = open_recorder(path, buffer=3)

    def work(worker: int) -> None:
        for i in range(300):
            with rec.timer("t", worker=worker) as t:
                t.metrics["seq"] = float(i)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rec.close()
    loaded = load_results(path)
    assert len(loaded) == 1200
    for worker in range(4):
        mine = [r.metrics["seq"] for r in loaded if r.params["worker"] == worker]
        assert sorted(mine) == [float(i) for i in range(300)]
    assert verify_log(path).ok


def test_two_recorders_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    first, second = open_recorder(path), open_recorder(path)
    for i in range(50):
        first.record("a", metrics={"seq": float(i)})
        second.record("b", metrics={"seq": float(i)})
    second.close()
    first.close()
    report = verify_log(path)
    assert report.ok and report.results == 100 and report.heads == 4  # 2 opening, 2 final
    assert report.results_signed == 100


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
@pytest.mark.parametrize("size", [0, 1 << 20])
def test_kill_9_mid_write_leaves_earlier_lines_valid(tmp_path: Path, size: int) -> None:
    # Large lines make a write long enough for the kill to land inside it (Linux stops a
    # write between pages when a fatal signal is pending): a torn last line.
    path = tmp_path / "killed.jsonl"
    proc = _spawn(tmp_path, path, 0, 10**9, 5 if size else 20, size)
    deadline = time.monotonic() + 60
    threshold = 12 * (size + 400) + 20_000
    while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < threshold):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    data = path.read_bytes()
    report = verify_log(path)
    assert report.intact, report.problems
    assert not report.closed
    assert report.torn_last_line == (not data.endswith(b"\n"))
    survivors = load_results(path, require_signed=False)  # the killed writer's tail
    assert [r.metrics["seq"] for r in survivors] == [float(i) for i in range(len(survivors))]
    # The next writer carries on: the torn fragment (if any) is accounted for.
    with open_recorder(path) as rec:
        rec.record("after the crash", metrics={"seq": -1.0})
    after = verify_log(path)
    assert after.intact and after.closed, after.problems
    assert len(after.torn_lines) == (1 if report.torn_last_line else 0)
    # What the killed writer wrote after its last head is vouched for by nobody: unsigned.
    assert after.results_unsigned == report.results_unsigned
    assert verify_log(path, allow_open=True).ok
    last = load_results(path, require_signed=False)[-1]
    assert last.name == "after the crash" and last.signed_by
