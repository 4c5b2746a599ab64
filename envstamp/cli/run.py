"""``envstamp run [--name N] [--repeat K] [--warmup W] [-o results.jsonl] -- CMD ARGS...``

Captures and signs this machine's manifest (failing before the command runs if it cannot),
runs the command ``W + K`` times with its output echoed, and appends stamped results:

* first the benchmark's own results, parsed from what it printed: one per llama-bench test
  (any ``-o`` format; ``origin="run:llama-bench"``), three per llama-batched-bench row
  (prompt, generation and total speed; ``run:batched-bench``), one per request of a
  llama-server log (``run:server``);
* then the wrapper's result for the command (``origin="run"``): wall time per repetition
  (model load and start-up included), exit code and signal, stdout digest, the peak resident
  memory of its process tree, peak GPU memory, and - when it printed them and no results of
  its own - the llama.cpp timing lines (or the chat llama-cli's ``[ Prompt: X t/s |
  Generation: Y t/s ]``) or ``ollama run --verbose`` statistics as metrics.  Beside the
  tool's own results its timing lines are a sum over many tests, not a speed: left out.

A run that exited non-zero or was killed marks every result of the command ``failed``: its
times are not speeds.  What the command runs is described in the manifest: a llama.cpp
binary that ran, the model files a known tool was given (``-m``, ``--model``...), the model
``ollama run`` runs, and the interpreter (and packages) of a Python program.

Exits with the command's exit status (the first non-zero one over the repetitions; a
signal's death as 128+N, as a shell reports it).

Stopped by SIGINT, SIGTERM or SIGHUP (a server's usual end), envstamp stops the command and
records what it printed whole until then as ordinary results, the command's result as
failed by that signal, closes the log and exits 128+N with one line saying so.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.stamping.run_argv import (
    is_llama_tool,
    is_python_name,
    llama_bench_repetitions,
    named_models,
    ollama_run_models,
    parse_shebang,
    tool_name,
)

if TYPE_CHECKING:
    from envstamp.manifest.model import Volatile
    from envstamp.parsers.llama_batched_bench import BatchedBenchRow
    from envstamp.parsers.llama_bench import BenchRow
    from envstamp.parsers.llama_server import ServerTiming
    from envstamp.runner import Runner
    from envstamp.runner.childrun import ChildRun
    from envstamp.stamping.results import Advice, MemoryUse, Result
    from envstamp.stamping.run_vllm import Watch
    from envstamp.stamping.sampler import Region
    from envstamp.stamping.timing import Recorder

# BenchRow fields that describe how a test was run (and so which tests match across
# machines); hardware, build and file-path fields are left to the manifest.
BENCH_PARAMS = (
    "model_type",
    "model_size",
    "n_params",
    "n_prompt",
    "n_gen",
    "n_depth",
    "n_gpu_layers",
    "n_threads",
    "n_batch",
    "n_ubatch",
    "type_k",
    "type_v",
    "flash_attn",
    "split_mode",
    "main_gpu",
    "no_kv_offload",
    "tensor_split",
    "use_mmap",
    "backend",
    "embeddings",
    "cpu_mask",
    "cpu_strict",
    "poll",
)
# Tools whose GPU work runs in a server process of the same name, not in the child's tree.
_SERVER_NAMED = ("ollama",)
# How many bytes of a program to read for its shebang line.
_SHEBANG_BYTES = 512


def configure(parser: argparse.ArgumentParser) -> None:
    from envstamp.stamping.advice import MIN_SAMPLES

    parser.add_argument("--name", "-n", help="result name (default: the command's name)")
    parser.add_argument(
        "--repeat", "-r", type=int, default=None, metavar="K",
        help=f"timed runs (1; {MIN_SAMPLES} or more show the spread)",
    )
    parser.add_argument("--warmup", "-w", type=int, default=0, metavar="W", help="untimed runs")
    parser.add_argument(
        "-o", "--output", default="results.jsonl", metavar="FILE",
        help="results log to append to (results.jsonl)",
    )
    parser.add_argument("--key", metavar="PEM", help="sign with this private key file")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE",
        help="a parameter stored with the command's result (repeatable)",
    )
    parser.add_argument(
        "--llama-cpp", action="append", default=[], metavar="PATH",
        help="also fingerprint this llama.cpp binary or build (repeatable)",
    )
    parser.add_argument(
        "--model", action="append", default=[], metavar="PATH",
        help="fingerprint this model file into the manifest (repeatable; a known tool's own "
        "model argument is fingerprinted without it)",
    )
    parser.add_argument("--sample-hz", type=float, default=10.0, metavar="HZ",
                        help="GPU memory sampling rate (10)")
    parser.add_argument("--no-state", action="store_true",
                        help="do not read clocks, temperatures and load before and after")
    parser.add_argument("--durable", action="store_true", help="fsync every write")
    parser.add_argument("--quiet", "-q", action="store_true", help="do not echo the output")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")


def run(args: argparse.Namespace) -> int:
    from envstamp.errors import InputError
    from envstamp.runner import LiveRunner

    argv = _command(args.command)
    chose_repeat = args.repeat is not None
    args.repeat = 1 if args.repeat is None else args.repeat
    if args.repeat < 1 or args.warmup < 0:
        raise InputError("--repeat must be at least 1 and --warmup at least 0")
    if not args.sample_hz > 0:
        raise InputError("--sample-hz must be positive")
    params = _params(args.param)
    from envstamp.cli.shared import check_named_inputs

    check_named_inputs(args.llama_cpp, args.model)
    binary = _resolve(argv[0])
    runner = LiveRunner()
    target = describe_target(argv, binary, runner)
    new_log = not runner.stat(args.output).exists
    rec = _recorder(args, target)
    rec.mute_advice("few_samples")  # said below, once, with the flag that fixes it
    try:
        saved = watch_saved_results(argv, runner)  # before the command writes them
        done = _run_all(rec, argv, args, binary, runner)
        results = []
        if done.runs:  # a stop during a warm-up run leaves nothing measured
            results = build_results(
                rec,
                argv,
                done.runs,
                name=args.name,
                params=params,
                states=(done.before, done.after),
                region=done.region,
                gpu_source=done.gpu_source,
                stopped=done.stopped,
                saved=saved_results(rec, saved, runner, keep=args.repeat),
            )
        for result in results:
            rec.add(result)
        measured = measured_line(results)
        if measured:
            sys.stderr.write(measured)
        few = few_samples(results)
        if few is not None and (chose_repeat or new_log):
            sys.stderr.write(few_samples_line(few, once=not chose_repeat))
    finally:
        rec.close()  # signs the final head, after a stop too
    from envstamp.stamping.advice import count

    if done.stopped is not None:
        _say_stopped(done.stopped, results, args.output, _digests(rec))
        return 128 + _signal_number(done.stopped)
    ended = how_it_ended(done.runs)
    if ended.failed:
        signal = f", {ended.signal}" if ended.signal else ""
        sys.stderr.write(
            f"envstamp run: the command failed (exit {ended.exit_code}{signal}): "
            "its results are marked failed\n"
        )
    sys.stderr.write(
        f"envstamp run: {count(len(results), 'result')} appended to {args.output} "
        f"({_digests(rec)}); check with 'envstamp verify {args.output}'\n"
    )
    return ended.exit_code


MEASURED_SHOWN = 6  # results named in run's "measured" line; the rest are counted


def measured_line(results: Sequence[Result]) -> str:
    """ "envstamp run: measured pp512 11422 t/s (n=5), tg128 98.18 t/s (n=5)": what the run
    measured, so its numbers are on screen without a second command.  The benchmark's own
    results when it printed some (the command's whole wall time is then only context), else
    the command's; a speed where there is one, else the wall time.  Failed results measured
    nothing: left out (the failure has its own line)."""
    from envstamp.output.formatting import seconds

    own = [r for r in results if r.origin != "run"] or list(results)
    parts = []
    for result in (r for r in own if not r.failed):
        speed, wall = result.summary.get("tokens_per_s"), result.summary.get("wall_s")
        if speed is not None:
            parts.append(f"{result.name} {speed.mean:.4g} t/s (n={speed.n})")
        elif wall is not None and wall.median is not None:
            parts.append(f"{result.name} {seconds(wall.median)} (n={wall.n})")
    if not parts:
        return ""
    more = len(parts) - MEASURED_SHOWN
    shown = ", ".join(parts[:MEASURED_SHOWN]) + (f" and {more} more" if more > 0 else "")
    return f"envstamp run: measured {shown}\n"


def few_samples(results: Sequence[Result]) -> int | None:
    """The fewest samples of a result the few-samples advice was given for; None if none."""
    counts = [
        min((summary.n for summary in result.summary.values()), default=1)
        for result in results
        if any(advice.code == "few_samples" for advice in result.advice)
    ]
    return min(counts) if counts else None


def few_samples_line(n: int, *, once: bool) -> str:
    """The few-samples advice of ``envstamp run``, naming the flag that gives more samples.
    Without ``--repeat`` it is said once per results log (when the run creates it): one run
    is the default, and a reminder on every run would only be noise."""
    from envstamp.stamping.advice import MIN_SAMPLES, count

    tail = " (said once per results log)" if once else ""
    return (
        f"envstamp: advice: only {count(n, 'sample')}: --repeat {MIN_SAMPLES} or more shows "
        f"the spread{tail}\n"
    )


def _command(words: Sequence[str]) -> list[str]:
    from envstamp.errors import InputError

    argv = list(words)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise InputError("no command given: envstamp run [options] -- CMD ARGS...")
    return argv


def _params(pairs: Sequence[str]) -> dict[str, Any]:
    from envstamp.errors import InputError

    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param {pair!r}: expected KEY=VALUE")
        params[key.strip()] = value
    return params


def _resolve(command: str) -> str:
    """The executable's full path; InputError before anything is captured when missing."""
    import shutil

    from envstamp.errors import InputError

    found = shutil.which(command)
    if found is None:
        raise InputError(why_not_runnable(command))
    return found


def why_not_runnable(command: str) -> str:
    """Why ``command`` (not found as a program) cannot be run, naming it: not on PATH, no
    such file, a folder, a file without the execute bit..."""
    import os
    from pathlib import Path

    from envstamp.errors import os_reason
    from envstamp.runner.files import kind_of, kind_words

    path = Path(command)
    if os.sep not in command and not (os.altsep and os.altsep in command):
        if path.is_file():
            return (f"command not found on PATH: {command} (a file of that name is in this "
                    f"folder: run it as ./{command})")
        if is_llama_tool(command):
            return (f"command not found: {command} (a llama.cpp tool: give its path, as in "
                    f"envstamp run -- ~/llama.cpp/build/bin/{command} ..., or add its folder "
                    "to PATH)")
        return f"command not found: {command}"
    try:
        kind = kind_of(path.stat().st_mode)
    except FileNotFoundError:
        if path.is_symlink():
            return f"{command} is a link to {path.readlink()}, which does not exist"
        return f"{command}: no such file"
    except OSError as exc:
        return f"{command}: {os_reason(exc)}"
    if kind != "file":
        return f"{command} is {kind_words(kind)}, not a program"
    return (f"{command} is not executable: a file runs with the execute bit (chmod +x "
            f"{command}) or with its interpreter named first (envstamp run -- sh {command})")


# ------------------------------------------------------------------- what the command runs


@attrs.define
class Target:
    """What the command runs, as far as its arguments tell: for the manifest."""

    binary: str
    llama_cpp: list[str] = attrs.field(factory=list)
    models: list[str] = attrs.field(factory=list)
    ollama_models: list[str] = attrs.field(factory=list)
    python: str | None = None


def describe_target(argv: Sequence[str], binary: str, runner: Runner) -> Target:
    """The llama.cpp binary, model files, Ollama models and Python interpreter the command
    names (files and paths asked of ``runner``)."""
    target = Target(binary=binary)
    if is_llama_tool(binary):
        target.llama_cpp.append(binary)  # the build that runs is the one to describe
        target.models = named_models([binary, *argv[1:]])  # llama.cpp loads only files
    else:
        target.python = python_interpreter(binary, runner)
        target.models = [m for m in named_models([binary, *argv[1:]]) if _is_file(runner, m)]
    if tool_name(binary) == "ollama":
        target.ollama_models = ollama_run_models(argv)
    return target


def _is_file(runner: Runner, path: str) -> bool:
    """A local model file (an engine's model argument may be a hub name, or a folder the
    model probe does not fingerprint)."""
    info = runner.stat(path)
    return info.exists and not info.is_dir


def python_interpreter(binary: str, runner: Runner) -> str | None:
    """The interpreter that runs ``binary``: itself when it is a Python, the Python its
    shebang names (a console script, a ``#!`` script); None for anything else, and for
    envstamp's own interpreter (the python section describes it already)."""
    if is_python_name(binary):
        found: str | None = binary
    else:
        shebang = parse_shebang(runner.read_bytes(binary, 0, _SHEBANG_BYTES) or b"")
        if shebang is None or not is_python_name(shebang.program):
            return None
        found = runner.which(shebang.program) if shebang.via_env else shebang.program
    return None if found == sys.executable else found


def _recorder(args: argparse.Namespace, target: Target) -> Recorder:
    from envstamp.probes.context import CaptureOptions
    from envstamp.stamping.timing import Recorder

    options = CaptureOptions(
        llama_cpp=tuple(dict.fromkeys([*target.llama_cpp, *args.llama_cpp])),
        models=tuple(dict.fromkeys([*target.models, *args.model])),
        ollama_models=tuple(target.ollama_models),
        python=target.python,
    )
    return Recorder(
        args.output,
        options=options,
        key=args.key,
        durable=args.durable,
        state=not args.no_state,
        memory=False,  # the command's memory is measured below, not this process's
        advice=sys.stderr,
    )


@attrs.define
class Measured:
    """The timed runs of the command and what was read around them."""

    runs: list[ChildRun]  # a run that was stopped is the last one
    before: Volatile | None
    after: Volatile | None
    region: Region | None
    gpu_source: str
    stopped: str | None = None  # "SIGINT": envstamp was interrupted, the runs were cut short


def _run_all(
    rec: Recorder, argv: list[str], args: argparse.Namespace, binary: str, runner: Runner
) -> Measured:
    """Run the warm-ups and the timed runs.  An interruption (SIGINT, SIGTERM, SIGHUP) ends
    the series: the command was stopped with everything it started (see run_child), and what
    ran until then is returned with the signal's name, for the caller to record."""
    from envstamp.runner.childrun import Stopped, run_child
    from envstamp.stamping.sampler import MemoryReader, MemorySampler, ProcessTree

    tool = tool_name(binary)
    tree = ProcessTree(runner, names=[tool] if tool in _SERVER_NAMED else [])
    sampler = MemorySampler(MemoryReader(runner, ours=tree, rss=False), hz=args.sample_hz)

    def started(pid: int) -> None:
        tree.root = pid

    runs: list[ChildRun] = []
    before = after = None
    region = None
    stopped: str | None = None
    try:
        for index in range(args.warmup + args.repeat):
            measured = index >= args.warmup
            if measured and region is None:
                before, _ = rec.watch_open(rec.state, False)
                region = sampler.open_region()
            try:
                child = run_child(argv, echo=not args.quiet, on_start=started)
            except Stopped as stop:
                if measured:
                    runs.append(stop.run)
                raise
            if measured:
                runs.append(child)
    except KeyboardInterrupt as interrupt:
        stopped = _signal_of_interrupt(interrupt)
    finally:
        if region is not None:
            region = sampler.close_region(region, final=False)
        sampler.stop()
    if stopped is None:
        # After a stop the state is not read: a supervisor's TERM gives seconds before its
        # KILL, and the results must be written and signed by then.
        after, _ = rec.watch_close(rec.state, None)
    return Measured(runs, before, after, region, sampler.reader.source, stopped)


def _signal_of_interrupt(interrupt: KeyboardInterrupt) -> str:
    """ "SIGTERM" for the CLI's Interrupted(SIGTERM); a plain KeyboardInterrupt is SIGINT."""
    import signal

    signum = getattr(interrupt, "signum", None)
    try:
        return signal.Signals(signum).name if isinstance(signum, int) else "SIGINT"
    except ValueError:
        return "SIGINT"


def _signal_number(name: str) -> int:
    import signal

    return int(signal.Signals[name])


def _digests(rec: Any) -> str:
    """ "identity digest sha256:..., manifest digest sha256:...", as show and diff name them."""
    from envstamp.output.formatting import digests_text

    return digests_text(rec.manifest.identity_digest, rec.manifest_digest)


def _say_stopped(stopped: str, results: Sequence[Result], output: str, digests: str) -> None:
    """The one line after a stop: what was recorded, and where."""
    from envstamp.stamping.advice import count

    own = sum(1 for r in results if r.origin != "run")
    if not results:
        line = (f"stopped by {stopped} before a timed run: nothing measured, no result "
                f"appended to {output}")
    else:
        kept = f"{count(own, 'result')} completed before the stop and " if own else ""
        line = (
            f"stopped by {stopped}: {kept}the command's result (failed: stopped) appended to "
            f"{output} ({digests}); check with 'envstamp verify {output}'"
        )
    with contextlib.suppress(OSError, ValueError):  # the terminal may be gone (SIGHUP)
        sys.stderr.write(f"envstamp run: {line}\n")
        sys.stderr.flush()


# ---------------------------------------------------------------------------- exit status


@attrs.define
class Ending:
    """How the timed runs ended, together."""

    exit_code: int  # the first non-zero one (128+N for signal N), else 0
    signal: str | None  # the signal that ended that run
    failed: bool


def how_it_ended(runs: Sequence[ChildRun], stopped: str | None = None) -> Ending:
    """The first failing run decides the exit code and signal; any failure fails them all.

    A stop (``stopped``: envstamp was interrupted by that signal) ends the runs with that
    signal, as a shell reports it (128+N), whatever status the command chose on its way out
    (llama-server exits 0 on SIGINT)."""
    if stopped is not None:
        return Ending(exit_code=128 + _signal_number(stopped), signal=stopped, failed=True)
    failing = next((r for r in runs if r.exit_code), None)
    if failing is None:
        return Ending(exit_code=0, signal=None, failed=False)
    return Ending(exit_code=failing.exit_code, signal=signal_of(failing), failed=True)


def signal_of(child: ChildRun) -> str | None:
    """The name of the signal that ended a run ("SIGILL").

    ``ChildRun.signal`` where the process runner reports it; otherwise read off a shell-style
    status of 128+N (POSIX only: Windows exit codes are not signals)."""
    if hasattr(child, "signal"):
        reported: str | None = child.signal
        return reported
    return signal_name(child.exit_code)


def signal_name(exit_code: int, platform: str = sys.platform) -> str | None:
    """128+N -> the name of signal N on this system; None for anything else."""
    import signal

    if platform == "win32" or not 128 < exit_code < 256:
        return None
    try:
        return signal.Signals(exit_code - 128).name
    except ValueError:
        return None


# ----------------------------------------------------------------------------- results


def build_results(
    rec: Recorder,
    argv: list[str],
    runs: list[ChildRun],
    *,
    name: str | None,
    params: dict[str, Any],
    states: tuple[Volatile | None, Volatile | None],
    region: Region | None,
    gpu_source: str = "",
    stopped: str | None = None,
    saved: Callable[[dict[str, Any]], list[Result]] | None = None,
) -> list[Result]:
    """The benchmark's own results (``run:<parser>``), then the command's (``run``).

    ``saved``: the results of files the benchmark wrote (vllm bench serve's result), given
    the fields the benchmark's results share with the command's.

    ``stopped`` ("SIGINT"): envstamp was interrupted and stopped the command (the last run).
    What it printed completely until then - a request's timing report, a llama-bench test's
    line - is a complete measurement and is kept as an ordinary result (failed only when an
    earlier run failed on its own); the command's own result is failed, ended by that signal.
    """
    from envstamp.manifest.secrets import redact_argv

    stdouts = [_output(r.stdout, r) for r in runs]
    texts = [out + "\n" + _output(r.stderr, r) for out, r in zip(stdouts, runs, strict=True)]
    ended = how_it_ended(runs, stopped)
    common: dict[str, Any] = {
        "command": redact_argv(argv),  # results logs get shared: no --api-key values
        "output_digest": runs[-1].stdout_sha256,
        "state_before": states[0],
        "state_after": states[1],
        "region": region,
        "memory": _memory(runs, region, gpu_source),
    }
    status: dict[str, Any] = {
        "exit_code": ended.exit_code, "exit_signal": ended.signal, "failed": ended.failed
    }
    own = {**common, **(status if stopped is None else _status_before_stop(runs))}
    parsed = [
        *(saved(own) if saved is not None else []),
        *bench_results(rec, argv, stdouts, own, cut=stopped is not None),
        *batched_results(rec, texts, own),
        *server_results(rec, argv, texts, own, cut=stopped is not None),
    ]
    # Timing lines are the command's measurement only when it printed no results of its
    # own (llama-cli): beside them they add up every row or request (batched-bench's
    # closing perf lines, a server's at exit) into a speed no test ran at.
    samples = {} if parsed else _perf_samples(texts)
    wrapper = rec.make_result(
        name or tool_name(argv[0]),
        origin="run",
        params=params,
        metrics={k: sum(v) / len(v) for k, v in samples.items()},
        wall_s=[r.wall_s for r in runs],
        metric_samples=samples,
        # The benchmark repeated its own tests: one run of the whole is not "few samples".
        advise_samples=not parsed,
        **common,
        **status,
    )
    outlived = outlived_advice(runs)
    if outlived:
        wrapper = attrs.evolve(wrapper, advice=[*wrapper.advice, *outlived])
    return [*parsed, wrapper]


def outlived_advice(runs: Sequence[ChildRun]) -> list[Advice]:
    """The ``descendants_outlived`` advice of the command's result: processes it started
    were still running when it exited (they ran beside what it measured) and were stopped,
    or something it started kept its output open."""
    from envstamp.stamping.results import Advice

    marked = [r for r in runs if getattr(r, "descendants_outlived", False)]
    if not marked:
        return []
    left = sum(len(r.left_running) for r in marked)
    names = sorted({name.split(" (pid ")[0] for r in marked for name in r.left_running})
    where = f" in {len(marked)} of {len(runs)} runs" if len(runs) > 1 else ""
    if left:
        what = (
            f"the command left {left} process(es) running after it exited{where} "
            f"({', '.join(names[:5])}); envstamp stopped them"
        )
    else:
        what = (
            f"something the command started kept its output open after it exited{where}; "
            "not waited for"
        )
    return [Advice(code="descendants_outlived", message=what)]


def _output(data: bytes, run: ChildRun) -> str:
    """A run's output as text; of a stopped run only its complete lines (a line cut by the
    stop may hold a number cut short: ``123.4`` of ``123.45 ± 1.2``)."""
    from envstamp.runner import decode

    if getattr(run, "stopped_by", None) is not None:
        data = data[: data.rfind(b"\n") + 1]
    return decode(data)


def _status_before_stop(runs: Sequence[ChildRun]) -> dict[str, Any]:
    """Exit status of what completed before a stop: failed only when a run that ended on its
    own failed; the exit code is unknown when none did (the command never exited by itself
    while the stopped run's results were measured)."""
    ended = how_it_ended([r for r in runs if getattr(r, "stopped_by", None) is None])
    return {
        "exit_code": ended.exit_code if ended.failed else None,
        "exit_signal": ended.signal,
        "failed": ended.failed,
    }


def _memory(runs: list[ChildRun], region: Region | None, gpu_source: str) -> MemoryUse:
    from envstamp.stamping.results import MemoryUse

    peaks = [r.rss_peak_bytes for r in runs]
    known = [p for p in peaks if p is not None]
    source = sorted({r.rss_source for r in runs if r.rss_source})
    # The region's first reading is taken before the command starts: GPU figures count only
    # when the sampler read again while it ran (a command shorter than a sampling interval
    # was never seen on the GPU, and its "0 MiB" would be the moment before it).
    seen = region is not None and region.samples > 1
    if seen and gpu_source and gpu_source != "none":
        source.append(gpu_source)
    return MemoryUse(
        # One run whose peak went unseen makes the peak over all of them unknown.
        child_rss_peak_bytes=max(known) if known and len(known) == len(peaks) else None,
        gpu_process_peak_mib=region.gpu_ours_peak if seen and region else None,
        gpu_total_peak_mib=region.gpu_total_peak if seen and region else None,
        samples=region.samples if region else None,
        source="+".join(source) or None,
    )


def _perf_samples(texts: list[str]) -> dict[str, list[float]]:
    """llama.cpp / ollama speed figures of each run, as metric samples."""
    from envstamp.parsers.perf_lines import parse_perf

    samples: dict[str, list[float]] = {}
    for text in texts:
        stats = parse_perf(text)
        if stats is None:
            continue
        for key, value in stats.metrics().items():
            samples.setdefault(key, []).append(value)
    return samples


# ------------------------------------------------------------------------- llama-bench


def bench_results(
    rec: Recorder,
    argv: Sequence[str],
    stdouts: list[str],
    common: dict[str, Any],
    *,
    cut: bool = False,
) -> list[Result]:
    """One result per llama-bench test, its repetitions gathered over the runs.

    The repetition count of md/csv/sql output comes from llama-bench's own ``-r`` (default
    5) when the command is llama-bench; a script that ran it hides it (None).  ``cut``: the
    last run was stopped, so its ``-o json`` array may lack its end (its complete tests
    count: llama-bench prints a test when all its repetitions are done)."""
    is_bench = tool_name(argv[0]) == "llama-bench"
    reps = llama_bench_repetitions(argv) if is_bench else None
    given = bench_models(argv) if is_bench else []
    groups: dict[str, _BenchGroup] = {}
    for run_number, text in enumerate(stdouts, 1):
        last = cut and run_number == len(stdouts)
        rows = _bench_rows(text, cut=last)
        occurrences: dict[str, int] = {}
        for row, model in zip(rows, row_models(rows, [] if last else given), strict=True):
            if row.avg_ts is None:
                continue
            key = repr((row.test, model, sorted(_row_params(row).items())))
            instance = occurrences[key] = occurrences.get(key, 0) + 1
            if model is not None:
                instance = 1  # the same model and test twice (-m a,a): one test, repeated
            key = f"{key}#{instance}"
            groups.setdefault(key, _BenchGroup(model, instance)).rows.append(row)
    labels = model_labels([g.model for g in groups.values() if g.model is not None])
    return [
        _bench_result(rec, g.rows, reps, common, g.params(labels)) for g in groups.values()
    ]


@attrs.define
class _BenchGroup:
    """One llama-bench test of one model: its rows over the runs."""

    model: str | None  # the model file as llama-bench was given it; None when unknown
    instance: int  # the k-th test of these settings in an output whose models are unknown
    rows: list[BenchRow] = attrs.field(factory=list)

    def params(self, labels: dict[str, str]) -> dict[str, Any]:
        """What tells this test apart from the same test of another model."""
        if self.model is not None:
            return {"model": labels[self.model]}
        return {"instance": self.instance} if self.instance > 1 else {}


def bench_models(argv: Sequence[str]) -> list[str]:
    """llama-bench's models in the order it runs them: every ``-m``/``--model`` value, lists
    split at commas, a model given twice kept twice (it is run twice)."""
    from envstamp.stamping.run_argv import flag_values

    values = flag_values(argv[1:], ("-m", "--model"))
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def row_models(rows: list[BenchRow], given: list[str]) -> list[str | None]:
    """Each row's model file: as json, jsonl, csv and sql name it (model_filename), else -
    Markdown - by the row's place among the ``-m`` models (see models_by_block)."""
    from envstamp.parsers.llama_bench import models_by_block

    if any(row.model_filename for row in rows):
        return [row.model_filename for row in rows]
    return models_by_block(rows, given)


def model_labels(files: Sequence[str]) -> dict[str, str]:
    """The ``model`` parameter of each model file: its file name, so that the same test of
    the same model matches across machines whatever folder holds it; the path as given where
    two files of one command share a name."""
    names: dict[str, set[str]] = {}
    for path in files:
        names.setdefault(_file_name(path), set()).add(path)
    return {path: path if len(names[_file_name(path)]) > 1 else _file_name(path) for path in files}


def _file_name(path: str) -> str:
    from pathlib import PurePosixPath, PureWindowsPath

    return (PureWindowsPath(path) if "\\" in path else PurePosixPath(path)).name or path


def _bench_rows(text: str, *, cut: bool = False) -> list[BenchRow]:
    from envstamp.errors import ParseError
    from envstamp.parsers.llama_bench import parse_cut_json, parse_llama_bench

    try:
        rows, _ = parse_llama_bench(text)
    except ParseError:
        return parse_cut_json(text) if cut else []
    return rows


def _row_params(row: BenchRow) -> dict[str, Any]:
    """The test's settings as llama-bench printed them: the common ones by envstamp's name,
    then every other column of the build's llama-bench (n_cpu_moe, load_mode...): each one
    can change a speed, and a later export writes llama-bench's own table from them."""
    params = {name: getattr(row, name, None) for name in BENCH_PARAMS}
    params.update((k, v) for k, v in row.extra.items() if k not in params)
    return {k: v for k, v in params.items() if v is not None}


def _bench_result(
    rec: Recorder,
    rows: list[BenchRow],
    reps: int | None,
    common: dict[str, Any],
    model: dict[str, Any],
) -> Result:
    """The test's result: its samples (json/jsonl), or llama-bench's printed mean, stddev
    and repetition count (md/csv/sql); params read from rounded text carry their precision.
    ``model`` (the model's name, or which instance of the test) leads its params."""
    from envstamp.stamping.results import summarize_stats

    params = {**model, **_row_params(rows[0])}
    tolerance = {k: max(r.tolerance.get(k, 0.0) for r in rows) for k in rows[0].tolerance}
    samples_ts: list[float] = []
    wall: list[float] = []
    summary = {}
    if all(r.samples_ts for r in rows):
        weighted = 0.0
        for row in rows:
            samples_ts += row.samples_ts or []
            wall += [ns / 1e9 for ns in row.samples_ns or []]
            weighted += (row.avg_ts or 0.0) * len(row.samples_ts or [])
        mean = weighted / len(samples_ts)  # llama-bench's exact mean (samples print rounded)
    elif reps is not None:
        summary["tokens_per_s"] = summarize_stats(
            [(r.avg_ts or 0.0, r.stddev_ts, reps) for r in rows]
        )
        times = [(r.avg_ns, r.stddev_ns) for r in rows]
        if all(avg is not None for avg, _ in times):
            summary["wall_s"] = summarize_stats(
                [((avg or 0) / 1e9, _seconds(spread), reps) for avg, spread in times]
            )
        mean = summary["tokens_per_s"].mean
    else:  # repetitions unknown: each printed mean is one sample
        samples_ts = [r.avg_ts or 0.0 for r in rows]
        mean = sum(samples_ts) / len(samples_ts)
    return rec.make_result(
        rows[0].test or "llama-bench",
        origin="run:llama-bench",
        params=params,
        param_tolerance={k: v for k, v in tolerance.items() if k in params and v > 0},
        metrics={"tokens_per_s": mean},
        wall_s=wall,
        metric_samples={"tokens_per_s": samples_ts} if samples_ts else {},
        summary=summary,
        **common,
    )


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / 1e9


# ------------------------------------------------------------------ llama-batched-bench

# Each row's three speeds: (phase, metric, speed field, seconds field).
_BATCHED_PHASES = (
    ("prompt", "prompt_tps", "speed_pp", "t_pp"),
    ("generation", "tokens_per_s", "speed_tg", "t_tg"),
    ("total", "total_tps", "speed", "t"),
)
# A printed time is a wall_s sample only when its rounding moves it by at most this share of
# itself: the table's 0.001 s stands for anything from 0.0005 to 0.0015.
_TIME_PRECISION = 0.01


def batched_results(rec: Recorder, texts: list[str], common: dict[str, Any]) -> list[Result]:
    """Per PP/TG/B row of llama-batched-bench: a result for its prompt, generation and total
    speed (one metric each), samples gathered over the runs; the settings line's values
    (n_kv_max, n_batch, flash_attn...) and the row's PP, TG and B are its parameters."""
    from envstamp.errors import ParseError
    from envstamp.parsers.llama_batched_bench import parse_batched_bench

    groups: dict[str, tuple[dict[str, Any], list[Any]]] = {}
    for text in texts:
        try:
            bench = parse_batched_bench(text)
        except ParseError:
            continue
        for row in bench.rows:
            params = {**bench.settings, "pp": row.pp, "tg": row.tg, "pl": row.pl}
            key = repr(sorted(params.items()))
            groups.setdefault(key, (params, []))[1].append(row)
    results = []
    for params, rows in groups.values():
        first = rows[0]
        for phase, metric, speed, seconds in _BATCHED_PHASES:
            known = [r for r in rows if getattr(r, speed) is not None]
            if not known:
                continue  # printed as inf/nan: too short for the clock
            speeds = [float(getattr(r, speed)) for r in known]
            results.append(
                rec.make_result(
                    f"pp{first.pp}+tg{first.tg} B{first.pl} {phase}",
                    origin="run:batched-bench",
                    params={**params, "phase": phase},
                    metrics={metric: sum(speeds) / len(speeds)},
                    wall_s=phase_seconds(known, seconds),
                    metric_samples={metric: speeds},
                    **common,
                )
            )
    return results


def phase_seconds(rows: Sequence[BatchedBenchRow], seconds: str) -> list[float]:
    """The phase's time in every run, or none at all.

    A time counts only when printed to within 1 % of itself (jsonl's six decimals; the
    table's milliseconds from 0.05 s on): a shorter phase's table time is mostly rounding,
    and one that printed 0.000 is unknown.  The tool's speed beside it was computed from its
    own microsecond clock, not from the print, and is kept as printed.  A series missing some
    runs would lean towards the runs that were long enough: all or nothing."""
    times = []
    for row in rows:
        value = getattr(row, seconds)
        if value is None or row.tolerance.get(seconds, 0.0) > _TIME_PRECISION * value:
            return []
        times.append(float(value))
    return times


# ---------------------------------------------------------------------------- llama-server


def server_results(
    rec: Recorder,
    argv: Sequence[str],
    texts: list[str],
    common: dict[str, Any],
    *,
    cut: bool = False,
) -> list[Result]:
    """One result per request a llama.cpp server log reports (``slot print_timing`` lines:
    llama-server, and llama-cli builds that run on the server code), in the order printed:
    params ``request`` (1, 2, ...) and, where the log prints it, the server's ``task_id``.

    ``cut``: the last run was stopped (a server's usual end), so its last report may have
    been cut short: see :func:`complete_reports`."""
    from envstamp.errors import ParseError
    from envstamp.parsers.llama_server import parse_server_log_timings

    results = []
    name = f"{tool_name(argv[0])} request"
    for run_number, text in enumerate(texts, 1):
        try:
            timings = parse_server_log_timings(text)
        except ParseError:
            continue
        if cut and run_number == len(texts):
            timings = complete_reports(timings)
        for number, timing in enumerate(timings, 1):
            metrics = {
                key: float(value)
                for key, value in (
                    ("tokens_per_s", timing.predicted_per_second),
                    ("prompt_tps", timing.prompt_per_second),
                    ("prompt_tokens", timing.prompt_n),
                    ("gen_tokens", timing.predicted_n),
                    ("cached_tokens", timing.cache_n),
                )
                if value is not None
            }
            if "tokens_per_s" not in metrics and "prompt_tps" not in metrics:
                continue
            total = timing.total_ms
            # The order is what matches across runs; the task id finds the request again
            # in the server's own log (0, 9, 18: the server counts its internal tasks too).
            params = {"request": number}
            if timing.task_id is not None:
                params["task_id"] = timing.task_id
            results.append(
                rec.make_result(
                    name,
                    origin="run:server",
                    params=params,
                    metrics=metrics,
                    wall_s=[total / 1000] if total is not None else [],
                    # One request is one event, not a series short of repetitions.
                    advise_samples=False,
                    **common,
                )
            )
    return results


def complete_reports(timings: list[ServerTiming]) -> list[ServerTiming]:
    """The requests of a stopped server's log whose report was printed whole.

    A report is printed at once when its request is done; only a kill in the middle of it
    can leave it short.  Where the log's reports end with a total line (``total time = X ms
    / N tokens``, every build since 2024), a last report without one is such a remnant and
    is dropped; where no report carries one, nothing tells, and all are kept."""
    closed = any(t.total_ms is not None for t in timings)
    if closed and timings and timings[-1].total_ms is None:
        return timings[:-1]
    return timings


# ------------------------------------------------------------------ vllm bench serve


def watch_saved_results(argv: Sequence[str], runner: Runner) -> Watch | None:
    """For ``vllm bench serve`` (and ``python -m vllm...``): the result files it may write,
    noted before it runs; None for any other command."""
    from envstamp.stamping.run_vllm import watch

    return watch(argv, runner)


def saved_results(
    rec: Recorder, saved: Watch | None, runner: Runner, *, keep: int
) -> Callable[[dict[str, Any]], list[Result]] | None:
    """What reads the runs the command saved, once it has ended (the last ``keep``: the
    timed runs), saying on stderr which file they came from, or why none was read."""
    if saved is None:
        return None

    def read(common: dict[str, Any]) -> list[Result]:
        from envstamp.stamping.run_vllm import summary_line, vllm_results

        found = saved.found(runner, keep)
        for line in [*found.notes, summary_line(found)]:
            if line:
                sys.stderr.write(f"envstamp run: {line}\n")
        return vllm_results(rec, found, common)

    return read
