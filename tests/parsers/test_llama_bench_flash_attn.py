"""llama-bench's flash attention setting as each build printed it (real outputs).

Since flash attention became a three-way choice, llama-bench prints -1 for "auto" in csv,
json, jsonl and sql; an older build prints true/false.  "auto" is what ran, not unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from envstamp.manifest.serialize import structure, unstructure
from envstamp.parsers.llama_bench import BenchRow, parse_llama_bench

REAL = Path(__file__).parent.parent / "fixtures" / "llamacpp-real"


@pytest.mark.parametrize("output", ["bench.csv", "bench.json", "bench.jsonl", "bench.sql"])
@pytest.mark.parametrize(
    ("build", "flash_attn"), [("0.5.0-dev-0c1e57098", "auto"), ("b5308-8733e0cf6", False)]
)
def test_flash_attention_is_read_as_the_build_printed_it(
    build: str, flash_attn: object, output: str
) -> None:
    rows, _ = parse_llama_bench((REAL / build / output).read_text(encoding="utf-8"))
    assert [row.flash_attn for row in rows] == [flash_attn, flash_attn]


@pytest.mark.parametrize(
    ("printed", "read"),
    [("-1", "auto"), ("auto", "auto"), ("1", True), ("0", False), ("true", True), ("", None)],
)
def test_each_spelling_of_the_setting(printed: str, read: object) -> None:
    text = f"model_type,n_prompt,n_gen,avg_ts,flash_attn\nllama 7B Q4_0,512,0,100.5,{printed}\n"
    (row,), _ = parse_llama_bench(text)
    assert row.flash_attn == read


@pytest.mark.parametrize("value", ["auto", True, False, None])
def test_the_setting_survives_the_converter(value: object) -> None:
    row = BenchRow(test="pp512", flash_attn=value)  # type: ignore[arg-type]
    assert structure(unstructure(row), BenchRow).flash_attn == value
