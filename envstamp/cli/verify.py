"""``envstamp verify FILE``: check a signed envelope, or a results log, against trusted keys.

Exit 0: valid; 1: invalid (bad signature, threshold not met, artifact not covered);
2: usage error, unreadable input, or no trusted key to check with.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envstamp.manifest.document import Document
    from envstamp.signing.verify import Verified


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="signed envelope or results log (- for stdin)")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="PUB",
        help="trusted public key, PEM or OpenSSH (repeatable; default: your public key and "
        "the trusted-keys folder)",
    )
    parser.add_argument(
        "--artifact",
        action="append",
        default=[],
        metavar="PATH",
        help="a file the statement must cover by sha256 (repeatable)",
    )
    parser.add_argument(
        "--threshold",
        type=int,
        default=1,
        metavar="N",
        help="distinct trusted keys that must have signed (default 1)",
    )
    parser.add_argument(
        "--predicate-type", metavar="URI", help="require this predicateType exactly"
    )
    parser.add_argument(
        "--allow-open",
        action="store_true",
        help="results logs: accept trailing lines not yet covered by a signed head",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable result")


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import read_input
    from envstamp.errors import CheckFailed, InputError
    from envstamp.signing import keys, verify

    if args.threshold < 1:
        raise InputError("--threshold must be at least 1")
    trusted = [keys.load_public_key(path) for path in args.key] or None
    if args.file != "-" and _is_results_log(_head(args.file)):
        # A results log may be far larger than any envelope: verify_log streams it itself.
        return _verify_results_log(args.file, trusted, args)
    data = read_input(args.file, limit=verify.MAX_ENVELOPE_BYTES)
    if not data.strip():
        raise InputError(f"{args.file} is empty: neither a signed envelope nor a results log")
    if _is_results_log(data):
        return _verify_results_log(data, trusted, args)
    artifacts = {path: read_input(path) for path in args.artifact}
    try:
        verified = verify.verify_envelope(
            data,
            trusted,
            threshold=args.threshold,
            expected_predicate_type=args.predicate_type,
            artifacts=artifacts,
        )
    except CheckFailed as exc:
        if args.json:
            _write_json({"valid": False, "error": str(exc)})
        raise
    if args.json:
        _write_json(_report(verified, args.threshold))
    else:
        sys.stdout.write(_text(verified, args.threshold, bool(artifacts)))
    return 0


def _head(path: str) -> bytes:
    """The first bytes of a file (empty when unreadable: read_input reports that)."""
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - a plain read of a few bytes
            return handle.read(4096)
    except OSError:
        return b""


def _verify_results_log(data: bytes | str, trusted: Any, args: argparse.Namespace) -> int:
    """A results log: hash chain, signed heads and manifests, checked by
    envstamp.stamping.results."""
    from envstamp.errors import CheckFailed, InputError
    from envstamp.stamping.results import verify_log

    if args.artifact or args.threshold != 1 or args.predicate_type:
        raise InputError(
            "--artifact, --threshold and --predicate-type apply to envelopes, not results logs"
        )
    report = verify_log(data, trusted=trusted, allow_open=args.allow_open, name=args.file)
    if args.json:
        _write_json(report.to_dict())
    else:
        sys.stdout.write("\n".join(report.summary_lines()) + "\n")
    if report.problems:
        raise CheckFailed(f"{args.file}: {report.problems[0]}")
    if not report.signatures_checked:
        from envstamp.signing.keys import ENV_PASSPHRASE, default_key_locked

        locked = (
            f" (your default key is encrypted: set {ENV_PASSPHRASE} to trust it)"
            if trusted is None and default_key_locked()
            else ""
        )
        raise InputError(
            f"{args.file}: no trusted public key to check the signatures with{locked}"
        )
    if not report.ok:
        raise CheckFailed(f"{args.file}: {_not_ok_reason(report)}")
    return 0


def _not_ok_reason(report: Any) -> str:
    """Why an intact, checked log still fails without --allow-open."""
    if report.closed:
        return (
            f"{report.results_unsigned} results are not vouched for by a signed head of their "
            "writer (it crashed before signing them, or they were forged); --allow-open "
            "accepts them as unsigned"
        )
    return f"{report.open_text()} (--allow-open accepts a log that is still being written)"


def _is_results_log(data: bytes) -> bool:
    from envstamp.stamping.results import is_results_log

    return is_results_log(data)


def _report(verified: Verified, threshold: int) -> dict[str, Any]:
    return {
        "valid": True,
        "signers": verified.keyids,
        "threshold": threshold,
        "predicate_type": verified.predicate_type,
        "subjects": [{"name": name, "sha256": digest} for name, digest in verified.subjects],
        "artifacts_checked": verified.artifacts_checked,
    }


def _text(verified: Verified, threshold: int, had_artifacts: bool) -> str:
    from envstamp.signing.dsse import ARTIFACT_PREDICATE

    count = len(verified.keyids)
    lines = [f"valid: signed by {count} trusted key{'s' if count != 1 else ''} "
             f"(threshold {threshold})"]
    lines += [f"  signer     {keyid}" for keyid in verified.keyids]
    lines += [f"  subject    {name}  sha256:{digest}" for name, digest in verified.subjects]
    lines.append(f"  predicate  {verified.predicate_type}")
    lines += [f"  artifact   {Path(p).name} matches a subject" for p in verified.artifacts_checked]
    if verified.predicate_type == ARTIFACT_PREDICATE and not had_artifacts:
        lines.append("  note       the files themselves were not checked: pass --artifact FILE")
    return "\n".join(lines) + "\n"


def _write_json(report: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(report, indent=2) + "\n")


# ------------------------------------------------------------- for show, diff, compare, check


def add_require_valid_flag(parser: argparse.ArgumentParser) -> None:
    """--require-valid: scripts can rely on the exit status, not only on the labels."""
    parser.add_argument(
        "--require-valid",
        action="store_true",
        help="exit 1 unless every input verifies with a trusted key (a results log: every "
        "result signed); a plain manifest, an unsigned, untrusted or tampered input fails",
    )


def require_valid(inputs: list[Document], *, strict: bool) -> None:
    """CheckFailed (exit 1) naming the first input that fails.

    An invalid input (tampered, edited after capture) always fails; with ``strict`` so does
    every input that is not verified (unsigned, partly signed, not checked).
    """
    from envstamp.errors import CheckFailed

    for doc in inputs:
        if doc.verification.failed:
            raise CheckFailed(f"{doc.source}: {doc.signature}")
        if strict and not doc.verification.verified:
            raise CheckFailed(
                f"{doc.source} is not verified ({doc.signature}); --require-valid accepts "
                "only inputs that verify with a trusted key"
            )
