"""Tampered, malformed and mis-keyed envelopes: each case runs through the library
(``verify_envelope``) and through ``envstamp verify`` (its exit code).

Expected outcome per case: 0 accepted, 1 rejected as invalid (CheckFailed),
2 unreadable input (InputError).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.cli.main import main
from envstamp.errors import CheckFailed, InputError
from envstamp.signing import dsse, sign, verify
from envstamp.signing.keys import PublicKey, SigningKey
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


@attrs.define
class Keys:
    ed: SigningKey
    ed2: SigningKey
    p256: SigningKey


@attrs.define
class Case:
    data: bytes
    trusted: list[PublicKey]
    expect: int
    threshold: int = 1
    artifacts: dict[str, bytes] = attrs.field(factory=dict)
    reason: str = ""  # a word the rejection message must contain


@pytest.fixture(scope="module")
def ks() -> Keys:
    return Keys(rfc_key(0), rfc_key(1), p256_key())


def _envelope(key: SigningKey) -> dict[str, Any]:
    return sign.sign_manifest(sample_manifest(), key)


def _case(env: dict[str, Any], ks: Keys, expect: int, **kw: Any) -> Case:
    trusted = kw.pop("trusted", [ks.ed.public_key])
    return Case(envelope_bytes(env), trusted, expect, **kw)


# ------------------------------------------------------------------------------------ cases
# Each case builder takes the keys and returns a Case.

CASES: dict[str, Callable[[Keys], Case]] = {}


def case(name: str) -> Callable[[Callable[[Keys], Case]], Callable[[Keys], Case]]:
    def register(builder: Callable[[Keys], Case]) -> Callable[[Keys], Case]:
        CASES[name] = builder
        return builder

    return register


@case("valid")
def _valid(ks: Keys) -> Case:
    return _case(_envelope(ks.ed), ks, 0)


def _payload_flip(position: str) -> Callable[[Keys], Case]:
    def build(ks: Keys) -> Case:
        env = _envelope(ks.ed)
        payload = payload_of(env)
        index = {"first": 0, "middle": len(payload) // 2, "last": len(payload) - 1}[position]
        return _case(with_payload(env, flip(payload, index)), ks, 1)

    return build


for _position in ("first", "middle", "last"):
    case(f"payload-bit-flipped-{_position}")(_payload_flip(_position))


@case("payload-pretty-printed")
def _pretty(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    pretty = json.dumps(json.loads(payload_of(env)), indent=2).encode()
    return _case(with_payload(env, pretty), ks, 1)


@case("payload-keys-reordered")
def _reordered(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    statement = json.loads(payload_of(env))
    reordered = dict(reversed(list(statement.items())))
    compact = json.dumps(reordered, separators=(",", ":"), ensure_ascii=False).encode()
    assert compact != payload_of(env)
    return _case(with_payload(env, compact), ks, 1)


@case("envelope-reindented")
def _reindented(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    return Case(json.dumps(env, indent=7).encode(), [ks.ed.public_key], 0)


@case("envelope-compact-field-order-reversed")
def _field_order(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    return Case(envelope_bytes(dict(reversed(list(env.items()))), indent=None),
                [ks.ed.public_key], 0)


@case("envelope-unknown-fields")
def _unknown_field(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["comment"] = {"added": "later"}
    env["signatures"][0]["extra"] = 1
    return _case(env, ks, 0)


@case("payload-urlsafe-unpadded")
def _urlsafe(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["payload"] = env["payload"].replace("+", "-").replace("/", "_").rstrip("=")
    env["signatures"][0]["sig"] = env["signatures"][0]["sig"].replace("+", "-").replace("/", "_")
    return _case(env, ks, 0)


def _payload_type(value: Any) -> Callable[[Keys], Case]:
    def build(ks: Keys) -> Case:
        env = _envelope(ks.ed)
        if value is None:
            del env["payloadType"]
        else:
            env["payloadType"] = value
        return _case(env, ks, 1)

    return build


case("payload-type-changed")(_payload_type("application/json"))
case("payload-type-recased")(_payload_type("application/vnd.in-toto+JSON"))
case("payload-type-empty")(_payload_type(""))
case("payload-type-missing")(_payload_type(None))
case("payload-type-not-a-string")(_payload_type(["application/vnd.in-toto+json"]))


def _sig_change(change: Callable[[bytes, Keys], bytes]) -> Callable[[Keys], Case]:
    def build(ks: Keys) -> Case:
        env = _envelope(ks.ed)
        return _case(with_sig(env, change(sig_of(env), ks)), ks, 1)

    return build


def _other_message_sig(_sig: bytes, ks: Keys) -> bytes:
    other = sign.sign_statement(dsse.make_statement([("x", "0" * 64)], "urn:x", {}), ks.ed)
    return sig_of(other)


case("sig-bit-flipped")(_sig_change(lambda s, _: flip(s, 10)))
case("sig-truncated-63")(_sig_change(lambda s, _: s[:63]))
case("sig-truncated-1")(_sig_change(lambda s, _: s[:1]))
case("sig-truncated-0")(_sig_change(lambda s, _: b""))
case("sig-byte-appended")(_sig_change(lambda s, _: s + b"\x00"))
case("sig-all-zeros")(_sig_change(lambda s, _: bytes(len(s))))
case("sig-halves-swapped")(_sig_change(lambda s, _: s[32:] + s[:32]))
case("sig-from-another-message")(_sig_change(_other_message_sig))


@case("wrong-key")
def _wrong_key(ks: Keys) -> Case:
    return _case(_envelope(ks.ed), ks, 1, trusted=[ks.ed2.public_key])


@case("p256-key-for-ed25519-signature")
def _p256_for_ed(ks: Keys) -> Case:
    return _case(_envelope(ks.ed), ks, 1, trusted=[ks.p256.public_key])


@case("ed25519-key-for-p256-signature")
def _ed_for_p256(ks: Keys) -> Case:
    return _case(_envelope(ks.p256), ks, 1, trusted=[ks.ed.public_key])


@case("p256-valid")
def _p256_valid(ks: Keys) -> Case:
    return _case(_envelope(ks.p256), ks, 0, trusted=[ks.ed.public_key, ks.p256.public_key])


@case("keyid-names-trusted-key-but-untrusted-signed")
def _keyid_lies(ks: Keys) -> Case:
    env = _envelope(ks.ed2)
    env["signatures"][0]["keyid"] = ks.ed.keyid
    return _case(env, ks, 1, trusted=[ks.ed.public_key], reason="no signature")


@case("keyid-removed")
def _keyid_removed(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    del env["signatures"][0]["keyid"]
    return _case(env, ks, 0)


@case("keyid-changed")
def _keyid_changed(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["signatures"][0]["keyid"] = "not-a-keyid"
    return _case(env, ks, 0)


@case("keyid-names-another-trusted-key")
def _keyid_other(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["signatures"][0]["keyid"] = ks.ed2.keyid
    return _case(env, ks, 0, trusted=[ks.ed2.public_key, ks.ed.public_key])


@case("keyid-not-a-string")
def _keyid_number(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["signatures"][0]["keyid"] = 7
    return _case(env, ks, 0)


def _structure(change: Callable[[dict[str, Any]], Any]) -> Callable[[Keys], Case]:
    def build(ks: Keys) -> Case:
        env = _envelope(ks.ed)
        return Case(json.dumps(change(env)).encode(), [ks.ed.public_key], 1)

    return build


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda env: {**env, key: value}


def _drop(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda env: {k: v for k, v in env.items() if k != key}


case("signatures-empty")(_structure(_set("signatures", [])))
case("signatures-not-a-list")(_structure(lambda e: {**e, "signatures": e["signatures"][0]}))
case("signatures-missing")(_structure(_drop("signatures")))
case("sig-not-a-string")(_structure(_set("signatures", [{"keyid": "", "sig": 12}])))
case("sig-missing")(_structure(_set("signatures", [{"keyid": ""}])))
case("signature-entry-not-an-object")(_structure(_set("signatures", ["abc"])))
case("payload-missing")(_structure(_drop("payload")))
case("payload-not-a-string")(_structure(_set("payload", 5)))
case("top-level-list")(_structure(lambda e: [e]))
case("top-level-string")(_structure(lambda e: "envelope"))


@case("not-utf8")
def _not_utf8(ks: Keys) -> Case:
    data = envelope_bytes(_envelope(ks.ed))
    return Case(data[:20] + b"\xff\xfe" + data[20:], [ks.ed.public_key], 2)


@case("oversized")
def _oversized(ks: Keys) -> Case:
    # Valid JSON with a valid signature: only the size cap refuses it.
    data = envelope_bytes(_envelope(ks.ed))
    padded = data + b" " * (verify.MAX_ENVELOPE_BYTES + 1 - len(data))
    return Case(padded, [ks.ed.public_key], 2, reason="larger")


@case("not-json")
def _not_json(ks: Keys) -> Case:
    return Case(b"{payloadType: nope", [ks.ed.public_key], 2)


def _payload_text(change: Callable[[str], str], reason: str) -> Callable[[Keys], Case]:
    def build(ks: Keys) -> Case:
        env = _envelope(ks.ed)
        env["payload"] = change(env["payload"])
        return _case(env, ks, 1, reason=reason)

    return build


def _middle(text: str, insert: str) -> str:
    return text[: len(text) // 2] + insert + text[len(text) // 2 :]


def _repad(text: str, padding: str) -> str:
    return text.rstrip("=") + padding


@case("b64-mixed-alphabets")
def _mixed(ks: Keys) -> Case:
    # Find a statement whose payload spells both "+" and "/", then write one "/" as "_".
    for pad in range(8):
        statement = dsse.make_statement([("m", "a" * 64)], "urn:x", {"s": "~" * pad + "~~~???"})
        env = sign.sign_statement(statement, ks.ed)
        if "+" in env["payload"] and "/" in env["payload"]:
            break
    else:
        raise AssertionError("no payload with both + and /")
    env["payload"] = env["payload"].replace("/", "_", 1)
    return _case(env, ks, 1, reason="mixes")


case("b64-foreign-character")(_payload_text(lambda t: _middle(t, "*"), "characters"))
case("b64-non-ascii-character")(_payload_text(lambda t: _middle(t, "é"), "characters"))
case("b64-embedded-newline")(_payload_text(lambda t: _middle(t, "\n"), "characters"))
case("b64-embedded-space")(_payload_text(lambda t: _middle(t, " "), "characters"))
case("b64-padding-in-the-middle")(_payload_text(lambda t: _middle(t, "=="), "base64"))
case("b64-too-much-padding")(_payload_text(lambda t: _repad(t, "===="), "padding"))
case("b64-trailing-newline")(_payload_text(lambda t: t + "\n", "characters"))


@case("b64-wrong-padding-count")
def _wrong_padding(ks: Keys) -> Case:
    # A payload whose length needs exactly one "=": give it two.
    statement = dsse.make_statement([("m", "a" * 64)], "urn:example:p", {"pad": "xx"})
    env = sign.sign_statement(statement, ks.ed)
    assert env["payload"].endswith("=") and not env["payload"].endswith("==")
    env["payload"] += "="
    return _case(env, ks, 1, reason="padding")


@case("b64-stray-bits")
def _stray_bits(ks: Keys) -> Case:
    # A payload ending in one "=": its last character carries two spare bits, zero when
    # canonical.  Setting one decodes to the same (validly signed) bytes, so only the
    # strict base64 check can refuse it.
    env = sign.sign_statement(
        dsse.make_statement([("m", "a" * 64)], "urn:example:p", {"pad": "xx"}), ks.ed
    )
    text = env["payload"]
    assert text.endswith("=") and not text.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(text[-2])
    assert last & 3 == 0
    env["payload"] = text[:-2] + alphabet[last | 1] + "="
    assert payload_of(env) == payload_of(with_payload(env, payload_of(env)))
    return _case(env, ks, 1, reason="stray bits")


@case("b64-bad-sig")
def _bad_sig_b64(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["signatures"][0]["sig"] = "!" + env["signatures"][0]["sig"][1:]
    return _case(env, ks, 1)


def _duplicate_payload(evil_first: bool) -> Callable[[Keys], Case]:
    def build(ks: Keys) -> Case:
        env = _envelope(ks.ed)
        evil = with_payload(env, flip(payload_of(env), 3))["payload"]
        text = json.dumps(env)
        good = f'"payload": "{env["payload"]}"'
        both = f'"payload": "{evil}", {good}' if evil_first else f'{good}, "payload": "{evil}"'
        data = text.replace(good, both).encode()
        return Case(data, [ks.ed.public_key], 1, reason="duplicate")

    return build


case("duplicate-payload-key-evil-first")(_duplicate_payload(True))
case("duplicate-payload-key-evil-last")(_duplicate_payload(False))


@case("nan-in-envelope")
def _nan(ks: Keys) -> Case:
    text = envelope_bytes(_envelope(ks.ed)).decode()
    return Case(text.replace("{", '{"x": NaN, ', 1).encode(), [ks.ed.public_key], 1,
                reason="NaN")


@case("threshold-2-same-key-twice")
def _same_key_twice(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["signatures"] = env["signatures"] * 2
    return _case(env, ks, 1, threshold=2, trusted=[ks.ed.public_key, ks.ed.public_key],
                 reason="threshold")


@case("threshold-2-p256-signed-twice")
def _p256_twice(ks: Keys) -> Case:
    env = sign.add_signature(_envelope(ks.p256), ks.ed2)  # only to get a second slot
    second = _envelope(ks.p256)["signatures"][0]  # ECDSA: a different signature, same key
    env["signatures"][1] = second
    assert env["signatures"][0]["sig"] != second["sig"]
    return _case(env, ks, 1, threshold=2, trusted=[ks.p256.public_key])


@case("threshold-2-two-distinct-keys")
def _two_keys(ks: Keys) -> Case:
    env = sign.add_signature(_envelope(ks.ed), ks.p256)
    return _case(env, ks, 0, threshold=2, trusted=[ks.ed.public_key, ks.p256.public_key])


@case("threshold-2-one-of-two-trusted")
def _one_of_two(ks: Keys) -> Case:
    env = sign.add_signature(_envelope(ks.ed), ks.ed2)
    return _case(env, ks, 1, threshold=2, trusted=[ks.ed.public_key, ks.p256.public_key])


@case("threshold-1-second-signature-garbage-but-valid-first")
def _one_good_one_bad(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["signatures"].append({"keyid": "x", "sig": "AAAA"})
    return _case(env, ks, 0)


@case("key-rotation-old-key-trusted")
def _rotation_old(ks: Keys) -> Case:
    return _case(_envelope(ks.ed), ks, 0, trusted=[ks.ed2.public_key, ks.ed.public_key])


@case("key-rotation-only-new-key-trusted")
def _rotation_new(ks: Keys) -> Case:
    return _case(_envelope(ks.ed), ks, 1, trusted=[ks.ed2.public_key])


def _signed_statement(statement: Any) -> Callable[[Keys], Case]:
    def build(ks: Keys) -> Case:
        payload = json.dumps(statement).encode()
        return _case(sign.sign_payload(payload, dsse.PAYLOAD_TYPE, ks.ed), ks, 1)

    return build


_GOOD_SUBJECT = [{"name": "m", "digest": {"sha256": "a" * 64}}]
case("statement-wrong-type")(_signed_statement(
    {"_type": "https://in-toto.io/Statement/v0.1", "subject": _GOOD_SUBJECT,
     "predicateType": "urn:x", "predicate": {}}))
case("statement-no-subject")(_signed_statement(
    {"_type": dsse.STATEMENT_TYPE, "subject": [], "predicateType": "urn:x", "predicate": {}}))
case("statement-bad-digest")(_signed_statement(
    {"_type": dsse.STATEMENT_TYPE, "subject": [{"name": "m", "digest": {"sha256": "A" * 64}}],
     "predicateType": "urn:x", "predicate": {}}))
case("statement-no-predicate-type")(_signed_statement(
    {"_type": dsse.STATEMENT_TYPE, "subject": _GOOD_SUBJECT, "predicate": {}}))
case("statement-not-an-object")(_signed_statement([1, 2, 3]))
case("statement-duplicate-keys")(lambda ks: _case(sign.sign_payload(
    b'{"_type":"x","_type":"https://in-toto.io/Statement/v1"}', dsse.PAYLOAD_TYPE, ks.ed), ks, 1))


@case("manifest-subject-does-not-match-identity")
def _manifest_subject(ks: Keys) -> Case:
    from envstamp.manifest.serialize import unstructure

    statement = dsse.make_statement(
        [("manifest", "b" * 64)], dsse.MANIFEST_PREDICATE, unstructure(sample_manifest())
    )
    return _case(sign.sign_statement(statement, ks.ed), ks, 1)


@case("artifact-matches")
def _artifact_ok(ks: Keys) -> Case:
    env = sign.sign_artifacts({"results.jsonl": b'{"a":1}\n'}, ks.ed)
    return _case(env, ks, 0, artifacts={"results.jsonl": b'{"a":1}\n'})


@case("artifact-changed")
def _artifact_changed(ks: Keys) -> Case:
    env = sign.sign_artifacts({"results.jsonl": b'{"a":1}\n'}, ks.ed)
    return _case(env, ks, 1, artifacts={"results.jsonl": b'{"a":2}\n'})


@case("too-many-signatures")
def _too_many(ks: Keys) -> Case:
    env = _envelope(ks.ed)
    env["signatures"] = env["signatures"] * (verify.MAX_SIGNATURES + 1)
    return _case(env, ks, 1)


# ------------------------------------------------------------------------------- the tests


def _library_outcome(c: Case) -> int:
    try:
        verify.verify_envelope(c.data, c.trusted, threshold=c.threshold, artifacts=c.artifacts)
    except CheckFailed:
        return 1
    except InputError:
        return 2
    return 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_library(name: str, ks: Keys) -> None:
    c = CASES[name](ks)
    assert _library_outcome(c) == c.expect
    if c.reason:
        with pytest.raises((CheckFailed, InputError), match=c.reason):
            verify.verify_envelope(c.data, c.trusted, threshold=c.threshold)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_exit_code(
    name: str, ks: Keys, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = CASES[name](ks)
    envelope = tmp_path / "envelope.json"
    envelope.write_bytes(c.data)
    argv = ["verify", str(envelope), "--threshold", str(c.threshold)]
    for i, key in enumerate(c.trusted):
        path = tmp_path / f"trusted{i}.pem"
        path.write_text(key.pem())
        argv += ["--key", str(path)]
    for label, data in c.artifacts.items():
        path = tmp_path / label
        path.write_bytes(data)
        argv += ["--artifact", str(path)]
    assert main(argv) == c.expect
    err = capsys.readouterr().err
    if c.expect:
        assert err.count("\n") == 1 and "Traceback" not in err, err
    else:
        assert err == ""


def test_each_rejection_names_a_reason(ks: Keys) -> None:
    for name, build in CASES.items():
        c = build(ks)
        if c.expect == 0:
            continue
        with pytest.raises((CheckFailed, InputError)) as info:
            verify.verify_envelope(c.data, c.trusted, threshold=c.threshold, artifacts=c.artifacts)
        message = str(info.value)
        assert message and "\n" not in message, name


def test_threshold_must_be_positive(ks: Keys) -> None:
    data = envelope_bytes(_envelope(ks.ed))
    for bad in (0, -1, True):
        with pytest.raises(InputError):
            verify.verify_envelope(data, [ks.ed.public_key], threshold=bad)


def test_cli_threshold_zero_is_a_usage_error(ks: Keys, tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_bytes(envelope_bytes(_envelope(ks.ed)))
    assert main(["verify", str(path), "--threshold", "0"]) == 2


def test_every_trusted_key_is_tried_whatever_the_keyid(ks: Keys) -> None:
    env = _envelope(ks.ed)
    env["signatures"][0]["keyid"] = ks.p256.keyid  # points at a P-256 key: not a reason to skip
    trusted = [ks.p256.public_key, ks.ed2.public_key, ks.ed.public_key]
    assert verify.verify_envelope(env, trusted).keyids == [ks.ed.keyid]


def test_verified_statement_comes_from_the_verified_bytes(ks: Keys) -> None:
    env = _envelope(ks.ed)
    verified = verify.verify_envelope(envelope_bytes(env), [ks.ed.public_key])
    assert verified.payload == payload_of(env)
    assert verified.statement == json.loads(payload_of(env))
