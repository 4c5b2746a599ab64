"""llama-bench output: md (old and new columns), csv, json and jsonl."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.manifest.serialize import structure, unstructure
from envstamp.parsers.kinds import parse, parse_to_data
from envstamp.parsers.llama_bench import BenchRow, bench_test_name, normalise_test

BENCH = Path(__file__).parents[1] / "fixtures" / "llamacpp" / "bench"


def bench(name: str) -> tuple[list[BenchRow], list[Any]]:
    sections = parse("llama-bench", (BENCH / name).read_text(encoding="utf-8"))
    return sections["results"], sections.get("llamacpp", [])


def columns(row: BenchRow, *names: str) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


# ----------------------------------------------------------------------------- markdown


def test_old_markdown_with_spaced_test_names() -> None:
    rows, builds = bench("md-b1550-old-pp-space.md")
    assert [r.test for r in rows] == ["pp512", "tg128"]
    assert columns(rows[0], "n_prompt", "n_gen", "n_depth") == (512, 0, 0)
    assert columns(rows[1], "n_prompt", "n_gen", "n_depth") == (0, 128, 0)
    assert columns(rows[0], "avg_ts", "stddev_ts") == (2436.09, 26.68)
    assert rows[0].model_type == "llama 7B mostly Q4_0"
    assert rows[0].model_size == round(3.56 * 1024**3)
    assert rows[0].n_params == 6_740_000_000
    assert columns(rows[0], "backend", "n_gpu_layers") == ("CUDA", 99)
    assert [(b.commit, b.build_number, b.backends) for b in builds] == [
        ("8e672ef", 1550, ["CUDA"])
    ]
    assert all((r.build_commit, r.build_number) == ("8e672ef", 1550) for r in rows)


def test_markdown_depth_tests_flash_attention_and_two_backends() -> None:
    rows, builds = bench("md-b5700-metal-depth-fa.md")
    assert [r.test for r in rows] == ["pp512", "tg128", "pp512 @ d4096", "tg128 @ d4096"]
    assert columns(rows[2], "n_prompt", "n_gen", "n_depth") == (512, 0, 4096)
    assert columns(rows[3], "n_prompt", "n_gen", "n_depth") == (0, 128, 4096)
    assert columns(rows[0], "n_threads", "flash_attn", "backend") == (12, True, "Metal,BLAS")
    assert rows[0].n_gpu_layers is None  # not printed: unknown, not zero
    assert builds[0].backends == ["Metal", "BLAS"]
    assert (builds[0].commit, builds[0].build_number) == ("3f4fc97f", 5700)


def test_markdown_with_log_noise_mib_sizes_and_combined_test() -> None:
    rows, builds = bench("md-b4000-cpu-noise-pg.md")
    assert [r.test for r in rows] == ["pp512", "pp512+tg128"]
    assert columns(rows[1], "n_prompt", "n_gen") == (512, 128)
    assert rows[0].model_size == round(373.71 * 1024**2)
    assert rows[0].n_params == 494_030_000
    assert columns(rows[0], "type_k", "type_v", "n_threads") == ("q8_0", "q8_0", 8)
    assert builds[0].backends == ["CPU"]


def test_markdown_rocm_rows_and_device_lines_before_the_table() -> None:
    rows, builds = bench("md-b5100-rocm-2gpu-row.md")
    assert columns(rows[0], "split_mode", "use_mmap", "n_ubatch") == ("row", False, 1024)
    assert rows[0].backend == "ROCm"  # as llama-bench printed it
    (build,) = builds
    assert build.backends == ["HIP"]  # the vocabulary's name
    assert [(d.name, d.architecture) for d in build.devices] == [
        ("AMD Radeon PRO W7900", "gfx1100")
    ] * 2


def test_markdown_unknown_columns_go_to_extra() -> None:
    text = (
        "| model | size | params | backend | ngl | n_cpu_moe | dev | test | t/s |\n"
        "| --- | ---: | ---: | --- | --: | --: | --- | --: | --: |\n"
        "| gpt-oss 20B MXFP4 MoE | 11.27 GiB | 20.91 B | CUDA | 99 | 4 | CUDA0 | tg128 "
        "| 88.1 ± 0.4 |\n"
    )
    (row,) = parse("llama-bench", text)["results"]
    assert row.extra == {"n_cpu_moe": 4, "devices": "CUDA0"}
    assert row.test == "tg128" and row.avg_ts == 88.1
    assert "llamacpp" not in parse("llama-bench", text)  # no build line, no devices


# ---------------------------------------------------------------------------- csv / json


def test_old_csv_columns_give_the_backend_from_flags() -> None:
    rows, builds = bench("csv-b1600-old-columns.csv")
    assert [r.test for r in rows] == ["pp512", "tg128"]
    assert rows[0].backend == "CUDA"
    assert rows[0].extra["mul_mat_q"] == 1 and rows[0].extra["f16_kv"] == 1
    sizes = columns(rows[0], "model_size", "n_params", "avg_ns")
    assert sizes == (5131409408, 7241732096, 264121850)
    assert (builds[0].commit, builds[0].build_number) == ("5b7b0ac", 1600)


def test_csv_quoted_numbers_become_numbers_and_depth_names_the_test() -> None:
    rows, builds = bench("csv-b5800-vulkan-depth.csv")
    assert [r.test for r in rows] == ["pp512", "pp512 @ d8192", "tg128 @ d8192"]
    assert columns(rows[1], "avg_ts", "stddev_ts", "n_depth") == (225.091347, 0.89361, 8192)
    flags = columns(rows[0], "flash_attn", "cpu_strict", "poll", "cpu_mask")
    assert flags == (True, False, 50, "0x0")
    assert rows[0].extra == {"tensor_buft_overrides": "none", "defrag_thold": -1.0}
    assert rows[0].model_filename == "/models/gemma-3-4b-it-Q4_K_M.gguf"
    assert builds[0].backends == ["Vulkan"]


def test_json_with_noise_samples_and_devices() -> None:
    rows, builds = bench("json-b6000-cuda-noise.json")
    assert [r.test for r in rows] == ["pp512", "tg128"]
    assert rows[0].samples_ts == [12224.9, 12215.8, 12015.4, 12196.3, 12146.4]
    assert rows[0].samples_ns is not None and len(rows[0].samples_ns) == 5
    assert rows[1].build_commit == "9a96389544" and rows[1].build_number == 6000
    assert rows[0].extra == {"devices": "auto", "tensor_buft_overrides": "none", "no_op_offload": 0}
    (build,) = builds
    assert [(d.name, d.compute_capability) for d in build.devices] == [
        ("NVIDIA GeForce RTX 5090", "12.0")
    ]


def test_jsonl() -> None:
    rows, builds = bench("jsonl-b5200-cpu.jsonl")
    assert [r.test for r in rows] == ["pp256", "tg64"]
    assert rows[0].gpu_info is None  # "" is unknown
    assert columns(rows[1], "avg_ts", "n_gpu_layers", "flash_attn") == (19.601637, 0, False)
    assert (builds[0].commit, builds[0].build_number) == ("0d5375d5", 5200)


def test_the_same_run_in_csv_json_and_jsonl_gives_the_same_rows() -> None:
    text = (BENCH / "json-b6000-cuda-noise.json").read_text()
    records = json.loads(text[text.index("\n[") + 1 :])
    flat = [{k: v for k, v in r.items() if not isinstance(v, list)} for r in records]
    keys = list(flat[0])
    csv_text = ",".join(keys) + "\n" + "\n".join(
        ",".join(f'"{_csv_value(r[k])}"' for k in keys) for r in flat
    )
    jsonl_text = "\n".join(json.dumps(r) for r in flat)
    from_csv = parse("llama-bench", csv_text)["results"]
    from_jsonl = parse("llama-bench", jsonl_text)["results"]
    assert from_csv == from_jsonl
    assert [r.test for r in from_csv] == ["pp512", "tg128"]


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def test_rows_round_trip_through_the_converter() -> None:
    rows, _ = bench("json-b6000-cuda-noise.json")
    data = unstructure(rows[0])
    assert structure(data, BenchRow) == rows[0]
    assert json.loads(json.dumps(data))["samples_ts"] == rows[0].samples_ts


# ------------------------------------------------------- real outputs of two real builds

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real"
BUILDS = ("0.5.0-dev-0c1e57098", "b5308-8733e0cf6")


def real(build: str, name: str) -> list[BenchRow]:
    rows: list[BenchRow] = parse("llama-bench", (REAL / build / name).read_text())["results"]
    return rows


def test_real_sql_output_is_read() -> None:
    rows = real("0.5.0-dev-0c1e57098", "bench.sql")
    assert [r.test for r in rows] == ["pp16", "tg8"]
    pp, tg = rows
    assert (pp.avg_ts, pp.stddev_ts, pp.avg_ns, pp.stddev_ns) == (
        64610.017569, 3923.130095, 248271, 15598
    )
    assert (tg.n_prompt, tg.n_gen, tg.avg_ts) == (0, 8, 14324.790779)
    assert (pp.model_size, pp.n_params, pp.model_type) == (300288, 149824, "llama ?B F16")
    assert pp.build_commit == "0c1e57098"
    assert pp.build_number is None  # printed 0: llama.cpp's no-git default, not a build
    assert pp.extra["load_mode"] == "auto" and pp.samples_ts is None
    old = real("b5308-8733e0cf6", "bench.sql")  # the older build's table is named "test"
    assert [(r.test, r.avg_ts) for r in old] == [("pp16", 55461.539551), ("tg8", 7090.317507)]
    assert old[0].build_commit is None and old[0].n_gpu_layers == 99


@pytest.mark.parametrize("build", BUILDS)
def test_markdown_sizes_carry_their_precision_and_hold_the_exact_values(build: str) -> None:
    """md prints "0.29 MiB" and "0.15 M"; json the exact 300288 bytes and 149824 params.
    Each rounded value lies within its own precision of the exact one."""
    md, exact = real(build, "bench.md")[0], real(build, "bench.json")[0]
    assert (md.model_size, md.n_params) == (304087, 150000)
    assert md.tolerance == {"model_size": 0.005 * 1024**2, "n_params": 0.005e6}
    assert (exact.model_size, exact.n_params, exact.tolerance) == (300288, 149824, {})
    for name in ("model_size", "n_params"):
        assert abs(getattr(md, name) - getattr(exact, name)) <= md.tolerance[name]


@pytest.mark.parametrize("build", BUILDS)
def test_markdown_omits_what_json_states_and_nothing_is_made_up(build: str) -> None:
    md, exact = real(build, "bench.md")[0], real(build, "bench.json")[0]
    assert exact.n_gpu_layers is not None and md.n_gpu_layers is None
    assert md.n_batch is None and exact.n_batch == 2048
    assert md.samples_ts is None and exact.samples_ts is not None and len(exact.samples_ts) == 3


@pytest.mark.parametrize("name", ["bench.csv", "bench.json", "bench.jsonl", "bench.sql"])
def test_every_real_format_gives_the_same_tests_and_settings(name: str) -> None:
    for build in BUILDS:
        rows = real(build, name)
        assert [r.test for r in rows] == ["pp16", "tg8"]
        assert [(r.n_threads, r.type_k, r.model_size) for r in rows] == [(2, "f16", 300288)] * 2


@settings(max_examples=300, deadline=None)
@given(
    exact=st.integers(min_value=1, max_value=10**13),
    unit=st.sampled_from([("MiB", 1024**2), ("GiB", 1024**3), ("KiB", 1024)]),
    decimals=st.integers(min_value=0, max_value=3),
)
def test_a_printed_size_is_within_its_tolerance_of_the_exact_one(
    exact: int, unit: tuple[str, int], decimals: int
) -> None:
    name, factor = unit
    text = f"{exact / factor:.{decimals}f} {name}"
    row = _md_one(size=text)
    assert row.model_size is not None
    assert abs(row.model_size - exact) <= row.tolerance["model_size"] + 1  # +1: rounding to int


@settings(max_examples=200, deadline=None)
@given(
    exact=st.integers(min_value=1, max_value=10**12),
    unit=st.sampled_from([("K", 10**3), ("M", 10**6), ("B", 10**9)]),
)
def test_a_printed_count_is_within_its_tolerance_of_the_exact_one(
    exact: int, unit: tuple[str, int]
) -> None:
    name, factor = unit
    row = _md_one(params=f"{exact / factor:.2f} {name}")
    assert row.n_params is not None
    assert abs(row.n_params - exact) <= row.tolerance["n_params"] + 1


def _md_one(size: str = "1.00 GiB", params: str = "1.00 B") -> BenchRow:
    text = (
        "| model | size | params | backend | test | t/s |\n"
        "| --- | ---: | ---: | --- | --: | --: |\n"
        f"| llama 1B F16 | {size} | {params} | CPU | pp16 | 100.0 ± 1.0 |\n"
    )
    (row,) = parse("llama-bench", text)["results"]
    return row


def test_an_exact_byte_count_has_no_tolerance_and_a_huge_one_is_unknown() -> None:
    assert _md_one(size="300288 B").tolerance.get("model_size") is None
    assert _md_one(size="300288 B").model_size == 300288
    huge = _md_one(size="9" * 300 + " TiB")
    assert huge.model_size is None and "model_size" not in huge.tolerance


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pp 512", "pp512"),
        ("tg 128", "tg128"),
        ("pp512", "pp512"),
        ("pp 512 + tg 128", "pp512+tg128"),
        ("pp512 @ d512", "pp512 @ d512"),
        ("tg128 @ d 4096", "tg128 @ d4096"),
        ("custom", "custom"),
        ("", None),
    ],
)
def test_normalise_test(raw: str, expected: str | None) -> None:
    assert normalise_test(raw) == expected


def test_bench_test_name_from_counts() -> None:
    assert bench_test_name(512, 0, 0) == "pp512"
    assert bench_test_name(0, 128, 512) == "tg128 @ d512"
    assert bench_test_name(0, 0, 0) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no results here\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "CREATE TABLE IF NOT EXISTS test (build_commit TEXT);\n",
        "[1, 2, 3]",
        "build: 8cf427ff (5163)\n",
    ],
)
def test_not_llama_bench_output_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse("llama-bench", text)


# Regression: any JSON array of objects was taken for -o json, and each object became an empty
# result row (amd-smi static --json's bare list did).
@pytest.mark.parametrize(
    "text",
    [(Path(__file__).parents[1] / "fixtures" / "amd" / "amd-smi-mi250x-bare-list.json")
     .read_text(encoding="utf-8"),
     '[{"model_format": "gguf", "name": "llama.cpp-cuda", "version": "1.52.1"}]',
     '[{"build_commit": "8cf427ff", "model_type": "llama 7B Q4_0"}]',
     '{"build_commit": "8cf427ff", "model_type": "llama 7B Q4_0"}\n'],
)
def test_json_objects_without_a_test_or_a_speed_are_not_results(text: str) -> None:
    with pytest.raises(ParseError):
        parse("llama-bench", text)


def test_a_bench_array_after_another_tools_array_is_read() -> None:
    """Log noise may hold a JSON array of its own; llama-bench's is the one of its records."""
    ours = (BENCH / "json-b6000-cuda-noise.json").read_text(encoding="utf-8")
    rows, _ = bench("json-b6000-cuda-noise.json")
    noisy = '[{"name": "device0", "memory": 24576}]\n' + ours
    assert parse("llama-bench", noisy)["results"] == rows and rows


