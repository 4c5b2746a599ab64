"""Signed manifests: DSSE envelopes around in-toto Statement v1 (verification: ``verify``).

The statement's RFC 8785 canonical bytes are the payload; each key signs
``PAE(payloadType, payload)`` exactly as the DSSE spec defines it (lengths in bytes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from envstamp.errors import InputError
from envstamp.signing.dsse import (
    ARTIFACT_PREDICATE,
    MANIFEST_PREDICATE,
    MANIFEST_SUBJECT,
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    b64encode,
    make_statement,
    pae,
)

if TYPE_CHECKING:
    from envstamp.manifest.model import Manifest
    from envstamp.signing.keys import SigningKey


# ---------------------------------------------------------------------------------- signing


def _signing_keys(key: SigningKey | Sequence[SigningKey] | None) -> list[SigningKey]:
    from envstamp.signing import keys as keys_module

    if key is None:
        return [keys_module.load_signing_key()]
    if isinstance(key, keys_module.SigningKey):
        return [key]
    chosen = list(key)
    if not chosen:
        raise InputError("no signing key given")
    return chosen


def sign_payload(
    payload: bytes, payload_type: str, key: SigningKey | Sequence[SigningKey] | None = None
) -> dict[str, Any]:
    """A DSSE envelope of any payload, signed by one or more keys."""
    message = pae(payload_type, payload)
    return {
        "payloadType": payload_type,
        "payload": b64encode(payload),
        "signatures": [
            {"keyid": k.keyid, "sig": b64encode(k.sign(message))} for k in _signing_keys(key)
        ],
    }


def sign_statement(
    statement: dict[str, Any], key: SigningKey | Sequence[SigningKey] | None = None
) -> dict[str, Any]:
    """The DSSE envelope (JSON-able dict) of an in-toto statement.

    The payload is the statement's RFC 8785 canonical JSON; NaN, infinities and integers
    beyond 2**53 make this fail (InputError) rather than sign a lossy value.
    ``key`` None signs with :func:`envstamp.signing.keys.load_signing_key`.
    """
    from envstamp.manifest.serialize import canonical_bytes

    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise InputError(f"not an in-toto statement: _type must be {STATEMENT_TYPE!r}")
    return sign_payload(canonical_bytes(statement), PAYLOAD_TYPE, key)


def sign_manifest(
    manifest: Manifest, key: SigningKey | Sequence[SigningKey] | None = None
) -> dict[str, Any]:
    """A signed envelope of a manifest: predicate = the manifest, subject "manifest" = its
    identity digest (recomputed here, so an edited manifest is signed as it now is)."""
    from envstamp.manifest.serialize import unstructure, with_digest

    manifest = with_digest(manifest)
    assert manifest.identity_digest is not None
    statement = make_statement(
        [(MANIFEST_SUBJECT, manifest.identity_digest)], MANIFEST_PREDICATE, unstructure(manifest)
    )
    return sign_statement(statement, key)


def sign_artifacts(
    artifacts: Mapping[str, bytes],
    key: SigningKey | Sequence[SigningKey] | None = None,
    *,
    predicate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A detached envelope covering files by their sha256 (verify with ``--artifact``)."""
    subjects = [(name, hashlib.sha256(data).hexdigest()) for name, data in artifacts.items()]
    sizes = {name: len(data) for name, data in artifacts.items()}
    body = {"size_bytes": sizes} if predicate is None else predicate
    return sign_statement(make_statement(subjects, ARTIFACT_PREDICATE, body), key)


def add_signature(
    envelope: Mapping[str, Any] | bytes, key: SigningKey | None = None
) -> dict[str, Any]:
    """Co-sign an existing envelope (for thresholds above 1).

    The payload is decoded strictly but earlier signatures are not checked: a co-signer
    vouches for the payload, not for the other signers.
    """
    from envstamp.signing.verify import envelope_from_json, open_envelope, parse_statement

    opened = open_envelope(envelope)
    parse_statement(opened.payload)
    signer = _signing_keys(key)[0]
    base = envelope if isinstance(envelope, Mapping) else envelope_from_json(envelope)
    signatures = list(base["signatures"])
    if any(isinstance(s, dict) and s.get("keyid") == signer.keyid for s in signatures):
        raise InputError(f"key {signer.keyid} has already signed this envelope")
    signature = signer.sign(pae(opened.payload_type, opened.payload))
    signatures.append({"keyid": signer.keyid, "sig": b64encode(signature)})
    return {**base, "signatures": signatures}


def envelope_json(envelope: Mapping[str, Any]) -> str:
    """Readable JSON text of an envelope (its layout is not signed, so any layout verifies)."""
    return json.dumps(envelope, indent=2, ensure_ascii=False) + "\n"
