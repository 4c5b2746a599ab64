"""Keys: generation, keyids, storage (modes, O_EXCL, --force), loading precedence,
passphrases, permission refusal, the trusted folder, and that key material never leaks."""

from __future__ import annotations

import ast
import hashlib
import os
import pickle
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from envstamp.errors import InputError
from envstamp.signing import keys
from tests.sign_support import RFC8032, rfc_key

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("algorithm", keys.ALGORITHMS)
def test_generated_keys_sign_and_carry_their_keyid(algorithm: str) -> None:
    from cryptography.hazmat.primitives import serialization

    key = keys.SigningKey.generate(algorithm)
    der = key.public_key.crypto_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.keyid == hashlib.sha256(der).hexdigest()
    assert key.public_key.der == der
    assert len(key.keyid) == 64 and key.keyid == key.keyid.lower()
    assert key.algorithm == algorithm
    signature = key.sign(b"data")
    assert key.verify(signature, b"data") and not key.verify(signature, b"date")


def test_unknown_algorithm() -> None:
    with pytest.raises(InputError, match="ed25519"):
        keys.SigningKey.generate("rsa")


def test_other_key_types_are_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    for private in (rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP384R1())):
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with pytest.raises(InputError, match="supported"):
            keys.SigningKey.from_pem(pem, source="k.pem")
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with pytest.raises(InputError, match="supported"):
            keys.load_public_key(public)


# ------------------------------------------------------------------------------- storage


@posix_only
def test_default_key_files_and_modes() -> None:
    key = keys.default_signing_key()
    folder = keys.default_key_dir()
    assert _mode(folder) == 0o700
    private = folder / keys.PRIVATE_FILE
    assert _mode(private) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    public = keys.public_path_for(private)
    assert public.name == "signing.pub.pem"
    assert keys.load_public_key(public) == key.public_key
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_store_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "k.pem"
    keys.store_key(rfc_key(0), target)
    before = target.read_bytes()
    with pytest.raises(keys.KeyExistsError, match="--force"):
        keys.store_key(rfc_key(1), target)
    assert target.read_bytes() == before
    keys.store_key(rfc_key(1), target, force=True)
    assert keys.load_private_key_file(target).keyid == rfc_key(1).keyid
    assert keys.load_public_key(tmp_path / "k.pub.pem").keyid == rfc_key(1).keyid


def test_store_without_hard_links_is_still_exclusive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "k.pem"
    keys.store_key(rfc_key(0), target)
    assert keys.load_private_key_file(target).keyid == rfc_key(0).keyid
    with pytest.raises(keys.KeyExistsError):
        keys.store_key(rfc_key(1), target)
    assert keys.load_private_key_file(target).keyid == rfc_key(0).keyid


def test_store_into_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        keys.store_key(rfc_key(0), tmp_path / "nope" / "k.pem")


def test_concurrent_first_use_makes_one_key(capsys: pytest.CaptureFixture[str]) -> None:
    found: list[str] = []
    barrier = threading.Barrier(6)

    def first_use() -> None:
        barrier.wait()
        found.append(keys.default_signing_key().keyid)

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 6 and len(set(found)) == 1
    assert capsys.readouterr().err.count("created signing key") == 1


def test_default_key_not_created_when_asked_not_to() -> None:
    with pytest.raises(InputError, match="keygen"):
        keys.load_signing_key(create=False)
    assert not keys.default_private_path().exists()


# ------------------------------------------------------------------------------ loading


