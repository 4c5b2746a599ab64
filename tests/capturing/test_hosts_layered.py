"""Whole captures of every recorded host, each layered over a recording of the rest of a
machine of its OS (``--replay HOST --replay BASE``): no probe may ask for something the
layers do not hold, and every manifest validates against the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from envstamp.capturing.capture import capture
from envstamp.manifest.serialize import unstructure
from envstamp.probes.registry import PROBES
from envstamp.runner import ReplayRunner

HOSTS = Path(__file__).parents[1] / "fixtures" / "hosts"
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "manifest.v1.schema.json").read_text()
)
BASES = {"Linux": "linux-debian12-vm", "Windows": "windows-11-ryzen", "Darwin": "macos-14-m2pro"}
COMPLETE = {*BASES.values(), "linux-ubuntu22-graviton3", "macos-13-intel"}


def _system(folder: Path) -> str:
    for path in folder.glob("platform-*.json"):
        return str(json.loads(path.read_text())["answer"]["system"])
    raise AssertionError(f"{folder.name} has no platform answer")


AREA_HOSTS = sorted(p.name for p in HOSTS.iterdir() if p.is_dir() and p.name not in COMPLETE)


@pytest.mark.parametrize("name", sorted(COMPLETE))
def test_complete_hosts_replay_on_their_own(name: str) -> None:
    manifest = capture(replay=str(HOSTS / name))
    _assert_whole(manifest)


@pytest.mark.parametrize("name", AREA_HOSTS)
def test_area_hosts_replay_over_a_base_of_their_os(name: str, tmp_path: Path) -> None:
    base = HOSTS / BASES[_system(HOSTS / name)]
    overlay = tmp_path / name
    overlay.mkdir()
    for path in (HOSTS / name).glob("*.json"):
        if not path.name.startswith("platform-"):
            (overlay / path.name).write_bytes(path.read_bytes())
    _write_platform(overlay, _merged_platform(HOSTS / name, base))
    manifest = capture(replay=[str(overlay), str(base)])
    _assert_whole(manifest)


def _platform(folder: Path) -> dict[str, object]:
    (path,) = folder.glob("platform-*.json")
    return dict(json.loads(path.read_text())["answer"])


def _merged_platform(host: Path, base: Path) -> dict[str, object]:
    """The base's platform facts, overridden by the ones the area host recorded - except a
    home folder under which the area host recorded nothing (its probes never looked there)."""
    own = _platform(host)
    home = own.get("home")
    if home and not any(
        json.dumps(home)[1:-1] in p.read_text()
        for p in host.glob("*.json")
        if not p.name.startswith("platform-")
    ):
        del own["home"]
    return {**_platform(base), **own}


def _write_platform(folder: Path, answer: dict[str, object]) -> None:
    from envstamp.runner import answer_file_name

    record = {"op": "platform", "key": {}, "answer": answer}
    (folder / answer_file_name("platform", {})).write_text(json.dumps(record))


def _assert_whole(manifest: object) -> None:
    data = unstructure(manifest)
    jsonschema.validate(data, SCHEMA)
    records = {r["name"]: r for r in data["probes"]}
    assert set(records) == {spec.name for spec in PROBES}
    missing = [n for n, r in records.items() if "not in the recording" in (r["detail"] or "")]
    assert not missing, missing
    assert not [n for n, r in records.items() if r["status"] == "error"], records


def test_layers_first_folder_wins(tmp_path: Path) -> None:
    from envstamp.runner import RecordingRunner

    top, bottom = tmp_path / "top", tmp_path / "bottom"
    RecordingRunner(bottom).env("HOME")
    RecordingRunner(bottom).env("PATH")
    (top / "x").mkdir(parents=True)
    (top / "x").rmdir()
    record = next(bottom.glob("env-*HOME*.json"))
    doc = json.loads(record.read_text())
    doc["answer"]["value"] = "/from/top"
    (top / record.name).write_text(json.dumps(doc))
    layered = ReplayRunner([top, bottom])
    assert layered.env("HOME") == "/from/top"
    assert layered.env("PATH") == ReplayRunner(bottom).env("PATH")
