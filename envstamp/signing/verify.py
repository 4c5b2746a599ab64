"""Verifying DSSE envelopes strictly, and reading the manifest a verified one carries.

In this order (anything else fails closed):

1. size cap, then strict JSON (duplicate keys, NaN and Infinity rejected);
2. exact ``payloadType``, strict base64 for the payload and every signature;
3. PAE, then every trusted key is tried on every signature - the keyid is only a hint that
   orders the tries, and the algorithm comes from the trusted key, never from the envelope;
4. distinct keys that verified are counted against the threshold;
5. only then the verified payload bytes (never the file again) are parsed and ``_type``,
   ``predicateType`` and the subjects are checked.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.errors import CheckFailed, InputError
from envstamp.manifest.serialize import StrictJSONError, strict_loads
from envstamp.signing.dsse import (
    MANIFEST_PREDICATE,
    MANIFEST_SUBJECT,
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    b64encode,
    is_sha256_hex,
    pae,
)

if TYPE_CHECKING:
    from envstamp.manifest.document import Document
    from envstamp.signing.keys import PublicKey

MAX_ENVELOPE_BYTES = 32 << 20
MAX_SIGNATURES = 64

_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")
_BASE64_BODY = re.compile(r"[A-Za-z0-9+/]*")
_MANIFEST_PREDICATE_RE = re.compile(r"https://envstamp\.dev/manifest/v(\d+)")


class NoTrustedKeysError(InputError):
    """Verification was asked for but no trusted public key could be found (exit 2)."""


# ---------------------------------------------------------------------------------- base64


def b64decode_strict(text: Any, what: str) -> bytes:
    """Standard or URL-safe base64 (padded, or unpadded), nothing else.

    Whitespace, foreign characters, mixed alphabets, wrong padding and non-zero spare bits
    are refused, so one byte string has exactly one accepted spelling per alphabet.
    """
    if not isinstance(text, str):
        raise CheckFailed(f"{what} is not a string")
    standard = text
    if "-" in text or "_" in text:
        if "+" in text or "/" in text:
            raise CheckFailed(f"{what} mixes the standard and URL-safe base64 alphabets")
        standard = text.translate(_URLSAFE_TO_STANDARD)
    body = standard.rstrip("=")
    padded = body + "=" * (-len(body) % 4)
    data = _decode_canonical(padded) if standard in (body, padded) else None
    if data is None:
        raise CheckFailed(f"{what} is not base64 ({_b64_fault(standard)})")
    return data


def _decode_canonical(padded: str) -> bytes | None:
    """The bytes of correctly padded base64 that is the only spelling of them, else None.

    One path on every Python: lenient decoding skips stray characters, and re-encoding shows
    them, misplaced padding and non-zero spare bits alike (``strict_mode``, 3.11+, measured
    slower than this for an envelope's payload: docs/decisions.md).
    """
    try:
        data = binascii.a2b_base64(padded)
    except (binascii.Error, ValueError):
        return None
    return data if b64encode(data) == padded else None


def _b64_fault(text: str) -> str:
    """Why strict decoding refused ``text`` (only called on failure, so it may be slow)."""
    body = text.rstrip("=")
    if not _BASE64_BODY.fullmatch(body):
        return "unexpected characters"
    if len(body) % 4 == 1 or text not in (body, body + "=" * (-len(body) % 4)):
        return "wrong length or padding"
    return "stray bits in the last character"


# --------------------------------------------------------------------------- verification


@attrs.frozen
class Opened:
    """An envelope decoded strictly, signatures not yet checked."""

    payload_type: str
    payload: bytes
    signatures: list[tuple[str | None, bytes]]  # (keyid hint, signature bytes)

    @property
    def claimed_keyids(self) -> list[str]:
        return [hint for hint, _ in self.signatures if hint]


@attrs.frozen
class Verified:
    """What a valid envelope says: the statement, its exact payload bytes, who signed it."""

    statement: dict[str, Any]
    payload: bytes
    keyids: list[str]
    subjects: list[tuple[str, str]]  # (name, sha256 hex)
    artifacts_checked: list[str] = attrs.field(factory=list)

    @property
    def predicate_type(self) -> str:
        return str(self.statement["predicateType"])

    @property
    def predicate(self) -> Any:
        return self.statement.get("predicate")


def envelope_from_json(data: bytes) -> Any:
    """Step 1: the envelope's JSON, size-capped and strict (nothing about it checked yet)."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise InputError(f"envelope is larger than {MAX_ENVELOPE_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("envelope is not UTF-8 text") from None
    try:
        return strict_loads(text)
    except StrictJSONError as exc:
        raise CheckFailed(f"invalid envelope: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"envelope is not valid JSON: {exc}") from None


def open_envelope(data: bytes | Mapping[str, Any]) -> Opened:
    """Steps 1-2 of verification: parse strictly and decode; no signature is checked."""
    envelope = data if isinstance(data, Mapping) else envelope_from_json(bytes(data))
    if not isinstance(envelope, Mapping):
        raise CheckFailed(f"not a DSSE envelope: the top level is a {type(envelope).__name__}")
    if "payloadType" not in envelope:
        raise CheckFailed("not a DSSE envelope: payloadType is missing")
    payload_type = envelope["payloadType"]
    if payload_type != PAYLOAD_TYPE:
        raise CheckFailed(f"payloadType is {payload_type!r}, expected {PAYLOAD_TYPE!r}")
    if "payload" not in envelope:
        raise CheckFailed("not a DSSE envelope: payload is missing")
    payload = b64decode_strict(envelope["payload"], "payload")
    return Opened(payload_type, payload, _decode_signatures(envelope.get("signatures")))


def _decode_signatures(raw: Any) -> list[tuple[str | None, bytes]]:
    if not isinstance(raw, list) or not raw:
        raise CheckFailed("signatures must be a non-empty list")
    if len(raw) > MAX_SIGNATURES:
        raise CheckFailed(f"more than {MAX_SIGNATURES} signatures")
    decoded: list[tuple[str | None, bytes]] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or "sig" not in entry:
            raise CheckFailed(f"signatures[{index}] has no sig")
        hint = entry.get("keyid")
        decoded.append(
            (hint if isinstance(hint, str) else None, b64decode_strict(entry["sig"], "sig"))
        )
    return decoded


def _trusted_keys(trusted: Sequence[PublicKey] | None) -> list[PublicKey]:
    from envstamp.signing import keys as keys_module

    chosen = keys_module.trusted_keys() if trusted is None else list(trusted)
    if not chosen:
        locked = (
            f"; your default key is encrypted: set {keys_module.ENV_PASSPHRASE} to trust it"
            if trusted is None and keys_module.default_key_locked()
            else ""
        )
        raise NoTrustedKeysError(
            "no trusted public key: pass --key PUB, or put public keys in "
            f"{keys_module.trusted_dir()}{locked}"
        )
    return keys_module.unique_keys(chosen)


def _signers(opened: Opened, trusted: list[PublicKey]) -> list[str]:
    """Keyids of the distinct trusted keys that made at least one of the signatures."""
    message = pae(opened.payload_type, opened.payload)
    found: list[str] = []
    for hint, signature in opened.signatures:
        # The hint only decides which key is tried first; every key is tried.
        ordered = sorted(trusted, key=lambda k: k.keyid != hint)
        for key in ordered:
            if key.keyid not in found and key.verify(signature, message):
                found.append(key.keyid)
                break
    return found


class UntrustedSignatureError(CheckFailed):
    """No signature verifies with a trusted key.  ``claimed``: the keyids the envelope names
    (hints, never trusted); ``untrusted``: none of them is a trusted key, so the signer is
    one the user may choose to trust (otherwise a trusted key's signature failed: the bytes
    changed).  The message holds no path: it reaches shareable views (show, diff)."""

    def __init__(self, message: str, claimed: list[str], *, untrusted: bool) -> None:
        super().__init__(message)
        self.claimed = claimed
        self.untrusted = untrusted


def no_trusted_signature(
    opened: Opened, keys: list[PublicKey], *, default_trust: bool
) -> UntrustedSignatureError:
    """Why no signature verified, naming the keyids the envelope claims: a bare "no trusted
    key" left the user to guess who signed (issue 15)."""
    claimed = list(dict.fromkeys(opened.claimed_keyids))
    trusted_ids = {key.keyid for key in keys}
    known = [keyid for keyid in claimed if keyid in trusted_ids]
    if known:
        # A trusted key is named but its signature does not hold: the bytes changed.
        return UntrustedSignatureError(
            f"no signature verifies with a trusted key: it names the trusted key "
            f"{_short_ids(known)}, whose signature does not match: the envelope was changed "
            "after signing, or another key signed it",
            claimed,
            untrusted=False,
        )
    names = f"key {_short_ids(claimed)}" if claimed else "no keyid"
    if default_trust:
        where = "neither your key nor a key in your trusted-keys folder"
    else:
        where = "not the key given" if len(keys) == 1 else f"not one of the {len(keys)} keys given"
    return UntrustedSignatureError(
        f"no signature verifies with a trusted key: it names {names} as its signer, {where}",
        claimed,
        untrusted=True,
    )


def _short_ids(keyids: list[str]) -> str:
    return ", ".join(keyid[:16] for keyid in keyids)


def parse_statement(payload: bytes, expected_predicate_type: str | None = None) -> dict[str, Any]:
    """The in-toto statement in (verified) payload bytes; CheckFailed if it is not one."""
    try:
        statement = strict_loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise CheckFailed("payload is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise CheckFailed(f"payload is not strict JSON: {exc}") from None
    if not isinstance(statement, dict):
        raise CheckFailed("payload is not a JSON object")
    if statement.get("_type") != STATEMENT_TYPE:
        raise CheckFailed(f"payload _type is {statement.get('_type')!r}, not {STATEMENT_TYPE!r}")
    predicate_type = statement.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise CheckFailed("statement has no predicateType")
    if expected_predicate_type is not None and predicate_type != expected_predicate_type:
        raise CheckFailed(
            f"predicateType is {predicate_type!r}, expected {expected_predicate_type!r}"
        )
    if "predicate" in statement and not isinstance(statement["predicate"], dict):
        raise CheckFailed("statement predicate is not a JSON object")
    return statement


def statement_subjects(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, sha256 hex) of every subject; CheckFailed when one is malformed."""
    raw = statement.get("subject")
    if not isinstance(raw, list) or not raw:
        raise CheckFailed("statement has no subjects")
    subjects: list[tuple[str, str]] = []
    for index, entry in enumerate(raw):
        digest = entry.get("digest") if isinstance(entry, dict) else None
        value = digest.get("sha256") if isinstance(digest, dict) else None
        if not is_sha256_hex(value):
            raise CheckFailed(f"subject[{index}] has no lowercase hex sha256 digest")
        name = entry.get("name", "")
        if not isinstance(name, str):
            raise CheckFailed(f"subject[{index}] name is not a string")
        subjects.append((name, value))
    return subjects


def _check_manifest_subject(statement: Mapping[str, Any], subjects: list[tuple[str, str]]) -> None:
    # A manifest statement names the manifest's own identity digest as its subject.
    if statement["predicateType"] != MANIFEST_PREDICATE:
        return
    predicate = statement.get("predicate")
    identity = predicate.get("identity_digest") if isinstance(predicate, dict) else None
    named = [digest for name, digest in subjects if name == MANIFEST_SUBJECT]
    if len(named) > 1:
        # One statement, one manifest: a second subject could name another machine's digest.
        raise CheckFailed(f"the statement names {len(named)} manifest subjects; exactly one")
    if not named or not isinstance(identity, str) or f"sha256:{named[0]}" != identity:
        raise CheckFailed("the manifest subject does not match the manifest's identity digest")


def _check_artifacts(subjects: list[tuple[str, str]], artifacts: Mapping[str, bytes]) -> list[str]:
    by_digest = {digest: name for name, digest in subjects}
    checked: list[str] = []
    for label, data in artifacts.items():
        digest = hashlib.sha256(data).hexdigest()
        if digest not in by_digest:
            raise CheckFailed(
                f"artifact {label} (sha256 {digest[:16]}...) is not covered by the statement"
            )
        checked.append(label)
    return checked


def verify_envelope(
    data: bytes | Mapping[str, Any],
    trusted: Sequence[PublicKey] | None = None,
    threshold: int = 1,
    expected_predicate_type: str | None = None,
    artifacts: Mapping[str, bytes] | None = None,
) -> Verified:
    """Verify a DSSE envelope against trusted keys (None: the default and trusted-folder keys).

    CheckFailed (exit 1): invalid envelope or signature, threshold not met, wrong statement,
    uncovered artifact.  InputError (exit 2): unreadable input, no trusted key, bad threshold.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise InputError("the threshold must be a whole number of at least 1")
    opened = open_envelope(data)
    keys = _trusted_keys(trusted)
    signers = _signers(opened, keys)
    if len(signers) < threshold:
        if not signers:
            raise no_trusted_signature(opened, keys, default_trust=trusted is None)
        raise CheckFailed(
            f"threshold not met: {len(signers)} distinct trusted key(s) signed, {threshold} needed"
        )
    statement = parse_statement(opened.payload, expected_predicate_type)
    subjects = statement_subjects(statement)
    _check_manifest_subject(statement, subjects)
    checked = _check_artifacts(subjects, artifacts) if artifacts else []
    return Verified(statement, opened.payload, signers, subjects, checked)


# ------------------------------------------------------------------------------- documents


def load_envelope_document(data: bytes, *, source: str, verify: bool) -> Document:
    """A Document from an envelope's bytes; the manifest comes from the verified payload.

    With ``verify`` and no trusted key anywhere, or with ``verify=False``, the payload is
    decoded strictly but NOT_CHECKED ("not verified"); a bad signature is INVALID, a signed
    manifest whose contents no longer match its identity digest EDITED.
    """
    from envstamp.manifest.document import Document, Status, Verification

    verification = Verification(Status.NOT_CHECKED)
    statement: dict[str, Any] | None = None
    if verify:
        try:
            verified = verify_envelope(data)
        except NoTrustedKeysError:
            verification = Verification(Status.NOT_CHECKED, message="no trusted key")
        except CheckFailed as exc:
            verification = Verification(Status.INVALID, message=str(exc))
        else:
            statement = verified.statement
            verification = Verification(Status.VERIFIED, signers=tuple(verified.keyids))
    if statement is None:
        statement, claimed = _decode_unverified(data, source)
        if not verification.failed:
            verification = attrs.evolve(verification, signers=tuple(claimed))
    raw, results = _manifest_data(statement, source)
    from envstamp.manifest.serialize import checked_identity, manifest_from_data

    manifest, edited = checked_identity(manifest_from_data(raw, what=source), raw)
    if edited and not verification.failed:
        verification = attrs.evolve(
            verification, status=Status.EDITED, message=f"signed, but {edited}"
        )
    return Document("envelope", manifest, source, results=results, verification=verification)


def _decode_unverified(data: bytes, source: str) -> tuple[dict[str, Any], list[str]]:
    try:
        opened = open_envelope(data)
        return parse_statement(opened.payload), opened.claimed_keyids
    except CheckFailed as exc:
        raise InputError(f"{source}: unreadable envelope: {exc}") from None


def _manifest_data(statement: Mapping[str, Any], source: str) -> tuple[dict[str, Any], list[Any]]:
    """The manifest's JSON in a statement (the predicate, or its ``manifest``) and results."""
    predicate_type = str(statement.get("predicateType"))
    predicate = statement.get("predicate")
    match = _MANIFEST_PREDICATE_RE.fullmatch(predicate_type)
    if match and int(match[1]) > 1:
        raise InputError(f"{source}: {predicate_type} is newer than this envstamp reads")
    if isinstance(predicate, dict) and "schema" in predicate:
        return predicate, []
    if isinstance(predicate, dict) and isinstance(predicate.get("manifest"), dict):
        results = predicate.get("results")
        return predicate["manifest"], results if isinstance(results, list) else []
    raise InputError(
        f"{source}: the envelope covers {predicate_type}, not a manifest "
        "(check it with 'envstamp verify --artifact FILE')"
    )
