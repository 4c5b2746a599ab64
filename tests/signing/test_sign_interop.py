"""Independent verification: securesystemslib's DSSE implementation accepts envstamp's
envelopes, rejects tampered ones the same way envstamp does, and envstamp accepts envelopes
that securesystemslib signed."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

from envstamp.cli.main import main
from envstamp.errors import CheckFailed
from envstamp.signing import dsse, sign, verify
from envstamp.signing.keys import SigningKey
from tests.sign_support import flip, p256_key, payload_of, rfc_key, sample_manifest, sig_of


def sslib_key(key: SigningKey) -> SSlibKey:
    # securesystemslib matches signatures to keys by keyid: pass envstamp's keyid explicitly.
    return SSlibKey.from_crypto(key.public_key.crypto_key, keyid=key.keyid)


def sslib_accepts(envelope: dict[str, Any], key: SigningKey) -> bool:
    try:
        Envelope.from_dict(copy.deepcopy(envelope)).verify([sslib_key(key)], 1)
    except VerificationError:
        return False
    return True


def envstamp_accepts(envelope: dict[str, Any], key: SigningKey) -> bool:
    try:
        verify.verify_envelope(envelope, [key.public_key])
    except CheckFailed:
        return False
    return True


@pytest.mark.parametrize("make_key", [lambda: rfc_key(0), p256_key], ids=["ed25519", "p256"])
def test_securesystemslib_verifies_a_signed_manifest(make_key: Any) -> None:
    key = make_key()
    envelope = sign.sign_manifest(sample_manifest(), key)
    accepted = Envelope.from_dict(copy.deepcopy(envelope)).verify([sslib_key(key)], 1)
    assert list(accepted) == [key.keyid]
    assert envstamp_accepts(envelope, key)


def test_both_reject_tampering_the_same_way() -> None:
    key = rfc_key(0)
    envelope = sign.sign_manifest(sample_manifest(), key)
    payload, sig = payload_of(envelope), sig_of(envelope)
    tampered = [
        {**envelope, "payload": base64.b64encode(flip(payload, i)).decode()}
        for i in (0, len(payload) // 2, len(payload) - 1)
    ]
    tampered += [
        {**envelope, "signatures": [{"keyid": key.keyid,
                                     "sig": base64.b64encode(flip(sig, i)).decode()}]}
        for i in (0, 31, 63)
    ]
    tampered.append({**envelope, "payloadType": "application/json"})
    for bad in tampered:
        assert not sslib_accepts(bad, key)
        with pytest.raises(CheckFailed):
            verify.verify_envelope(bad, [key.public_key])


def test_wrong_key_rejected_by_both() -> None:
    envelope = sign.sign_manifest(sample_manifest(), rfc_key(0))
    impostor = rfc_key(1)
    forged = copy.deepcopy(envelope)
    forged["signatures"][0]["keyid"] = impostor.keyid
    assert not sslib_accepts(forged, impostor)
    assert not envstamp_accepts(envelope, impostor)


def _crypto_ed25519() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.generate()


def _crypto_p256() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize("make_key", [_crypto_ed25519, _crypto_p256], ids=["ed25519", "p256"])
def test_envstamp_verifies_what_securesystemslib_signed(make_key: Any) -> None:
    private = make_key()
    key = SigningKey(private)
    statement = dsse.make_statement([("hello.txt", "ab" * 32)], "urn:example:test", {"n": 1})
    envelope = Envelope(json.dumps(statement).encode(), dsse.PAYLOAD_TYPE, {})
    envelope.sign(CryptoSigner(private, sslib_key(key)))
    verified = verify.verify_envelope(envelope.to_dict(), [key.public_key])
    assert verified.keyids == [key.keyid]
    assert verified.statement == statement


def test_capture_envelope_every_byte_change_rejected_by_both(
    tmp_path: Path, hosts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's bar: an envelope from `envstamp capture` verifies with envstamp and with
    securesystemslib, and a change to any single byte of its payload or signature makes both
    reject it (every signature byte; payload bytes at a stride, plus first and last)."""
    out = tmp_path / "m.json"
    assert main(["capture", "--replay", str(hosts / "linux-debian12-vm"), "-o", str(out)]) == 0
    capsys.readouterr()
    envelope = json.loads(out.read_text())
    from envstamp.signing.keys import load_signing_key

    key = load_signing_key(create=False)
    assert main(["verify", str(out)]) == 0
    assert sslib_accepts(envelope, key)
    payload, sig = payload_of(envelope), sig_of(envelope)
    positions = sorted({0, len(payload) - 1, *range(0, len(payload), max(1, len(payload) // 40))})
    for i in positions:
        bad = {**envelope, "payload": base64.b64encode(flip(payload, i, 0x20)).decode()}
        assert not sslib_accepts(bad, key), i
        assert not envstamp_accepts(bad, key), i
    for i in range(len(sig)):
        bad_sig = base64.b64encode(flip(sig, i, 0x80)).decode()
        bad = {**envelope, "signatures": [{"keyid": key.keyid, "sig": bad_sig}]}
        assert not sslib_accepts(bad, key), i
        assert not envstamp_accepts(bad, key), i
