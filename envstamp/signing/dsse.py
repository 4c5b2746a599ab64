"""The signed format: DSSE's pre-authentication encoding and base64, in-toto Statement v1.

Shared by signing (``sign``) and verification (``verify``): verification needs nothing of
the signing module.
"""

from __future__ import annotations

import binascii
import re
from typing import Any, TypeGuard

from envstamp.errors import InputError

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
MANIFEST_PREDICATE = "https://envstamp.dev/manifest/v1"
ARTIFACT_PREDICATE = "https://envstamp.dev/artifact/v1"
MANIFEST_SUBJECT = "manifest"

_HEX64 = re.compile(r"[0-9a-f]{64}")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: ``DSSEv1 SP len(type) SP type SP len(body) SP body``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def b64encode(data: bytes) -> str:
    """Standard, padded base64 (what envstamp writes)."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def is_sha256_hex(value: object) -> TypeGuard[str]:
    """True for a bare lowercase hex sha256 digest."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def sha256_hex(digest: str) -> str:
    """Bare lowercase hex of ``sha256:<hex>`` or ``<hex>``; InputError otherwise."""
    bare = digest.removeprefix("sha256:") if isinstance(digest, str) else ""
    if not is_sha256_hex(bare):
        raise InputError(f"subject digest {digest!r} is not a sha256 hex digest")
    return bare


def make_statement(
    subjects: list[tuple[str, str]], predicate_type: str, predicate: dict[str, Any]
) -> dict[str, Any]:
    """An in-toto Statement v1.  ``subjects`` are (name, sha256 hex) pairs."""
    if not subjects:
        raise InputError("a statement needs at least one subject")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise InputError("a statement needs a predicateType URI")
    if not isinstance(predicate, dict):
        raise InputError("a statement's predicate must be a JSON object")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": str(name), "digest": {"sha256": sha256_hex(digest)}}
            for name, digest in subjects
        ],
        "predicateType": predicate_type,
        "predicate": predicate,
    }
