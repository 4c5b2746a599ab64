"""Properties of signing and verification: what a signature binds, and what it does not.

Every envelope here is signed once per module (Ed25519 of the RFC 8032 keys, P-256 made
fresh) and then changed by hypothesis: one byte of the payload or of a signature, the keyid
hints, the set of signatures, the payload type, the artifacts it covers.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import CheckFailed, InputError
from envstamp.manifest.document import Status
from envstamp.manifest.serialize import unstructure
from envstamp.signing import dsse, sign, verify
from envstamp.signing.keys import SigningKey
from tests.sign_support import (
    envelope_bytes,
    flip,
    p256_key,
    payload_of,
    rfc_key,
    sample_manifest,
    sig_of,
    with_payload,
    with_sig,
)

KEYS = [rfc_key(0), rfc_key(1), rfc_key(2)]
P256 = p256_key()
ENVELOPE = sign.sign_manifest(sample_manifest(), KEYS[0])
PAYLOAD = payload_of(ENVELOPE)
SIG = sig_of(ENVELOPE)
P256_ENVELOPE = sign.sign_manifest(sample_manifest(), P256)
FEW = settings(max_examples=40, deadline=None)


def _fails(envelope: dict[str, Any], trusted: list[SigningKey], **options: Any) -> str:
    """The CheckFailed message verification gives (the test fails if it verifies)."""
    with pytest.raises(CheckFailed) as caught:
        verify.verify_envelope(envelope, [k.public_key for k in trusted], **options)
    return str(caught.value)


# ------------------------------------------------------------------------- the format


@given(st.text(max_size=30), st.binary(max_size=60))
def test_pae_spells_out_both_lengths_in_bytes(payload_type: str, payload: bytes) -> None:
    kind = payload_type.encode("utf-8")
    expected = b"DSSEv1 " + str(len(kind)).encode() + b" " + kind
    expected += b" " + str(len(payload)).encode() + b" " + payload
    assert dsse.pae(payload_type, payload) == expected


@given(st.text(max_size=12), st.binary(max_size=12), st.text(max_size=12), st.binary(max_size=12))
def test_pae_never_confuses_two_messages(t1: str, p1: bytes, t2: str, p2: bytes) -> None:
    # lengths first: moving bytes between the type and the payload changes the encoding
    if (t1, p1) != (t2, p2):
        assert dsse.pae(t1, p1) != dsse.pae(t2, p2)
    else:
        assert dsse.pae(t1, p1) == dsse.pae(t2, p2)


def test_pae_of_a_type_and_payload_that_trade_bytes() -> None:
    assert dsse.pae("ab", b"c") == b"DSSEv1 2 ab 1 c"
    assert dsse.pae("a", b"bc") == b"DSSEv1 1 a 2 bc"


@given(st.binary(min_size=1, max_size=64))
def test_sha256_hex_takes_the_bare_and_the_prefixed_digest_alike(data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    assert dsse.sha256_hex(digest) == digest
    assert dsse.sha256_hex(f"sha256:{digest}") == digest
    assert dsse.is_sha256_hex(digest) and not dsse.is_sha256_hex(digest.upper())
    for wrong in (digest.upper(), digest[:-1], f"sha512:{digest}", f"sha256:{digest}0"):
        with pytest.raises(InputError):
            dsse.sha256_hex(wrong)


def test_statement_subjects_keep_their_order_and_names() -> None:
    digests = [hashlib.sha256(bytes([i])).hexdigest() for i in range(3)]
    statement = dsse.make_statement(
        [("b.bin", digests[0]), ("a.bin", f"sha256:{digests[1]}"), ("", digests[2])],
        dsse.ARTIFACT_PREDICATE,
        {},
    )
    assert verify.statement_subjects(statement) == [
        ("b.bin", digests[0]), ("a.bin", digests[1]), ("", digests[2])]


# ------------------------------------------------------------------ what a signature binds


def test_the_unchanged_envelope_verifies_with_its_own_key_only() -> None:
    verified = verify.verify_envelope(ENVELOPE, [KEYS[0].public_key])
    assert verified.keyids == [KEYS[0].keyid] and verified.payload == PAYLOAD
    assert verified.subjects == [("manifest", sample_manifest().identity_digest[7:])]  # type: ignore[index]
    assert "no signature verifies" in _fails(ENVELOPE, [KEYS[1], KEYS[2], P256])


@FEW
@given(st.data())
def test_any_changed_payload_byte_fails_verification(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(PAYLOAD) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    changed = with_payload(ENVELOPE, flip(PAYLOAD, index, mask))
    assert "no signature verifies" in _fails(changed, [KEYS[0]])


@FEW
@given(st.data())
def test_any_changed_signature_byte_fails_verification(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(SIG) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    assert "no signature verifies" in _fails(with_sig(ENVELOPE, flip(SIG, index, mask)), [KEYS[0]])


@FEW
@given(st.data())
def test_any_changed_p256_signature_byte_fails_verification(data: st.DataObject) -> None:
    raw = sig_of(P256_ENVELOPE)
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    changed = with_sig(P256_ENVELOPE, flip(raw, index, mask))
    with pytest.raises(CheckFailed):
        verify.verify_envelope(changed, [P256.public_key])


@FEW
@given(st.binary(max_size=2), st.integers(0, 1))
def test_a_payload_cut_or_extended_fails_verification(extra: bytes, cut: int) -> None:
    changed = PAYLOAD[: len(PAYLOAD) - cut] + extra
    if changed == PAYLOAD:
        return  # nothing changed: that is the unchanged case above
    _fails(with_payload(ENVELOPE, changed), [KEYS[0]])


def test_a_signature_moved_onto_another_payload_fails() -> None:
    other = sign.sign_artifacts({"model.gguf": b"weights"}, KEYS[0])
    moved = {**other, "signatures": ENVELOPE["signatures"]}
    assert "no signature verifies" in _fails(moved, [KEYS[0]])


def test_the_signature_binds_the_payload_type() -> None:
    # signed as another type, then relabelled: the PAE differs, so nothing verifies
    relabelled = {**sign.sign_payload(PAYLOAD, "application/json", KEYS[0]),
                  "payloadType": dsse.PAYLOAD_TYPE}
    assert "no signature verifies" in _fails(relabelled, [KEYS[0]])


@FEW
@given(st.lists(st.one_of(st.none(), st.sampled_from([k.keyid for k in KEYS]),
                          st.text(max_size=8)), min_size=3, max_size=3))
def test_keyid_hints_never_decide_who_signed(hints: list[str | None]) -> None:
    envelope: dict[str, Any] = sign.sign_manifest(sample_manifest(), KEYS)
    signatures = []
    for entry, hint in zip(envelope["signatures"], hints, strict=True):
        signatures.append({"sig": entry["sig"]} if hint is None else {**entry, "keyid": hint})
    rehinted = {**envelope, "signatures": signatures}
    verified = verify.verify_envelope(rehinted, [k.public_key for k in KEYS], threshold=3)
    assert sorted(verified.keyids) == sorted(k.keyid for k in KEYS)


@FEW
@given(st.sets(st.integers(0, 3), min_size=1), st.integers(1, 4))
def test_threshold_counts_distinct_trusted_signers(signing: set[int], threshold: int) -> None:
    pool = [*KEYS, P256]
    signers = [pool[i] for i in sorted(signing)]
    envelope = sign.sign_manifest(sample_manifest(), signers)
    trusted = [k.public_key for k in pool]
    if threshold <= len(signers):
        verified = verify.verify_envelope(envelope, trusted, threshold=threshold)
        assert sorted(verified.keyids) == sorted(k.keyid for k in signers)
    else:
        message = _fails(envelope, pool, threshold=threshold)
        assert f"{len(signers)} distinct trusted key(s) signed, {threshold} needed" in message


def test_an_untrusted_cosigner_does_not_count_toward_the_threshold() -> None:
    both = sign.add_signature(sign.sign_manifest(sample_manifest(), KEYS[0]), KEYS[1])
    assert len(both["signatures"]) == 2
    message = _fails(both, [KEYS[0], KEYS[2]], threshold=2)
    assert "1 distinct trusted key(s) signed" in message
    assert sorted(verify.verify_envelope(both, [KEYS[0].public_key, KEYS[1].public_key],
                                         threshold=2).keyids) == sorted(
        [KEYS[0].keyid, KEYS[1].keyid])


def test_trusting_the_same_key_twice_counts_it_once() -> None:
    trusted = [KEYS[0].public_key, KEYS[0].public_key]
    with pytest.raises(CheckFailed, match="1 distinct"):
        verify.verify_envelope(ENVELOPE, trusted, threshold=2)


@FEW
@given(st.sampled_from(["standard", "unpadded", "urlsafe", "urlsafe-unpadded"]))
def test_every_accepted_spelling_of_a_signature_verifies(spelling: str) -> None:
    encode = base64.urlsafe_b64encode if spelling.startswith("urlsafe") else base64.b64encode
    text = encode(SIG).decode("ascii")
    if spelling.endswith("unpadded"):
        text = text.rstrip("=")
    respelled = {**ENVELOPE, "signatures": [{"keyid": KEYS[0].keyid, "sig": text}]}
    assert verify.verify_envelope(respelled, [KEYS[0].public_key]).payload == PAYLOAD


# ------------------------------------------------------------------------------ artifacts


@FEW
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.binary(max_size=40),
                       min_size=1, max_size=3))
def test_artifacts_verify_exactly_when_their_bytes_are_unchanged(files: dict[str, bytes]) -> None:
    envelope = sign.sign_artifacts(files, KEYS[1])
    verified = verify.verify_envelope(envelope, [KEYS[1].public_key], artifacts=files)
    assert verified.artifacts_checked == list(files)
    assert verified.predicate == {"size_bytes": {n: len(d) for n, d in files.items()}}
    name = next(iter(files))
    changed = {name: files[name] + b"\0"}
    if hashlib.sha256(changed[name]).hexdigest() in {s[1] for s in verified.subjects}:
        return  # the changed bytes equal another covered file's: still covered
    assert "is not covered" in _fails(envelope, [KEYS[1]], artifacts=changed)


def test_an_artifact_envelope_is_not_a_manifest() -> None:
    envelope = sign.sign_artifacts({"x": b"1"}, KEYS[0])
    message = _fails(envelope, [KEYS[0]], expected_predicate_type=dsse.MANIFEST_PREDICATE)
    assert dsse.ARTIFACT_PREDICATE in message


# --------------------------------------------------------------- the manifest's own subject


def _manifest_statement(subjects: list[tuple[str, str]]) -> dict[str, Any]:
    return dsse.make_statement(subjects, dsse.MANIFEST_PREDICATE,
                               unstructure(sample_manifest()))


def test_a_manifest_statement_must_name_its_own_identity_digest() -> None:
    identity = sample_manifest().identity_digest
    assert identity is not None
    own = identity.removeprefix("sha256:")
    other = hashlib.sha256(b"another machine").hexdigest()
    good = sign.sign_statement(_manifest_statement([("manifest", own)]), KEYS[0])
    assert verify.verify_envelope(good, [KEYS[0].public_key]).subjects == [("manifest", own)]
    wrong = sign.sign_statement(_manifest_statement([("manifest", other)]), KEYS[0])
    assert "does not match" in _fails(wrong, [KEYS[0]])
    two = sign.sign_statement(_manifest_statement([("manifest", own), ("manifest", other)]),
                              KEYS[0])
    assert "2 manifest subjects" in _fails(two, [KEYS[0]])
    unnamed = sign.sign_statement(_manifest_statement([("other", own)]), KEYS[0])
    assert "does not match" in _fails(unnamed, [KEYS[0]])


# ---------------------------------------------------------------------- envelope documents


def _document(envelope: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
              trusted: list[SigningKey] | None) -> Any:
    from envstamp.signing import keys

    monkeypatch.setattr(keys, "trusted_keys", lambda: [k.public_key for k in trusted or []])
    return verify.load_envelope_document(envelope_bytes(envelope), source="e.json",
                                         verify=trusted is not None)


def test_document_statuses_of_one_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    verified = _document(ENVELOPE, monkeypatch, [KEYS[0]]).verification
    assert (verified.status, verified.signers) == (Status.VERIFIED, (KEYS[0].keyid,))
    other = _document(ENVELOPE, monkeypatch, [KEYS[1]]).verification
    assert other.status is Status.INVALID and other.signers == ()
    assert "no signature verifies" in other.message
    unchecked = _document(ENVELOPE, monkeypatch, None).verification
    assert (unchecked.status, unchecked.signers) == (Status.NOT_CHECKED, (KEYS[0].keyid,))
    nobody = _document(ENVELOPE, monkeypatch, []).verification
    assert (nobody.status, nobody.message) == (Status.NOT_CHECKED, "no trusted key")


def test_a_signed_manifest_whose_digest_is_stale_reads_as_edited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # signed as it is, but the manifest inside no longer matches the digest it carries
    stale = sample_manifest()
    assert stale.identity_digest is not None
    data = unstructure(attrs.evolve(stale, cpu=attrs.evolve(stale.cpu, logical_cpus=8)))
    data["identity_digest"] = stale.identity_digest
    statement = dsse.make_statement([("manifest", stale.identity_digest)],
                                    dsse.MANIFEST_PREDICATE, data)
    envelope = sign.sign_statement(statement, KEYS[0])
    doc = _document(envelope, monkeypatch, [KEYS[0]])
    assert doc.verification.status is Status.EDITED and doc.verification.failed
    assert doc.verification.message.startswith("signed, but ")
    assert doc.manifest.cpu.logical_cpus == 8
    assert doc.manifest.identity_digest != stale.identity_digest  # recomputed


def test_an_invalid_envelope_document_still_shows_what_it_claims(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tampered = with_sig(ENVELOPE, flip(SIG, 0))
    doc = _document(tampered, monkeypatch, [KEYS[0]])
    assert doc.verification.failed and doc.kind == "envelope"
    assert doc.manifest.cpu.model_name == sample_manifest().cpu.model_name
