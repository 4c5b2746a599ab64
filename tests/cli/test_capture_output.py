"""What ``envstamp capture`` writes and says (issue 15): ``--json`` is the manifest itself,
``-o FILE`` the signed envelope, and a written file is named on stderr in one line with the
key that signed it.  Captures replay the recorded development VM, so no answer depends on
the machine running the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.signing import keys
from tests.conftest import HOSTS
from tests.sign_support import rfc_key

VM = str(HOSTS / "linux-debian12-vm")


def _capture(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["capture", "--replay", VM, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def fixed_key(monkeypatch: pytest.MonkeyPatch) -> keys.SigningKey:
    """RFC 8032's first test key signs, so the keyid in the messages is known."""
    key = rfc_key(0)
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, key.private_pem().decode())
    return key


def test_json_is_the_manifest_itself(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _capture(capsys, "--json")
    manifest = json.loads(out)
    assert code == 0 and err == ""
    assert manifest["schema"] == "envstamp.manifest/1" and manifest["gpus"] == []
    assert "payloadType" not in manifest
    assert not keys.default_private_path().exists()  # the unsigned manifest needs no key


def test_output_file_is_the_signed_envelope_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fixed_key: keys.SigningKey
) -> None:
    box = tmp_path / "box.json"
    code, out, err = _capture(capsys, "-o", str(box))
    assert code == 0 and out == ""
    assert err == (
        f"envstamp capture: wrote {box}: signed manifest (key {fixed_key.keyid[:16]}, "
        "ed25519)\n"
    )
    assert set(json.loads(box.read_text())) == {"payloadType", "payload", "signatures"}
    assert main(["verify", str(box), "--key", _public_file(tmp_path, fixed_key)]) == 0


def _public_file(folder: Path, key: keys.SigningKey) -> str:
    path = folder / "signer.pub"
    path.write_text(key.public_key.pem())
    return str(path)


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--no-sign"], "plain manifest (unsigned)"),
        (
            ["--json"],
            "plain manifest (unsigned: --json writes the manifest itself; without it -o signs)",
        ),
        (["--markdown"], "Markdown summary, redacted"),
        (["--text"], "text summary"),
        (["--no-sign", "--redact"], "plain manifest (unsigned), redacted"),
    ],
)
def test_every_written_file_is_named_with_what_it_holds(
    flags: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out"
    code, out, err = _capture(capsys, "-o", str(target), *flags)
    assert code == 0 and out == ""
    assert err == f"envstamp capture: wrote {target}: {said}\n"
    if flags[0] in ("--no-sign", "--json"):
        assert json.loads(target.read_text())["schema"] == "envstamp.manifest/1"
    assert not keys.default_private_path().exists()


def test_dash_prints_the_envelope_and_nothing_on_stderr(
    capsys: pytest.CaptureFixture[str], fixed_key: keys.SigningKey
) -> None:
    code, out, err = _capture(capsys, "-o", "-")
    envelope = json.loads(out)
    assert code == 0 and err == ""
    assert envelope["signatures"][0]["keyid"] == fixed_key.keyid


def test_key_with_json_is_a_contradiction(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _capture(capsys, "--json", "--key", "some.pem")
    assert (code, out) == (2, "")
    assert err == (
        "envstamp capture: error: --key signs the envelope that -o FILE writes; --json is the "
        "manifest itself, unsigned (drop --json to sign)\n"
    )


def test_help_says_what_json_and_output_write(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["capture", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--json: the manifest itself, unsigned" in text
    assert "-o FILE writes the signed envelope" in text


def test_replay_of_an_empty_folder_names_it_and_says_what_a_recording_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "emptydir"
    empty.mkdir()
    assert main(["capture", "--replay", str(empty)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"envstamp capture: error: --replay {empty}: not a complete recording (not in the "
        "recording emptydir: platform {}); record one with 'envstamp capture --raw DIR'\n"
    )
