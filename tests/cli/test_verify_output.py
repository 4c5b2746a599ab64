"""``envstamp verify``: one vocabulary for every verdict (text and JSON, envelopes and results
logs), messages that name the file and say what to do (issue 15).

The keys are RFC 8032's test keys and Ed25519 signatures are deterministic, so every keyid,
digest and message below is exact."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from envstamp.cli.main import main
from envstamp.manifest.document import Status, Verification
from envstamp.manifest.serialize import to_json
from envstamp.signing import keys, sign
from tests.sign_support import payload_of, rfc_key, sample_manifest, with_payload, write_public

ALICE, MALLORY = rfc_key(0), rfc_key(1)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _envelope(path: Path, key: keys.SigningKey = ALICE) -> Path:
    path.write_text(sign.envelope_json(sign.sign_manifest(sample_manifest(), key)))
    return path


def _alice_is_the_default_key() -> None:
    keys.store_key(ALICE, keys.default_private_path())


def test_verified_envelope_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _alice_is_the_default_key()
    box = _envelope(tmp_path / "box.json")
    digest = sample_manifest().identity_digest
    assert digest is not None
    code, out, err = _run(capsys, "verify", str(box))
    assert (code, err) == (0, "")
    assert out == (
        f"verified: {box}: signed by 1 trusted key (1 needed, --threshold)\n"
        f"  signer     {ALICE.keyid}\n"
        f"  subject    manifest  identity digest {digest}\n"
        "  predicate  https://envstamp.dev/manifest/v1\n"
    )


def test_verified_envelope_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = _envelope(tmp_path / "box.json")
    pub = str(write_public(ALICE, tmp_path / "alice.pub"))
    digest = str(sample_manifest().identity_digest).removeprefix("sha256:")
    code, out, _ = _run(capsys, "verify", str(box), "--key", pub, "--json")
    assert code == 0
    assert json.loads(out) == {
        "status": "verified",
        "kind": "envelope",
        "source": str(box),
        "signers": [ALICE.keyid],
        "threshold": 1,
        "predicate_type": "https://envstamp.dev/manifest/v1",
        "subjects": [{"name": "manifest", "sha256": digest}],
        "artifacts_checked": [],
    }


def test_the_words_are_the_documents_words() -> None:
    """verify's verdicts are how show and diff print a file's verification."""
    from envstamp.cli import verify

    words = {Verification(status).text for status in Status}
    assert {verify.VERIFIED, verify.INVALID, verify.UNSIGNED, verify.NOT_VERIFIED} <= words
    assert words == {"verified", "partly signed", "unsigned", "invalid", "not verified"}


def _results_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    log = tmp_path / "r.jsonl"
    argv = ["run", "--quiet", "--no-state", "-o", str(log), "--", sys.executable, "-c", "pass"]
    assert _run(capsys, *argv)[0] == 0
    return log


def test_results_log_speaks_the_same_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _results_log(tmp_path, capsys)
    code, out, err = _run(capsys, "verify", str(log))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"verified: {log}: 1 result, 1 manifest, 2 signed heads, 5 lines"
    )
    code, out, _ = _run(capsys, "verify", str(log), "--json")
    report = json.loads(out)
    assert code == 0
    assert list(report)[:3] == ["status", "kind", "source"]
    assert (report["status"], report["kind"], report["source"]) == ("verified", "results", str(log))
    assert "ok" not in report and "valid" not in report  # no second word for the verdict


def test_tampered_results_log_is_invalid_in_text_json_and_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _results_log(tmp_path, capsys)
    log.write_bytes(log.read_bytes().replace(b'"wall_s":', b'"wall_s":1', 1))
    code, out, err = _run(capsys, "verify", str(log))
    assert code == 1
    assert out.startswith(f"invalid: {log}: ")
    assert err.startswith(f"envstamp verify: error: invalid: {log}: ") and err.count("\n") == 1
    code, out, _ = _run(capsys, "verify", str(log), "--json")
    assert code == 1 and json.loads(out)["status"] == "invalid"


def test_plain_manifest_is_unsigned_and_says_how_to_sign_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text(to_json(sample_manifest()))
    why = (
        "a plain manifest, not a signed envelope: nothing to verify; sign it with "
        f"'envstamp sign {plain}' (writes {tmp_path / 'plain.signed.json'}) and verify that"
    )
    code, out, err = _run(capsys, "verify", str(plain))
    assert (code, out) == (1, "")
    assert err == f"envstamp verify: error: unsigned: {plain}: {why}\n"
    code, out, _ = _run(capsys, "verify", str(plain), "--json")
    assert code == 1
    assert json.loads(out) == {
        "status": "unsigned", "kind": "manifest", "source": str(plain), "error": why
    }


def test_detached_signature_without_its_files_fails_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _alice_is_the_default_key()
    bench = tmp_path / "bench.txt"
    bench.write_text("pp512 1234.5\n")
    assert _run(capsys, "sign", str(bench))[0] == 0
    signed = tmp_path / "bench.txt.signed.json"
    why = (
        "the signature is valid, but it covers files, and they were not checked: add "
        "--artifact bench.txt (each file's path)"
    )
    code, out, err = _run(capsys, "verify", str(signed))
    assert (code, out) == (2, "")
    assert err == f"envstamp verify: error: not verified: {signed}: {why}\n"
    code, out, _ = _run(capsys, "verify", str(signed), "--json")
    assert code == 2
    assert json.loads(out) == {
        "status": "not verified", "kind": "envelope", "source": str(signed), "error": why
    }
    code, out, _ = _run(capsys, "verify", str(signed), "--artifact", str(bench))
    assert code == 0 and out.endswith("  artifact   bench.txt matches a subject\n")


def test_untrusted_signer_names_its_keyid_the_folder_and_how_to_trust_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _alice_is_the_default_key()
    box = _envelope(tmp_path / "box.json", MALLORY)
    folder = keys.trusted_dir()
    code, out, err = _run(capsys, "verify", str(box))
    assert (code, out) == (1, "")
    assert err == (
        f"envstamp verify: error: invalid: {box}: no signature verifies with a trusted key: "
        f"it names key {MALLORY.keyid[:16]} as its signer, neither your key nor a key in your "
        f"trusted-keys folder ({folder}); to trust that signer, save its public key there: "
        f"envstamp pubkey --key THEIR_KEY_FILE > {folder / 'NAME.pub'} (or what 'envstamp "
        "pubkey' prints on their side), after checking its keyid with them\n"
    )


def test_views_say_who_signed_but_name_no_folder(tmp_path: Path) -> None:
    """show and diff carry the signing layer's message, which may be shared: no local path."""
    from envstamp.documents import load_document

    _alice_is_the_default_key()
    box = _envelope(tmp_path / "box.json", MALLORY)
    assert load_document(str(box)).signature == (
        "invalid: no signature verifies with a trusted key: it names key "
        f"{MALLORY.keyid[:16]} as its signer, neither your key nor a key in your trusted-keys "
        "folder"
    )


