"""``envstamp capture``: fingerprint this machine into a manifest."""

from __future__ import annotations

import argparse
import sys

from envstamp.cli.shared import (
    add_capture_timing_flags,
    add_format_flags,
    add_output_flag,
    check_capture_timing,
    check_named_inputs,
    check_output,
    emit,
)

# What each output is, for --help (issue 15: `capture --json | jq .gpus` must be the GPUs).
OUTPUT_HELP = (
    "Output: without -o, the one-screen summary (--markdown, --json: the manifest itself, "
    "unsigned). -o FILE writes the signed envelope (a DSSE envelope around the manifest: the "
    "file verify, show and diff check; --no-sign: the plain manifest; -o - prints it), or "
    "the format a flag names. What was written, and with which key, is said on stderr."
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_output_flag(parser)
    add_format_flags(parser)
    parser.set_defaults(format=None)
    parser.epilog = OUTPUT_HELP
    parser.add_argument("--raw", metavar="DIR", help="also record every raw answer into DIR")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list every probe with its status, time, what answered and why: under the "
        "summary, or on stderr when the output is JSON",
    )
    parser.add_argument(
        "--replay",
        metavar="DIR",
        action="append",
        help="answer from a recording instead of this machine; repeat to layer recordings "
        "(the first that holds an answer gives it)",
    )
    parser.add_argument(
        "--redact",
        action="store_true",
        help="replace hostnames, serials, UUIDs, MAC addresses and home paths "
        "(always done for --markdown, which is made to be pasted)",
    )
    parser.add_argument(
        "--no-redact",
        action="store_true",
        help="keep hostnames, serials and home paths in --markdown output",
    )
    parser.add_argument(
        "--llama-cpp",
        action="append",
        default=[],
        metavar="PATH",
        help="a llama.cpp binary, build folder or checkout (repeatable)",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="PATH",
        help="a model file or Ollama model name to fingerprint (repeatable)",
    )
    parser.add_argument(
        "--no-sign",
        action="store_true",
        help="-o writes the plain manifest instead of a signed envelope",
    )
    parser.add_argument(
        "--key",
        metavar="PATH",
        help="private key to sign the envelope of -o with (default: "
        "$ENVSTAMP_PRIVATE_KEY(_FILE), then your default key, made on first use)",
    )
    add_capture_timing_flags(parser)


def run(args: argparse.Namespace) -> int:
    from envstamp.errors import InputError
    from envstamp.runner import NotRecorded

    try:
        return _capture_and_write(args)
    except NotRecorded as exc:
        # The runner names only the folder's last part and the question: say which --replay
        # it was and what a recording is (an empty folder, a folder of something else).
        named = ", ".join(args.replay or ())
        raise InputError(
            f"--replay {named}: not a complete recording ({exc}); record one with "
            "'envstamp capture --raw DIR'"
        ) from None


def _capture_and_write(args: argparse.Namespace) -> int:
    from envstamp.capturing.capture import capture
    from envstamp.errors import InputError
    from envstamp.probes.context import CaptureOptions

    check_capture_timing(args)
    if args.no_sign and args.key:
        raise InputError("--key and --no-sign contradict each other")
    if args.redact and args.no_redact:
        raise InputError("--redact and --no-redact contradict each other")
    fmt = output_format(args)
    signing = fmt == "envelope"
    check_output(args.output)
    check_named_inputs(args.llama_cpp, args.model, replay=args.replay)
    _check_raw_folder(args.raw)
    options = CaptureOptions(
        llama_cpp=tuple(args.llama_cpp),
        models=tuple(args.model),
        command_timeout=args.timeout,
        deadline=args.deadline,
        progress=sys.stderr.isatty(),
    )
    if signing:
        from envstamp.signing import keys

        # A bad key fails now, before the capture and any --raw recording (issue 12).
        signing_key = keys.checked_signing_key(args.key)
    manifest = capture(options, record=args.raw, replay=args.replay)
    redacted = ""
    if args.redact or (fmt == "markdown" and not args.no_redact):
        from envstamp.manifest.redact import current_home, redact

        redacted = ", redacted"
        # A replayed recording is another machine: this user's home is not its home.
        manifest = redact(manifest, home=None if args.replay else current_home())
    if signing:
        from envstamp.signing.sign import envelope_json, sign_manifest

        key = signing_key()
        emit(envelope_json(sign_manifest(manifest, key)), args.output)
        written = f"signed manifest{redacted} (key {key.keyid[:16]}, {key.algorithm})"
    else:
        emit(render_manifest(manifest, fmt, args), args.output)
        written = WRITTEN[fmt] + redacted
    if args.verbose and fmt not in ("text", "markdown"):
        from envstamp.output.probe_summary import probe_listing

        sys.stderr.write(probe_listing(manifest))
    if args.output not in (None, "-"):
        sys.stderr.write(f"envstamp capture: wrote {args.output}: {written}\n")
    return 0


# What `capture -o FILE` says it wrote, on stderr (stdout stays clean for pipes).
WRITTEN = {
    "manifest": "plain manifest (unsigned)",
    "json": "plain manifest (unsigned: --json writes the manifest itself; without it -o signs)",
    "text": "text summary",
    "markdown": "Markdown summary",
}


def output_format(args: argparse.Namespace) -> str:
    """What to write: "envelope" (the file format of -o: the signed manifest), "manifest"
    (-o with --no-sign), or the format a flag asked for: "json" (the manifest itself, never
    signed), "text" (the default without -o) or "markdown"."""
    from envstamp.errors import InputError

    if args.format is not None:
        if args.format == "json" and args.key:
            raise InputError(
                "--key signs the envelope that -o FILE writes; --json is the manifest itself, "
                "unsigned (drop --json to sign)"
            )
        return str(args.format)
    if args.output is None:
        return "text"
    return "manifest" if args.no_sign else "envelope"


def _check_raw_folder(raw: str | None) -> None:
    """--raw names a folder (made when missing): anything else there is refused now, before
    the capture and the key."""
    if raw is None:
        return
    from envstamp.errors import InputError
    from envstamp.runner.files import not_a_folder

    what = not_a_folder(raw)
    if what is not None:
        raise InputError(
            f"--raw {raw}: it is {what}; --raw must be a folder to record the answers into "
            "(created when missing)"
        )


def render_manifest(manifest: object, fmt: str, args: argparse.Namespace) -> str:
    """The manifest in the chosen format."""
    from envstamp.manifest.model import Manifest
    from envstamp.manifest.serialize import to_json
    from envstamp.output import render

    assert isinstance(manifest, Manifest)
    if fmt in ("json", "manifest"):
        return to_json(manifest)
    from envstamp.output.probe_summary import probe_listing

    listing = probe_listing(manifest) if args.verbose else ""
    if fmt == "markdown":
        return render.to_markdown(manifest) + (f"\n```text\n{listing}```\n" if listing else "")
    return render.to_text(manifest) + (f"\n{listing}" if listing else "")
