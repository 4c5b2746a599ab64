"""Known-answer tests: RFC 8032 Ed25519 vectors, DSSE PAE, and envelopes regenerated from the
RFC 8032 test keys (expected values computed independently with the openssl CLI)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from envstamp.signing import dsse, keys, sign, verify
from tests.sign_support import RFC8032, rfc_key

# The DSSE spec's example: payloadType http://example.com/HelloWorld, payload "hello world".
DSSE_TYPE = "http://example.com/HelloWorld"
DSSE_PAE = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
# Ed25519 signature of DSSE_PAE by RFC 8032 test key 1 (openssl pkeyutl -sign -rawin).
DSSE_SIG_KEY1 = (
    "e031d7dd99f8aa904abc48fb99a13c3bdbbd6e35c49cf2cb9f25d5509d8f5c947c0d22dc2f7403a45bdf"
    "24e8f7a41fd23c7b25e898386e8c6c31be8abee60007"
)
# sha256 of the DER SubjectPublicKeyInfo of RFC 8032 test key 1 (openssl pkey -pubout -outform
# DER | sha256sum).
KEYID_KEY1 = "06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9"

# An in-toto statement envelope over "hello world\n" (12 bytes) named hello.txt, by key 1.
HELLO_PAYLOAD_B64 = (
    "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJwcmVkaWNhdGUiOnsic2l6ZV9ieXRl"
    "cyI6eyJoZWxsby50eHQiOjEyfX0sInByZWRpY2F0ZVR5cGUiOiJodHRwczovL2VudnN0YW1wLmRldi9hcnRpZmFj"
    "dC92MSIsInN1YmplY3QiOlt7ImRpZ2VzdCI6eyJzaGEyNTYiOiJhOTQ4OTA0ZjJmMGY0NzliOGY4MTk3Njk0YjMw"
    "MTg0YjBkMmVkMWMxY2QyYTFlYzBmYjg1ZDI5OWExOTJhNDQ3In0sIm5hbWUiOiJoZWxsby50eHQifV19"
)
HELLO_SIG_KEY1 = (
    "c84d5cc83f65a7cd07ec6a86585cc14cf22304cb385d8f0a1b202fd29abe4792e8b2fd7f929d88dd2ab9e5"
    "4a2dcd32ba981dc0bb8eb9dc1ec5dc3b22b4deff0b"
)


@pytest.mark.parametrize("index", range(len(RFC8032)))
def test_rfc8032_vectors(index: int) -> None:
    _seed, public, message, signature = RFC8032[index]
    key = rfc_key(index)
    assert key.public_key.der[-32:].hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    assert key.public_key.verify(bytes.fromhex(signature), bytes.fromhex(message))


def test_keyid_is_sha256_of_der_spki() -> None:
    key = rfc_key(0)
    spki = bytes.fromhex("302a300506032b6570032100" + RFC8032[0][1])
    assert key.keyid == KEYID_KEY1 == hashlib.sha256(spki).hexdigest()
    assert keys.load_public_key(_pem(spki)).keyid == KEYID_KEY1
    assert keys.PublicKey(key.public_key.crypto_key).keyid == KEYID_KEY1


def _pem(der: bytes) -> bytes:
    body = base64.b64encode(der)
    return b"-----BEGIN PUBLIC KEY-----\n" + body + b"\n-----END PUBLIC KEY-----\n"


def test_pae_matches_the_dsse_spec_example() -> None:
    assert dsse.pae(DSSE_TYPE, b"hello world") == DSSE_PAE


def test_pae_counts_bytes_not_characters() -> None:
    assert dsse.pae("tÿpe", "é".encode()) == b"DSSEv1 5 t\xc3\xbfpe 2 \xc3\xa9"
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "


def test_dsse_example_envelope_with_rfc8032_key() -> None:
    envelope = sign.sign_payload(b"hello world", DSSE_TYPE, rfc_key(0))
    assert envelope == {
        "payloadType": DSSE_TYPE,
        "payload": "aGVsbG8gd29ybGQ=",
        "signatures": [
            {
                "keyid": KEYID_KEY1,
                "sig": base64.b64encode(bytes.fromhex(DSSE_SIG_KEY1)).decode(),
            }
        ],
    }


def test_in_toto_envelope_known_answer() -> None:
    envelope = sign.sign_artifacts({"hello.txt": b"hello world\n"}, rfc_key(0))
    assert envelope["payload"] == HELLO_PAYLOAD_B64
    assert envelope["signatures"] == [
        {"keyid": KEYID_KEY1, "sig": base64.b64encode(bytes.fromhex(HELLO_SIG_KEY1)).decode()}
    ]
    verified = verify.verify_envelope(
        envelope, [rfc_key(0).public_key], artifacts={"hello.txt": b"hello world\n"}
    )
    assert verified.subjects == [
        ("hello.txt", hashlib.sha256(b"hello world\n").hexdigest())
    ]


def _openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("openssl is not installed here; the docs' recipe cannot be exercised")
    return path


def _recipe_files(tmp_path: Path, envelope: dict[str, object], key: keys.SigningKey) -> Path:
    opened = verify.open_envelope(envelope)  # type: ignore[arg-type]
    (tmp_path / "pae.bin").write_bytes(dsse.pae(opened.payload_type, opened.payload))
    (tmp_path / "sig.bin").write_bytes(opened.signatures[0][1])
    (tmp_path / "public.pem").write_text(key.public_key.pem())
    return tmp_path


def test_openssl_verifies_an_ed25519_envelope(tmp_path: Path) -> None:
    openssl = _openssl()
    key = rfc_key(1)
    envelope = sign.sign_artifacts({"hello.txt": b"hello world\n"}, key)
    folder = _recipe_files(tmp_path, envelope, key)
    argv = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin",
            "-in", "pae.bin", "-sigfile", "sig.bin"]
    good = subprocess.run(argv, cwd=folder, capture_output=True, check=False)
    assert good.returncode == 0, good.stderr
    (folder / "pae.bin").write_bytes(b"X" + (folder / "pae.bin").read_bytes()[1:])
    bad = subprocess.run(argv, cwd=folder, capture_output=True, check=False)
    assert bad.returncode != 0


def test_openssl_verifies_a_p256_envelope(tmp_path: Path) -> None:
    openssl = _openssl()
    key = keys.SigningKey.generate(keys.ECDSA_P256)
    envelope = sign.sign_artifacts({"hello.txt": b"hello world\n"}, key)
    folder = _recipe_files(tmp_path, envelope, key)
    argv = [openssl, "dgst", "-sha256", "-verify", "public.pem", "-signature", "sig.bin",
            "pae.bin"]
    good = subprocess.run(argv, cwd=folder, capture_output=True, check=False)
    assert good.returncode == 0, good.stderr
    (folder / "sig.bin").write_bytes(b"\x00" * 8)
    bad = subprocess.run(argv, cwd=folder, capture_output=True, check=False)
    assert bad.returncode != 0