@posix_only
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o610])
def test_private_key_open_to_others_is_refused(
    tmp_path: Path, mode: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "k.pem"
    keys.store_key(rfc_key(0), target)
    target.chmod(mode)
    with pytest.raises(InputError, match="chmod 600") as info:
        keys.load_private_key_file(target)
    assert f"{mode:04o}" in str(info.value)
    monkeypatch.setenv(keys.ENV_INSECURE_PERMISSIONS, "1")
    assert keys.load_private_key_file(target).keyid == rfc_key(0).keyid


@posix_only
def test_owner_only_modes_are_fine(tmp_path: Path) -> None:
    target = tmp_path / "k.pem"
    keys.store_key(rfc_key(0), target)
    for mode in (0o400, 0o600):
        target.chmod(mode)
        assert keys.load_private_key_file(target).keyid == rfc_key(0).keyid


def test_encrypted_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "k.pem"
    keys.store_key(rfc_key(0), target, passphrase="correct horse")
    assert target.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(InputError, match=keys.ENV_PASSPHRASE) as missing:
        keys.load_private_key_file(target)
    with pytest.raises(InputError, match="wrong passphrase") as wrong:
        keys.load_private_key_file(target, passphrase="battery staple")
    for message in (str(missing.value), str(wrong.value)):
        assert "\n" not in message and str(target) in message
    assert keys.load_private_key_file(target, passphrase=b"correct horse").keyid == (
        rfc_key(0).keyid
    )
    monkeypatch.setenv(keys.ENV_PASSPHRASE, "correct horse")
    assert keys.load_private_key_file(target).keyid == rfc_key(0).keyid


def test_passphrase_for_an_unencrypted_key_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "k.pem"
    keys.store_key(keys.SigningKey.generate(keys.ECDSA_P256), target)
    monkeypatch.setenv(keys.ENV_PASSPHRASE, "unused")
    assert keys.load_private_key_file(target).algorithm == keys.ECDSA_P256


def test_precedence_flag_then_env_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = keys.default_signing_key()
    flag_file, env_file = tmp_path / "flag.pem", tmp_path / "env.pem"
    keys.store_key(rfc_key(0), flag_file)
    keys.store_key(rfc_key(1), env_file)
    assert keys.load_signing_key().keyid == default.keyid
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY_FILE, str(env_file))
    assert keys.load_signing_key().keyid == rfc_key(1).keyid
    assert keys.load_signing_key(flag_file).keyid == rfc_key(0).keyid
    monkeypatch.delenv(keys.ENV_PRIVATE_KEY_FILE)
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, rfc_key(2).private_pem().decode())
    assert keys.load_signing_key().keyid == rfc_key(2).keyid
    assert keys.load_signing_key(flag_file).keyid == rfc_key(0).keyid
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY_FILE, str(env_file))
    with pytest.raises(InputError, match="set one"):
        keys.load_signing_key()


def test_env_pem_with_flattened_newlines(monkeypatch: pytest.MonkeyPatch) -> None:
    flattened = rfc_key(2).private_pem().decode().replace("\n", "\\n")
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, flattened)
    assert keys.load_signing_key().keyid == rfc_key(2).keyid


def test_env_encrypted_pem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, rfc_key(1).private_pem(b"s3cret").decode())
    with pytest.raises(InputError, match=keys.ENV_PASSPHRASE):
        keys.load_signing_key()
    monkeypatch.setenv(keys.ENV_PASSPHRASE, "s3cret")
    assert keys.load_signing_key().keyid == rfc_key(1).keyid


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "PEM"),
        (b"hello", "PEM"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "readable"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
         "OpenSSH"),
    ],
)
def test_unreadable_private_keys(tmp_path: Path, content: bytes, match: str) -> None:
    target = tmp_path / "k.pem"
    target.write_bytes(content)
    target.chmod(0o600)
    with pytest.raises(InputError, match=match):
        keys.load_private_key_file(target)


def test_missing_and_odd_key_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        keys.load_private_key_file(tmp_path / "none.pem")
    with pytest.raises(InputError, match=r"folder|regular"):
        keys.load_public_key(tmp_path)
    big = tmp_path / "big.pem"
    big.write_bytes(b"A" * (keys.MAX_KEY_FILE_BYTES + 1))
    with pytest.raises(InputError, match="too large"):
        keys.load_public_key(big)


def test_public_key_forms(tmp_path: Path) -> None:
    for key in (rfc_key(0), keys.SigningKey.generate(keys.ECDSA_P256)):
        pem, ssh = key.public_key.pem(), key.public_key.openssh()
        assert keys.load_public_key(pem) == key.public_key
        assert keys.load_public_key(pem.encode()) == key.public_key
        assert keys.load_public_key(ssh) == key.public_key
        path = tmp_path / "k.pub"
        path.write_text(ssh)
        assert keys.load_public_key(path) == key.public_key
        assert keys.load_public_key(str(path)) == key.public_key


def test_public_key_pem_matches_cryptography() -> None:
    from cryptography.hazmat.primitives import serialization

    key = rfc_key(0)
    expected = key.public_key.crypto_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.public_key.pem().encode() == expected


def test_fast_ed25519_pem_path_agrees_with_cryptography() -> None:
    from cryptography.hazmat.primitives import serialization

    for index in range(len(RFC8032)):
        pem = rfc_key(index).private_pem()
        fast = keys.SigningKey.from_pem(pem, source="k")
        slow = keys.SigningKey(serialization.load_pem_private_key(pem, None))
        assert fast.keyid == slow.keyid == rfc_key(index).keyid
        # Ed25519 is deterministic: the same key signs the same bytes identically.
        assert fast.sign(b"message") == slow.sign(b"message")


