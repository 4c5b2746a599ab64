"""Progress on long work wherever it happens (issue 15): hashing a large model file shows a
progress line on stderr in ``capture``, ``run --model``, ``check`` and a ``Recorder`` alike -
when stderr is a terminal, or when asked (``progress=True``), never otherwise.

Before: only ``capture`` turned it on (``progress=sys.stderr.isatty()``); ``run``, ``check``
and a ``Recorder`` hashed a multi-GB model in silence.  The terminal here is a fake one (a
stream that says it is a TTY), and the size from which progress shows is lowered to one
byte so that a small real GGUF file (tests/gguf_support) stands for a multi-GB one.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from envstamp.cli import main as cli
from envstamp.probes.context import CaptureOptions
from envstamp.probes.llm import model_file
from envstamp.probes.llm.model_file import shows_progress


class FakeTty(io.StringIO):
    """stderr as a terminal shows it: says it is a TTY, keeps what was written."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small file hashed as if it were large; no hash cache (each capture hashes again)."""
    monkeypatch.setattr(model_file, "PROGRESS_FROM_BYTES", 1)
    monkeypatch.setenv("ENVSTAMP_NO_CACHE", "1")
    path = tmp_path / "big-model.gguf"
    path.write_bytes(b"GGUF" + bytes(4096))
    return path


def _stderr(monkeypatch: pytest.MonkeyPatch, tty: bool) -> io.StringIO:
    stream = FakeTty() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


HASHING = "\rhashing big-model.gguf: 100.0% (0/0 MiB, "


@pytest.mark.parametrize("tty", [True, False])
def test_run_model_shows_progress_on_a_terminal_only(
    tty: bool, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = _stderr(monkeypatch, tty)
    out = tmp_path / "r.jsonl"
    assert cli.main(["run", "-q", "--model", str(model), "-o", str(out), "--", "true"]) == 0
    assert (HASHING in err.getvalue()) is tty, err.getvalue()
    assert "appended to" in err.getvalue()  # the run went on to its end either way


def test_check_shows_progress_on_a_terminal(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = tmp_path / "base.json"
    assert cli.main(["capture", "--no-sign", "--model", str(model), "-o", str(baseline)]) == 0
    err = _stderr(monkeypatch, True)
    cli.main(["check", str(baseline)])  # drift or not: the hashing is what is looked at
    assert HASHING in err.getvalue(), err.getvalue()


def test_a_recorder_shows_progress_on_a_terminal(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.stamping.timing import Recorder

    err = _stderr(monkeypatch, True)
    with Recorder(tmp_path / "r.jsonl", options=CaptureOptions(models=(str(model),)),
                  advice=False):
        pass
    assert HASHING in err.getvalue(), err.getvalue()
    # the meter clears its line when done: nothing of it is left on the terminal's line
    assert err.getvalue().endswith("\r")


def test_progress_as_asked_else_on_a_terminal() -> None:
    assert shows_progress(True, io.StringIO()) is True  # asked: a log file gets it too
    assert shows_progress(False, FakeTty()) is False
    assert shows_progress(None, FakeTty()) is True
    assert shows_progress(None, io.StringIO()) is False
    closed = io.StringIO()
    closed.close()
    assert shows_progress(None, closed) is False  # a closed stream is no terminal
    assert CaptureOptions().progress is None  # the default: decided by the terminal
