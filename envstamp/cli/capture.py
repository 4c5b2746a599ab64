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


def configure(parser: argparse.ArgumentParser) -> None:
    add_output_flag(parser)
    add_format_flags(parser)
    parser.set_defaults(format=None)
    parser.add_argument("--raw", metavar="DIR", help="also record every raw answer into DIR")
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
        help="JSON output is a plain manifest instead of a signed envelope",
    )
    parser.add_argument(
        "--key",
        metavar="PATH",
        help="private key to sign with (default: $ENVSTAMP_PRIVATE_KEY(_FILE), then your "
        "default key, made on first use)",
    )
    add_capture_timing_flags(parser)


def run(args: argparse.Namespace) -> int:
    from envstamp.capturing.capture import capture
    from envstamp.errors import InputError
    from envstamp.probes.context import CaptureOptions

    check_capture_timing(args)
    if args.no_sign and args.key:
        raise InputError("--key and --no-sign contradict each other")
    if args.redact and args.no_redact:
        raise InputError("--redact and --no-redact contradict each other")
    fmt = args.format or ("json" if args.output else "text")
    signing = fmt == "json" and not args.no_sign
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
    on_stall = None
    if signing:
        from envstamp.signing import keys

        # A bad key fails now, before the capture and any --raw recording (issue 12).
        signing_key = keys.checked_signing_key(args.key)
        on_stall = keys.load_signing_code  # cryptography and the key folder, while probes wait
    manifest = capture(options, record=args.raw, replay=args.replay, on_stall=on_stall)
    if args.redact or (fmt == "markdown" and not args.no_redact):
        from envstamp.manifest.redact import current_home, redact

        # A replayed recording is another machine: this user's home is not its home.
        manifest = redact(manifest, home=None if args.replay else current_home())
    if signing:
        from envstamp.signing.sign import envelope_json, sign_manifest

        emit(envelope_json(sign_manifest(manifest, signing_key())), args.output)
        return 0
    emit(render_manifest(manifest, fmt, args), args.output)
    return 0


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
    if fmt == "json":
        return to_json(manifest)
    if fmt == "markdown":
        return render.to_markdown(manifest)
    return render.to_text(manifest)