def test_a_plain_ed25519_key_loads_without_cryptographys_pem_loader(tmp_path: Path) -> None:
    """The one speed measure of key loading (docs/decisions.md): the common key is read from
    its fixed DER layout, so a signing process never imports the serialization package."""
    path = tmp_path / "k.pem"
    path.write_bytes(rfc_key(1).private_pem())
    code = (
        "import sys\n"
        "from envstamp.signing import keys\n"
        "key = keys.SigningKey.from_pem(open(sys.argv[1], 'rb').read(), source='k')\n"
        "public = keys.load_public_key(key.public_key.pem().encode())\n"
        "assert public.verify(key.sign(b'data'), b'data')\n"
        "print(key.keyid, 'cryptography.hazmat.primitives.serialization' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [rfc_key(1).keyid, "False"]


def test_keys_use_only_cryptographys_public_api() -> None:
    """Security code names no private module of cryptography (bindings, _rust, _-modules)."""
    folder = Path(keys.__file__).parent
    checked = 0
    for module in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("cryptography"):
                    private = [part for part in name.split(".") if part.startswith("_")]
                    assert "bindings" not in name and not private, f"{module.name}: {name}"
                    checked += 1
    assert checked >= 2  # keys.py imports cryptography: the check above did run
    key = keys.SigningKey.from_pem(rfc_key(0).private_pem(), source="k")
    from cryptography.hazmat.primitives.asymmetric import ed25519

    assert isinstance(key.public_key.crypto_key, ed25519.Ed25519PublicKey)


def test_public_key_refuses_private_and_garbage() -> None:
    with pytest.raises(InputError, match="private key"):
        keys.load_public_key(rfc_key(0).private_pem())
    with pytest.raises(InputError):
        keys.load_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InputError):
        keys.load_public_key(b"ssh-ed25519 AAAA")
    with pytest.raises(InputError, match="PEM or OpenSSH"):
        keys.load_public_key(b"just text")


def test_trusted_keys_collects_default_and_folder() -> None:
    assert keys.trusted_keys() == []
    default = keys.default_signing_key()
    folder = keys.trusted_dir()
    folder.mkdir()
    (folder / "a.pem").write_text(rfc_key(0).public_key.pem())
    (folder / "b.pub").write_text(rfc_key(1).public_key.openssh())
    (folder / "dup.pem").write_text(rfc_key(0).public_key.pem())
    (folder / "README.txt").write_text("not a key")
    found = [k.keyid for k in keys.trusted_keys()]
    assert found == [default.keyid, rfc_key(0).keyid, rfc_key(1).keyid]


def test_broken_trusted_key_is_reported() -> None:
    folder = keys.trusted_dir()
    folder.mkdir(parents=True)
    (folder / "broken.pem").write_text("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InputError, match=r"broken\.pem"):
        keys.trusted_keys()


def test_config_dir_override_and_platformdirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(keys.ENV_CONFIG_DIR, str(tmp_path / "cfg"))
    assert keys.default_key_dir() == tmp_path / "cfg" / "keys"
    import platformdirs

    monkeypatch.delenv(keys.ENV_CONFIG_DIR)
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *a, **k: str(tmp_path / "pd"))
    assert keys.default_key_dir() == tmp_path / "pd" / "keys"
    assert keys.trusted_dir() == tmp_path / "pd" / "keys" / "trusted"


def test_public_path_naming() -> None:
    assert keys.public_path_for(Path("a/signing.pem")) == Path("a/signing.pub.pem")
    assert keys.public_path_for(Path("ci.key")) == Path("ci.key.pub.pem")


# -------------------------------------------------------------------------- no leaks


def _secrets_of(key: keys.SigningKey) -> list[str]:
    pem = key.private_pem().decode()
    body = "".join(pem.splitlines()[1:-1])
    raw = key._key.private_bytes_raw().hex() if key.algorithm == keys.ED25519 else ""
    return [s for s in (body, body[:24], body[-24:], raw) if s]


def test_repr_and_str_carry_no_key_material() -> None:
    key = rfc_key(0)
    shown = repr(key) + str(key) + repr(key.public_key) + f"{key!r}"
    for secret in _secrets_of(key):
        assert secret not in shown
    assert key.keyid in repr(key)
    assert RFC8032[0][0] not in shown


def test_signing_keys_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(rfc_key(0))


def test_error_messages_carry_no_key_material(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = rfc_key(1)
    target = tmp_path / "k.pem"
    keys.store_key(key, target)
    target.chmod(0o644)
    messages = []
    for attempt in (
        lambda: keys.load_private_key_file(target),
        lambda: keys.load_public_key(target),
    ):
        with pytest.raises(InputError) as info:
            attempt()
        messages.append(str(info.value))
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, key.private_pem().decode()[:-40])  # truncated
    with pytest.raises(InputError) as info:
        keys.load_signing_key()
    messages.append(str(info.value))
    for message in messages:
        for secret in _secrets_of(key):
            assert secret not in message


def test_cryptography_is_imported_only_when_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, envstamp\n"
        "import envstamp.signing.keys, envstamp.signing.sign, envstamp.signing.verify\n"
        "import envstamp.cli.capture\n"
        "import envstamp.cli.verify, envstamp.cli.keygen, envstamp.cli.sign\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('cryptography'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