def test_following_the_advice_makes_it_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _alice_is_the_default_key()
    box = _envelope(tmp_path / "box.json", MALLORY)
    their_key = write_public(MALLORY, tmp_path / "mallory.pem")
    code, printed, _ = _run(capsys, "pubkey", "--key", str(their_key))
    assert code == 0
    keys.trusted_dir().mkdir(mode=0o700)
    (keys.trusted_dir() / "mallory.pub").write_text(printed)
    assert _run(capsys, "verify", str(box))[0] == 0


def test_untrusted_signer_against_given_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = _envelope(tmp_path / "box.json", MALLORY)
    pub = str(write_public(ALICE, tmp_path / "alice.pub"))
    code, _, err = _run(capsys, "verify", str(box), "--key", pub)
    assert code == 1
    assert err == (
        f"envstamp verify: error: invalid: {box}: no signature verifies with a trusted key: "
        f"it names key {MALLORY.keyid[:16]} as its signer, not the key given; to trust that "
        "signer, add its public key: --key PUB\n"
    )


def test_a_trusted_keyid_whose_signature_fails_says_the_envelope_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    envelope: dict[str, Any] = sign.sign_manifest(sample_manifest(), ALICE)
    forged = with_payload(envelope, payload_of(envelope).replace(b"fern", b"fake"))
    box = tmp_path / "box.json"
    box.write_text(json.dumps(forged))
    pub = str(write_public(ALICE, tmp_path / "alice.pub"))
    code, _, err = _run(capsys, "verify", str(box), "--key", pub)
    assert code == 1
    assert err == (
        f"envstamp verify: error: invalid: {box}: no signature verifies with a trusted key: "
        f"it names the trusted key {ALICE.keyid[:16]}, whose signature does not match: the "
        "envelope was changed after signing, or another key signed it\n"
    )


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{", "envelope is not valid JSON: Expecting property name enclosed in double "
               "quotes: line 1 column 2 (char 1)"),
        (b"hello\n", "envelope is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ],
)
def test_a_file_that_is_not_json_is_named(
    content: bytes, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    code, out, err = _run(capsys, "verify", str(path))
    assert (code, out) == (2, "")
    assert err == (
        f"envstamp verify: error: {path}: {why} (verify reads a signed envelope, as "
        "'envstamp capture -o' and 'envstamp sign' write, or a results log)\n"
    )


def test_an_empty_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"\n")
    code, _, err = _run(capsys, "verify", str(path))
    assert code == 2
    assert err == (
        f"envstamp verify: error: {path} is empty: neither a signed envelope nor a results log\n"
    )


def test_json_that_is_not_an_envelope_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    pub = str(write_public(ALICE, tmp_path / "alice.pub"))
    code, _, err = _run(capsys, "verify", str(path), "--key", pub)
    assert code == 1
    assert err == (
        f"envstamp verify: error: invalid: {path}: not a DSSE envelope: the top level is a list\n"
    )


@pytest.mark.parametrize("verb", [["pubkey", "--key"], ["verify", "x.json", "--key"]])
def test_a_key_option_naming_a_manifest_names_the_file(
    verb: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = _envelope(tmp_path / "box.json")
    code, out, err = _run(capsys, *verb, str(box))
    assert (code, out) == (2, "")
    assert err == (
        f"envstamp {verb[0]}: error: {box} is not a PEM or OpenSSH public key (a key file is "
        "what 'envstamp keygen' writes or 'envstamp pubkey' prints)\n"
    )


def test_help_lists_the_verdicts_and_their_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Verdicts, in text and JSON alike: verified (exit 0); invalid, unsigned" in text
    assert "not verified: no trusted key, or a detached signature without --artifact (exit 2)" in (
        text
    )
