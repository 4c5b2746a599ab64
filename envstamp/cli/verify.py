"""``envstamp verify FILE``: check a signed envelope, or a results log, against trusted keys.

Exit 0: verified; 1: invalid (bad signature, threshold not met, artifact not covered) or
unsigned (a plain manifest); 2: usage error, unreadable input, no trusted key to check with,
or a detached signature given without the files it covers (--artifact).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from envstamp.manifest.document import Document, Status
    from envstamp.signing.verify import Verified


VERDICTS_HELP = (
    "Verdicts, in text and JSON alike: verified (exit 0); invalid, unsigned (a plain "
    "manifest, or a results log whose results no signed head covers), partly signed (exit 1; "
    "an open results log passes with --allow-open); not verified: no trusted key, or a "
    "detached signature without --artifact (exit 2)."
)


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
        help="a file the statement must cover by sha256 (repeatable; required for a "
        "detached signature, as 'envstamp sign FILE' writes for other files)",
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
    parser.add_argument(
        "--json",
        action="store_true",
        help='machine-readable verdict: {"status": ..., "kind": ..., "source": ...}',
    )
    parser.epilog = VERDICTS_HELP


# One vocabulary for every verdict, in text and JSON, envelopes and results logs alike: the
# words of a loaded input's verification (envstamp.manifest.document.Status, as show and diff
# print them).  Text reads "<status>: <file>: ...", JSON {"status": "<status>", ...}.
VERIFIED = "verified"
INVALID = "invalid"
UNSIGNED = "unsigned"
NOT_VERIFIED = "not verified"


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import read_input
    from envstamp.errors import InputError
    from envstamp.signing import keys, verify

    if args.threshold < 1:
        raise InputError("--threshold must be at least 1")
    trusted = [keys.load_public_key(path) for path in args.key] or None
    if args.file != "-" and _is_results_log(_head(args.file)):
        # A results log may be far larger than any envelope: verify_log streams it itself.
        return _verify_results_log(args.file, trusted, args)
    data = read_input(args.file, limit=verify.MAX_ENVELOPE_BYTES)
    name = display_name(args.file)
    if not data.strip():
        raise InputError(f"{name} is empty: neither a signed envelope nor a results log")
    if _is_results_log(data):
        return _verify_results_log(data, trusted, args)
    envelope = _read_envelope(data, name, args)
    artifacts = {path: read_input(path) for path in args.artifact}
    verified = _verify(envelope, trusted, artifacts, name, args)
    _require_artifacts(verified, artifacts, name, args)
    if args.json:
        _write_json(_report(verified, args.threshold, name))
    else:
        sys.stdout.write(_text(verified, args.threshold, name))
    return 0


def display_name(path: str) -> str:
    """How a message names the input: its path, or "stdin" for ``-``."""
    return "stdin" if path == "-" else path


def _read_envelope(data: bytes, name: str, args: argparse.Namespace) -> Any:
    """The envelope's JSON, strictly; every refusal names the file and says what to do."""
    from envstamp.errors import CheckFailed, InputError
    from envstamp.signing.verify import envelope_from_json

    try:
        envelope = envelope_from_json(data)
    except InputError as exc:
        raise InputError(
            f"{name}: {exc} (verify reads a signed envelope, as 'envstamp capture -o' and "
            "'envstamp sign' write, or a results log)"
        ) from None
    except CheckFailed as exc:
        _fail(INVALID, "envelope", name, str(exc), args)
    if _is_plain_manifest(envelope):
        _fail(UNSIGNED, "manifest", name, _unsigned_manifest_text(name), args)
    # Not an object: verify_envelope reads the bytes again and says what the top level is.
    return envelope if isinstance(envelope, dict) else data


def _is_plain_manifest(document: Any) -> bool:
    schema = document.get("schema") if isinstance(document, dict) else None
    return (
        isinstance(schema, str)
        and schema.startswith("envstamp.manifest/")
        and "payloadType" not in document
    )


def _unsigned_manifest_text(name: str) -> str:
    from envstamp.cli.sign import default_output

    if name == "stdin":
        return (
            "a plain manifest, not a signed envelope: nothing to verify; sign it with "
            "'envstamp sign FILE' and verify the envelope that writes"
        )
    return (
        f"a plain manifest, not a signed envelope: nothing to verify; sign it with "
        f"'envstamp sign {name}' (writes {default_output(name)}) and verify that"
    )


def _verify(
    envelope: Any,
    trusted: Any,
    artifacts: dict[str, bytes],
    name: str,
    args: argparse.Namespace,
) -> Verified:
    from envstamp.errors import CheckFailed
    from envstamp.signing import verify

    try:
        return verify.verify_envelope(
            envelope,
            trusted,
            threshold=args.threshold,
            expected_predicate_type=args.predicate_type,
            artifacts=artifacts,
        )
    except verify.NoTrustedKeysError as exc:
        _fail(NOT_VERIFIED, "envelope", name, str(exc), args, usage=True)
    except verify.UntrustedSignatureError as exc:
        hint = _how_to_trust(given=trusted is not None) if exc.untrusted else ""
        _fail(INVALID, "envelope", name, f"{exc}{hint}", args)
    except CheckFailed as exc:
        _fail(INVALID, "envelope", name, str(exc), args)


