"""The command line: a thin argparse layer.  ``main(argv) -> int``; never a traceback.

Each verb lives in ``envstamp.cli.<verb>`` with ``configure(parser)`` and
``run(args) -> int``; only the verb being run is imported, so ``--help`` and every command
start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from envstamp._version import __version__
from envstamp.errors import EnvstampError

# verb -> (module, one-line summary)
VERBS: dict[str, tuple[str, str]] = {
    "capture": ("envstamp.cli.capture", "fingerprint this machine into a manifest"),
    "show": ("envstamp.cli.show", "summarise a manifest, envelope or results file"),
    "parse": ("envstamp.cli.parse", "parse one captured tool output into a fragment"),
    "schema": ("envstamp.cli.schema", "write or check the JSON Schemas"),
    "sign": ("envstamp.cli.sign", "sign manifests or results files"),
    "verify": ("envstamp.cli.verify", "verify a signed envelope or results file"),
    "keygen": ("envstamp.cli.keygen", "create a signing key"),
    "pubkey": ("envstamp.cli.pubkey", "print the public key"),
    "run": ("envstamp.cli.run", "time a command and record stamped results"),
    "diff": ("envstamp.cli.diff", "rank the differences between two captures"),
    "compare": ("envstamp.cli.compare", "tabulate what varies across many captures"),
    "check": ("envstamp.cli.check", "capture now and diff against a baseline"),
    "import": ("envstamp.cli.import_", "stamp another harness's results (vllm bench serve)"),
    "export": ("envstamp.cli.export", "write results logs as CSV, JSON Lines, SQLite or Parquet"),
    "report": ("envstamp.cli.report", "write results logs as one self-contained HTML report"),
    "trend": ("envstamp.cli.trend", "find the llama.cpp build where a test got slower"),
    "bench": ("envstamp.cli.bench", "benchmark a local inference server, stamped"),
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage dumps.

    Every ``type=float`` option takes finite numbers only: ``nan`` would pass every range
    check (all comparisons are false) and ``inf``/``1e999`` would make limits that never end.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("type", float, finite_float)  # what ``type=float`` resolves to

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def finite_float(text: str) -> float:
    """A float option's value: a finite number, or a one-line parsing error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP reached envstamp: it stops what it runs and exits 128+N."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signals() -> Callable[[], None]:
    """Make SIGTERM and SIGHUP behave like SIGINT (an ``Interrupted`` raised in the main
    thread, so every ``finally`` stops the processes it started); returns the undo.

    A signal the caller ignores stays ignored (``nohup``).  After the first signal the
    others are only noted: stopping a process tree must not be cut short halfway."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    fired: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(signum)

    previous: dict[int, Any] = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is None or signal.getsignal(number) == signal.SIG_IGN:
            continue
        previous[number] = signal.signal(number, handler)

    def undo() -> None:
        fired.append(0)  # from here on a signal is only noted, until the old handler is back
        for number, old in previous.items():
            signal.signal(number, old)

    return undo


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
    undo_signals = _on_signals()
    try:
        return _run_verb(verb, rest)
    except KeyboardInterrupt as exc:  # a signal while an error was being reported
        return _interrupted(getattr(exc, "signum", None))
    finally:
        undo_signals()


def _run_verb(verb: str, rest: list[str]) -> int:
    module_name, summary = VERBS[verb]
    try:
        module = importlib.import_module(module_name)
        parser = Parser(prog=f"envstamp {verb}", description=summary)
        module.configure(parser)
        options = _parse(parser, rest)
        return int(module.run(options))
    except EnvstampError as exc:
        sys.stderr.write(f"envstamp {verb}: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return _interrupted(getattr(exc, "signum", None))
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


def _parse(parser: Parser, rest: list[str]) -> argparse.Namespace:
    """Options may stand between file arguments (``compare a.json --require-valid
    b.json``), as users type them; plain ``parse_args`` stops a ``nargs="+"`` list at the
    first option.  A verb whose last argument takes the rest of the line (``run -- CMD``)
    keeps plain parsing: what follows ``--`` is the command's."""
    if any(action.nargs == argparse.REMAINDER for action in parser._actions):
        return parser.parse_args(rest)
    return parser.parse_intermixed_args(rest)


def _interrupted(signum: int | None) -> int:
    """One line and the shell's status for death by that signal (130, 143, 129)."""
    import signal

    signum = signal.SIGINT if signum is None else signum
    name = signal.Signals(signum).name
    with contextlib.suppress(OSError, ValueError):  # the terminal may be gone (SIGHUP)
        sys.stderr.write(f"envstamp: interrupted ({name})\n")
    return 128 + signum


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
    _pause_collector(sys.argv[1:])
    code = main()
    try:
        _end_descendants()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                code = code or 1  # could not deliver the output
    except KeyboardInterrupt:  # Ctrl-C while exiting: exit all the same, quietly
        code = code or 130
    os._exit(code)


# Verbs whose process lives for seconds at most and ends in ``os._exit``: they run without
# the cyclic garbage collector.  Its passes over the objects of the modules being imported
# cost a cold ``envstamp capture`` about 7 ms (docs/decisions.md, "The CLI's short verbs
# run without the cyclic collector"), and a process that ends without teardown never needs
# the cycles it left collected (plain garbage is still freed at once by reference counting).
# ``run`` and ``bench`` live as long as the user's benchmark, and ``export``, ``report``,
# ``trend`` and ``import`` read inputs of any size: they keep it.
BRIEF_VERBS = frozenset(
    {"capture", "show", "parse", "schema", "sign", "verify", "keygen", "pubkey", "diff",
     "compare", "check"}
)  # fmt: skip


def _pause_collector(argv: Sequence[str]) -> None:
    """Switch the cyclic collector off for the brief verbs (``argv`` without the program)."""
    if argv and argv[0] in BRIEF_VERBS:
        import gc

        gc.disable()


def _end_descendants() -> None:
    # envstamp is exiting: nothing it started may outlive it.  Its own commands (GPUtil's
    # and GitPython's included) were ended already; this catches what carries none of
    # envstamp's marks (py-cpuinfo's commands, GitPython's import-time check, a daemon that
    # closed every descriptor).  It first stops new starts, so a probe thread still running
    # cannot start a process just after the sweep looked.
    if "subprocess" not in sys.modules:
        return  # nothing was ever started
    from envstamp.runner.processes import end_descendants

    end_descendants()
