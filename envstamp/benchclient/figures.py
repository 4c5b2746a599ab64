"""Per-request figures and per-level statistics.  Pure.

Per request, by the client's clock (seconds since the request was sent):

* ``ttft_ms`` - time to the first event that carried generated tokens;
* ``e2el_ms`` - time to the end of the answer;
* ``itl_ms`` - the gaps between successive token events (inter-token latency);
* ``tpot_ms`` - time per output token after the first: (last - first token event) / (n - 1),
  with n the generated tokens (the server's count where it gives one);
* ``prompt_tps`` - prompt tokens / TTFT (the prompt count is the server's where it reports
  one, else the tokens asked for);
* ``tokens_per_s`` - generated tokens after the first / (last - first token event).

The server's own figures stand beside them (``server_*``).  Per concurrency level, the
quantities ``vllm bench serve`` reports: request and token throughput over the level's
wall time, and mean, median and p99 of TTFT, TPOT and ITL (ITL over every gap of every
request).  Percentiles interpolate linearly between order statistics (numpy's default).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence

import attrs

from envstamp.benchclient.apis import ServerFigures, StreamReading


@attrs.define
class RequestFigures:
    """One request's figures; failed requests carry ``failure`` and no speeds."""

    failure: str | None = None
    detail: str | None = None
    ttft_ms: float | None = None
    e2el_ms: float | None = None
    tpot_ms: float | None = None
    itl_ms: list[float] = attrs.field(factory=list)
    prompt_tokens: int | None = None
    gen_tokens: int | None = None
    prompt_tps: float | None = None
    tokens_per_s: float | None = None
    server: ServerFigures | None = None
    started_s: float = 0.0
    """When the request was sent, seconds after its level began (concurrency runs)."""

    @property
    def ok(self) -> bool:
        """The request completed with a well-formed answer."""
        return self.failure is None


def request_figures(
    reading: StreamReading,
    *,
    total_s: float | None,
    prompt_tokens_asked: int,
) -> RequestFigures:
    """Figures of one well-formed answer."""
    times = reading.token_times
    server = reading.figures
    figures = RequestFigures(server=server)
    figures.e2el_ms = None if total_s is None else total_s * 1000.0
    counted_gen = server.predicted_n if server is not None else None
    figures.gen_tokens = counted_gen if counted_gen is not None else len(times)
    counted_prompt = None
    if server is not None and server.prompt_n is not None:
        counted_prompt = server.prompt_n + (server.cached_n or 0)
    figures.prompt_tokens = counted_prompt if counted_prompt is not None else prompt_tokens_asked
    if not times:
        return figures
    first, last = times[0], times[-1]
    figures.ttft_ms = first * 1000.0
    figures.itl_ms = [(b - a) * 1000.0 for a, b in itertools.pairwise(times)]
    if first > 0 and figures.prompt_tokens:
        figures.prompt_tps = figures.prompt_tokens / first
    after_first = (figures.gen_tokens or 0) - 1
    if after_first > 0 and last > first:
        figures.tpot_ms = (last - first) * 1000.0 / after_first
        figures.tokens_per_s = after_first / (last - first)
    return figures


def failed_request(failure: str, detail: str | None) -> RequestFigures:
    """A request that did not complete: how it failed, and no figures."""
    return RequestFigures(failure=failure, detail=detail)


# ---------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The ``pct`` percentile, linear between order statistics; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _spread(name: str, values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    p99 = percentile(values, 99.0)
    assert p99 is not None
    return {
        f"{name}_mean_ms": statistics.fmean(values),
        f"{name}_median_ms": statistics.median(values),
        f"{name}_p99_ms": p99,
    }


def level_metrics(requests: Sequence[RequestFigures], wall_s: float) -> dict[str, float]:
    """A concurrency level's throughput and latency statistics (completed requests only)."""
    done = [r for r in requests if r.ok]
    metrics: dict[str, float] = {
        "completed": float(len(done)),
        "failed_requests": float(len(requests) - len(done)),
    }
    if wall_s > 0 and done:
        output = sum(r.gen_tokens or 0 for r in done)
        prompt = sum(r.prompt_tokens or 0 for r in done)
        metrics["request_throughput_per_s"] = len(done) / wall_s
        metrics["output_throughput_tps"] = output / wall_s
        metrics["total_token_throughput_tps"] = (output + prompt) / wall_s
    metrics |= _spread("ttft", [r.ttft_ms for r in done if r.ttft_ms is not None])
    metrics |= _spread("tpot", [r.tpot_ms for r in done if r.tpot_ms is not None])
    metrics |= _spread("itl", [gap for r in done for gap in r.itl_ms])
    metrics |= _spread("e2el", [r.e2el_ms for r in done if r.e2el_ms is not None])
    return metrics


# Per-request series kept as a result's samples: (metric name, how to read it).
def request_samples(requests: Sequence[RequestFigures]) -> dict[str, list[float]]:
    """Each completed request's figures as sample series, in request order.

    A request that lacks a figure adds nothing to its series (its summary's ``n`` says how
    many had it): a completed answer whose text never reached the client as an event (a
    random-weight model's tokens that never complete a UTF-8 character) has no TTFT, and
    that must not hide the other requests' TTFTs."""
    done = [r for r in requests if r.ok]
    series: dict[str, list[float | None]] = {
        "ttft_ms": [r.ttft_ms for r in done],
        "tpot_ms": [r.tpot_ms for r in done],
        "e2el_ms": [r.e2el_ms for r in done],
        "prompt_tps": [r.prompt_tps for r in done],
        "tokens_per_s": [r.tokens_per_s for r in done],
        "prompt_tokens": [_float(r.prompt_tokens) for r in done],
        "gen_tokens": [_float(r.gen_tokens) for r in done],
        "itl_mean_ms": [statistics.fmean(r.itl_ms) if r.itl_ms else None for r in done],
        "server_prompt_ms": [_server(r, "prompt_ms") for r in done],
        "server_prompt_tps": [_server(r, "prompt_tps") for r in done],
        "server_gen_ms": [_server(r, "predicted_ms") for r in done],
        "server_tokens_per_s": [_server(r, "gen_tps") for r in done],
        "server_ttft_ms": [_server(r, "ttft_ms") for r in done],
        "server_load_ms": [_server(r, "load_ms") for r in done],
    }
    kept = {name: [v for v in values if v is not None] for name, values in series.items()}
    return {name: values for name, values in kept.items() if values}


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)


def _server(request: RequestFigures, name: str) -> float | None:
    if request.server is None:
        return None
    value = getattr(request.server, name)
    return None if value is None else float(value)