def _how_to_trust(*, given: bool) -> str:
    """Where trust comes from and the command that trusts a signer (here, not in the signing
    layer's message: that one reaches shareable views, and this names a local folder)."""
    if given:
        return "; to trust that signer, add its public key: --key PUB"
    from envstamp.signing.keys import trusted_dir

    folder = trusted_dir()
    return (
        f" ({folder}); to trust that signer, save its public key there: envstamp pubkey "
        f"--key THEIR_KEY_FILE > {folder / 'NAME.pub'} (or what 'envstamp pubkey' prints on "
        "their side), after checking its keyid with them"
    )


def _require_artifacts(
    verified: Verified, artifacts: dict[str, bytes], name: str, args: argparse.Namespace
) -> None:
    """A detached signature vouches for files: without them nothing was verified that a
    script may rely on, so it fails (exit 2, as a missing argument) naming the flag."""
    from envstamp.signing.dsse import ARTIFACT_PREDICATE

    if verified.predicate_type != ARTIFACT_PREDICATE or artifacts:
        return
    flags = " ".join(f"--artifact {subject}" for subject, _ in verified.subjects)
    _fail(
        NOT_VERIFIED,
        "envelope",
        name,
        f"the signature is valid, but it covers files, and they were not checked: add {flags} "
        "(each file's path)",
        args,
        usage=True,
    )


def _fail(
    status: str,
    kind: str,
    name: str,
    why: str,
    args: argparse.Namespace,
    *,
    usage: bool = False,
) -> NoReturn:
    """The verdict as JSON on stdout (with --json), then the one-line error: exit 1, or 2
    when something is missing to reach a verdict (a trusted key, the covered files)."""
    from envstamp.errors import CheckFailed, InputError

    if args.json:
        _write_json({"status": status, "kind": kind, "source": name, "error": why})
    message = f"{status}: {name}: {why}"
    raise (InputError if usage else CheckFailed)(message)


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
    from envstamp.stamping.results import results_verification, verify_log

    if args.artifact or args.threshold != 1 or args.predicate_type:
        raise InputError(
            "--artifact, --threshold and --predicate-type apply to envelopes, not results logs"
        )
    name = display_name(args.file)
    report = verify_log(data, trusted=trusted, allow_open=args.allow_open, name=name)
    status = log_status(report, results_verification(report).status)
    if args.json:
        _write_json(_log_report(report, status))
    else:
        sys.stdout.write("\n".join(_log_lines(report, status)) + "\n")
    if report.problems:
        raise CheckFailed(f"{status}: {name}: {report.problems[0]}")
    if not report.signatures_checked:
        from envstamp.signing.keys import ENV_PASSPHRASE, default_key_locked, trusted_dir

        locked = (
            f" (your default key is encrypted: set {ENV_PASSPHRASE} to trust it)"
            if trusted is None and default_key_locked()
            else ""
        )
        raise InputError(
            f"{status}: {name}: no trusted public key to check the signatures with: pass "
            f"--key PUB, or put public keys in {trusted_dir()}{locked}"
        )
    if not report.ok:
        raise CheckFailed(f"{status}: {name}: {_not_ok_reason(report)}")
    return 0


def log_status(report: Any, status: Status) -> str:
    """A results log's verdict in the one vocabulary ("verified", "partly signed", ...)."""
    from envstamp.manifest.document import Verification

    return Verification(status).text


def _log_lines(report: Any, status: str) -> list[str]:
    """The log's report for a person: the verdict line in verify's words, then its findings
    (envstamp.stamping.results' own lines after its first)."""
    from envstamp.output.formatting import plural

    counts = (
        plural(report.results, "result"),
        plural(report.manifests, "manifest"),
        plural(report.heads, "signed head"),
        plural(report.lines, "line"),
    )
    first = f"{status}: {report.source}: {', '.join(counts)}"
    if report.ok and not report.closed:
        first += " (still open, accepted with --allow-open)"
    return [first, *report.summary_lines()[1:]]


def _log_report(report: Any, status: str) -> dict[str, Any]:
    """The log's report as JSON, its verdict first as "status" (the log report's own "ok"
    would be a second word for it)."""
    data = {key: value for key, value in report.to_dict().items() if key != "ok"}
    return {"status": status, "kind": "results", **data}


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


def _report(verified: Verified, threshold: int, name: str) -> dict[str, Any]:
    return {
        "status": VERIFIED,
        "kind": "envelope",
        "source": name,
        "signers": verified.keyids,
        "threshold": threshold,
        "predicate_type": verified.predicate_type,
        "subjects": [{"name": subject, "sha256": digest} for subject, digest in verified.subjects],
        "artifacts_checked": verified.artifacts_checked,
    }


def _text(verified: Verified, threshold: int, name: str) -> str:
    count = len(verified.keyids)
    lines = [
        f"{VERIFIED}: {name}: signed by {count} trusted key{'s' if count != 1 else ''} "
        f"({threshold} needed, --threshold)"
    ]
    lines += [f"  signer     {keyid}" for keyid in verified.keyids]
    # The manifest's subject digest is its identity digest (what show and run print as
    # "identity digest"), not the digest of the signed bytes ("manifest digest").
    lines += [
        f"  subject    {subject}  "
        + ("identity digest " if subject == "manifest" else "")
        + f"sha256:{digest}"
        for subject, digest in verified.subjects
    ]
    lines.append(f"  predicate  {verified.predicate_type}")
    lines += [f"  artifact   {Path(p).name} matches a subject" for p in verified.artifacts_checked]
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
