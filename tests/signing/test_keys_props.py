"""Properties of key files: every key round trips through its PEM, and envstamp's own
reading of plain Ed25519 PEM (without cryptography's PEM loader) agrees with cryptography's
on any key and on any damaged file - it takes the same key or refuses, never another key.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.signing import keys
from envstamp.signing.keys import PublicKey, SigningKey

SEEDS = st.binary(min_size=32, max_size=32)
FEW = settings(max_examples=60, deadline=None)


def _key(seed: bytes) -> SigningKey:
    return SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(seed), source="seed")


def _pem(kind: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n").encode()


def _der(pem: bytes) -> bytes:
    body = b"".join(pem.strip().split(b"\n")[1:-1])
    return base64.b64decode(body)


def _cryptography_private(pem: bytes) -> Any:
    """What cryptography's own loader makes of a private PEM: a keyid, or None."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except Exception:  # noqa: BLE001 - any refusal of cryptography's counts as a refusal
        return None
    try:
        return PublicKey(key.public_key()).keyid
    except InputError:
        return None  # an algorithm envstamp does not sign with


def _cryptography_public(pem: bytes) -> Any:
    try:
        return PublicKey(serialization.load_pem_public_key(pem)).keyid
    except Exception:  # noqa: BLE001 - any refusal of cryptography's counts as a refusal
        return None


# --------------------------------------------------------------------------- round trips


@FEW
@given(SEEDS, st.binary(max_size=64))
def test_a_key_read_back_from_its_pem_is_the_same_key(seed: bytes, message: bytes) -> None:
    key = _key(seed)
    again = SigningKey.from_pem(key.private_pem(), source="k.pem")
    assert again.keyid == key.keyid
    assert again.sign(message) == key.sign(message)  # Ed25519 signatures are deterministic
    assert key.public_key.verify(again.sign(message), message)


@settings(max_examples=5, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_an_encrypted_key_reads_back_only_with_its_passphrase(passphrase: str) -> None:
    key = SigningKey.generate()
    pem = key.private_pem(passphrase.encode("utf-8"))
    assert b"ENCRYPTED" in pem
    assert SigningKey.from_pem(pem, source="k.pem", passphrase=passphrase).keyid == key.keyid
    with pytest.raises(InputError, match="wrong passphrase"):
        SigningKey.from_pem(pem, source="k.pem", passphrase=passphrase + "x")


@pytest.mark.parametrize("algorithm", [keys.ED25519, keys.ECDSA_P256])
def test_each_algorithm_round_trips_through_pem_and_openssh(algorithm: str) -> None:
    key = SigningKey.generate(algorithm)
    assert SigningKey.from_pem(key.private_pem(), source="k").keyid == key.keyid
    public = key.public_key
    assert keys.load_public_key(public.pem().encode()) == public
    assert keys.load_public_key(public.openssh().encode()) == public
    assert public.keyid == hashlib.sha256(public.der).hexdigest()


@FEW
@given(SEEDS)
def test_a_public_key_reads_back_from_each_of_its_forms(seed: bytes) -> None:
    public = _key(seed).public_key
    for form in (public.pem(), public.openssh(), "\n\n  " + public.pem() + "\n"):
        loaded = keys.load_public_key(form.encode())
        assert loaded == public and loaded.algorithm == keys.ED25519


@FEW
@given(st.lists(st.sampled_from(range(4)), max_size=8))
def test_unique_keys_keeps_the_first_of_each_in_order(picks: list[int]) -> None:
    pool = [_key(bytes([i]) * 32).public_key for i in range(4)]
    chosen = [pool[i] for i in picks]
    assert keys.unique_keys(chosen) == [pool[i] for i in dict.fromkeys(picks)]


# ------------------------------------------------------------- damaged files, fast path


@settings(max_examples=150, deadline=None)
@given(SEEDS, st.data())
def test_a_damaged_private_pem_gives_cryptographys_key_or_a_refusal(
    seed: bytes, data: st.DataObject
) -> None:
    der = bytearray(_der(_key(seed).private_pem()))
    index = data.draw(st.integers(0, len(der) - 1), label="byte")
    der[index] ^= data.draw(st.integers(1, 255), label="mask")
    # The OID of Ed448 or X448 over a 32-byte key is the known bug of the xfail test below
    assume(der[:11] != _ED25519_OID_START or der[11] not in _WRONG_SIZE_CURVES)
    pem = _pem("PRIVATE KEY", bytes(der))
    expected = _cryptography_private(pem)
    try:
        found = SigningKey.from_pem(pem, source="k.pem").keyid
    except InputError:
        found = None
    if index >= 16:
        # a changed seed is another valid key: both readers must see that same key
        assert found == expected and found is not None
    else:
        assert found in (None, expected)  # never a key cryptography would not read


@settings(max_examples=150, deadline=None)
@given(SEEDS, st.data())
def test_a_damaged_public_pem_gives_cryptographys_key_or_a_refusal(
    seed: bytes, data: st.DataObject
) -> None:
    der = bytearray(_key(seed).public_key.der)
    index = data.draw(st.integers(0, len(der) - 1), label="byte")
    der[index] ^= data.draw(st.integers(1, 255), label="mask")
    pem = _pem("PUBLIC KEY", bytes(der))
    expected = _cryptography_public(pem)
    try:
        found = keys.load_public_key(pem).keyid
    except InputError:
        found = None
    assert found in (None, expected)
    if index >= 12:  # a changed key is another valid key, or a point off the curve
        assert found == expected


_ED25519_OID_START = bytes.fromhex("302e020100300506032b65")  # PKCS#8 up to the OID's end
_WRONG_SIZE_CURVES = (0x6F, 0x71)  # 1.3.101.111 X448, 1.3.101.113 Ed448: not 32-byte keys


@pytest.mark.parametrize("curve", _WRONG_SIZE_CURVES)
def test_a_key_file_naming_another_curve_is_an_input_error(curve: int) -> None:
    der = bytearray(_der(_key(bytes(32)).private_pem()))
    assert bytes(der[:11]) == _ED25519_OID_START and der[11] == 0x70
    der[11] = curve
    with pytest.raises(InputError, match=r"k\.pem"):
        SigningKey.from_pem(_pem("PRIVATE KEY", bytes(der)), source="k.pem")


@pytest.mark.parametrize(
    "text",
    [b"", b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
     b"-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
     b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
     b"ssh-ed25519 AAAA"],
)
def test_what_is_no_private_key_is_refused(text: bytes) -> None:
    with pytest.raises(InputError):
        SigningKey.from_pem(text, source="k.pem")


def test_two_pem_blocks_are_never_read_as_the_first_alone() -> None:
    one, two = SigningKey.generate(), SigningKey.generate()
    both = one.private_pem() + two.private_pem()
    try:
        found = SigningKey.from_pem(both, source="k.pem").keyid
    except InputError:
        return  # refusing an ambiguous file is fine
    assert found == _cryptography_private(both)
