"""Devices and FIFOs as envstamp's inputs and outputs (issue 12, items 11 and 12).

A path may name something that is not a regular file: a character device (``/dev/null``,
``/dev/zero``), a FIFO, a socket, a symbolic link to any of these.  Reading one may never end
(a FIFO without a writer, /dev/zero); renaming a file over one replaces the node itself (as
root, ``capture -o /dev/null`` once left a machine with a regular file as /dev/null).

The real /dev/null is never written by these tests: a FIFO made with ``mkfifo`` stands in, and
a character device node is made in the test's own folder (``mknod``, as root only) or, where
that is not allowed, the function that decides is asked instead.  Every read that could hang
runs on a thread with a generous limit, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envstamp.errors import InputError
from envstamp.runner import files, hashing
from envstamp.runner.base import ReplayRunner, load_recording

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="FIFOs, device nodes and sockets are POSIX files"
)

PY = sys.executable
RETURN_WITHIN = 60  # seconds: "it returned" on a loaded machine, never a measurement


def _in_thread(fn: Any, timeout: float = RETURN_WITHIN) -> Any:
    """fn() on a thread; fails (instead of hanging the suite) if it does not return."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(("value", fn()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box.append(("raised", exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert box, f"did not return within {timeout} s"
    kind, value = box[0]
    if kind == "raised":
        raise value
    return value


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    yield path
    _unblock(path)  # a regression may have left a thread waiting on it


