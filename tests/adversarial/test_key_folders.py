"""Keys under attack: a replaced public key file, key folders other users can write to, and
folders reached through symbolic links (issue 12, item 4)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sign_support import sample_manifest

from envstamp import keys, sign
from envstamp.cli import main
from envstamp.keys import SigningKey

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and owners")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def envelope(tmp_path: Path) -> Path:
    """A manifest signed with the default key (which this makes)."""
    path = tmp_path / "box.json"
    path.write_text(sign.envelope_json(sign.sign_manifest(sample_manifest())), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------- pubkey


def test_pubkey_derives_the_key_from_the_private_key(
    envelope: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = keys.default_signing_key(create=False).public_key
    impostor = SigningKey.generate().public_key
    keys.public_path_for(keys.default_private_path()).write_text(impostor.pem())
    assert main(["pubkey", "--format", "keyid"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == real.keyid != impostor.keyid
    assert "does not hold this key's public key" in err


def test_pubkey_never_creates_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pubkey"]) == 2
    assert "envstamp keygen" in capsys.readouterr().err
    assert not keys.default_private_path().exists()


# ------------------------------------------------------------------- folders others can write


@posix_only
@pytest.mark.parametrize(
    ("which", "mode", "named"),
    [
        ("keys", 0o770, "writable by group"),
        ("keys", 0o707, "writable by others"),
        ("config", 0o777, "writable by group"),
        ("trusted", 0o777, "writable by group"),
        ("trusted-file", 0o666, "writable by group"),
    ],
)
def test_a_key_folder_others_can_write_is_refused(
    envelope: Path, capsys: pytest.CaptureFixture[str], which: str, mode: int, named: str
) -> None:
    trusted = keys.trusted_dir()
    trusted.mkdir(mode=0o700)
    stranger_file = trusted / "alice.pem"
    stranger_file.write_text(SigningKey.generate().public_key.pem())
    target = {
        "keys": keys.default_key_dir(),
        "config": keys.config_dir(),
        "trusted": trusted,
        "trusted-file": stranger_file,
    }[which]
    target.chmod(mode)
    commands = [["verify", str(envelope)], ["show", str(envelope)]]
    if which in ("keys", "config"):  # signing reads the key folder, not trusted/
        commands.append(["sign", str(envelope)])
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert named in err and "chmod go-w" in err and err.count("\n") == 1, err
    target.chmod(0o700 if target.is_dir() else 0o644)
    assert main(["verify", str(envelope)]) == 0


@posix_only
@pytest.mark.skipif(os.name == "posix" and os.geteuid() != 0, reason="chown needs root")
def test_a_key_folder_owned_by_someone_else_is_refused(
    envelope: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = keys.default_key_dir()
    os.chown(folder, 4242, 4242)
    assert main(["verify", str(envelope)]) == 2
    err = capsys.readouterr().err
    assert "belongs to another user (uid 4242" in err and "chown" in err


@posix_only
def test_the_escape_hatch_for_ci_skips_the_check(
    envelope: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys.default_key_dir().chmod(0o777)
    assert main(["verify", str(envelope)]) == 2
    monkeypatch.setenv(keys.ENV_INSECURE_PERMISSIONS, "1")
    assert main(["verify", str(envelope)]) == 0


@posix_only
def test_folders_envstamp_creates_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)  # user-private-group systems
    try:
        keys.default_signing_key()
    finally:
        os.umask(old)
    assert _mode(keys.default_key_dir()) == 0o700
    assert _mode(keys.config_dir()) == 0o700


# ------------------------------------------------------------------------------ symbolic links


@posix_only
@pytest.mark.parametrize("mode", [0o755, 0o775])
def test_no_chmod_through_a_symbolic_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: int
) -> None:
    elsewhere = tmp_path / "shared-folder"
    elsewhere.mkdir()
    elsewhere.chmod(mode)
    keys.config_dir().mkdir(mode=0o700, parents=True)
    keys.default_key_dir().symlink_to(elsewhere, target_is_directory=True)
    code = main(["keygen"])
    assert _mode(elsewhere) == mode  # never changed through the link
    if mode & 0o022:
        assert code == 2 and "writable by group" in capsys.readouterr().err
        assert not list(elsewhere.iterdir())
    else:
        assert code == 0 and (elsewhere / keys.PRIVATE_FILE).is_file()
        assert _mode(elsewhere / keys.PRIVATE_FILE) == 0o600


def test_verify_json_reports_the_refusal_as_an_error(
    envelope: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.name != "posix":
        pytest.skip("POSIX modes")
    keys.default_key_dir().chmod(0o775)
    assert main(["verify", "--json", str(envelope)]) == 2
    out, err = capsys.readouterr()
    assert "writable by group" in err and (not out or "valid" not in json.loads(out))
