"""A bench's manifest (this machine plus what served it) and its stamped results.

Each test at each concurrency level is one result (``origin`` ``bench:server``; ``bench``
alone is ``Recorder.bench``'s) named like llama-bench's tests (``pp512+tg128``), with
parameters that say how it was asked (server, API, model, prompt and generation tokens,
concurrency, seed, temperature) and never where (the URL is in the manifest's
``bench_server`` probe record):

* ``wall_s``: each completed request's end-to-end time;
* ``metric_samples``: each completed request's client figures (``ttft_ms``, ``tpot_ms``,
  ``e2el_ms``, ``prompt_tps``, ``tokens_per_s``, ``itl_mean_ms``, token counts) and the
  server's own beside them (``server_prompt_ms``, ``server_prompt_tps``,
  ``server_gen_ms``, ``server_tokens_per_s``, ``server_ttft_ms``, ``server_load_ms``) where
  every request has them; ``metrics`` their means;
* ``metrics`` also the level's throughput and latency statistics (``figures.level_metrics``).

A request that failed is a result of its own, ``failed``, with ``failure`` (how) and
``error`` (the detail) as parameters: kept for the record, never read as a speed.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from envstamp.benchclient import figures, provenance
from envstamp.benchclient.apis import LLAMA_SERVERS
from envstamp.runner.streaming import is_loopback_host

if TYPE_CHECKING:
    from envstamp.benchclient.session import Level, Prepared
    from envstamp.manifest.model import Manifest
    from envstamp.probes.context import CaptureOptions
    from envstamp.runner.base import Runner
    from envstamp.stamping.results import Result
    from envstamp.stamping.timing import Recorder

# How these results were recorded (Result.origin): as "run:server" names results read from a
# llama-server log, this names results measured against a server by envstamp bench.
ORIGIN = "bench:server"


def capture_options(prepared: Prepared, runner: Runner, models: tuple[str, ...] = ()) -> (
    CaptureOptions
):
    """What to capture besides the machine: the model file of a local llama-server (so that
    its sha256 and GGUF header are fingerprinted) and the models the user named."""
    from envstamp.probes.context import CaptureOptions

    named = list(models)
    path = prepared.provenance.model_path
    host = urlsplit(prepared.plan.url).hostname or ""
    if path and is_loopback_host(host):
        if runner.stat(path).is_regular:
            named.append(path)
        else:
            prepared.provenance.notes.append(
                "the server's model file is not readable here: not fingerprinted"
            )
    # An Ollama model is not named to the capture: its probe asks the server at OLLAMA_HOST,
    # which need not be the one benchmarked; provenance.apply adds what this one said.
    return CaptureOptions(models=tuple(dict.fromkeys(named)))


def bench_manifest(
    prepared: Prepared,
    runner: Runner,
    *,
    manifest: Manifest | None = None,
    options: CaptureOptions | None = None,
) -> Manifest:
    """This machine's manifest (captured now unless given) with what served the bench."""
    if manifest is None:
        from envstamp.capturing.capture import capture

        manifest = capture(options or capture_options(prepared, runner), runner=runner)
    return provenance.apply(manifest, prepared.provenance)


def level_params(prepared: Prepared, level: Level) -> dict[str, Any]:
    """How a level was asked: the parameters that make two results comparable."""
    return {
        "model": model_label(prepared),
        "server": prepared.provenance.server,
        "api": prepared.api,
        "n_prompt": level.n_prompt,
        "n_gen": level.n_gen,
        "concurrency": level.concurrency,
        "repetitions": prepared.plan.repetitions,
        "seed": prepared.plan.seed,
        "temperature": 0,
    }


def model_label(prepared: Prepared) -> str | None:
    """The model as a parameter: its name, never a path of this machine (a llama.cpp server
    names its model by the path it was given: the file's name is kept, as llama-bench's
    results keep it; the path is in the manifest)."""
    model = prepared.provenance.model
    if model is None or prepared.provenance.server not in LLAMA_SERVERS:
        return model
    return model.replace("\\", "/").rsplit("/", 1)[-1] or model


def record_level(rec: Recorder, prepared: Prepared, level: Level) -> list[Result]:
    """The level's stamped results: one for its completed requests, one per failed one."""
    params = level_params(prepared, level)
    results: list[Result] = []
    done = [r for r in level.requests if r.ok]
    if done:
        samples = figures.request_samples(level.requests)
        metrics = {name: statistics.fmean(values) for name, values in samples.items()}
        metrics |= figures.level_metrics(level.requests, level.wall_s)
        walls = [r.e2el_ms / 1000.0 for r in done if r.e2el_ms is not None]
        results.append(
            rec.record(
                level.name,
                metrics=metrics,
                params=params,
                wall_s=walls if len(walls) == len(done) else None,
                metric_samples=samples,
                origin=ORIGIN,
            )
        )
    for request in level.requests:
        if request.ok:
            continue
        failed = {**params, "failure": request.failure, "error": request.detail}
        results.append(rec.record(level.name, params=failed, origin=ORIGIN, failed=True))
    return results
