"""Shareable manifests: hostnames, machine ids, serials, UUIDs, MAC addresses and home paths
replaced by salted hashes or ``~``, and any secret that reached a manifest (one written by an
older envstamp, or edited by hand) through :mod:`envstamp.manifest.secrets`.

The salt is the manifest's own hashed machine id, so two redacted captures of one machine
still match each other, while nobody without the original can reverse a value.

Home folders are replaced exactly: ``$HOME`` when the caller names it, ``/home/<user>``,
``/var/home/<user>``, ``/Users/<user>``, ``C:\\Users\\<user>`` (any case) and ``/root``, each
only where a path starts (the start of a value, or after a space, quote, ``=``, ``:``,
``,``...), so ``/mnt/data/home/x`` and ``/srv/Users/x`` are left alone.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import TYPE_CHECKING, Any

from envstamp.manifest.model import Manifest

if TYPE_CHECKING:
    from envstamp.manifest.document import Document

_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_MAC = re.compile(r"\b(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}\b")

# Where a path may start: the start of the text, after a character no path holds unquoted
# (space, quote, list separators, "=" of NAME=VALUE) or after "file://".
_PATH_START = r"""(?:^|(?<=[\s"'`=:,;(\[<>|])|(?<=file://))"""
# Where a home folder ends: a separator, the end, or a character that ends a path.
_HOME_END = r"""(?=[/\\]|$|[\s"'`:,;)\]<>|])"""
# Folders under /Users or C:\Users that belong to no one user (any case: Windows and macOS
# file names are case-insensitive).
_NOT_A_USER = r"(?!(?i:Shared|Public|Default|Default User|All Users)" + _HOME_END + ")"
_HOME = re.compile(
    _PATH_START
    # /var/home: Fedora Atomic (Silverblue, Kinoite...); C:\Users in any case, as Windows.
    + r"(?:/home/|/var/home/|/Users/|[A-Za-z]:[\\/](?i:users)[\\/])"
    + _NOT_A_USER
    + r"""[^/\\\s"'`:,;)\]<>|]+"""
    + _HOME_END
    + r"|"
    + _PATH_START
    + r"/root"
    + _HOME_END
)

# Fields whose whole value identifies the machine or a device.
_SECRET_FIELDS = {
    ("host", "hostname"),
    ("host", "machine_id"),
    ("gpus", "serial"),
    ("gpus", "uuid"),
    ("volatile.gpus", "uuid"),
}
# Lists of names a person chose, which may name the machine or its user ("alice-laptop"):
# each name hashed whole, since a hostname inside a longer word is left alone elsewhere.
_CHOSEN_NAMES = {("", "replayed_from")}


# What _hash makes: a value already redacted is left as it is, so redacting twice changes
# nothing (a redacted capture shown with show --markdown still matches the others).
_REDACTED = re.compile(r"redacted:[0-9a-f]{12}")


def _hash(salt: str, value: str) -> str:
    if _REDACTED.fullmatch(value):
        return value
    return "redacted:" + hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()[:12]


def replace_home(text: str, home: str | None = None) -> str:
    """Home folders at the start of paths -> ``~`` (see the module's description)."""
    if home and len(home.rstrip("/\\")) > 1:
        own = re.escape(home.rstrip("/\\"))
        text = re.sub(_PATH_START + own + _HOME_END, "~", text)
    return _HOME.sub("~", text)


def redact_text(
    text: str, salt: str, hostname: str | None = None, *, home: str | None = None
) -> str:
    """Redact identifying substrings and secrets of one string."""
    from envstamp.manifest.secrets import redact_value

    text = replace_home(redact_value(text), home)
    text = _UUID.sub(lambda m: _hash(salt, m.group().lower()), text)
    text = _MAC.sub(lambda m: _hash(salt, m.group().lower()), text)
    if hostname and len(hostname) > 2 and not _REDACTED.fullmatch(hostname):
        # As a name of its own only, and not as a folder of a path (a "/" or "\\" before it
        # that is not "//" or "\\\\" of a URL or share): a host called "llama" leaves
        # "llama-cli" and "~/src/llama.cpp" alone, "http://llama:8080" not.
        pattern = (
            r"(?<![A-Za-z0-9_-])(?<![^/]/)(?<!^/)(?<![^\\]\\)(?<!^\\)"
            + re.escape(hostname)
            + r"(?![A-Za-z0-9_-])"
        )
        text = re.sub(pattern, _hash(salt, hostname), text, flags=re.IGNORECASE)
    return text


def _walk(node: Any, path: str, salt: str, hostname: str | None, home: str | None) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if path == "env" and _secret_name(key):
                continue  # a manifest from before the rule, or edited: the name says secret
            if (path, key) in _SECRET_FIELDS and isinstance(value, str):
                out[key] = _hash(salt, value)
            elif (path, key) in _CHOSEN_NAMES and isinstance(value, list):
                out[key] = [_hash(salt, v) if isinstance(v, str) else v for v in value]
            else:
                child = f"{path}.{key}" if path else key
                out[key] = _walk(value, child, salt, hostname, home)
        return out
    if isinstance(node, list):
        return [_walk(item, path, salt, hostname, home) for item in node]
    if isinstance(node, str):
        return redact_text(node, salt, hostname, home=home)
    return node


def _secret_name(name: str) -> bool:
    from envstamp.manifest.secrets import is_secret_name

    return is_secret_name(name)


def current_home() -> str | None:
    """This user's home folder (``~``), or None where there is none to name."""
    from pathlib import Path

    home = str(Path("~").expanduser())
    return home if home not in ("~", "/", "") else None


def redact(manifest: Manifest, *, salt: str | None = None, home: str | None = None) -> Manifest:
    """A copy of the manifest safe to share; its digest is recomputed over what it shows.

    ``home``: the home folder of the user who captured it, when known (``$HOME`` of a live
    capture), replaced wherever a path starts with it, whatever its form.
    """
    from envstamp.manifest.serialize import structure, unstructure, with_digest

    salt = salt or manifest.host.machine_id or secrets.token_hex(16)
    data = unstructure(manifest)
    redacted = _walk(data, "", salt, manifest.host.hostname, home)
    # The schema id, timestamps and digests carry nothing identifying; keep them verbatim.
    for key in ("schema", "captured_at", "envstamp_version"):
        redacted[key] = data[key]
    return with_digest(structure(redacted, Manifest))


def shareable_document(doc: Document, *, home: str | None = None) -> Document:
    """A loaded document (``envstamp.manifest.document.Document``) as a pasted view shows it:
    its manifest and its results' manifests, command lines and text parameters redacted; the
    verification status is the original's."""
    import attrs

    seen: dict[int, Manifest] = {}

    def shown(manifest: Manifest) -> Manifest:
        if id(manifest) not in seen:
            seen[id(manifest)] = redact(manifest, home=home)
        return seen[id(manifest)]

    results = [_shareable_result(r, shown, home) for r in doc.results]
    return attrs.evolve(
        doc, manifest=shown(doc.manifest), results=results, source=replace_home(doc.source, home)
    )


def _shareable_result(result: Any, shown: Any, home: str | None) -> Any:
    import attrs

    manifest = result.manifest
    salt = (manifest.host.machine_id if manifest else None) or "results"
    hostname = manifest.host.hostname if manifest else None

    def text(value: Any) -> Any:
        return redact_text(value, salt, hostname, home=home) if isinstance(value, str) else value

    from envstamp.manifest.secrets import redact_argv, redact_params

    # A log written before names and parameters were redacted when stored (or edited): the
    # secrets rule first, then the identifying values.
    command = [text(arg) for arg in redact_argv(result.command)] if result.command else None
    params = {key: _each_text(value, text) for key, value in redact_params(result.params).items()}
    return attrs.evolve(
        result,
        manifest=shown(manifest) if manifest is not None else None,
        name=text(result.name),
        command=command if result.command else result.command,
        params=params,
    )


def _each_text(value: Any, text: Any) -> Any:
    return [text(item) for item in value] if isinstance(value, list) else text(value)
