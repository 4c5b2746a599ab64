"""``envstamp keygen``: create a signing key (Ed25519 by default)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    from envstamp.signing.keys import ALGORITHMS, ED25519

    parser.add_argument(
        "--algorithm",
        choices=ALGORITHMS,
        default=ED25519,
        help="key algorithm (default: ed25519; ecdsa-p256 for cosign and other P-256 tools)",
    )
    parser.add_argument(
        "--passphrase",
        action="store_true",
        help="encrypt the private key (passphrase from ENVSTAMP_PASSPHRASE, else asked twice)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing key (its public key moves to retired/)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the private key to FILE (public key to FILE.pub.pem) instead of the default",
    )


def run(args: argparse.Namespace) -> int:
    from envstamp.errors import InputError
    from envstamp.signing import keys

    target = Path(args.output).expanduser() if args.output else keys.default_private_path()
    existing = _existing_kind(target)
    if existing == "dir":
        raise InputError(
            f"{target} is a folder: -o names the private key file to write "
            f"(e.g. {target / 'signing.pem'})"
        )
    if existing not in (None, "file"):
        raise InputError(_not_a_key_file(target, existing, named=bool(args.output)))
    if existing == "file" and not args.force:
        if not _holds_a_key(target):
            raise keys.KeyExistsError(
                f"{target} already exists and is not a key: -o names the private key file "
                "to write (--force replaces it)"
            )
        raise keys.KeyExistsError(f"a key already exists at {target}; use --force to replace it")
    passphrase = _new_passphrase() if args.passphrase else None
    key = keys.SigningKey.generate(args.algorithm)
    retired = keys.retire_public_key(target) if args.force and target.exists() else None
    private, public = keys.store_key(key, target, passphrase=passphrase, force=args.force)
    out = sys.stdout
    out.write(f"created {key.algorithm} key {key.keyid}\n")
    out.write(f"  private key: {private}{' (encrypted)' if passphrase else ''}\n")
    out.write(f"  public key:  {public}\n")
    if retired is not None:
        out.write(
            f"  the replaced key's public key is in {retired}; move it into "
            f"{keys.trusted_dir()} to keep verifying what it signed\n"
        )
    return 0


def _existing_kind(target: Path) -> str | None:
    """What ``target`` names now (links followed): "file", "dir", "fifo"...; "dangling
    link" for a link to nothing; None for nothing at all."""
    from envstamp.errors import input_error
    from envstamp.runner.files import kind_of

    try:
        return kind_of(target.stat().st_mode)
    except FileNotFoundError:
        return "dangling link" if target.is_symlink() else None
    except OSError as exc:
        raise input_error(target, exc) from None


def _not_a_key_file(target: Path, kind: str, *, named: bool) -> str:
    from envstamp.runner.files import kind_words

    if kind == "dangling link":
        what = f"a link to {target.readlink()}, which does not exist"
    else:
        what = kind_words(kind)
    hint = "-o names the private key file to write" if named else "move it away, or give -o FILE"
    return f"{target} is {what}, not a key file: {hint}"


def _holds_a_key(target: Path) -> bool:
    """The regular file at ``target`` starts like a PEM key (what keygen and others write)."""
    try:
        with target.open("rb") as handle:
            return handle.read(64).lstrip().startswith(b"-----BEGIN ")
    except OSError:
        return True  # unreadable: say "a key already exists", as before, never overwrite


def _new_passphrase() -> str:
    from envstamp.errors import InputError
    from envstamp.signing import keys

    given = os.environ.get(keys.ENV_PASSPHRASE)
    if given:
        return given
    if not (sys.stdin is not None and sys.stdin.isatty()):
        raise InputError(f"--passphrase needs {keys.ENV_PASSPHRASE} or a terminal to ask on")
    import getpass

    first = getpass.getpass("new passphrase: ")
    if not first:
        raise InputError("an empty passphrase does not protect anything")
    if getpass.getpass("again: ") != first:
        raise InputError("the passphrases differ")
    return first
