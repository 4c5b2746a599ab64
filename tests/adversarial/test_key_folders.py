"""Keys under attack: a replaced public key file, key folders other users can write to, and
folders reached through symbolic links (issue 12, item 4)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.manifest.serialize import to_json
from envstamp.signing import keys, sign
from envstamp.signing.keys import SigningKey
from tests.sign_support import sample_manifest

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


def _attacker_envelope(tmp_path: Path) -> Path:
    """An attacker's key whose public half replaces signing.pub.pem, and a manifest it
    signed (review gap 3: verify trusted whatever signing.pub.pem held)."""
    attacker = SigningKey.generate()
    pem = tmp_path / "attacker.pem"
    pem.write_bytes(attacker.private_pem())
    pem.chmod(0o600)
    keys.public_path_for(keys.default_private_path()).write_text(attacker.public_key.pem())
    plain = tmp_path / "plain.json"
    plain.write_text(to_json(sample_manifest()), encoding="utf-8")
    forged = tmp_path / "x.json"
    assert main(["sign", "--key", str(pem), str(plain), "-o", str(forged)]) == 0
    return forged


def test_verify_trusts_the_key_derived_from_signing_pem_not_the_public_file(
    envelope: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = _attacker_envelope(tmp_path)
    capsys.readouterr()
    assert main(["verify", str(forged)]) == 1
    assert "valid" not in capsys.readouterr().out
    assert main(["show", "--require-valid", str(forged)]) == 1
    assert main(["verify", str(envelope)]) == 0  # the real key is still trusted
    keys.public_path_for(keys.default_private_path()).unlink()
    assert main(["verify", str(envelope)]) == 0  # with no public file at all
    assert keys.default_signing_key(create=False).public_key in keys.trusted_keys()


def test_an_encrypted_default_key_is_trusted_only_with_its_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SigningKey.generate()
    keys.store_key(key, keys.default_private_path(), passphrase="correct horse")
    monkeypatch.setenv(keys.ENV_PASSPHRASE, "correct horse")
    envelope = tmp_path / "box.json"
    envelope.write_text(sign.envelope_json(sign.sign_manifest(sample_manifest())))
    assert main(["verify", str(envelope)]) == 0
    forged = _attacker_envelope(tmp_path)
    assert main(["verify", str(forged)]) == 1
    monkeypatch.delenv(keys.ENV_PASSPHRASE)
    capsys.readouterr()
    # Without the passphrase the key cannot be derived; signing.pub.pem is never the answer.
    assert main(["verify", str(forged)]) == 2
    err = capsys.readouterr().err
    assert keys.ENV_PASSPHRASE in err and err.count("\n") == 1
    assert key.public_key not in keys.trusted_keys()


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


# ------------------------------------------------- links, "group and others", ancestors (gap 4)


@posix_only
def test_a_trusted_folder_linked_to_a_shared_folder_names_link_and_target(
    envelope: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "shared"  # like /tmp: everyone may write, sticky
    shared.mkdir()
    shared.chmod(0o1777)
    trusted = keys.trusted_dir()
    trusted.symlink_to(shared, target_is_directory=True)
    assert main(["verify", str(envelope)]) == 2
    err = capsys.readouterr().err
    assert str(trusted) in err and str(shared.resolve()) in err and "symbolic link" in err
    assert "group and others" in err and err.count("\n") == 1
    assert "chmod" not in err  # any chmod of the link would change the shared folder
    assert _mode(shared) == 0o1777


@posix_only
def test_a_key_file_linked_elsewhere_gets_no_chmod_through_the_link(
    envelope: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "their.pem"
    elsewhere.write_text(SigningKey.generate().public_key.pem())
    elsewhere.chmod(0o666)
    trusted = keys.trusted_dir()
    trusted.mkdir(mode=0o700)
    (trusted / "alice.pem").symlink_to(elsewhere)
    assert main(["verify", str(envelope)]) == 2
    err = capsys.readouterr().err
    assert str(elsewhere) in err and "symbolic link" in err and "chmod" not in err


@posix_only
@pytest.mark.parametrize(
    ("mode", "named"),
    [(0o777, "writable by group and others"), (0o770, "writable by group (mode"),
     (0o702, "writable by others (mode")],
)
def test_who_may_write_is_named_exactly(
    envelope: Path, capsys: pytest.CaptureFixture[str], mode: int, named: str
) -> None:
    keys.default_key_dir().chmod(mode)
    assert main(["verify", str(envelope)]) == 2
    assert named in capsys.readouterr().err


@posix_only
def test_a_folder_reached_through_a_linked_ancestor_gets_the_real_path_to_chmod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real-config"
    real.mkdir(mode=0o700)
    config = keys.config_dir()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.symlink_to(real, target_is_directory=True)
    box = tmp_path / "box.json"
    box.write_text(sign.envelope_json(sign.sign_manifest(sample_manifest())))
    (real / "keys").chmod(0o775)
    capsys.readouterr()
    assert main(["verify", str(box)]) == 2
    err = capsys.readouterr().err
    assert f"chmod go-w {real.resolve() / 'keys'}" in err, err
    assert f"chmod go-w {keys.default_key_dir()}" not in err


@posix_only
def test_an_ancestor_others_can_write_is_refused_unless_sticky(
    envelope: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As ssh refuses a home folder others can write: they could rename the config folder
    # away and put their own keys in its place.  A sticky folder (/tmp) forbids that.
    ancestor = keys.config_dir().parent
    before = _mode(ancestor)
    try:
        ancestor.chmod(0o777)
        assert main(["verify", str(envelope)]) == 2
        err = capsys.readouterr().err
        assert f"folder {ancestor}" in err and "writable by others" in err
        assert f"chmod o-w {ancestor}" in err and err.count("\n") == 1
        ancestor.chmod(0o1777)
        assert main(["verify", str(envelope)]) == 0
        ancestor.chmod(0o755)
        assert main(["verify", str(envelope)]) == 0
    finally:
        ancestor.chmod(before)


@posix_only
@pytest.mark.skipif(os.name == "posix" and os.geteuid() != 0, reason="chgrp needs root")
def test_an_ancestor_writable_by_a_shared_group_is_refused_by_a_private_one_not(
    envelope: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import grp
    import pwd

    ancestor = keys.config_dir().parent
    me = pwd.getpwuid(os.geteuid())
    shared = next(g for g in grp.getgrall() if g.gr_gid != me.pw_gid)
    os.chown(ancestor, -1, shared.gr_gid)
    ancestor.chmod(0o775)
    assert main(["verify", str(envelope)]) == 2
    assert f"writable by group {shared.gr_name}" in capsys.readouterr().err
    if grp.getgrgid(me.pw_gid).gr_name != me.pw_name:
        pytest.skip("this user has no user-private group")
    os.chown(ancestor, -1, me.pw_gid)  # a user-private group (Debian, Fedora default)
    assert main(["verify", str(envelope)]) == 0
