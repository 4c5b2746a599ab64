"""CLI verbs, one module each, and the helpers they share."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from envstamp.documents import MAX_INPUT_BYTES
from envstamp.errors import InputError

if TYPE_CHECKING:
    from envstamp.manifest.document import Document

def add_format_flags(parser: argparse.ArgumentParser, *, text_flag: bool = True) -> None:
    """--json / --markdown (/ --text): mutually exclusive; default is human text."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--json", dest="format", action="store_const", const="json", help="JSON output"
    )
    group.add_argument(
        "--markdown",
        dest="format",
        action="store_const",
        const="markdown",
        help="Markdown, ready to paste into an issue",
    )
    if text_flag:
        group.add_argument(
            "--text", dest="format", action="store_const", const="text", help="human text"
        )
    parser.set_defaults(format="text")


def add_output_flag(parser: argparse.ArgumentParser) -> None:
    """-o FILE: write atomically instead of printing."""
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically)")


def check_output(output: str | None) -> None:
    """Fail early (before a long capture) when ``-o`` points into a missing folder."""
    if output is None or output == "-":
        return
    target = Path(output)
    if not target.parent.is_dir():
        raise InputError(f"cannot write {output}: folder {target.parent} does not exist")
    if target.is_dir():
        raise InputError(f"cannot write {output}: it is a folder")


def check_named_inputs(
    llama_cpp: Sequence[str], models: Sequence[str], *, replay: object = None
) -> None:
    """A ``--llama-cpp`` or ``--model`` the user named that does not exist is an error (exit
    2), before anything is captured or run: a typo must not become a manifest that silently
    lacks the build or model.  A ``--model`` that is an Ollama model name ("llama3.2:3b"),
    not a path, passes: the probe looks it up.  With ``--replay`` the paths name files of the
    recorded machine, so nothing is checked here."""
    if replay:
        return
    for option, values in (("--llama-cpp", llama_cpp), ("--model", models)):
        for value in values:
            if Path(value).expanduser().exists():
                continue
            if option == "--model":
                from envstamp.parsers.ollama_manifest import parse_ollama_name

                if parse_ollama_name(value) is not None:
                    continue
            raise InputError(f"{option} {value}: no such file or folder")


def add_capture_timing_flags(parser: argparse.ArgumentParser) -> None:
    """--timeout / --deadline of a capture (capture, check)."""
    parser.add_argument(
        "--timeout", type=float, default=2.0, metavar="S", help="per-command timeout (2 s)"
    )
    parser.add_argument(
        "--deadline", type=float, default=5.0, metavar="S", help="whole-capture deadline (5 s)"
    )


def check_capture_timing(args: argparse.Namespace) -> None:
    """Refuse non-positive --timeout / --deadline before anything runs."""
    if args.timeout <= 0 or args.deadline <= 0:
        raise InputError("--timeout and --deadline must be positive")


def emit(text: str, output: str | None) -> None:
    """Print, or write atomically to ``output``."""
    if output is None or output == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from envstamp.runner import write_atomic

    check_output(output)
    write_atomic(Path(output), text.encode("utf-8"))


def read_input(path: str, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """Bytes of a file argument, or stdin for ``-`` (here only: the library reads files);
    InputError with one line otherwise."""
    if path == "-":
        return sys.stdin.buffer.read(limit + 1)[: limit + 1]
    from envstamp.documents import read_file

    return read_file(path, limit=limit)


def load_input(path: str) -> Document:
    """A manifest, envelope or results log named on the command line (``-``: stdin)."""
    from envstamp.documents import document_from_bytes

    return document_from_bytes(read_input(path), source=path)


def read_text_input(path: str) -> str:
    """A file argument as text (lenient decoding, like tool output)."""
    from envstamp.runner import decode

    return decode(read_input(path))


def use_color(stream: object = None) -> bool:
    """Colour only on a terminal and never with NO_COLOR."""
    if os.environ.get("NO_COLOR") is not None:
        return False
    target = sys.stdout if stream is None else stream
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())
