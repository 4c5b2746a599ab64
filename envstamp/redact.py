"""Shareable manifests: hostnames, machine ids, serials, UUIDs, MAC addresses and home paths
replaced by salted hashes or ``~``.

The salt is the manifest's own hashed machine id, so two redacted captures of one machine
still match each other, while nobody without the original can reverse a value.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from envstamp.model import Manifest

_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_MAC = re.compile(r"\b(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}\b")
_HOME = re.compile(
    r"(?:/home/[^/\s\"']+|/Users/[^/\s\"']+|/root(?=/|$)|[A-Za-z]:\\Users\\[^\\\s\"']+)"
)

# Fields whose whole value identifies the machine or a device.
_SECRET_FIELDS = {
    ("host", "hostname"),
    ("host", "machine_id"),
    ("gpus", "serial"),
    ("gpus", "uuid"),
    ("volatile.gpus", "uuid"),
}


def _hash(salt: str, value: str) -> str:
    return "redacted:" + hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()[:12]


def redact_text(text: str, salt: str, hostname: str | None = None) -> str:
    """Redact identifying substrings of one string."""
    text = _HOME.sub("~", text)
    text = _UUID.sub(lambda m: _hash(salt, m.group().lower()), text)
    text = _MAC.sub(lambda m: _hash(salt, m.group().lower()), text)
    if hostname and len(hostname) > 2:
        text = text.replace(hostname, _hash(salt, hostname))
    return text


def _walk(node: Any, path: str, salt: str, hostname: str | None) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if (path, key) in _SECRET_FIELDS and isinstance(value, str):
                out[key] = _hash(salt, value)
            else:
                child = f"{path}.{key}" if path else key
                out[key] = _walk(value, child, salt, hostname)
        return out
    if isinstance(node, list):
        return [_walk(item, path, salt, hostname) for item in node]
    if isinstance(node, str):
        return redact_text(node, salt, hostname)
    return node


def redact(manifest: Manifest, *, salt: str | None = None) -> Manifest:
    """A copy of the manifest safe to share; its digest is recomputed over what it shows."""
    from envstamp.serialize import structure, unstructure, with_digest

    salt = salt or manifest.host.machine_id or secrets.token_hex(16)
    data = unstructure(manifest)
    redacted = _walk(data, "", salt, manifest.host.hostname)
    # The schema id, timestamps and digests carry nothing identifying; keep them verbatim.
    for key in ("schema", "captured_at", "envstamp_version"):
        redacted[key] = data[key]
    return with_digest(structure(redacted, Manifest))
