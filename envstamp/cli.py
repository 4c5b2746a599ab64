"""The command line: a thin argparse layer.  ``main(argv) -> int``; never a traceback.

Each verb lives in ``envstamp.commands.<verb>`` with ``configure(parser)`` and
``run(args) -> int``; only the verb being run is imported, so ``--help`` and every command
start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from envstamp import __version__
from envstamp.errors import EnvstampError

# verb -> (module, one-line summary)
VERBS: dict[str, tuple[str, str]] = {
    "capture": ("envstamp.commands.capture", "fingerprint this machine into a manifest"),
    "show": ("envstamp.commands.show", "summarise a manifest, envelope or results file"),
    "parse": ("envstamp.commands.parse", "parse one captured tool output into a fragment"),
    "schema": ("envstamp.commands.schema", "write or check the JSON Schemas"),
    "sign": ("envstamp.commands.sign", "sign manifests or results files"),
    "verify": ("envstamp.commands.verify", "verify a signed envelope or results file"),
    "keygen": ("envstamp.commands.keygen", "create a signing key"),
    "pubkey": ("envstamp.commands.pubkey", "print the public key"),
    "run": ("envstamp.commands.run", "time a command and record stamped results"),
    "diff": ("envstamp.commands.diff", "rank the differences between two captures"),
    "compare": ("envstamp.commands.compare", "tabulate what varies across many captures"),
    "check": ("envstamp.commands.check", "capture now and diff against a baseline"),
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage dumps."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _top_help() -> str:
    width = max(len(v) for v in VERBS)
    lines = [
        f"usage: envstamp [--version] <command> [options]   (envstamp {__version__})",
        "",
        "Benchmark provenance for local LLM inference.",
        "",
        "commands:",
        *(f"  {verb.ljust(width)}  {summary}" for verb, (_, summary) in VERBS.items()),
        "",
        "Run 'envstamp <command> --help' for a command's options.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(_top_help())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        sys.stdout.write(f"envstamp {__version__}\n")
        return 0
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        known = ", ".join(VERBS)
        sys.stderr.write(f"envstamp: error: unknown command {verb!r}; commands: {known}\n")
        return 2
    module_name, summary = VERBS[verb]
    try:
        module = importlib.import_module(module_name)
        parser = Parser(prog=f"envstamp {verb}", description=summary)
        module.configure(parser)
        options = parser.parse_args(rest)
        return int(module.run(options))
    except EnvstampError as exc:
        sys.stderr.write(f"envstamp {verb}: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("envstamp: interrupted\n")
        return 130
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
    except Exception as exc:  # the user sees one line, never a traceback
        if os.environ.get("ENVSTAMP_DEBUG"):
            raise
        sys.stderr.write(
            f"envstamp {verb}: internal error: {type(exc).__name__}: {exc} "
            "(set ENVSTAMP_DEBUG=1 for a traceback)\n"
        )
        return 2


def _quiet_broken_pipe() -> None:
    # The reader went away (| head): stop writing without a second error at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def entry() -> NoReturn:
    """Console-script entry point (also ``python -m envstamp``).

    Exits without the interpreter's teardown: every file envstamp writes is closed (and
    fsynced) before this point, so tearing down hundreds of modules and objects only adds
    15-20 ms to a command whose whole budget is a few hundred.  Probe threads stuck in a hung
    library call cannot delay the exit either.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1  # could not deliver the output
    os._exit(code)
