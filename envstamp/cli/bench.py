"""``envstamp bench URL [-p 512] [-n 128] [-r 3] [-w 1] [-c 1,2,4] [--api API] [-o FILE]``

Benchmarks the inference server at URL (llama-server, Ollama, LM Studio, vLLM, koboldcpp,
llamafile, Jan or any OpenAI-compatible server; detected from what it answers, or named
with ``--api``) with synthetic prompts, llama-bench style, and appends stamped results to a
results log whose manifest names what served them (see docs/bench.md).

Exit status: 0 when every request completed, 1 when some failed (they are recorded as
failed), 2 when no server could be benchmarked (nothing is recorded then).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envstamp.benchclient.session import BenchPlan, Level, Prepared


def _numbers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 128,512, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected numbers >= 0, got {text!r}")
    return values


def configure(parser: argparse.ArgumentParser) -> None:
    from envstamp.benchclient.apis import APIS

    parser.add_argument("url", help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("-p", "--n-prompt", type=_numbers, action="append", metavar="N[,N]",
                        help="prompt tokens (512; lists and repeats allowed)")
    parser.add_argument("-n", "--n-gen", type=_numbers, action="append", metavar="N[,N]",
                        help="tokens to generate (128; lists and repeats allowed)")
    parser.add_argument("-r", "--repetitions", type=int, default=3, metavar="K",
                        help="requests per client at each level (3)")
    parser.add_argument("-w", "--warmup", type=int, default=1, metavar="W",
                        help="untimed requests first (1)")
    parser.add_argument("-c", "--concurrency", type=_numbers, action="append",
                        metavar="C[,C]", help="concurrent clients, a sweep with a list (1)")
    parser.add_argument("--api", choices=APIS, help="the API to use (default: detected)")
    parser.add_argument("--model", help="the model to ask for (default: the server's)")
    parser.add_argument("--seed", type=int, default=42, help="seed of prompts and sampling")
    parser.add_argument("-o", "--output", default="results.jsonl", metavar="FILE",
                        help="results log to append to (results.jsonl)")
    parser.add_argument("--key", metavar="PEM", help="sign with this private key file")
    parser.add_argument("--allow-remote", action="store_true",
                        help="benchmark a server that is not on this machine's loopback")
    parser.add_argument("--connect-timeout", type=float, default=3.0, metavar="S",
                        help="seconds to connect (3)")
    parser.add_argument("--first-byte-timeout", type=float, default=120.0, metavar="S",
                        help="seconds to the answer's first byte (120)")
    parser.add_argument("--stall-timeout", type=float, default=30.0, metavar="S",
                        help="seconds the stream may stall (30)")
    parser.add_argument("--timeout", type=float, default=900.0, metavar="S",
                        help="seconds one request may take in all (900)")
    parser.add_argument("--raw", metavar="DIR", help="record every answer into DIR")
    parser.add_argument("--replay", metavar="DIR", help="answer from a recording instead")
    parser.add_argument("--no-state", action="store_true",
                        help="do not read clocks, temperatures and load around the levels")
    parser.add_argument("--durable", action="store_true", help="fsync every write")


def plan_of(args: argparse.Namespace) -> BenchPlan:
    """The plan the options describe (InputError for impossible ones)."""
    from envstamp.benchclient.session import BenchPlan
    from envstamp.errors import InputError
    from envstamp.runner.streaming import StreamLimits

    def flat(lists: list[list[int]] | None, default: int) -> tuple[int, ...]:
        values = [v for chunk in lists or [[default]] for v in chunk]
        return tuple(dict.fromkeys(values))

    concurrency = flat(args.concurrency, 1)
    if args.repetitions < 1 or args.warmup < 0 or min(concurrency) < 1:
        raise InputError("--repetitions and --concurrency must be at least 1, --warmup >= 0")
    times = (args.connect_timeout, args.first_byte_timeout, args.stall_timeout, args.timeout)
    if min(times) <= 0:
        raise InputError("timeouts must be positive")
    limits = StreamLimits(
        connect_s=args.connect_timeout,
        first_byte_s=args.first_byte_timeout,
        stall_s=args.stall_timeout,
        total_s=args.timeout,
    )
    return BenchPlan(
        url=args.url,
        api=args.api,
        model=args.model,
        prompt_tokens=flat(args.n_prompt, 512),
        gen_tokens=flat(args.n_gen, 128),
        repetitions=args.repetitions,
        warmup=args.warmup,
        concurrency=concurrency,
        seed=args.seed,
        limits=limits,
        allow_remote=args.allow_remote,
    )


def run(args: argparse.Namespace) -> int:
    from envstamp.benchclient import session, stamp
    from envstamp.runner import make_runner
    from envstamp.stamping.timing import Recorder

    plan = plan_of(args)
    runner = make_runner(record=args.raw, replay=args.replay)
    prepared = session.prepare(plan, runner)
    if prepared.failure is not None:
        sys.stderr.write(f"envstamp bench: {prepared.failure}\n")
        return 2
    _say_server(prepared)
    manifest = stamp.bench_manifest(prepared, runner)
    rec = Recorder(
        args.output,
        manifest=manifest,
        key=args.key,
        durable=args.durable,
        state=not args.no_state,
        memory=False,  # the server's memory is not this process's
        advice=sys.stderr,
        runner=runner,
    )
    failed = 0
    levels: list[Level] = []
    try:
        for level in session.measure(prepared, runner):
            stamp.record_level(rec, prepared, level)
            failed += sum(1 for r in level.requests if not r.ok)
            levels.append(level)
            sys.stderr.write(_progress(level))
    finally:
        rec.close()
    sys.stdout.write(format_table(prepared, levels))
    sys.stderr.write(
        f"envstamp bench: {len(levels)} level(s) appended to {args.output}; "
        f"check with 'envstamp verify {args.output}'\n"
    )
    if failed:
        sys.stderr.write(f"envstamp bench: {failed} request(s) failed: recorded as failed\n")
        return 1
    return 0


def _say_server(prepared: Prepared) -> None:
    prov = prepared.provenance
    server = prov.server or "unrecognised server"
    version = f" {prov.version}" if prov.version else ""
    build = ""
    if prov.build is not None:
        number = f"b{prov.build.build_number} " if prov.build.build_number else ""
        build = f", llama.cpp {number}commit {prov.build.commit or '?'}"
    model = f", model {prov.model}" if prov.model else ""
    sys.stderr.write(f"envstamp bench: {server}{version}{build}{model}, api {prepared.api}\n")


def _progress(level: Level) -> str:
    ok = sum(1 for r in level.requests if r.ok)
    return (
        f"envstamp bench: {level.name} c{level.concurrency}: {ok}/{len(level.requests)} "
        f"requests in {level.wall_s:.2f} s\n"
    )


def _cell(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(prepared: Prepared, levels: list[Level]) -> str:
    """One line per level: client figures beside the server's (medians over requests)."""
    import statistics

    from envstamp.benchclient.figures import level_metrics, request_samples

    head = (
        "| test | c | ok | TTFT ms | server prompt ms | prompt t/s | server prompt t/s "
        "| gen t/s | server gen t/s | ITL p99 ms | req/s |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for level in levels:
        samples = request_samples(level.requests)
        metrics = level_metrics(level.requests, level.wall_s)

        def median(name: str, samples: dict[str, list[float]] = samples) -> float | None:
            values = samples.get(name)
            return statistics.median(values) if values else None

        ok = int(metrics["completed"])
        cells = [
            level.name,
            str(level.concurrency),
            f"{ok}/{len(level.requests)}",
            _cell(median("ttft_ms"), 2),
            _cell(median("server_prompt_ms"), 2),
            _cell(median("prompt_tps")),
            _cell(median("server_prompt_tps")),
            _cell(median("tokens_per_s")),
            _cell(median("server_tokens_per_s")),
            _cell(metrics.get("itl_p99_ms"), 2),
            _cell(metrics.get("request_throughput_per_s"), 2),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
