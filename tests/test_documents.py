"""The library reads files; only the command line reads ``-`` from stdin (issue 13)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

import envstamp
from envstamp.errors import InputError
from envstamp.manifest.serialize import to_json
from tests.sign_support import sample_manifest


class _NoStdin(io.RawIOBase):
    """A stdin that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        raise AssertionError("the library read stdin")


@pytest.fixture
def no_stdin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(_NoStdin())))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_load_document_dash_is_a_file_never_stdin(no_stdin: Path) -> None:
    with pytest.raises(InputError, match="-"):
        envstamp.load_document("-")
    (no_stdin / "-").write_text(to_json(sample_manifest()))
    doc = envstamp.load_document("-")
    assert doc.kind == "manifest" and doc.source == "-"


def test_diff_of_dash_reads_the_file_named_dash(no_stdin: Path) -> None:
    with pytest.raises(InputError):
        envstamp.diff("-", "-")
    (no_stdin / "-").write_text(to_json(sample_manifest()))
    report = envstamp.diff("-", "-")
    assert report.same_identity and report.a.source == "-"


def test_the_cli_reads_dash_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.cli.main import main

    data = to_json(sample_manifest()).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["show", "-", "--json"]) == 0
    assert '"schema": "envstamp.manifest/1' in capsys.readouterr().out
