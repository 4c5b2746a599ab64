"""``envstamp run [--name N] [--repeat K] [--warmup W] [-o results.jsonl] -- CMD ARGS...``

Captures and signs this machine's manifest (failing before the command runs if it cannot),
runs the command ``W + K`` times with its output echoed, and appends stamped results:

* one result for the command: wall time per repetition, exit code, stdout digest, the peak
  resident memory of its process tree, peak GPU memory, and - when it printed them - the
  llama.cpp timing lines or ``ollama run --verbose`` statistics as metrics;
* one result per llama-bench test (any ``-o`` format), with tokens/s.  A llama.cpp binary
  that ran is fingerprinted into the manifest's ``llamacpp`` entry.

Exits with the command's exit code (the first non-zero one over the repetitions).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envstamp.childrun import ChildRun
    from envstamp.model import Volatile
    from envstamp.results import MemoryUse, Result
    from envstamp.sampler import Region
    from envstamp.timing import Recorder

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
    "embeddings",
    "cpu_mask",
    "cpu_strict",
    "poll",
)
# Tools whose GPU work runs in a server process of the same name, not in the child's tree.
_SERVER_NAMED = ("ollama",)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", "-n", help="result name (default: the command's name)")
    parser.add_argument("--repeat", "-r", type=int, default=1, metavar="K", help="timed runs (1)")
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
        help="fingerprint this model file into the manifest (repeatable)",
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

    argv = _command(args.command)
    if args.repeat < 1 or args.warmup < 0:
        raise InputError("--repeat must be at least 1 and --warmup at least 0")
    if not args.sample_hz > 0:
        raise InputError("--sample-hz must be positive")
    params = _params(args.param)
    binary = _resolve(argv[0])
    rec = _recorder(args, binary)
    try:
        runs, before, after, region, source = _run_all(rec, argv, args, binary)
        results = build_results(
            rec,
            argv,
            runs,
            name=args.name,
            params=params,
            states=(before, after),
            region=region,
            gpu_source=source,
        )
        for result in results:
            rec.add(result)
    finally:
        rec.close()
    sys.stderr.write(
        f"envstamp run: {len(results)} result(s) appended to {args.output} "
        f"(manifest {rec.manifest_digest[:19]}...); check with 'envstamp verify {args.output}'\n"
    )
    return next((r.exit_code for r in runs if r.exit_code), 0)


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
        raise InputError(f"command not found: {command}")
    return found


def _tool_name(binary: str) -> str:
    name = Path(binary).name.lower()
    return name[:-4] if name.endswith(".exe") else name


def _recorder(args: argparse.Namespace, binary: str) -> Recorder:
    from envstamp.collect import CaptureOptions
    from envstamp.timing import Recorder

    llama = list(args.llama_cpp)
    if _tool_name(binary).startswith("llama"):
        llama.insert(0, binary)  # the build that runs is the one to describe
    options = CaptureOptions(llama_cpp=tuple(llama), models=tuple(args.model))
    return Recorder(
        args.output,
        options=options,
        key=args.key,
        durable=args.durable,
        state=not args.no_state,
        memory=False,  # the command's memory is measured below, not this process's
        advice=sys.stderr,
    )


def _run_all(
    rec: Recorder, argv: list[str], args: argparse.Namespace, binary: str
) -> tuple[list[ChildRun], Volatile | None, Volatile | None, Region | None, str]:
    from envstamp.childrun import run_child
    from envstamp.runner import LiveRunner
    from envstamp.sampler import MemoryReader, MemorySampler, ProcessTree

    runner = LiveRunner()
    tool = _tool_name(binary)
    tree = ProcessTree(runner, names=[tool] if tool in _SERVER_NAMED else [])
    sampler = MemorySampler(MemoryReader(runner, ours=tree, rss=False), hz=args.sample_hz)

    def started(pid: int) -> None:
        tree.root = pid

    runs: list[ChildRun] = []
    before = after = None
    region = None
    try:
        for index in range(args.warmup + args.repeat):
            measured = index >= args.warmup
            if measured and region is None:
                before, _ = rec.watch_open(rec.state, False)
                region = sampler.open_region()
            child = run_child(argv, echo=not args.quiet, on_start=started)
            if measured:
                runs.append(child)
    finally:
        if region is not None:
            region = sampler.close_region(region, final=False)
        sampler.stop()
    after, _ = rec.watch_close(rec.state, None)
    return runs, before, after, region, sampler.reader.source


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
) -> list[Result]:
    """The command's result, then one per llama-bench test it printed."""
    from envstamp.runner import decode
    from envstamp.secrets import redact_argv

    stdouts = [decode(r.stdout) for r in runs]
    texts = [out + "\n" + decode(r.stderr) for out, r in zip(stdouts, runs, strict=True)]
    memory = _memory(runs, region, gpu_source)
    common: dict[str, Any] = {
        "origin": "run",
        "command": redact_argv(argv),  # results logs get shared: no --api-key values
        "exit_code": next((r.exit_code for r in runs if r.exit_code), 0),
        "output_digest": runs[-1].stdout_sha256,
        "state_before": states[0],
        "state_after": states[1],
        "region": region,
        "memory": memory,
    }
    samples = _perf_samples(texts)
    results = [
        rec.make_result(
            name or _tool_name(argv[0]),
            params=params,
            metrics={k: sum(v) / len(v) for k, v in samples.items()},
            wall_s=[r.wall_s for r in runs],
            metric_samples=samples,
            **common,
        )
    ]
    results += _bench_results(rec, stdouts, common)
    return results


