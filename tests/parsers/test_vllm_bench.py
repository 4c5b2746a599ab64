"""``vllm bench serve`` result files (tests/fixtures/vllm: hand-made from vLLM 0.34.0's writer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.vllm_bench import parse_vllm_bench_result

VLLM = Path(__file__).parent.parent / "fixtures" / "vllm"


def test_a_saved_result_gives_its_settings_and_every_statistic() -> None:
    (run,) = parse_vllm_bench_result((VLLM / "bench-serve-0.34.0.json").read_text())
    assert run.settings == {
        "date": "20261206-080512",
        "endpoint_type": "openai-chat",
        "backend": "openai-chat",
        "label": None,
        "model_id": "Qwen/Qwen2.5-7B-Instruct",
        "tokenizer_id": "Qwen/Qwen2.5-7B-Instruct",
        "num_prompts": 200,
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": 8,
    }
    assert run.metrics["output_throughput"] == 614.57021
    assert run.metrics["request_throughput"] == 4.80133
    assert run.metrics["total_token_throughput"] == 3072.86
    for metric in ("ttft", "tpot", "itl"):
        assert {f"{s}_{metric}_ms" for s in ("mean", "median", "std", "p99")} <= set(run.metrics)
    assert run.metrics["p99_ttft_ms"] == 512.8841
    assert "request_goodput" not in run.metrics  # null: vLLM computed none, unknown
    assert (run.completed, run.failed, run.duration_s) == (198, 2, 41.23857)
    assert run.all_failed is False


def test_appended_runs_are_each_read_and_detailed_lists_left_out() -> None:
    runs = parse_vllm_bench_result((VLLM / "bench-serve-append-detailed.jsonl").read_text())
    assert [r.settings["max_concurrency"] for r in runs] == [1, 4]
    first, second = runs
    assert first.settings["gpu"] == "H100"  # --metadata gpu=H100
    assert {"p50_e2el_ms", "p90_e2el_ms", "p99_e2el_ms", "mean_e2el_ms"} <= set(first.metrics)
    assert not {"ttfts", "itls", "input_lens", "generated_texts", "errors"} & (
        set(first.metrics) | set(first.settings)
    )
    assert second.all_failed is True and second.completed == 0 and second.failed == 4


def test_a_later_vllm_metric_is_kept_under_its_own_name() -> None:
    saved = json.loads((VLLM / "bench-serve-0.34.0.json").read_text())
    (run,) = parse_vllm_bench_result(json.dumps({**saved, "mean_queue_time_ms": 3.5}))
    assert run.metrics["mean_queue_time_ms"] == 3.5


@pytest.mark.parametrize(
    "text",
    ["", "   ", "not json", "[1, 2]", '{"model_id": "m"}', '{"output_throughput": 1.0}',
     '{"model_id": "m", "output_throughput": 1.0} trailing'],
)  # fmt: skip
def test_what_is_not_a_result_is_refused(text: str) -> None:
    with pytest.raises(ParseError):
        parse_vllm_bench_result(text)


def test_unknown_counts_stay_unknown() -> None:
    (run,) = parse_vllm_bench_result('{"model_id": "m", "request_throughput": 1.0}')
    assert (run.completed, run.failed, run.duration_s, run.all_failed) == (None, None, None, False)
    (run,) = parse_vllm_bench_result('{"model_id": "m", "request_throughput": 0.0, "failed": 3}')
    assert run.all_failed is True  # nothing says a request completed, and some failed


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.builds(json.dumps, st.dictionaries(st.text(max_size=8),
       st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
       max_size=6)))  # fmt: skip
def test_any_text_parses_or_is_refused_with_a_parse_error(text: str) -> None:
    try:
        runs = parse_vllm_bench_result(text)
    except ParseError:
        return
    assert runs and all(v == v for r in runs for v in r.metrics.values())  # no NaN kept
