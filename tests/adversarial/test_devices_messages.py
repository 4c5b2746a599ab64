"""Paths that name the wrong kind of thing (issue 12, item 15; review gap 15): each is a
one-line error (exit 2) that names the path and says what it is and what was expected -
never "a key already exists" for a FIFO, "File exists" for a file given as a folder, or
"command not found" for a file that is there but cannot be run.  Nothing is written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from envstamp.cli.main import main

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="FIFOs, links and execute bits are POSIX"
)


def _one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err, err
    for word in words:
        assert word in err, err
    return err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A key folder of the test's own (keygen and capture sign with the default key)."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / ".config"))
    monkeypatch.chdir(tmp_path)
    return folder


# -------------------------------------------------------------------------------- keygen


def test_keygen_onto_a_fifo_says_it_is_a_fifo(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "ofifo"
    os.mkfifo(fifo)
    for force in ([], ["--force"]):
        assert main(["keygen", "-o", str(fifo), *force]) == 2
        err = _one_line_error(capsys, str(fifo), "is a FIFO", "private key file")
        assert "already exists" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "ofifo"]


def test_keygen_onto_a_dangling_link_names_where_it_points(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "dlink"
    link.symlink_to(tmp_path / "nowhere" / "x.pem")
    assert main(["keygen", "-o", str(link)]) == 2
    err = _one_line_error(capsys, str(link), "link to", "does not exist")
    assert "already exists" not in err
    assert not (tmp_path / "nowhere").exists()


def test_keygen_onto_a_file_that_is_not_a_key_says_so(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    assert main(["keygen", "-o", str(notes)]) == 2
    err = _one_line_error(capsys, str(notes), "not a key", "--force")
    assert "a key already exists" not in err
    assert notes.read_text() == "my notes\n"
    # A key there is still "a key already exists".
    key = tmp_path / "k.pem"
    assert main(["keygen", "-o", str(key)]) == 0
    capsys.readouterr()
    assert main(["keygen", "-o", str(key)]) == 2
    _one_line_error(capsys, f"a key already exists at {key}")


# ------------------------------------------------------------------------- capture --raw


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_capture_raw_onto_something_that_is_not_a_folder_says_it_must_be_one(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    raw = tmp_path / "afile"
    if kind == "file":
        raw.write_text("keep me\n")
    else:
        raw.symlink_to(tmp_path / "nowhere")
    out = tmp_path / "m.json"
    assert main(["capture", "--no-sign", "--raw", str(raw), "-o", str(out)]) == 2
    err = _one_line_error(capsys, str(raw), "--raw", "folder")
    assert "File exists" not in err
    assert not out.exists() and not (tmp_path / "nowhere").exists()
    if kind == "file":
        assert raw.read_text() == "keep me\n"


def test_capture_raw_into_a_folder_still_records(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "new" / "rec"
    args = ["capture", "--no-sign", "--raw", str(raw), "-o", str(tmp_path / "m.json")]
    assert main([*args, "--deadline", "30"]) == 0
    assert any(raw.glob("*.json"))


# ---------------------------------------------------------------------------- run -- CMD


def test_run_of_a_file_that_is_not_executable_says_so(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text("{}\n")
    out = tmp_path / "r.jsonl"
    assert main(["run", "-o", str(out), "--", "./plain.json"]) == 2
    err = _one_line_error(capsys, "./plain.json", "not executable", "chmod +x", "interpreter")
    assert "command not found" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        ("folder", ("./thing", "is a folder")),
        ("nothing", ("./thing", "no such file")),
        ("dangling link", ("./thing", "link to", "does not exist")),
    ],
)
def test_run_of_a_path_that_is_not_a_program_says_what_it_is(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: str,
    words: tuple[str, ...],
) -> None:
    thing = tmp_path / "thing"
    if make == "folder":
        thing.mkdir()
    elif make == "dangling link":
        thing.symlink_to(tmp_path / "nowhere")
    out = tmp_path / "r.jsonl"
    assert main(["run", "-o", str(out), "--", "./thing"]) == 2
    err = _one_line_error(capsys, *words)
    assert "command not found" not in err
    assert not out.exists()


def test_run_of_a_name_not_on_path_mentions_the_file_of_that_name_here(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bench.sh").write_text("#!/bin/sh\necho hi\n")
    assert main(["run", "-o", str(tmp_path / "r.jsonl"), "--", "bench.sh"]) == 2
    _one_line_error(capsys, "bench.sh", "not found on PATH", "./bench.sh")
    assert main(["run", "-o", str(tmp_path / "r.jsonl"), "--", "no-such-benchmark"]) == 2
    _one_line_error(capsys, "command not found: no-such-benchmark")
