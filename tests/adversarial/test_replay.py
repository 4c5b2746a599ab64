"""Malformed recordings (issue 12, item 15; review gap 13).

A ``--replay`` folder is input like any other file: someone hands it over with a bug report,
or edits one answer to try a case.  Every recorded answer is checked field by field when the
recording is loaded - the types each field must have, the known statuses, finite numbers -
and a malformed one is refused in one line naming the file and the field, instead of a
TypeError or KeyError turning up later inside a probe's detail in the manifest.

The recordings altered here are copies of a real host recording from the fixtures (one
answer file changed per case).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from envstamp.cli.main import main
from envstamp.errors import InputError
from envstamp.runner.base import ReplayRunner, load_recording

FIXTURES = Path(__file__).parent.parent / "fixtures"
HOST = FIXTURES / "hosts" / "linux-debian12-vm"


def _recording(tmp_path: Path) -> Path:
    folder = tmp_path / "rec"
    shutil.copytree(HOST, folder)
    return folder


def _answer_file(folder: Path, op: str) -> tuple[Path, dict[str, Any]]:
    """The first answer file of ``op`` in the folder, and its record."""
    for path in sorted(folder.glob(f"{op}-*.json")):
        record = json.loads(path.read_text())
        if record["op"] == op:
            return path, record
    raise AssertionError(f"no {op} answer in {folder}")


def _one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "internal error" not in err and "Error" not in err, err
    for word in words:
        assert word in err, err
    return err


# (op, change to the answer, the field the message must name)
BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("cmd", {"stdout": 123}, "stdout"),
    ("cmd", {"stderr": ["a"]}, "stderr"),
    ("cmd", {"returncode": "0"}, "returncode"),
    ("cmd", {"returncode": True}, "returncode"),
    ("cmd", {"status": "weird"}, "status"),
    ("cmd", {"duration_ms": "fast"}, "duration_ms"),
    ("cmd", {"truncated": "no"}, "truncated"),
    ("cmd", {"detail": {"x": 1}}, "detail"),
    ("env", {"value": [1, 2]}, "value"),
    ("file", {"text": 5}, "text"),
    ("stat", {"exists": "yes"}, "exists"),
    ("stat", {"size": 1.5}, "size"),
    ("dir", {"names": [1, 2]}, "names"),
    ("which", {"path": 7}, "path"),
    ("packages", {"versions": {"numpy": 1}}, "versions"),
    ("packages", {"versions": ["numpy"]}, "versions"),
    ("platform", {"system": 42}, "system"),
    ("env_names", {"names": "PATH"}, "names"),
    ("http", {"code": "200"}, "code"),
]


@pytest.mark.parametrize(
    ("op", "change", "field"), BROKEN, ids=[f"{o}-{f}-{i}" for i, (o, _, f) in enumerate(BROKEN)]
)
def test_a_recorded_answer_with_a_field_of_the_wrong_type_is_refused_naming_file_and_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    op: str,
    change: dict[str, Any],
    field: str,
) -> None:
    folder = _recording(tmp_path)
    victim, record = _answer_file(folder, op)
    record["answer"].update(change)
    victim.write_text(json.dumps(record))
    assert main(["capture", "--replay", str(folder), "--json", "--no-sign"]) == 2
    _one_line_error(capsys, victim.name, repr(field))


@pytest.mark.parametrize(
    ("op", "missing"), [("cmd", "status"), ("stat", "exists"), ("file", "status")]
)
def test_a_recorded_answer_missing_a_required_field_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], op: str, missing: str
) -> None:
    folder = _recording(tmp_path)
    victim, record = _answer_file(folder, op)
    del record["answer"][missing]
    victim.write_text(json.dumps(record))
    assert main(["capture", "--replay", str(folder), "--json", "--no-sign"]) == 2
    _one_line_error(capsys, victim.name, repr(missing), "missing")


def test_an_empty_command_answer_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _recording(tmp_path)
    victim, record = _answer_file(folder, "cmd")
    record["answer"] = {}
    victim.write_text(json.dumps(record))
    assert main(["capture", "--replay", str(folder), "--json", "--no-sign"]) == 2
    _one_line_error(capsys, victim.name, "'status'")


def test_a_whole_file_that_is_not_an_object_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _recording(tmp_path)
    victim, record = _answer_file(folder, "cmd")
    victim.write_text(json.dumps([record]))
    assert main(["capture", "--replay", str(folder), "--json", "--no-sign"]) == 2
    _one_line_error(capsys, victim.name, "a JSON object")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_number_that_is_not_finite_is_refused(tmp_path: Path, value: str) -> None:
    folder = _recording(tmp_path)
    victim, record = _answer_file(folder, "cmd")
    record["answer"]["duration_ms"] = 0
    victim.write_text(json.dumps(record).replace('"duration_ms": 0', f'"duration_ms": {value}'))
    with pytest.raises(InputError, match=r"duration_ms"):
        ReplayRunner(folder)


def test_nvml_answers_must_each_be_a_value_or_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    folder.mkdir()
    record = {
        "op": "nvml",
        "key": {"calls": [["nvmlDeviceGetCount", None, []]]},
        "answer": {"status": "ok", "answers": [7]},
    }
    (folder / "nvml-1-calls-x.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match=r"nvml-1-calls-x\.json.*'answers'"):
        load_recording(folder)
    record["answer"] = {"status": "ok", "answers": [{"value": 1}, {"error": "Not Supported"}]}
    (folder / "nvml-1-calls-x.json").write_text(json.dumps(record))
    assert len(load_recording(folder)) == 1


def test_an_answer_of_an_operation_this_version_does_not_know_is_kept_unchecked(
    tmp_path: Path,
) -> None:
    # A recording made by a later envstamp may hold questions this one never asks.
    folder = tmp_path / "rec"
    folder.mkdir()
    record = {"op": "future-op", "key": {"x": 1}, "answer": {"anything": [1, "two"]}}
    (folder / "future-op-x.json").write_text(json.dumps(record))
    assert len(load_recording(folder)) == 1


def test_every_real_recording_in_the_fixtures_passes_the_checks() -> None:
    folders = sorted({p.parent for p in FIXTURES.rglob("*.json") if _is_record(p)})
    assert len(folders) >= 25
    for folder in folders:
        assert load_recording(folder), folder


def _is_record(path: Path) -> bool:
    try:
        record = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(record, dict) and {"op", "key", "answer"} <= record.keys()
