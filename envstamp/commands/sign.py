"""``envstamp sign FILE...``: sign manifests, co-sign envelopes, cover other files.

* a plain manifest becomes a signed envelope holding it (``box.json`` -> ``box.signed.json``);
* an envelope gets one more signature, in place (for thresholds above 1);
* anything else (a results log, a benchmark output) gets a detached envelope naming its
  sha256 (``results.jsonl`` -> ``results.jsonl.signed.json``); verify it with ``--artifact``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envstamp.keys import SigningKey


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


def run(args: argparse.Namespace) -> int:
    from envstamp import keys
    from envstamp.errors import InputError

    if args.output and len(args.files) > 1:
        raise InputError("-o works with one FILE only")
    key = keys.load_signing_key(args.key)
    for name in args.files:
        output = args.output or ("-" if name == "-" else default_output(name))
        what, written = sign_file(name, output, key)
        if written != "-":
            sys.stdout.write(f"{what} {name} -> {written} (key {key.keyid[:16]})\n")
    return 0


def default_output(name: str) -> str:
    """``box.json`` -> ``box.signed.json``; an envelope is co-signed in place."""
    path = Path(name)
    stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.name
    return str(path.with_name(f"{stem}.signed.json"))


def sign_file(name: str, output: str, key: SigningKey) -> tuple[str, str]:
    """Sign one file into ``output``; returns what was done and where it was written."""
    from envstamp import sign
    from envstamp.commands import emit, read_input

    data = read_input(name)
    parsed = _json_object(data)
    if parsed is not None and "payloadType" in parsed and "signatures" in parsed:
        envelope = sign.add_signature(data, key)
        if name != "-" and output == default_output(name):
            output = name  # co-signing keeps the envelope where it is
        done = "co-signed"
    elif parsed is not None and "schema" in parsed:
        from envstamp.serialize import manifest_from_data

        envelope = sign.sign_manifest(manifest_from_data(parsed, what=name), key)
        done = "signed manifest"
    else:
        label = "stdin" if name == "-" else Path(name).name
        envelope = sign.sign_artifacts({label: data}, key)
        done = "signed file"
    emit(sign.envelope_json(envelope), output)
    return done, output


def _json_object(data: bytes) -> dict[str, Any] | None:
    """The file as one JSON object, or None when it is something else (JSONL, text...)."""
    from envstamp.errors import InputError
    from envstamp.serialize import parse_json_strict

    try:
        parsed = parse_json_strict(data, what="input")
    except InputError:
        return None
    return parsed if isinstance(parsed, dict) else None