def _memory(runs: list[ChildRun], region: Region | None, gpu_source: str) -> MemoryUse:
    from envstamp.results import MemoryUse

    peaks = [r.rss_peak_bytes for r in runs if r.rss_peak_bytes is not None]
    source = sorted({r.rss_source for r in runs if r.rss_source})
    if region is not None and gpu_source and gpu_source != "none":
        source.append(gpu_source)
    return MemoryUse(
        child_rss_peak_bytes=max(peaks) if peaks else None,
        gpu_process_peak_mib=region.gpu_ours_peak if region else None,
        gpu_total_peak_mib=region.gpu_total_peak if region else None,
        samples=region.samples if region else None,
        source="+".join(source) or None,
    )


def _perf_samples(texts: list[str]) -> dict[str, list[float]]:
    """llama.cpp / ollama speed figures of each run, as metric samples."""
    from envstamp.perf_lines import parse_perf

    samples: dict[str, list[float]] = {}
    for text in texts:
        stats = parse_perf(text)
        if stats is None:
            continue
        for key, value in stats.metrics().items():
            samples.setdefault(key, []).append(value)
    return samples


def _bench_results(rec: Recorder, stdouts: list[str], common: dict[str, Any]) -> list[Result]:
    """One result per llama-bench test, its samples gathered over the repetitions."""
    groups: dict[str, dict[str, Any]] = {}
    for text in stdouts:
        for row in _bench_rows(text):
            if row.avg_ts is None:
                continue
            params = _row_params(row)
            key = repr((row.test, sorted(params.items())))
            group = groups.setdefault(
                key, {"name": row.test or "llama-bench", "params": params, "runs": []}
            )
            group["runs"].append(row)
    return [_bench_result(rec, group, common) for group in groups.values()]


def _bench_rows(text: str) -> list[Any]:
    try:
        from envstamp.probes.llama_bench import parse_llama_bench
    except ImportError:
        return []
    from envstamp.errors import ParseError

    try:
        rows, _ = parse_llama_bench(text)
    except ParseError:
        return []
    return rows


def _row_params(row: Any) -> dict[str, Any]:
    params = {name: getattr(row, name, None) for name in BENCH_PARAMS}
    return {k: v for k, v in params.items() if v is not None}


def _bench_result(rec: Recorder, group: dict[str, Any], common: dict[str, Any]) -> Result:
    rows = group["runs"]
    tps: list[float] = []
    wall: list[float] = []
    for row in rows:
        tps += list(row.samples_ts) if row.samples_ts else [row.avg_ts]
        if row.samples_ns:
            wall += [ns / 1e9 for ns in row.samples_ns]
        elif row.avg_ns:
            wall.append(row.avg_ns / 1e9)
    metrics = {"tokens_per_s": sum(r.avg_ts for r in rows) / len(rows)}
    stddevs = [r.stddev_ts for r in rows if r.stddev_ts is not None]
    if stddevs:
        metrics["stddev_ts"] = sum(stddevs) / len(stddevs)
    params = dict(group["params"])
    extra = getattr(rows[0], "extra", None)
    reps = extra.get("n_reps") if isinstance(extra, dict) else None
    if isinstance(reps, int):
        params["n_reps"] = reps
    return rec.make_result(
        group["name"],
        params=params,
        metrics=metrics,
        wall_s=wall,
        metric_samples={"tokens_per_s": tps},
        **common,
    )
