"""``vllm bench serve --save-result`` files: one JSON object per benchmark run.

vLLM writes the run's settings (backend, model, request rate, concurrency...), its outcome
(completed, failed, duration, token counts) and its statistics: request, output and total
token throughput and, per latency metric (TTFT, TPOT, ITL, E2EL), ``mean_``, ``median_``,
``std_`` and ``p<N>_`` in milliseconds (which percentiles depends on ``--metric-percentiles``).
``--append-result`` puts several objects in one file, one per line.  ``--save-detailed`` adds
per-request lists (input_lens, ttfts, itls, generated_texts...), which are not kept: they
hold the generated text and would make one result of thousands of numbers.

Parsed by structure: every finite number that is not a setting is a metric under vLLM's own
name, so a metric a later vLLM adds is kept without a change here."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping

import attrs

from envstamp.errors import ParseError

# What describes the run rather than measures it (vLLM's names).
SETTINGS = frozenset(
    {"date", "endpoint_type", "backend", "label", "model_id", "tokenizer_id", "num_prompts",
     "request_rate", "burstiness", "max_concurrency", "ramp_up_strategy", "ramp_up_start_rps",
     "ramp_up_end_rps"}
)  # fmt: skip
# Per-request lists of --save-detailed, and other non-scalar members: not kept.
DETAILED = frozenset(
    {"input_lens", "output_lens", "start_times", "ttfts", "itls", "generated_texts", "errors",
     "server_queue_times", "server_ttfts", "rps_change_events",
     "spec_decode_per_position_acceptance_rates"}
)  # fmt: skip
# Settings that are free text a user chose (--metadata KEY=VALUE adds more of them).
_TEXT_SETTINGS = frozenset({"date", "endpoint_type", "backend", "label", "model_id",
                            "tokenizer_id", "ramp_up_strategy"})  # fmt: skip


@attrs.frozen
class VllmBenchRun:
    """One ``vllm bench serve`` run as its result file holds it."""

    settings: dict[str, str | int | float | bool | None]
    metrics: dict[str, float]
    completed: int | None
    failed: int | None
    duration_s: float | None

    @property
    def all_failed(self) -> bool:
        """No request completed: its throughputs and latencies are not speeds."""
        return self.completed == 0 or (self.completed is None and bool(self.failed))


def parse_vllm_bench_result(text: str) -> list[VllmBenchRun]:
    """Every run of a result file (one JSON object, or one per line with --append-result)."""
    runs = [_run(obj) for obj in _objects(text)]
    if not runs:
        raise ParseError("no vllm bench serve result in the text")
    return runs


def _objects(text: str) -> Iterator[Mapping[str, object]]:
    decoder = json.JSONDecoder()
    position, end = 0, len(text)
    while position < end:
        while position < end and text[position].isspace():
            position += 1
        if position >= end:
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ParseError(f"not a vllm bench result file: {exc.msg} at {exc.pos}") from None
        if not isinstance(value, dict) or not _looks_like_a_run(value):
            raise ParseError("a JSON value that is not a vllm bench serve result")
        yield value


def _looks_like_a_run(value: Mapping[str, object]) -> bool:
    """vLLM's result names its model and reports throughput; nothing else is read as one."""
    return "model_id" in value and any(k.endswith("_throughput") for k in value)


def _run(obj: Mapping[str, object]) -> VllmBenchRun:
    settings: dict[str, str | int | float | bool | None] = {}
    metrics: dict[str, float] = {}
    for key, value in obj.items():
        if key in DETAILED or isinstance(value, (list, dict)):
            continue
        if key in SETTINGS or key in _TEXT_SETTINGS or isinstance(value, str):
            settings[key] = _setting(value)
        elif value is None:
            continue  # a metric vLLM did not compute (goodput without --goodput): unknown
        elif isinstance(value, bool):
            settings[key] = value
        elif isinstance(value, (int, float)) and math.isfinite(value):
            metrics[key] = float(value)
        else:  # NaN or an infinity: vLLM's "inf" request rate is text; other ones unknown
            settings[key] = None
    return VllmBenchRun(
        settings=settings,
        metrics=metrics,
        completed=_count(obj.get("completed")),
        failed=_count(obj.get("failed")),
        duration_s=metrics.get("duration"),
    )


def _setting(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if math.isfinite(value) and value >= 0 else None
