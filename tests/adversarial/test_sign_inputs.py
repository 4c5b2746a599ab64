"""``envstamp sign`` given what it should not sign: every input is checked before anything is
written or any key is made, and JSON that does not read strictly is refused rather than
signed as opaque bytes (issue 12, items 3 and 15)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.manifest.serialize import to_json
from envstamp.signing import keys
from tests.sign_support import sample_manifest
from tests.timing_support import open_recorder


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    path = tmp_path / "a.json"
    path.write_text(to_json(sample_manifest()), encoding="utf-8")
    return path


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_one_missing_input_leaves_nothing_behind(
    manifest_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = manifest_file.parent / "missing.json"
    assert main(["sign", str(manifest_file), str(missing)]) == 2
    err = capsys.readouterr().err
    assert "missing.json" in err and err.count("\n") == 1
    assert _files(manifest_file.parent) == ["a.json"]  # no a.signed.json


def test_an_unreadable_input_does_not_create_the_default_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("unreadable.json", "a-folder"):
        target = tmp_path / name
        if name == "a-folder":
            target.mkdir()
        assert main(["sign", str(target)]) == 2
        assert name in capsys.readouterr().err
    assert not keys.default_private_path().exists()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"schema": "envstamp.manifest/1", "schema": "x", "envstamp_version": "1"}', "duplicate"),
        ('{"schema": "envstamp.manifest/1", "cpu": {"max_mhz": NaN}}', "NaN"),
        ('{"schema": "envstamp.manifest/1", "cpu": {"max_mhz": 1e999}}', "out of range"),
        ('{"schema": "envstamp.manifest/1", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}",
         "not valid JSON"),
        ('{"schema": "envstamp.manifest/1", "cpu": ', "not valid JSON"),
    ],
    ids=["duplicate-key", "nan", "overflow", "deep-nesting", "truncated"],
)
def test_json_that_does_not_read_strictly_is_refused_not_signed_detached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, named: str
) -> None:
    path = tmp_path / "m.json"
    path.write_text(text, encoding="utf-8")
    assert main(["sign", str(path)]) == 2
    err = capsys.readouterr().err
    assert named in err and "--detached" in err and err.count("\n") == 1
    assert _files(tmp_path) == ["m.json"]
    assert not keys.default_private_path().exists()
    assert main(["sign", "--detached", str(path)]) == 0  # opaque bytes, when asked for
    envelope = json.loads((tmp_path / "m.signed.json").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"


def test_a_results_log_and_plain_text_are_still_signed_detached(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    with open_recorder(log) as rec:
        rec.record("x", metrics={"tokens_per_s": 1.0})
    text = tmp_path / "bench.txt"
    text.write_text("| model | size |\n", encoding="utf-8")
    assert main(["sign", str(log), str(text)]) == 0
    assert (tmp_path / "r.jsonl.signed.json").is_file()
    assert (tmp_path / "bench.txt.signed.json").is_file()
    assert main(["verify", str(tmp_path / "r.jsonl.signed.json"), "--artifact", str(log)]) == 0


def test_a_broken_envelope_is_refused_before_the_key_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"payloadType": "x", "payload": "", "signatures": []}))
    assert main(["sign", str(path)]) == 1
    assert "payloadType" in capsys.readouterr().err
    assert not keys.default_private_path().exists()


def test_an_output_into_a_missing_folder_is_refused_before_signing(
    manifest_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = manifest_file.parent / "nowhere" / "a.signed.json"
    assert main(["sign", str(manifest_file), "-o", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not keys.default_private_path().exists() and os.path.exists(manifest_file)


# ---------------------------------------------- a manifest that only looks like one (gap 12)


def _manifest_text() -> str:
    return to_json(sample_manifest())


def _without_schema() -> str:
    data = json.loads(_manifest_text())
    del data["schema"]
    return json.dumps(data, indent=2)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("\ufeff" + _manifest_text(), "byte order mark"),
        (_manifest_text().rstrip() + " {}", "followed by more data"),
        (json.dumps(json.loads(_manifest_text())) + "\n{}\n", "followed by more data"),
        (_manifest_text() + "\n" + _manifest_text(), "followed by more data"),
        (_without_schema(), "no \"schema\""),
    ],
    ids=["bom", "trailing-object", "jsonl-after-compact-manifest", "two-manifests",
         "missing-schema"],
)
def test_a_manifest_that_is_not_one_document_is_refused_not_signed_detached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, named: str
) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(text.encode("utf-8"))
    assert main(["sign", str(path)]) == 2
    err = capsys.readouterr().err
    assert named in err and "--detached" in err and err.count("\n") == 1, err
    assert _files(tmp_path) == ["m.json"]
    assert not keys.default_private_path().exists()
    assert main(["sign", "--detached", str(path)]) == 0  # the bytes, when asked for
    assert main(["verify", str(tmp_path / "m.signed.json"), "--artifact", str(path)]) == 0


def test_other_json_is_still_signed_detached(tmp_path: Path) -> None:
    # Another tool's JSON document (llama-bench -o json, a pytest-benchmark report) is not
    # a manifest attempt: it gets a detached envelope as documented.
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps([{"model_type": "llama 1B", "avg_ts": 41.5}]))
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"machine_info": {"node": "x"}, "benchmarks": []}))
    assert main(["sign", str(bench), str(report)]) == 0
    for name in ("bench.json", "report.json"):
        signed = tmp_path / name.replace(".json", ".signed.json")
        assert main(["verify", str(signed), "--artifact", str(tmp_path / name)]) == 0
