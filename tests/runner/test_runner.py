"""The runner: commands with timeouts, lenient decoding, files, record and replay."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from envstamp import runner as runner_mod
from envstamp.errors import InputError
from envstamp.runner import (
    LiveRunner,
    NvmlCall,
    RecordingRunner,
    ReplayRunner,
    decode,
    make_runner,
)
from envstamp.runner.network import parse_http_response, split_http_url

PY = sys.executable


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!{PY}\n{body}\n")
    path.chmod(0o755)
    return str(path)


# ------------------------------------------------------------------------------ commands


def test_command_output_and_exit_code(tmp_path: Path) -> None:
    tool = _script(
        tmp_path, "tool", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    )
    result = LiveRunner().run([tool])
    assert result.status == "ok"
    assert result.returncode == 3
    assert result.stdout.strip() == "out"
    assert result.stderr.strip() == "err"
    assert not result.succeeded
    assert "exited 3" in result.describe()


def test_missing_command_is_absent() -> None:
    result = LiveRunner().run(["/nonexistent/envstamp-no-such-tool"])
    assert result.status == "absent"
    assert result.returncode is None


def test_not_executable_is_permission(tmp_path: Path) -> None:
    path = tmp_path / "noexec"
    path.write_text("#!/bin/sh\necho hi\n")
    path.chmod(0o644)
    assert LiveRunner().run([str(path)]).status == "permission"


def test_invalid_utf8_never_raises(tmp_path: Path) -> None:
    tool = _script(
        tmp_path, "bin", "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe\\x00 end\\r\\n')"
    )
    result = LiveRunner().run([tool])
    assert result.status == "ok"
    assert result.stdout.startswith("ok ")
    assert "\ufffd" in result.stdout
    assert "\x00" not in result.stdout
    assert result.stdout.endswith("end\n")


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    # The child starts a grandchild that would outlive a plain kill of the child.
    tool = _script(
        tmp_path,
        "hang",
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)",
    )
    start = time.monotonic()
    result = LiveRunner().run([tool], timeout=1.0)
    elapsed = time.monotonic() - start
    assert result.status == "timeout"
    assert "killed" in (result.detail or "")
    assert elapsed < 5
    pid = int(marker.read_text())
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid), "the grandchild outlived the timeout"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_deadline_caps_the_timeout(tmp_path: Path) -> None:
    tool = _script(tmp_path, "slow", "import time; time.sleep(30)")
    live = LiveRunner(command_timeout=30)
    live.deadline = time.monotonic() + 0.5
    start = time.monotonic()
    assert live.run([tool]).status == "timeout"
    assert time.monotonic() - start < 4
    live.deadline = time.monotonic() - 1
    assert live.run([tool]).status == "timeout"


def test_child_environment_is_c_locale(tmp_path: Path) -> None:
    tool = _script(tmp_path, "env", "import os; print(os.environ.get('LC_ALL'))")
    assert LiveRunner().run([tool]).stdout.strip() == "C"


def test_cached_command_survives_a_new_process_until_the_binary_changes(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    tool = _script(
        tmp_path,
        "ver",
        f"p = {str(counter)!r}\nimport os\n"
        "n = int(open(p).read()) + 1 if os.path.exists(p) else 1\n"
        "open(p, 'w').write(str(n))\nprint('version', n)",
    )
    first = LiveRunner().run([tool], cache=True)
    runner_mod.LiveRunner().finish()
    runner_mod.reset()  # as if a new process started
    second = LiveRunner().run([tool], cache=True)
    assert first.stdout == second.stdout == "version 1\n"
    os.utime(tool, ns=(time.time_ns(), time.time_ns() + 10**9))
    third = LiveRunner().run([tool], cache=True)
    assert third.stdout == "version 2\n"


# --------------------------------------------------------------------------------- files


def test_read_text_statuses(tmp_path: Path) -> None:
    live = LiveRunner()
    good = tmp_path / "f.txt"
    good.write_bytes(b"hello \xff")
    assert live.read_text(good).text == "hello \ufffd"
    assert live.read_text(tmp_path / "missing").status == "absent"
    assert live.read_text(tmp_path).status in ("error", "permission")
    if os.geteuid() != 0:
        secret = tmp_path / "secret"
        secret.write_text("x")
        secret.chmod(0)
        assert live.read_text(secret).status == "permission"


def test_stat_list_and_bytes(tmp_path: Path) -> None:
    live = LiveRunner()
    (tmp_path / "b").write_bytes(b"0123456789")
    (tmp_path / "a").mkdir()
    assert live.list_dir(tmp_path) == ["a", "b"]
    assert live.list_dir(tmp_path / "nope") is None
    st = live.stat(tmp_path / "b")
    assert st.exists and not st.is_dir and st.size == 10
    assert live.stat(tmp_path / "a").is_dir
    assert not live.stat(tmp_path / "zz").exists
    assert live.read_bytes(tmp_path / "b", 2, 3) == b"234"
    assert live.read_bytes(tmp_path / "zz", 0, 3) is None


def test_sha256_is_cached_by_path_size_and_mtime(tmp_path: Path) -> None:
    import hashlib

    data = os.urandom(3 << 20)
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    seen: list[int] = []
    live = LiveRunner()
    assert live.sha256_file(str(path), progress=lambda done, total: seen.append(done)) == (
        hashlib.sha256(data).hexdigest()
    )
    assert seen[-1] == len(data)
    answer = runner_mod.sha256_answer(str(path), None)
    assert answer["cached"] is True


def test_write_atomic_errors_are_one_line(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    runner_mod.write_atomic(target, b"{}")
    assert target.read_bytes() == b"{}"
    with pytest.raises(InputError, match="cannot write"):
        runner_mod.write_atomic(tmp_path / "missing" / "x.json", b"{}")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


# ---------------------------------------------------------------------------- http, env


def test_http_only_on_loopback() -> None:
    assert split_http_url("http://127.0.0.1:11434/api/version") == (
        "127.0.0.1",
        11434,
        "/api/version",
    )
    assert split_http_url("http://0.0.0.0:8080") == ("127.0.0.1", 8080, "/")
    assert split_http_url("http://[::1]:1/x") == ("::1", 1, "/x")
    assert split_http_url("http://example.com/") is None
    assert split_http_url("https://127.0.0.1/") is None
    assert LiveRunner().http_get("http://10.0.0.1:11434/").status == "unsupported"


def test_http_refused_and_parsed() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert LiveRunner().http_get(f"http://127.0.0.1:{port}/").status == "absent"
    parsed = parse_http_response(b'HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n{"version":"1"}')
    assert parsed == {"status": "ok", "code": 200, "body": '{"version":"1"}'}
    assert parse_http_response(b"garbage")["status"] == "error"


def test_http_server_that_never_answers_times_out() -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        start = time.monotonic()
        result = LiveRunner().http_get(f"http://127.0.0.1:{port}/api/version", timeout=0.3)
        assert result.status == "timeout"
        assert time.monotonic() - start < 2


def test_env_names_never_carry_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVSTAMP_TEST_SECRET_TOKEN", "hunter2")
    live = LiveRunner()
    assert "ENVSTAMP_TEST_SECRET_TOKEN" in live.env_names()
    assert "hunter2" not in json.dumps(live.env_names())
    assert live.env("ENVSTAMP_TEST_SECRET_TOKEN") == "hunter2"


def test_platform_answer_has_the_basics() -> None:
    info = LiveRunner().platform()
    for key in ("system", "node", "release", "machine", "python_version", "executable"):
        assert info[key]


def test_nvml_without_a_driver_is_absent_not_an_exception() -> None:
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver; the no-driver path cannot be shown")
    result = LiveRunner().nvml([NvmlCall("nvmlDeviceGetCount")])
    assert result.status in ("absent", "error")
    assert result.detail


# ----------------------------------------------------------------------- record / replay


def test_record_then_replay_gives_the_same_answers(tmp_path: Path) -> None:
    tool = _script(tmp_path, "tool", "print('recorded output')")
    data = tmp_path / "data.txt"
    data.write_text("contents")
    rec_dir = tmp_path / "rec"
    recording = RecordingRunner(rec_dir)
    live_answers = (
        recording.run([tool, "--version"]),
        recording.read_text(data),
        recording.which("definitely-not-a-tool-xyz"),
        recording.env("PATH"),
    )
    assert len(list(rec_dir.glob("*.json"))) == 4
    replay = ReplayRunner(rec_dir)
    assert (
        replay.run([tool, "--version"]),
        replay.read_text(data),
        replay.which("definitely-not-a-tool-xyz"),
        replay.env("PATH"),
    ) == live_answers
    record = json.loads(next(rec_dir.glob("cmd-*.json")).read_text())
    assert record["op"] == "cmd" and record["key"]["argv"][1] == "--version"


def test_replay_refuses_anything_not_recorded(tmp_path: Path) -> None:
    (tmp_path / "rec").mkdir()
    replay = ReplayRunner(tmp_path / "rec")
    with pytest.raises(runner_mod.NotRecorded, match="not in the recording"):
        replay.run(["nvidia-smi"])
    with pytest.raises(runner_mod.NotRecorded):
        replay.read_text("/etc/os-release")


def test_replay_needs_a_folder_and_valid_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no recording"):
        ReplayRunner(tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text("{not json")
    with pytest.raises(InputError, match="bad recorded answer"):
        ReplayRunner(tmp_path / "bad")
    with pytest.raises(InputError, match="cannot be used together"):
        make_runner(record=tmp_path / "a", replay=tmp_path / "b")


def test_decode_is_total() -> None:
    assert decode(b"") == ""
    assert decode(bytes(range(256)))  # never raises


def test_installed_distributions_from_folder_names(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for folder in (
        "torch-2.4.0+cu124.dist-info",
        "llama_cpp_python-0.3.2.dist-info",
        "Old.Package-1.0-py3.11.egg-info",
        "broken.dist-info",
        "not_a_dist",
    ):
        (site / folder).mkdir(parents=True)
    later = tmp_path / "later"
    (later / "torch-1.0.dist-info").mkdir(parents=True)
    index = runner_mod.installed_distributions((str(site), str(later), str(tmp_path / "missing")))
    assert index == {"torch": "2.4.0+cu124", "llama-cpp-python": "0.3.2", "old-package": "1.0"}


def test_python_packages_of_this_interpreter() -> None:
    versions = LiveRunner().python_packages(["attrs", "Attrs", "no-such-dist-envstamp"])
    assert versions["attrs"] and versions["attrs"] == versions["Attrs"]
    assert versions["no-such-dist-envstamp"] is None


def test_http_get_by_name_tries_each_address_until_one_answers() -> None:
    """``localhost`` may resolve to ::1 first; the IPv4 server must still be reached."""
    import http.server
    import threading

    from envstamp.runner.network import http_answer

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"version": "1"}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        answer = http_answer(f"http://localhost:{server.server_port}/api/version", 2.0)
    finally:
        server.shutdown()
        server.server_close()
    assert answer["status"] == "ok" and answer["code"] == 200
    assert answer["body"] == '{"version": "1"}'
