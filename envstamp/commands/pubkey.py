"""``envstamp pubkey``: print the public key others need to verify your envelopes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envstamp.keys import PublicKey


def configure(parser: argparse.ArgumentParser) -> None:
    from envstamp.commands import add_output_flag

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
    from envstamp.commands import emit

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
    ``sign`` would use; never creates a key."""
    import os

    from envstamp import keys

    if path is not None:
        data, _ = keys.read_key_file(path, "key")
        if b"PRIVATE KEY-----" in data:
            return keys.load_private_key_file(path).public_key
        return keys.load_public_key(data)
    if os.environ.get(keys.ENV_PRIVATE_KEY) or os.environ.get(keys.ENV_PRIVATE_KEY_FILE):
        return keys.load_signing_key(create=False).public_key
    public = keys.public_path_for(keys.default_private_path())
    if public.is_file():
        return keys.load_public_key(public)
    return keys.load_signing_key(create=False).public_key