def _unblock(path: Path) -> None:
    """Open both ends once, so a thread stuck opening the FIFO goes on."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


@pytest.fixture
def char_device(tmp_path: Path) -> Path:
    """A null device node of our own (root only): what /dev/null is, where harm is none."""
    path = tmp_path / "null"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc}); the decision is tested alone")
    return path


def _is_char_device(path: Path) -> bool:
    return stat.S_ISCHR(os.lstat(path).st_mode)


def envstamp_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "envstamp", *args],
        capture_output=True, text=True, timeout=RETURN_WITHIN, check=False,
    )  # fmt: skip


class FifoReader:
    """Reads a FIFO to its end on a thread, as ``cat fifo`` would."""

    def __init__(self, path: Path) -> None:
        self.data = b""
        self.thread = threading.Thread(target=self._read, args=(path,), daemon=True)
        self.thread.start()

    def _read(self, path: Path) -> None:
        with path.open("rb") as handle:
            self.data = handle.read()

    def result(self) -> bytes:
        self.thread.join(RETURN_WITHIN)
        assert not self.thread.is_alive(), "the writer never closed the FIFO"
        return self.data


# ------------------------------------------------------------------------ outputs (-o)


def test_capture_o_onto_a_fifo_writes_through_and_leaves_the_fifo(fifo: Path) -> None:
    reader = FifoReader(fifo)
    done = envstamp_cli("capture", "--no-sign", "--json", "-o", str(fifo), "--deadline", "2")
    assert done.returncode == 0, done.stderr
    assert json.loads(reader.result())["probes"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in fifo.parent.iterdir()] == [fifo.name]  # no temporary left


def test_capture_o_onto_a_character_device_leaves_it_a_device(char_device: Path) -> None:
    done = envstamp_cli("capture", "--no-sign", "--json", "-o", str(char_device))
    assert done.returncode == 0, done.stderr
    assert _is_char_device(char_device)
    assert [p.name for p in char_device.parent.iterdir()] == [char_device.name]


def test_write_atomic_writes_through_a_character_device(char_device: Path) -> None:
    files.write_atomic(char_device, b"{}\n")
    assert _is_char_device(char_device)


def test_a_character_device_is_written_through_never_renamed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without mknod: the decision itself, on what /dev/null is, with its writing replaced.
    assert files._existing_kind(Path("/dev/null")) == "char device"
    through: list[Path] = []
    monkeypatch.setattr(files, "_existing_kind", lambda path: "char device")
    monkeypatch.setattr(files, "_write_through", lambda path, data: through.append(path))

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a device must never be replaced by a renamed file")

    monkeypatch.setattr(files, "_replace_regular", never)
    files.write_atomic(tmp_path / "dev-null-stand-in", b"{}\n")
    assert through == [tmp_path / "dev-null-stand-in"]


def test_o_onto_a_socket_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(InputError, match="it is a socket"):
            files.write_atomic(path, b"x")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()


def test_o_through_a_symlink_keeps_the_link_and_replaces_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    files.write_atomic(link, b"new")
    assert link.is_symlink() and target.read_text() == "new"


def test_o_through_a_symlink_to_a_fifo_writes_through(fifo: Path) -> None:
    link = fifo.parent / "stdout-like"
    link.symlink_to(fifo)
    reader = FifoReader(fifo)
    _in_thread(lambda: files.write_atomic(link, b"through\n"))
    assert reader.result() == b"through\n"
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_keygen_force_never_replaces_a_device_node(char_device: Path) -> None:
    done = envstamp_cli("keygen", "-o", str(char_device), "--force")
    assert done.returncode == 2
    assert "character device" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert _is_char_device(char_device)


def test_refuse_special_says_what_the_path_is(fifo: Path) -> None:
    with pytest.raises(InputError, match="FIFO"):
        files.refuse_special(fifo)
    files.refuse_special(fifo.parent / "nothing-yet")  # nothing there: fine


# ------------------------------------------------------------------- inputs (--model)


@pytest.mark.parametrize("given", ["fifo", "/dev/zero"])
def test_capture_model_on_a_fifo_or_dev_zero_returns_and_says_what_it_is(
    fifo: Path, given: str
) -> None:
    path = str(fifo) if given == "fifo" else given
    done = envstamp_cli(
        "capture", "--no-sign", "--json", "--model", path, "--deadline", "2", "--timeout", "1"
    )
    assert done.returncode == 0, done.stderr
    models = next(p for p in json.loads(done.stdout)["probes"] if p["name"] == "models")
    assert models["status"] == "error"
    words = "FIFO" if given == "fifo" else "character device"
    assert f"{path}: is a" in models["detail"] and words in models["detail"]


def test_sha256_and_reads_of_a_fifo_do_not_wait_for_a_writer(fifo: Path) -> None:
    answer = _in_thread(lambda: hashing.sha256_answer(str(fifo), None))
    assert answer["status"] == "error" and "FIFO" in answer["detail"]
    answer = _in_thread(lambda: files.read_text_answer(str(fifo), 1 << 20))
    assert answer["status"] == "error" and "FIFO" in answer["detail"]
    answer = _in_thread(lambda: files.read_bytes_answer(str(fifo), 0, 4))
    assert answer["status"] == "error"


def test_sha256_of_dev_zero_is_refused_not_streamed() -> None:
    answer = _in_thread(lambda: hashing.sha256_answer("/dev/zero", None))
    assert answer["status"] == "error" and "character device" in answer["detail"]


def test_stat_says_what_kind_of_file_a_path_is(fifo: Path) -> None:
    assert files.stat_answer(str(fifo))["kind"] == "fifo"
    assert files.stat_answer("/dev/null")["kind"] == "char device"
    assert files.stat_answer(str(fifo.parent))["kind"] == "dir"


# ------------------------------------------------------------------ inputs (--replay)


def _recording(tmp_path: Path) -> Path:
    """A one-answer recording, as RecordingRunner writes it."""
    folder = tmp_path / "rec"
    folder.mkdir()
    record = {"op": "env", "key": {"name": "HOME"}, "answer": {"value": "/home/u"}}
    (folder / "env-HOME-0123456789.json").write_text(json.dumps(record))
    return folder


def test_replay_folder_with_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    folder = _recording(tmp_path)
    os.mkfifo(folder / "cmd-planted-0000000000.json")
    try:
        with pytest.raises(InputError, match="FIFO"):
            _in_thread(lambda: load_recording(folder))
    finally:
        _unblock(folder / "cmd-planted-0000000000.json")


def test_replay_folder_with_a_link_to_dev_zero_is_refused_without_reading(
    tmp_path: Path,
) -> None:
    folder = _recording(tmp_path)
    (folder / "file-zero-0000000000.json").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="character device"):
        _in_thread(lambda: ReplayRunner(folder))


def test_replay_answer_files_are_size_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.runner import base

    folder = _recording(tmp_path)
    monkeypatch.setattr(base, "MAX_RECORDED_ANSWER_BYTES", 64)
    with pytest.raises(InputError, match="larger than"):
        load_recording(folder)


def test_capture_replay_of_a_planted_folder_exits_2_in_one_line(tmp_path: Path) -> None:
    folder = _recording(tmp_path)
    (folder / "file-zero-0000000000.json").symlink_to("/dev/zero")
    done = envstamp_cli("capture", "--no-sign", "--json", "--replay", str(folder))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "character device" in done.stderr


def test_a_link_to_a_regular_answer_file_still_replays(tmp_path: Path) -> None:
    folder = _recording(tmp_path)
    elsewhere = tmp_path / "kept.json"
    record = {"op": "env", "key": {"name": "USER"}, "answer": {"value": "u"}}
    elsewhere.write_text(json.dumps(record))
    (folder / "env-USER-0123456789.json").symlink_to(elsewhere)
    assert ReplayRunner(folder).env("USER") == "u"