PIECES = [
    "| model | size | params | backend | ngl | test | t/s |",
    "| --- | ---: | ---: | --- | --: | --: | --: |",
    "| llama 7B Q4_0 | 3.56 GiB | 6.74 B | CUDA | 99 | pp 512 | 1.0 ± 2 |",
    "| x | 1e999 GiB | 9e99 B | | | pp99999999999999999999 | nan ± inf |",
    "build_commit,build_number,n_prompt,n_gen,avg_ts",
    '"abc","12","512","0","1.5"',
    '{"n_prompt": 512, "n_gen": 0, "avg_ts": "x", "samples_ts": [1, "a"]}',
    '[{"n_prompt": -1, "n_gen": null, "n_depth": true}]',
    "build: 8cf427ff (5163)",
    "INSERT INTO test (n_prompt, n_gen, avg_ts) VALUES ('512', '0', '1.5');",
    "INSERT INTO llama_bench (n_prompt, avg_ts) VALUES ('it''s', 'x', '3');",
    "CREATE TABLE IF NOT EXISTS llama_bench (",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=60)), max_size=10))
def test_parser_raises_only_parse_error(lines: list[str]) -> None:
    try:
        sections = parse("llama-bench", "\n".join(lines))
    except ParseError:
        return
    assert all(isinstance(r, BenchRow) for r in sections["results"])
    json.dumps(parse_to_data("llama-bench", "\n".join(lines)), allow_nan=False)


def test_module_imports_cheaply() -> None:
    code = (
        "import sys, envstamp.parsers.llama_bench;"
        "print([m for m in ('csv', 'envstamp.parsers.llamacpp_log', 'cattrs') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
