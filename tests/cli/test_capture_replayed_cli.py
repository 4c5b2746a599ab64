"""``envstamp capture --replay`` marks what it writes as replayed, and ``show`` says so on its
first line, so a replayed manifest is never taken for a live capture of this machine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from envstamp.cli.main import main
from tests.conftest import HOSTS

VM = HOSTS / "linux-debian12-vm"


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_a_replayed_manifest_says_so_in_json_and_in_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads(_out(capsys, "capture", "--replay", str(VM), "--json"))
    assert manifest["replayed_from"] == ["linux-debian12-vm"]
    box = tmp_path / "box.json"
    box.write_text(json.dumps(manifest))
    first = _out(capsys, "show", str(box)).splitlines()[0]
    assert first.startswith("envstamp manifest: captured ")
    assert " (replayed from linux-debian12-vm), envstamp " in first
    md = _out(capsys, "show", str(box), "--markdown", "--no-redact").splitlines()[0]
    assert " (replayed from linux-debian12-vm) · " in md
    shared = _out(capsys, "show", str(box), "--markdown").splitlines()[0]  # redacted
    assert re.search(r" \(replayed from redacted:[0-9a-f]{12}\) · ", shared), shared
    summary = _out(capsys, "capture", "--replay", str(VM)).splitlines()[0]
    assert "(replayed from linux-debian12-vm)" in summary


def test_a_manifest_without_the_mark_shows_no_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads(_out(capsys, "capture", "--replay", str(VM), "--json"))
    manifest["replayed_from"] = None  # as a live capture writes it
    box = tmp_path / "live.json"
    box.write_text(json.dumps(manifest))
    out = _out(capsys, "show", str(box))
    assert "replayed" not in out
    assert "replayed" not in _out(capsys, "show", str(box), "--markdown")


def test_the_shared_view_redacts_a_recording_named_after_the_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder named after the machine ("tensorbox-rec") says no more than the hostname
    field does: the Markdown view hashes the name, as it hashes the hostname everywhere."""
    import attrs

    from tests.diff_support import cpu_build, with_build, write

    manifest = with_build(cpu_build("0c1e570-cpu.json"))
    host = manifest.host.hostname
    assert host == "tensorbox"
    box = write(attrs.evolve(manifest, replayed_from=[f"{host}-rec"]), tmp_path / "named.json")
    plain = _out(capsys, "show", str(box), "--no-redact", "--markdown").splitlines()[0]
    assert f"(replayed from {host}-rec)" in plain
    shared = _out(capsys, "show", str(box), "--markdown").splitlines()[0]
    assert "(replayed from " in shared and host not in shared
