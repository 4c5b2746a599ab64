"""Signing: the envelope format, the public API, and the sign / verify / capture verbs."""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from envstamp.cli.main import main
from envstamp.documents import load_document
from envstamp.errors import CheckFailed, InputError
from envstamp.manifest.document import Status, Verification
from envstamp.manifest.serialize import identity_digest, manifest_from_data, to_json, unstructure
from envstamp.signing import dsse, keys, sign, verify
from tests.sign_support import p256_key, payload_of, rfc_key, sample_manifest, write_public

# --------------------------------------------------------------------------------- format


def test_statement_shape() -> None:
    statement = dsse.make_statement(
        [("a.txt", "sha256:" + "0" * 64), ("b", "f" * 64)], "urn:example:p/v1", {"k": 1}
    )
    assert statement == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": "a.txt", "digest": {"sha256": "0" * 64}},
            {"name": "b", "digest": {"sha256": "f" * 64}},
        ],
        "predicateType": "urn:example:p/v1",
        "predicate": {"k": 1},
    }


@pytest.mark.parametrize(
    ("subjects", "predicate_type", "predicate"),
    [
        ([], "urn:x", {}),
        ([("a", "abc")], "urn:x", {}),
        ([("a", "F" * 64)], "urn:x", {}),
        ([("a", "sha512:" + "0" * 64)], "urn:x", {}),
        ([("a", "0" * 64)], "", {}),
        ([("a", "0" * 64)], "urn:x", [1]),
    ],
)
def test_statement_refuses_bad_parts(subjects: Any, predicate_type: Any, predicate: Any) -> None:
    with pytest.raises(InputError):
        dsse.make_statement(subjects, predicate_type, predicate)


def test_envelope_format() -> None:
    key = rfc_key(0)
    statement = dsse.make_statement([("x", "1" * 64)], "urn:x", {"name": "ünïcode", "n": 2})
    envelope = sign.sign_statement(statement, key)
    assert list(envelope) == ["payloadType", "payload", "signatures"]
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    text = envelope["payload"]
    assert len(text) % 4 == 0 and "-" not in text and "_" not in text  # standard, padded
    assert base64.b64decode(text, validate=True) == rfc8785.dumps(statement)
    assert envelope["signatures"] == [
        {"keyid": key.keyid, "sig": envelope["signatures"][0]["sig"]}
    ]
    sig = base64.b64decode(envelope["signatures"][0]["sig"])
    assert len(sig) == 64
    assert key.public_key.verify(sig, dsse.pae(dsse.PAYLOAD_TYPE, payload_of(envelope)))


def test_p256_signatures_are_der() -> None:
    key = p256_key()
    envelope = sign.sign_statement(dsse.make_statement([("x", "1" * 64)], "urn:x", {}), key)
    sig = base64.b64decode(envelope["signatures"][0]["sig"])
    assert sig[0] == 0x30 and sig[1] == len(sig) - 2  # a DER SEQUENCE
    assert verify.verify_envelope(envelope, [key.public_key]).keyids == [key.keyid]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 2**53 + 1, -(2**60)])
def test_signing_fails_loudly_on_values_json_cannot_carry(bad: float) -> None:
    statement = dsse.make_statement([("x", "1" * 64)], "urn:x", {"value": [1, {"deep": bad}]})
    with pytest.raises(InputError, match="deep"):
        sign.sign_statement(statement, rfc_key(0))


def test_largest_exact_integer_is_fine() -> None:
    statement = dsse.make_statement([("x", "1" * 64)], "urn:x", {"value": 2**53 - 1})
    envelope = sign.sign_statement(statement, rfc_key(0))
    assert verify.verify_envelope(envelope, [rfc_key(0).public_key]).predicate == {
        "value": 2**53 - 1
    }


def test_sign_statement_wants_a_statement() -> None:
    with pytest.raises(InputError, match="_type"):
        sign.sign_statement({"predicate": {}}, rfc_key(0))


def test_sign_manifest_subject_is_the_identity_digest() -> None:
    manifest = sample_manifest()
    envelope = sign.sign_manifest(manifest, rfc_key(0))
    verified = verify.verify_envelope(envelope, [rfc_key(0).public_key])
    assert verified.predicate_type == dsse.MANIFEST_PREDICATE
    assert verified.subjects == [("manifest", identity_digest(manifest).removeprefix("sha256:"))]
    assert manifest_from_data(verified.predicate) == manifest


