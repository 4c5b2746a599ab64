"""The runner's plain calls where tricks were retired (issue 13): ``shutil.which`` for PATH
look-ups, ``socket.create_connection`` for loopback HTTP.  What the tricks promised still
holds: the same answers, statuses and details."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from envstamp.runner import LiveRunner, RecordingRunner, ReplayRunner
from envstamp.runner.network import http_answer


def _tool(folder: Path, name: str, mode: int = 0o755) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\necho hi\n")
    path.chmod(mode)
    return path


@pytest.mark.skipif(os.name == "nt", reason="POSIX executable bits")
def test_which_finds_the_first_executable_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tool(tmp_path / "a", "envstamp-tool", mode=0o644)  # not executable: passed over
    (tmp_path / "b" / "envstamp-tool").mkdir(parents=True)  # a folder: passed over
    wanted = _tool(tmp_path / "c", "envstamp-tool")
    _tool(tmp_path / "d", "envstamp-tool")  # later on PATH: shadowed
    path = os.pathsep.join(str(tmp_path / part) for part in "abcd")
    monkeypatch.setenv("PATH", path)
    assert LiveRunner().which("envstamp-tool") == str(wanted)
    assert LiveRunner().which("envstamp-tool") == shutil.which("envstamp-tool")
    assert LiveRunner().which("envstamp-no-such-tool") is None


def test_which_is_recorded_and_replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = _tool(tmp_path / "bin", "envstamp-tool")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert RecordingRunner(tmp_path / "rec").which("envstamp-tool") == str(wanted)
    monkeypatch.setenv("PATH", "")
    assert ReplayRunner(tmp_path / "rec").which("envstamp-tool") == str(wanted)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_http_to_a_port_nobody_listens_on_is_absent() -> None:
    answer = http_answer(f"http://127.0.0.1:{_closed_port()}/api/version", 1.0)
    assert answer == {"status": "absent", "detail": "connection refused (not running)"}


def test_http_by_name_to_a_port_nobody_listens_on_is_absent() -> None:
    """``localhost`` may name ::1 and 127.0.0.1: refused on each is still "absent"."""
    answer = http_answer(f"http://localhost:{_closed_port()}/", 1.0)
    assert answer["status"] == "absent"


def test_http_server_that_never_answers_times_out() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)  # the kernel accepts the connection; nobody ever answers
        port = server.getsockname()[1]
        answer = http_answer(f"http://127.0.0.1:{port}/api/version", 0.2)
    assert answer == {"status": "timeout", "detail": "no answer within 0.2 s"}


def test_http_answer_is_read_whole() -> None:
    body = b'{"version":"0.5.1"}'
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def answer_once() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: json\r\n\r\n" + body)

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        answer = http_answer(f"http://127.0.0.1:{port}/api/version", 2.0)
        thread.join(2.0)
    assert answer == {"status": "ok", "code": 200, "body": body.decode()}
