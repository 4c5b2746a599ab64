"""``envstamp parse KIND FILE``: one captured output -> its manifest fragment (JSON)."""

from __future__ import annotations

import argparse
import json

from envstamp.cli.shared import emit, read_text_input
from envstamp.parsers.kinds import KINDS, parse_to_data


def configure(parser: argparse.ArgumentParser) -> None:
    kinds = ", ".join(sorted(KINDS))
    parser.add_argument("kind", help=f"what the file holds: {kinds}")
    parser.add_argument("file", help="the captured output, or - for stdin")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically)")


def run(args: argparse.Namespace) -> int:
    from envstamp.parsers.kinds import parser_for

    parser_for(args.kind)  # unknown kind: fail before reading the input
    fragment = parse_to_data(args.kind, read_text_input(args.file))
    emit(json.dumps(fragment, indent=2, ensure_ascii=False, allow_nan=False), args.output)
    return 0