def test_sign_manifest_recomputes_a_stale_digest() -> None:
    import attrs

    manifest = sample_manifest()
    edited = attrs.evolve(manifest, env={"OMP_NUM_THREADS": "8"})  # digest now stale
    envelope = sign.sign_manifest(edited, rfc_key(0))
    verified = verify.verify_envelope(envelope, [rfc_key(0).public_key])
    fresh = identity_digest(edited)
    assert fresh != manifest.identity_digest
    assert verified.predicate["identity_digest"] == fresh


def test_add_signature_cosigns_without_touching_the_payload() -> None:
    first = sign.sign_manifest(sample_manifest(), rfc_key(0))
    both = sign.add_signature(first, rfc_key(1))
    assert both["payload"] == first["payload"]
    assert [s["keyid"] for s in both["signatures"]] == [rfc_key(0).keyid, rfc_key(1).keyid]
    trusted = [rfc_key(0).public_key, rfc_key(1).public_key]
    assert len(verify.verify_envelope(both, trusted, threshold=2).keyids) == 2
    with pytest.raises(InputError, match="already signed"):
        sign.add_signature(both, rfc_key(1))


def test_add_signature_refuses_a_broken_envelope() -> None:
    with pytest.raises(CheckFailed):
        sign.add_signature({"payloadType": dsse.PAYLOAD_TYPE, "payload": "e30=",
                            "signatures": [{"sig": ""}]}, rfc_key(0))


def test_default_key_is_made_on_first_use_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    statement = dsse.make_statement([("x", "1" * 64)], "urn:x", {})
    first = sign.sign_statement(statement)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(keys.default_key_dir()) in err
    second = sign.sign_statement(statement)
    assert capsys.readouterr().err == ""
    assert first["signatures"][0]["keyid"] == second["signatures"][0]["keyid"]
    assert first["signatures"][0]["keyid"][:16] in err


def test_default_trust_is_own_key_plus_trusted_folder() -> None:
    mine = sign.sign_manifest(sample_manifest())  # creates the default key
    theirs = sign.sign_manifest(sample_manifest(), rfc_key(2))
    assert verify.verify_envelope(mine).keyids == [mine["signatures"][0]["keyid"]]
    with pytest.raises(CheckFailed):
        verify.verify_envelope(theirs)
    keys.trusted_dir().mkdir()
    write_public(rfc_key(2), keys.trusted_dir() / "colleague.pem")
    assert verify.verify_envelope(theirs).keyids == [rfc_key(2).keyid]


def test_no_trusted_key_anywhere_is_an_input_error() -> None:
    envelope = sign.sign_manifest(sample_manifest(), rfc_key(0))
    with pytest.raises(verify.NoTrustedKeysError, match="trusted"):
        verify.verify_envelope(envelope)
    with pytest.raises(verify.NoTrustedKeysError):
        verify.verify_envelope(envelope, [])


def test_expected_predicate_type() -> None:
    envelope = sign.sign_manifest(sample_manifest(), rfc_key(0))
    trusted = [rfc_key(0).public_key]
    expected = dsse.MANIFEST_PREDICATE
    assert verify.verify_envelope(envelope, trusted, expected_predicate_type=expected)
    with pytest.raises(CheckFailed, match="predicateType"):
        verify.verify_envelope(envelope, trusted, expected_predicate_type=dsse.ARTIFACT_PREDICATE)


# ------------------------------------------------------------------------------ documents


def _write(path: Path, envelope: dict[str, Any]) -> Path:
    path.write_text(sign.envelope_json(envelope))
    return path


def test_document_from_a_verified_envelope(tmp_path: Path) -> None:
    manifest = sample_manifest()
    envelope = sign.sign_manifest(manifest)  # default key: trusted
    doc = load_document(str(_write(tmp_path / "e.json", envelope)))
    assert (doc.kind, doc.signature) == ("envelope", "verified")
    assert doc.verification == Verification(
        Status.VERIFIED, signers=(envelope["signatures"][0]["keyid"],)
    )
    assert doc.manifest == manifest
    assert "signed envelope (verified)" in doc.note


