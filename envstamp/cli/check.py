"""``envstamp check BASELINE``: capture now and diff against a baseline (a CI drift guard).

``--markdown`` is redacted unless ``--no-redact``, as the other pasted views are."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from envstamp.cli.diff import add_gate_flags, add_redact_flag
from envstamp.cli.shared import (
    add_capture_timing_flags,
    add_format_flags,
    add_output_flag,
    check_capture_timing,
)

if TYPE_CHECKING:
    from envstamp.diffing.model import DiffReport
    from envstamp.manifest.document import Document
    from envstamp.manifest.model import Manifest


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", help="manifest, signed envelope or results log to hold to")
    add_format_flags(parser)
    add_output_flag(parser)
    add_gate_flags(parser)
    add_redact_flag(parser)
    from envstamp.cli.verify import add_require_valid_flag

    add_require_valid_flag(parser)
    parser.add_argument("--all", action="store_true", help="list every difference")
    parser.add_argument(
        "--replay", metavar="DIR", help="capture from a recording instead of this machine"
    )
    parser.add_argument(
        "--llama-cpp",
        action="append",
        default=[],
        metavar="PATH",
        help="a llama.cpp binary, build folder or checkout to describe (repeatable), "
        "besides those the baseline names",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="PATH",
        help="a model file to fingerprint (repeatable), besides those the baseline names",
    )
    parser.add_argument(
        "--no-baseline-paths",
        action="store_true",
        help="do not describe the llama.cpp paths and models the baseline names",
    )
    add_capture_timing_flags(parser)


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.diff import emit_report, gate
    from envstamp.cli.shared import load_input
    from envstamp.diffing.differ import diff
    from envstamp.manifest.document import Document

    check_capture_timing(args)
    from envstamp.cli.shared import check_named_inputs

    check_named_inputs(args.llama_cpp, args.model, replay=args.replay)
    baseline = load_input(args.baseline)
    from envstamp.cli.verify import require_valid

    # A tampered or edited baseline always fails (exit 1) before anything is captured.
    require_valid([baseline], strict=args.require_valid)
    now = Document("manifest", capture_like(baseline.manifest, args), "now (captured by check)")
    report = diff(baseline, now)
    from envstamp.output.views import CHECK_TITLE

    shown = shareable_report(baseline, now, report, args)
    emit_report(shown, args, title=CHECK_TITLE, original=report)
    return gate(report, args)


def shareable_report(a: Document, b: Document, report: DiffReport, args: argparse.Namespace
                     ) -> DiffReport:
    """The report as shown: --markdown is made to be pasted, so it is the diff of the
    redacted documents unless --no-redact (as diff and compare do); the gate still judges
    ``report``, the unredacted one."""
    if args.format != "markdown" or args.no_redact:
        return report
    from envstamp.diffing.differ import diff
    from envstamp.manifest.redact import current_home, shareable_document

    home = current_home()
    return diff(shareable_document(a, home=home), shareable_document(b, home=home))


def capture_like(baseline: Manifest, args: argparse.Namespace) -> Manifest:
    """Capture this machine, describing the same llama.cpp builds and models as the baseline."""
    from envstamp.capturing.capture import capture
    from envstamp.probes.context import CaptureOptions

    named = not args.no_baseline_paths
    llama = _paths([b.path for b in baseline.llamacpp] if named else [], args.llama_cpp)
    models = _paths([m.path for m in baseline.models] if named else [], args.model)
    values: dict[str, Any] = {"llama_cpp": llama, "models": models}
    options = CaptureOptions(command_timeout=args.timeout, deadline=args.deadline, **values)
    return capture(options, replay=args.replay)


def _paths(from_baseline: list[str | None], extra: list[str]) -> tuple[str, ...]:
    # Redacted paths ("~/...", "redacted:...") cannot be found again; named ones are kept.
    kept = [p for p in from_baseline if p and not p.startswith("redacted:")]
    return tuple(dict.fromkeys([*kept, *extra]))
