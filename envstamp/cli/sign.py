"""``envstamp sign FILE...``: sign manifests, co-sign envelopes, cover other files.

* a plain manifest becomes a signed envelope holding it (``box.json`` -> ``box.signed.json``);
* an envelope gets one more signature, in place (for thresholds above 1);
* anything else (a results log, a benchmark output) gets a detached envelope naming its
  sha256 (``results.jsonl`` -> ``results.jsonl.signed.json``); verify it with ``--artifact``.

Every input is read and checked before the key is loaded (or made) and before anything is
written: one bad FILE leaves no envelope behind for the others.  A JSON document that does
not read strictly (a duplicate key, NaN, a number out of range, nesting too deep, a syntax
error) is refused rather than signed as opaque bytes, and so is a manifest that is not one
whole document (a UTF-8 byte order mark before it, more data after it, no ``schema``
member); ``--detached`` signs any file's bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from envstamp.signing.keys import SigningKey


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="files to sign (- for stdin)")
    parser.add_argument(
        "--key",
        metavar="PATH",
        help="private key (default: $ENVSTAMP_PRIVATE_KEY(_FILE), then your default key)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="where to write the envelope (one FILE only; - for stdout)",
    )
    parser.add_argument(
        "--detached",
        action="store_true",
        help="sign each FILE's bytes as they are (a detached envelope), whatever they hold",
    )


@attrs.define
class Prepared:
    """One input, read and checked: what will be signed and where it will be written."""

    name: str
    output: str
    kind: str  # "co-signed" | "signed manifest" | "signed file"
    data: bytes
    manifest: Any = None


def run(args: argparse.Namespace) -> int:
    from envstamp.errors import InputError
    from envstamp.signing import keys

    if args.output and len(args.files) > 1:
        raise InputError("-o works with one FILE only")
    if args.files.count("-") > 1:
        raise InputError("stdin (-) can be read only once")
    prepared = [prepare(name, args.output, detached=args.detached) for name in args.files]
    key = keys.load_signing_key(args.key)
    envelopes = [(item, envelope_of(item, key)) for item in prepared]
    from envstamp.cli.shared import emit
    from envstamp.signing import sign

    for item, envelope in envelopes:
        emit(sign.envelope_json(envelope), item.output)
        if item.output != "-":
            sys.stderr.write(f"envstamp sign: {written_line(item, key)}\n")
    return 0


def written_line(item: Prepared, key: SigningKey) -> str:
    """What was written, from what, with which key, as ``capture -o`` says it (on stderr, so
    that stdout carries only documents)."""
    signer = f"(key {key.keyid[:16]}, {key.algorithm})"
    source = "stdin" if item.name == "-" else item.name
    if item.kind == "co-signed":
        return f"wrote {item.output}: envelope co-signed {signer}"
    if item.kind == "signed manifest":
        return f"wrote {item.output}: signed manifest of {source} {signer}"
    return (
        f"wrote {item.output}: detached signature of {source} {signer}; verify it with "
        f"'envstamp verify {item.output} --artifact {source}'"
    )


def default_output(name: str) -> str:
    """``box.json`` -> ``box.signed.json``; an envelope is co-signed in place."""
    path = Path(name)
    stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.name
    return str(path.with_name(f"{stem}.signed.json"))


def prepare(name: str, output: str | None, *, detached: bool = False) -> Prepared:
    """Read and check one input (no key needed); InputError when it cannot be signed."""
    from envstamp.cli.shared import check_output, read_input

    data = read_input(name)
    target = output or ("-" if name == "-" else default_output(name))
    if detached:
        item = Prepared(name, target, "signed file", data)
    else:
        item = _classify(name, target, data)
    check_output(item.output)
    return item


def _classify(name: str, target: str, data: bytes) -> Prepared:
    from envstamp.errors import InputError
    from envstamp.signing.verify import open_envelope, parse_statement

    parsed = _json_document(name, data)
    if isinstance(parsed, dict) and "payloadType" in parsed and "signatures" in parsed:
        parse_statement(open_envelope(parsed).payload)  # refuse a broken envelope now
        if name != "-" and target == default_output(name):
            target = name  # co-signing keeps the envelope where it is
        return Prepared(name, target, "co-signed", data)
    if isinstance(parsed, dict) and "schema" in parsed:
        from envstamp.manifest.serialize import manifest_from_data

        manifest = manifest_from_data(parsed, what=name)
        return Prepared(name, target, "signed manifest", data, manifest)
    if _looks_like_manifest(parsed):
        raise InputError(
            f"{name} looks like an envstamp manifest but has no \"schema\" member; refusing "
            f"to sign it{_DETACHED_HINT}"
        )
    return Prepared(name, target, "signed file", data)


_DETACHED_HINT = " (use --detached to sign the file's bytes as they are)"
# Members only an envstamp manifest or envelope has at its top level: a JSON object with
# one of them is meant as one, and signing it as opaque bytes would hide that it is broken.
_MANIFEST_MEMBERS = frozenset({"schema", "envstamp_version", "identity_digest", "captured_at"})
_ENVELOPE_MEMBERS = frozenset({"payloadType", "signatures"})


def _looks_like_manifest(value: Any) -> bool:
    # A results log's lines carry "prev" (its header a schema and a version too).
    return (
        isinstance(value, dict)
        and "prev" not in value
        and not _MANIFEST_MEMBERS.isdisjoint(value)
    )


def _looks_like_envstamp(value: Any) -> bool:
    """A manifest or an envelope, whole or not (what must never be signed detached unasked)."""
    return _looks_like_manifest(value) or (
        isinstance(value, dict) and not _ENVELOPE_MEMBERS.isdisjoint(value)
    )


def envelope_of(item: Prepared, key: SigningKey) -> dict[str, Any]:
    """The envelope of one checked input."""
    from envstamp.signing import sign

    if item.kind == "co-signed":
        return sign.add_signature(item.data, key)
    if item.kind == "signed manifest":
        return sign.sign_manifest(item.manifest, key)
    label = "stdin" if item.name == "-" else Path(item.name).name
    return sign.sign_artifacts({label: item.data}, key)


_NOT_ONE_DOCUMENT: Any = object()


def _json_document(name: str, data: bytes) -> Any:
    """The file as one strict JSON document; ``_NOT_ONE_DOCUMENT`` when it is something
    else (text, JSONL, binary).  JSON that reads only leniently - or not at all - is refused:
    it may be a manifest whose content the signature would not mean."""
    from envstamp.errors import InputError
    from envstamp.manifest.serialize import parse_json_strict

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _NOT_ONE_DOCUMENT
    if text.startswith("\ufeff") and text[1:].lstrip().startswith(("{", "[")):
        # JSON must not start with one (RFC 8259); signed detached, a manifest saved by an
        # editor that adds it would look signed while no reader takes it as a manifest.
        raise InputError(
            f"{name} starts with a UTF-8 byte order mark, which JSON does not allow; remove "
            f"it to sign the manifest{_DETACHED_HINT}"
        )
    if not text.lstrip().startswith(("{", "[")):
        return _NOT_ONE_DOCUMENT
    try:
        return parse_json_strict(text, what=name)
    except InputError as exc:
        first = _first_of_several(text)
        if first is _NOT_ONE_DOCUMENT:
            raise InputError(f"{exc}; refusing to sign it{_DETACHED_HINT}") from None
        if _looks_like_envstamp(first):
            raise InputError(
                f"{name}: its manifest or envelope is followed by more data; refusing to sign "
                f"it{_DETACHED_HINT}"
            ) from None
        return _NOT_ONE_DOCUMENT  # JSONL (a results log, llama-bench -o jsonl)


def _first_of_several(text: str) -> Any:
    """The first document of JSON Lines / concatenated JSON; ``_NOT_ONE_DOCUMENT`` when
    the text is not a document followed by more."""
    import json

    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            return _NOT_ONE_DOCUMENT
        try:
            return json.JSONDecoder().raw_decode(text.lstrip())[0]
        except (ValueError, RecursionError):
            return _NOT_ONE_DOCUMENT
    except (ValueError, RecursionError):
        return _NOT_ONE_DOCUMENT
    return _NOT_ONE_DOCUMENT