def test_document_without_a_trusted_key(tmp_path: Path) -> None:
    envelope = sign.sign_manifest(sample_manifest(), rfc_key(0))
    doc = load_document(str(_write(tmp_path / "e.json", envelope)))
    assert doc.signature == "not verified (no trusted key)"
    assert doc.verification.status is Status.NOT_CHECKED
    assert doc.verification.signers == (rfc_key(0).keyid,)  # as claimed
    assert doc.manifest == sample_manifest()


def test_document_with_a_bad_signature(tmp_path: Path) -> None:
    sign.sign_manifest(sample_manifest())  # make the default key, so a key is trusted
    envelope = sign.sign_manifest(sample_manifest(), rfc_key(0))
    doc = load_document(str(_write(tmp_path / "e.json", envelope)))
    assert doc.signature.startswith("invalid: ")
    assert doc.verification.status is Status.INVALID and doc.verification.failed
    assert doc.verification.signers == ()


def test_document_unverified_on_request(tmp_path: Path) -> None:
    envelope = sign.sign_manifest(sample_manifest())
    doc = load_document(str(_write(tmp_path / "e.json", envelope)), verify=False)
    assert doc.signature == "not verified"
    assert doc.verification == Verification(
        Status.NOT_CHECKED, signers=(envelope["signatures"][0]["keyid"],)
    )


def test_document_of_a_detached_envelope_is_refused(tmp_path: Path) -> None:
    envelope = sign.sign_artifacts({"r.jsonl": b"{}\n"})
    with pytest.raises(InputError, match="--artifact"):
        load_document(str(_write(tmp_path / "e.json", envelope)))


def test_document_of_a_newer_manifest_predicate_is_refused(tmp_path: Path) -> None:
    statement = dsse.make_statement(
        [("manifest", "1" * 64)], "https://envstamp.dev/manifest/v2", unstructure(sample_manifest())
    )
    envelope = sign.sign_statement(statement)
    with pytest.raises(InputError, match="newer"):
        load_document(str(_write(tmp_path / "e.json", envelope)))


def test_document_of_manifest_plus_results(tmp_path: Path) -> None:
    predicate = {"manifest": unstructure(sample_manifest()), "results": [{"test": "pp512"}]}
    statement = dsse.make_statement([("r", "2" * 64)], "https://envstamp.dev/results/v1", predicate)
    doc = load_document(str(_write(tmp_path / "e.json", sign.sign_statement(statement))))
    assert doc.manifest == sample_manifest()
    assert doc.results == [{"test": "pp512"}]


