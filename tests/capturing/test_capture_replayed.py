"""A capture answered by a recording says so (``Manifest.replayed_from``: the recordings'
folder names, in layer order); a live one does not.  The mark is volatile: it enters no
identity digest, and diff neither ranks it nor lists it as unknown."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from envstamp.capturing import capture as capture_module
from envstamp.capturing.capture import capture
from envstamp.diffing.differ import diff
from envstamp.manifest.model import Cpu, Manifest
from envstamp.manifest.serialize import identity_digest, manifest_from_json, to_json, unstructure
from envstamp.probes.context import Outcome, ProbeContext
from envstamp.probes.registry import ProbeSpec
from envstamp.runner import LiveRunner, RecordingRunner, ReplayRunner
from envstamp.runner.base import recording_name
from tests.conftest import HOSTS


def probe_cpu(ctx: ProbeContext) -> Outcome:
    return Outcome({"cpu": Cpu(model_name="Test CPU", logical_cpus=8)}, source="test")


@pytest.fixture
def one_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """One probe that asks nothing: a live capture and a replay of an empty folder find the
    same machine, and differ only in how they were made."""
    monkeypatch.setattr(capture_module, "PROBES", (ProbeSpec("cpu", f"{__name__}:probe_cpu"),))


def _recording(folder: Path) -> Path:
    """A recording of this machine's platform, the one question a capture always asks."""
    RecordingRunner(folder).platform()
    return folder


def test_a_replayed_capture_names_its_recording(tmp_path: Path, one_probe: None) -> None:
    _recording(tmp_path / "gpu-box")
    manifest = capture(runner=ReplayRunner(tmp_path / "gpu-box"), refresh=True)
    assert manifest.replayed_from == ["gpu-box"]
    assert manifest.cpu.model_name == "Test CPU"


def test_layered_recordings_are_named_in_layer_order(tmp_path: Path, one_probe: None) -> None:
    (tmp_path / "gpus").mkdir()  # a layer holding nothing this capture asks
    _recording(tmp_path / "base")
    manifest = capture(replay=[str(tmp_path / "gpus"), str(tmp_path / "base") + "/"],
                       refresh=True)
    assert manifest.replayed_from == ["gpus", "base"]


@pytest.mark.parametrize("runner", ["live", "record"])
def test_a_live_capture_carries_no_mark(tmp_path: Path, one_probe: None, runner: str) -> None:
    made = LiveRunner() if runner == "live" else RecordingRunner(tmp_path / "rec")
    manifest = capture(runner=made, refresh=True)
    assert manifest.replayed_from is None
    assert json.loads(to_json(manifest))["replayed_from"] is None


def test_the_mark_is_in_no_digest_and_diff_ignores_it(tmp_path: Path, one_probe: None) -> None:
    _recording(tmp_path / "rec")
    live = capture(runner=LiveRunner(), refresh=True)
    replayed = capture(runner=ReplayRunner(tmp_path / "rec"), refresh=True)
    assert (live.replayed_from, replayed.replayed_from) == (None, ["rec"])
    assert replayed.identity_digest == live.identity_digest
    assert identity_digest(attrs.evolve(replayed, replayed_from=["other"])) == (
        replayed.identity_digest)
    report = diff(live, replayed)
    everything = [*report.differences, *report.state, *report.unknown]
    assert not [d for d in everything if "replayed" in d.path], everything
    assert report.same_digest and not report.likely_causes
    # the same with the mark on both sides, naming other recordings
    other = attrs.evolve(live, replayed_from=["elsewhere"])
    again = diff(other, replayed)
    assert not [d for d in [*again.differences, *again.state, *again.unknown]
                if "replayed" in d.path]


def test_the_mark_survives_a_round_trip_and_old_manifests_load(
    tmp_path: Path, one_probe: None
) -> None:
    _recording(tmp_path / "rec")
    replayed = capture(runner=ReplayRunner(tmp_path / "rec"), refresh=True)
    loaded = manifest_from_json(to_json(replayed))
    assert loaded.replayed_from == ["rec"]
    assert loaded.identity_digest == replayed.identity_digest  # checked as it loads
    older = unstructure(replayed)
    del older["replayed_from"]  # written before the field existed
    assert manifest_from_json(json.dumps(older)).replayed_from is None


def test_the_recorded_development_vm_replays_with_its_name() -> None:
    manifest = capture(replay=str(HOSTS / "linux-debian12-vm"), refresh=True)
    assert isinstance(manifest, Manifest)
    assert manifest.replayed_from == ["linux-debian12-vm"]


@pytest.mark.parametrize(("folder", "name"), [
    ("rec", "rec"), ("rec/", "rec"), ("runs/2026/rec", "rec"), ("./rec/.", "rec"),
    (".", "."), ("/", "/"),
])
def test_a_recording_is_named_by_its_last_part_never_its_path(folder: str, name: str) -> None:
    assert recording_name(folder) == name
