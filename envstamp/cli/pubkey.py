"""``envstamp pubkey``: print the public key others need to verify your envelopes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envstamp.signing.keys import PublicKey


def configure(parser: argparse.ArgumentParser) -> None:
    from envstamp.cli.shared import add_output_flag

    parser.add_argument(
        "--format",
        choices=("pem", "openssh", "keyid"),
        default="pem",
        help="PEM SubjectPublicKeyInfo (default), one OpenSSH line, or just the keyid",
    )
    parser.add_argument(
        "--key",
        metavar="PATH",
        help="a private or public key file (default: the key envstamp would sign with)",
    )
    add_output_flag(parser)


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import emit

    key = public_key_for(args.key)
    if args.format == "openssh":
        text = key.openssh()
    elif args.format == "keyid":
        text = key.keyid + "\n"
    else:
        text = key.pem()
    emit(text, args.output)
    return 0


def public_key_for(path: str | None) -> PublicKey:
    """The public half of ``path`` (private or public key file), or of the signing key that
    ``sign`` would use, derived from the private key; never creates a key.

    ``signing.pub.pem`` is never read for this: a replaced file would lie about the key in
    use.  When it does not match, a warning says so.
    """
    from envstamp.signing import keys

    if path is not None:
        data, _ = keys.read_key_file(path, "key")
        if b"PRIVATE KEY-----" in data:
            return keys.load_private_key_file(path).public_key
        return keys.load_public_key(path)  # by path, so that an error names the file
    signing = keys.load_signing_key(create=False)
    _warn_if_public_file_differs(signing.public_key, signing.source)
    return signing.public_key


def _warn_if_public_file_differs(public: PublicKey, source: str) -> None:
    import sys
    from pathlib import Path

    from envstamp.errors import InputError
    from envstamp.signing import keys

    if source.startswith("$"):
        return  # a key from the environment has no public file beside it
    beside = keys.public_path_for(Path(source))
    if not beside.is_file():
        return
    try:
        stored = keys.load_public_key(beside)
    except InputError:
        stored = None
    if stored != public:
        sys.stderr.write(
            f"envstamp pubkey: warning: {beside} does not hold this key's public key "
            f"(replaced?); shown is the key derived from {source}\n"
        )