# ------------------------------------------------------------------------------------ CLI


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_capture_writes_a_verifiable_envelope_that_round_trips(
    tmp_path: Path, hosts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.json"
    host = str(hosts / "linux-debian12-vm")
    code, _, err = _run(capsys, "capture", "--replay", host, "-o", str(out))
    assert code == 0 and "created signing key" in err
    envelope = json.loads(out.read_text())
    assert envelope["payloadType"] == dsse.PAYLOAD_TYPE
    code, text, _ = _run(capsys, "verify", str(out))
    assert code == 0 and text.startswith(f"verified: {out}: signed by 1 trusted key")
    doc = load_document(str(out))
    statement = json.loads(payload_of(envelope))
    assert doc.signature == "verified"
    assert unstructure(doc.manifest) == statement["predicate"]
    plain = tmp_path / "plain.json"
    assert _run(capsys, "capture", "--replay", host, "--no-sign", "-o", str(plain))[0] == 0
    plain_manifest = load_document(str(plain)).manifest
    assert plain_manifest.identity_digest == doc.manifest.identity_digest


def test_capture_no_sign_and_text_output_make_no_key(
    tmp_path: Path, hosts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = str(hosts / "linux-debian12-vm")
    plain = tmp_path / "plain.json"
    assert _run(capsys, "capture", "--replay", host, "--no-sign", "-o", str(plain))[0] == 0
    assert "schema" in json.loads(plain.read_text())
    code, text, _ = _run(capsys, "capture", "--replay", host)
    assert code == 0 and "payloadType" not in text
    code, markdown, _ = _run(capsys, "capture", "--replay", host, "--markdown")
    assert code == 0 and "payloadType" not in markdown
    assert not keys.default_private_path().exists()


def test_capture_signs_with_the_given_key(
    tmp_path: Path, hosts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_path = tmp_path / "ci.pem"
    keys.store_key(rfc_key(1), key_path)
    out = tmp_path / "m.json"
    host = str(hosts / "linux-debian12-vm")
    code, _, err = _run(capsys, "capture", "--replay", host, "--key", str(key_path), "-o", str(out))
    # one line saying what was written, with the given key (no "created signing key" line)
    assert code == 0
    assert err == (
        f"envstamp capture: wrote {out}: signed manifest (key {rfc_key(1).keyid[:16]}, ed25519)\n"
    )
    assert json.loads(out.read_text())["signatures"][0]["keyid"] == rfc_key(1).keyid
    assert _run(capsys, "verify", str(out), "--key", str(tmp_path / "ci.pub.pem"))[0] == 0
    assert not keys.default_private_path().exists()
    assert _run(capsys, "capture", "--no-sign", "--key", str(key_path))[0] == 2


def test_show_says_what_it_got(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signed = _write(tmp_path / "e.json", sign.sign_manifest(sample_manifest()))
    plain = tmp_path / "p.json"
    plain.write_text(to_json(sample_manifest()))
    code, text, _ = _run(capsys, "show", str(signed))
    assert code == 0 and "signed envelope (verified)" in text
    code, text, _ = _run(capsys, "show", str(plain))
    assert code == 0 and "plain manifest" in text


def test_sign_verb_on_a_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "box.json"
    plain.write_text(to_json(sample_manifest()))
    code, out, err = _run(capsys, "sign", str(plain))
    signed = tmp_path / "box.signed.json"
    assert code == 0 and out == "" and f"wrote {signed}: signed manifest of {plain}" in err
    assert load_document(str(signed)).manifest == sample_manifest()
    assert json.loads(plain.read_text())["schema"]  # the original is left alone


def test_sign_verb_cosigns_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signed = _write(tmp_path / "e.json", sign.sign_manifest(sample_manifest(), rfc_key(0)))
    other = tmp_path / "other.pem"
    keys.store_key(rfc_key(1), other)
    code, out, err = _run(capsys, "sign", str(signed), "--key", str(other))
    assert code == 0 and out == "" and f"wrote {signed}: envelope co-signed" in err
    pubs = [str(write_public(rfc_key(i), tmp_path / f"k{i}.pub")) for i in (0, 1)]
    argv = ["verify", str(signed), "--key", pubs[0], "--key", pubs[1], "--threshold", "2"]
    assert _run(capsys, *argv)[0] == 0
    assert _run(capsys, "sign", str(signed), "--key", str(other))[0] == 2  # already signed


def test_sign_verb_on_other_files_is_detached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "results.jsonl"
    log.write_bytes(b'{"test":"pp512","avg_ts":1234.5}\n{"test":"tg128","avg_ts":98.1}\n')
    assert _run(capsys, "sign", str(log))[0] == 0
    envelope = tmp_path / "results.jsonl.signed.json"
    code, out, err = _run(capsys, "verify", str(envelope))
    # a valid signature over files not given is no verdict: exit 2, naming the flag to add
    assert code == 2 and out == "" and "add --artifact results.jsonl" in err
    code, out, _ = _run(capsys, "verify", str(envelope), "--artifact", str(log))
    assert code == 0 and "results.jsonl matches" in out
    log.write_bytes(log.read_bytes().replace(b"1234.5", b"1334.5"))
    code, _, err = _run(capsys, "verify", str(envelope), "--artifact", str(log))
    assert code == 1 and "not covered" in err


def test_sign_verb_stdin_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    data = to_json(sample_manifest()).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = _run(capsys, "sign", "-")
    assert code == 0
    assert verify.verify_envelope(out.encode()).predicate_type == dsse.MANIFEST_PREDICATE


def test_sign_verb_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(to_json(sample_manifest()))
    b.write_text(to_json(sample_manifest()))
    assert _run(capsys, "sign", str(a), str(b), "-o", str(tmp_path / "x.json"))[0] == 2
    assert _run(capsys, "sign", str(tmp_path / "missing.json"))[0] == 2
    assert _run(capsys, "sign", str(a), "--key", str(tmp_path / "nokey.pem"))[0] == 2
    assert _run(capsys, "sign", str(a), str(b))[0] == 0


def test_verify_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signed = _write(tmp_path / "e.json", sign.sign_manifest(sample_manifest(), rfc_key(0)))
    pub = str(write_public(rfc_key(0), tmp_path / "k.pem"))
    code, out, _ = _run(capsys, "verify", str(signed), "--key", pub, "--json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "verified"
    assert report["signers"] == [rfc_key(0).keyid]
    assert report["subjects"][0]["name"] == "manifest"
    assert report["predicate_type"] == dsse.MANIFEST_PREDICATE
    other = str(write_public(rfc_key(1), tmp_path / "o.pem"))
    code, out, err = _run(capsys, "verify", str(signed), "--key", other, "--json")
    assert code == 1 and json.loads(out)["status"] == "invalid" and err.count("\n") == 1


def test_verify_accepts_openssh_public_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in (rfc_key(0), p256_key()):
        signed = _write(tmp_path / "e.json", sign.sign_manifest(sample_manifest(), key))
        pub = tmp_path / "id.pub"
        pub.write_text(key.public_key.openssh())
        assert _run(capsys, "verify", str(signed), "--key", str(pub))[0] == 0


def test_verify_usage_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signed = _write(tmp_path / "e.json", sign.sign_manifest(sample_manifest(), rfc_key(0)))
    assert _run(capsys, "verify", str(tmp_path / "missing.json"))[0] == 2
    assert _run(capsys, "verify", str(signed))[0] == 2  # no trusted key at all
    assert _run(capsys, "verify", str(signed), "--key", str(tmp_path / "nope.pem"))[0] == 2
    priv = tmp_path / "priv.pem"
    keys.store_key(rfc_key(0), priv)
    code, _, err = _run(capsys, "verify", str(signed), "--key", str(priv))
    assert code == 2 and "private key" in err
    plain = tmp_path / "plain.json"
    plain.write_text(to_json(sample_manifest()))
    pub = str(write_public(rfc_key(0), tmp_path / "k.pem"))
    code, _, err = _run(capsys, "verify", str(plain), "--key", pub)
    assert code == 1 and f"unsigned: {plain}: a plain manifest" in err


def test_verify_rotation_through_keygen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_envelope = _write(tmp_path / "old.json", sign.sign_manifest(sample_manifest()))
    capsys.readouterr()
    code, out, _ = _run(capsys, "keygen", "--force")
    assert code == 0 and "retired" in out
    assert _run(capsys, "verify", str(old_envelope))[0] == 1  # only the new key is trusted
    retired = next((keys.default_key_dir() / "retired").iterdir())
    keys.trusted_dir().mkdir()
    os.replace(retired, keys.trusted_dir() / retired.name)
    assert _run(capsys, "verify", str(old_envelope))[0] == 0  # old key trusted again
    new_envelope = _write(tmp_path / "new.json", sign.sign_manifest(sample_manifest()))
    assert _run(capsys, "verify", str(new_envelope))[0] == 0


def test_verify_dispatches_results_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    log = tmp_path / "r.jsonl"
    argv = ["run", "--quiet", "--no-state", "-o", str(log), "--", sys.executable, "-c", "pass"]
    assert _run(capsys, *argv)[0] == 0
    code, out, _ = _run(capsys, "verify", str(log))
    assert code == 0 and out.startswith(f"verified: {log}: ")
    other = str(write_public(rfc_key(1), tmp_path / "other.pem"))
    assert _run(capsys, "verify", str(log), "--key", other)[0] == 1
    assert _run(capsys, "verify", str(log), "--threshold", "2")[0] == 2
    code, out, _ = _run(capsys, "verify", str(log), "--json")
    assert code == 0 and json.loads(out)["status"] == "verified"
    log.write_bytes(log.read_bytes().replace(b'"wall_s":', b'"wall_s":1', 1))
    assert _run(capsys, "verify", str(log))[0] == 1
