"""Scripts can rely on the exit status: ``--require-valid`` on show, diff, compare and check,
and check failing on a tampered baseline by default (issue 12, item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.manifest.serialize import to_json
from envstamp.signing import sign
from envstamp.signing.keys import SigningKey
from tests.sign_support import payload_of, sample_manifest, with_payload
from tests.timing_support import lines_of, open_recorder, write_lines

HOST = Path(__file__).parent.parent / "fixtures" / "hosts" / "linux-debian12-vm"


def _envelope(path: Path, envelope: dict[str, object]) -> Path:
    path.write_text(sign.envelope_json(envelope), encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """One input of each verification state."""
    signed = sign.sign_manifest(sample_manifest())
    plain = tmp_path / "plain.json"
    plain.write_text(to_json(sample_manifest()), encoding="utf-8")
    log = tmp_path / "log.jsonl"
    with open_recorder(log) as rec:
        rec.record("pp512", metrics={"tokens_per_s": 1000.0})
    forged_log = tmp_path / "forged.jsonl"
    lines = lines_of(log)
    forged_log.write_bytes(log.read_bytes())
    write_lines(forged_log, [line for line in lines if b'"kind":"head"' not in line])
    return {
        "verified": _envelope(tmp_path / "signed.json", signed),
        "verified-log": log,
        "plain": plain,
        "tampered": _envelope(
            tmp_path / "tampered.json",
            with_payload(signed, payload_of(signed).replace(b'"fern"', b'"fErn"')),
        ),
        "untrusted": _envelope(
            tmp_path / "stranger.json", sign.sign_manifest(sample_manifest(), SigningKey.generate())
        ),
        "forged-log": forged_log,
    }


FAILING = ["plain", "tampered", "untrusted", "forged-log"]


@pytest.mark.parametrize("bad", FAILING)
def test_diff_and_compare_require_valid(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    good, other = str(inputs["verified"]), str(inputs[bad])
    for verb in ("diff", "compare"):
        assert main([verb, good, other]) == 0  # labelled, not refused
        capsys.readouterr()
        assert main([verb, "--require-valid", good, other]) == 1
        out, err = capsys.readouterr()
        assert inputs[bad].name in err and err.count("\n") == 1 and not out
    assert main(["diff", "--require-valid", good, str(inputs["verified-log"])]) == 0


@pytest.mark.parametrize("bad", FAILING)
def test_show_requires_valid(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    assert main(["show", "--require-valid", str(inputs[bad])]) == 1
    assert inputs[bad].name in capsys.readouterr().err
    for good in ("verified", "verified-log"):
        assert main(["show", "--require-valid", "--json", str(inputs[good])]) == 0
        json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("bad", ["tampered", "untrusted", "forged-log"])
def test_check_fails_on_an_invalid_baseline_by_default(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    assert main(["check", str(inputs[bad]), "--replay", str(HOST)]) == 1
    err = capsys.readouterr().err
    assert "invalid" in err and inputs[bad].name in err


def test_check_with_require_valid_refuses_an_unsigned_baseline(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    plain = str(inputs["plain"])
    assert main(["check", plain, "--replay", str(HOST)]) == 0
    capsys.readouterr()
    assert main(["check", "--require-valid", plain, "--replay", str(HOST)]) == 1
    assert "not verified (unsigned)" in capsys.readouterr().err
    assert main(["check", "--require-valid", str(inputs["verified"]), "--replay", str(HOST)]) == 0
