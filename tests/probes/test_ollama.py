"""The Ollama probe on recorded hosts and against live misbehaving servers (its parsers:
tests/parsers/test_ollama.py)."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.probes.llm import ollama
from envstamp.runner import LiveRunner, ReplayRunner
from tests.frontends_support import HOSTS

SLEEP = shutil.which("sleep") or "/bin/sleep"  # the tests' PATH holds only fake tools


def _replay(host: str) -> object:
    runner = ReplayRunner(HOSTS / host)
    try:
        return ollama.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    except ProbeFailure as failure:
        return failure


def test_host_with_server_and_bundled_libraries() -> None:
    outcome = _replay("frontends-linux-all")
    found = outcome.sections["frontends"].ollama  # type: ignore[attr-defined]
    assert outcome.status == "ok"  # type: ignore[attr-defined]
    assert (found.client_version, found.server_version) == ("0.11.10", "0.11.10")
    assert found.gpu_libraries == ["cuda_v12", "cuda_v13", "rocm", "vulkan"]
    assert [m.name for m in found.loaded_models] == ["qwen2.5:14b", "llama3.3:70b"]
    assert found.loaded_models[1].gpu_percent == 48
    assert "OLLAMA_API_KEY" not in found.settings
    assert found.settings["OLLAMA_FLASH_ATTENTION"] == "1"


def test_recordings_never_hold_secret_values() -> None:
    for path in HOSTS.glob("frontends-*/*.json"):
        assert "do-not-record" not in path.read_text(encoding="utf-8"), path.name


def test_host_windows_listening_everywhere() -> None:
    found = _replay("frontends-windows").sections["frontends"].ollama  # type: ignore[attr-defined]
    assert found.host == "http://127.0.0.1:11500"
    assert found.server_version == "0.12.3"
    assert found.gpu_libraries == ["cuda_v12", "cuda_v13", "rocm"]


def test_host_half_installed_remote_host_not_contacted() -> None:
    outcome = _replay("frontends-half-installed")
    found = outcome.sections["frontends"].ollama  # type: ignore[attr-defined]
    assert found.client_version == "0.4.7"
    assert found.server_version is None
    assert "not on loopback" in (outcome.detail or "")  # type: ignore[attr-defined]
    assert not list((HOSTS / "frontends-half-installed").glob("http-*"))


def test_host_macos_server_not_running() -> None:
    outcome = _replay("frontends-macos")
    found = outcome.sections["frontends"].ollama  # type: ignore[attr-defined]
    assert outcome.status == "ok"  # type: ignore[attr-defined]
    assert (found.client_version, found.server_version) == ("0.6.5", None)
    assert "connection refused" in (outcome.detail or "")  # type: ignore[attr-defined]


def test_host_absent() -> None:
    failure = _replay("frontends-none")
    assert isinstance(failure, ProbeFailure)
    assert failure.status == "absent"


def test_host_misbehaving_is_timeout_not_absent() -> None:
    outcome = _replay("frontends-misbehaving")
    assert outcome.status == "timeout"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- live misbehaviour


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, never listening)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def _script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _live(monkeypatch: pytest.MonkeyPatch, path: Path, host: str, timeout: float = 0.5) -> object:
    monkeypatch.setenv("PATH", str(path))
    monkeypatch.setenv("OLLAMA_HOST", host)
    runner = LiveRunner(command_timeout=timeout)
    try:
        return ollama.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    except ProbeFailure as failure:
        return failure


@pytest.mark.skipif(os.name != "posix", reason="fake executables are shell scripts")
def test_silent_server_gives_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, silent_server: int
) -> None:
    started = time.monotonic()
    failure = _live(monkeypatch, tmp_path, f"127.0.0.1:{silent_server}")
    assert isinstance(failure, ProbeFailure)
    assert failure.status == "timeout"
    assert time.monotonic() - started < 10  # gave up; it did not wait forever


@pytest.mark.skipif(os.name != "posix", reason="fake executables are shell scripts")
def test_hanging_binary_is_killed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, closed_port: int
) -> None:
    pid_file = tmp_path / "pid"
    _script(tmp_path, "ollama", f'echo $$ > "{pid_file}"\nexec {SLEEP} 30')
    outcome = _live(monkeypatch, tmp_path, f"127.0.0.1:{closed_port}", timeout=0.5)
    assert outcome.status == "timeout"  # type: ignore[attr-defined]
    assert outcome.sections["frontends"].ollama.client_version is None  # type: ignore[attr-defined]
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


FAKE_ANSWERS: dict[str, object] = {
    "/api/version": {"version": "0.7.1"},
    "/api/ps": {"models": [{"name": "llama3.2:3b", "size": 3_400_000_000, "size_vram": 0}]},
}


class _FakeOllama(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(FAKE_ANSWERS.get(self.path, {})).encode()
        self.send_response(200 if self.path in FAKE_ANSWERS else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.skipif(os.name != "posix", reason="fake executables are shell scripts")
def test_live_server_and_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen = tmp_path / "host-seen"
    _script(
        tmp_path,
        "ollama",
        f'echo "$OLLAMA_HOST" > "{seen}"\n'
        'echo "Warning: could not connect to a running Ollama instance" >&2\n'
        'echo "Warning: client version is 0.7.0" >&2',
    )
    try:
        outcome = _live(monkeypatch, tmp_path, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
    found = outcome.sections["frontends"].ollama  # type: ignore[attr-defined]
    assert (found.server_version, found.client_version) == ("0.7.1", "0.7.0")
    assert found.loaded_models[0].processor == "100% CPU"
    # The client is pointed away from every server: it reports only its own version.
    assert seen.read_text().strip() == ollama.NO_SERVER


def test_server_without_binary_docker_style(tmp_path: Path) -> None:
    """Ollama in a container publishing its port: the API alone describes it."""
    from tests.frontends_support import SpecRunner, http

    spec = {
        "platform": {"system": "Linux", "home": "/home/ci"},
        "env": {"OLLAMA_NUM_PARALLEL": "2"},
        "http": {
            "http://127.0.0.1:11434/api/version": http({"version": "0.12.1"}),
            "http://127.0.0.1:11434/api/ps": http("not json"),
        },
    }
    runner = SpecRunner(tmp_path / "rec", spec)
    outcome = ollama.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    found = outcome.sections["frontends"].ollama
    assert outcome.status == "ok"
    assert (found.server_version, found.client_version) == ("0.12.1", None)
    assert found.loaded_models == []
    assert "/api/ps" in (outcome.detail or "")
    assert found.settings == {"OLLAMA_NUM_PARALLEL": "2"}
