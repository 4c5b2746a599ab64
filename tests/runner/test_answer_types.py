"""The typed runner seam: one TypedDict per operation, the same fields the replay checks, and
recordings on disk - the committed host recordings included - in the format they had."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envstamp.runner import NvmlCall, RecordingRunner, load_recording
from envstamp.runner.answer_types import BY_OP
from envstamp.runner.recorded import SHAPES, answer_problem
from envstamp.runner.streaming import StreamLimits, clock_reading, stream
from tests.benchclient.fake_server import fixed, serving, sse_events
from tests.conftest import FIXTURES, HOSTS


def _fields(op: str) -> tuple[set[str], set[str]]:
    typed = BY_OP[op]
    return set(typed.__required_keys__), set(typed.__optional_keys__)  # type: ignore[attr-defined]


def test_every_operation_has_a_type_and_a_replay_check() -> None:
    assert set(BY_OP) == set(SHAPES)


@pytest.mark.parametrize("op", sorted(SHAPES))
def test_the_replay_checks_the_fields_of_the_type(op: str) -> None:
    required, optional = SHAPES[op]
    assert _fields(op) == (set(required), set(optional))


def _fits(op: str, answer: dict[str, Any]) -> None:
    required, optional = _fields(op)
    assert required <= answer.keys(), (op, answer)
    assert answer.keys() <= required | optional, (op, sorted(answer))
    assert answer_problem(op, answer) is None, (op, answer)


def test_live_answers_are_what_their_types_say(tmp_path: Path) -> None:
    """Every operation asked of the live system, recorded: each answer holds the fields of
    its type and nothing else, and passes the replay's check."""
    (tmp_path / "f.txt").write_text("hello\n")
    runner = RecordingRunner(tmp_path / "rec")
    runner.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    runner.run(["definitely-not-a-tool-xyz"])
    runner.read_text(tmp_path / "f.txt")
    runner.read_text(tmp_path / "missing")
    runner.read_bytes(tmp_path / "f.txt", 1, 3)
    runner.list_dir(tmp_path)
    runner.stat(tmp_path / "f.txt")
    runner.stat(tmp_path / "missing")
    runner.realpath(str(tmp_path))
    runner.sha256_file(str(tmp_path / "f.txt"))
    runner.which("sh")
    runner.env("PATH")
    runner.env_names()
    runner.platform()
    runner.python_packages(["attrs", "no-such-dist-envstamp"])
    runner.registry("HKEY_LOCAL_MACHINE", r"SOFTWARE\X", "Y")
    runner.memory_status()
    runner.power_status()
    runner.http_get("http://127.0.0.1:9/")
    runner.http_get("http://example.com/")
    runner.nvml([NvmlCall("nvmlDeviceGetCount")])
    runner.git_info(str(tmp_path))
    runner.library("no-such-library")
    quick = StreamLimits(connect_s=1.0, first_byte_s=1.0, stall_s=1.0, total_s=5.0)
    with serving({("POST", "/s"): fixed(sse_events([{"content": "a"}], gap=0.0))}) as server:
        stream(runner, server.url + "/s", body=b"{}", limits=quick, tag="streamed")
    stream(runner, "http://127.0.0.1:9/", limits=quick, tag="refused")
    clock_reading(runner, "level", {"wall_s": 0.5, "started_s": [0.0, 0.1]})
    seen = set()
    for path in (tmp_path / "rec").glob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        _fits(record["op"], record["answer"])
        seen.add(record["op"])
    assert seen == set(BY_OP)


COMMITTED = sorted(p for p in HOSTS.iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", COMMITTED, ids=lambda p: p.name)
def test_committed_recordings_keep_their_format(folder: Path) -> None:
    """The recordings in the repository load as they are, and every answer has the fields
    of its operation's type and no others (the format on disk did not change)."""
    assert load_recording(folder)  # the replay's own check, field by field
    for path in folder.glob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        _fits(record["op"], record["answer"])


BENCH = sorted(p for p in (FIXTURES / "bench").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", BENCH, ids=lambda p: p.name)
def test_committed_bench_recordings_keep_their_format(folder: Path) -> None:
    """The bench recordings (http_stream and bench_clock answers of a real llama-server)
    load as they are and hold the fields of their operations' types."""
    assert load_recording(folder)
    ops = set()
    for path in folder.glob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        _fits(record["op"], record["answer"])
        ops.add(record["op"])
    assert ops == {"http_stream", "bench_clock"}
