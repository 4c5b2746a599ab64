"""``envstamp keygen`` and ``envstamp pubkey``: files, exit codes, one-line errors, no leaks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.signing import keys
from tests.sign_support import rfc_key


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("verb", ["sign", "verify", "keygen", "pubkey"])
def test_help(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([verb, "--help"])
    assert info.value.code == 0
    assert f"envstamp {verb}" in capsys.readouterr().out


def test_keygen_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "keygen")
    assert code == 0 and err == ""
    key = keys.load_signing_key(create=False)
    assert key.algorithm == "ed25519"
    assert key.keyid in out and str(keys.default_private_path()) in out
    if os.name != "nt":
        assert stat.S_IMODE(keys.default_private_path().stat().st_mode) == 0o600
        assert stat.S_IMODE(keys.default_key_dir().stat().st_mode) == 0o700


def test_keygen_refuses_to_overwrite_then_force_retires(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(capsys, "keygen")[0] == 0
    first = keys.load_signing_key(create=False).keyid
    code, out, err = _run(capsys, "keygen")
    assert code == 2 and out == "" and err.count("\n") == 1 and "--force" in err
    assert keys.load_signing_key(create=False).keyid == first
    code, out, _ = _run(capsys, "keygen", "--force", "--algorithm", "ecdsa-p256")
    second = keys.load_signing_key(create=False)
    assert code == 0 and second.keyid != first and second.algorithm == "ecdsa-p256"
    retired = list((keys.default_key_dir() / "retired").iterdir())
    assert [keys.load_public_key(p).keyid for p in retired] == [first]
    assert keys.trusted_keys() == [second.public_key]  # the old key is not trusted silently


def test_keygen_to_a_file_with_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ci.pem"
    code, _, err = _run(capsys, "keygen", "--passphrase", "-o", str(target))
    assert code == 2 and "ENVSTAMP_PASSPHRASE" in err  # no terminal to ask on
    assert not target.exists()
    monkeypatch.setenv(keys.ENV_PASSPHRASE, "hunter2 hunter2")
    code, out, _ = _run(capsys, "keygen", "--passphrase", "-o", str(target))
    assert code == 0 and "encrypted" in out
    assert target.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert (tmp_path / "ci.pub.pem").is_file()
    assert not keys.default_private_path().exists()
    monkeypatch.delenv(keys.ENV_PASSPHRASE)
    code, _, err = _run(capsys, "sign", str(target), "--key", str(target))
    assert code == 2 and "encrypted" in err and err.count("\n") == 1


def test_keygen_bad_algorithm(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["keygen", "--algorithm", "rsa"])
    assert info.value.code == 2


def test_pubkey_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "keygen")[0] == 0
    key = keys.load_signing_key(create=False)
    code, pem, _ = _run(capsys, "pubkey")
    assert code == 0 and pem == key.public_key.pem()
    code, ssh, _ = _run(capsys, "pubkey", "--format", "openssh")
    assert code == 0 and ssh.startswith("ssh-ed25519 ")
    assert keys.load_public_key(ssh) == key.public_key
    code, keyid, _ = _run(capsys, "pubkey", "--format", "keyid")
    assert code == 0 and keyid.strip() == key.keyid


def test_pubkey_of_a_file_and_of_the_env_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "k.pem"
    keys.store_key(rfc_key(0), private)
    for path in (private, tmp_path / "k.pub.pem"):
        code, out, _ = _run(capsys, "pubkey", "--key", str(path), "--format", "keyid")
        assert code == 0 and out.strip() == rfc_key(0).keyid
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, rfc_key(1).private_pem().decode())
    code, out, _ = _run(capsys, "pubkey", "--format", "keyid")
    assert code == 0 and out.strip() == rfc_key(1).keyid
    target = tmp_path / "out.pem"
    assert _run(capsys, "pubkey", "-o", str(target))[0] == 0
    assert keys.load_public_key(target) == rfc_key(1).public_key


def test_pubkey_without_a_key_makes_none(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "pubkey")
    assert code == 2 and out == "" and "keygen" in err
    assert not keys.default_private_path().exists()


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_open_key_file_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "k.pem"
    keys.store_key(rfc_key(0), private)
    private.chmod(0o640)
    manifest = tmp_path / "m.json"
    from envstamp.manifest.serialize import to_json
    from tests.sign_support import sample_manifest

    manifest.write_text(to_json(sample_manifest()))
    code, _, err = _run(capsys, "sign", str(manifest), "--key", str(private))
    assert code == 2 and err.count("\n") == 1 and "chmod 600" in err and "Traceback" not in err
    monkeypatch.setenv(keys.ENV_INSECURE_PERMISSIONS, "1")
    assert _run(capsys, "sign", str(manifest), "--key", str(private))[0] == 0


def test_no_key_material_in_any_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.manifest.serialize import to_json
    from tests.sign_support import sample_manifest

    manifest = tmp_path / "m.json"
    manifest.write_text(to_json(sample_manifest()))
    seen = ""
    for argv in (
        ["keygen"],
        ["keygen", "--force", "--algorithm", "ecdsa-p256"],
        ["pubkey"],
        ["pubkey", "--format", "openssh"],
        ["sign", str(manifest)],
        ["verify", str(tmp_path / "m.signed.json")],
        ["verify", str(tmp_path / "m.signed.json"), "--json"],
        ["capture", "--no-sign", "--key", str(keys.default_private_path())],
    ):
        _, out, err = _run(capsys, *argv)
        seen += out + err
    pem = keys.default_private_path().read_text()
    body = "".join(pem.splitlines()[1:-1])
    assert body[:32] not in seen and body[-32:] not in seen
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, pem[:-30])
    _, out, err = _run(capsys, "sign", str(manifest))
    assert body[:32] not in out + err and body[-32:] not in out + err
