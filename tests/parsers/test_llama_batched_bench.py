"""llama-batched-bench parser: the printed table and jsonl, rendered the way the tool's C++
prints them (``tools/batched-bench/batched-bench.cpp``), read back.  Real outputs of two builds
are checked value by value in tests/parsers/test_llamacpp_real.py."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.llama_batched_bench import BatchedBench, half_unit, parse_batched_bench

# The C printf formats, as batched-bench.cpp writes them (hence % formatting).
HEADER = (
    "|%6s | %6s | %4s | %6s | %8s | %8s | %8s | %8s | %8s | %8s |"  # noqa: UP031
    % ("PP", "TG", "B", "N_KV", "T_PP s", "S_PP t/s", "T_TG s", "S_TG t/s", "T s", "S t/s")
)
RULE = "|%6s-|-%6s-|-%4s-|-%6s-|-%8s-|-%8s-|-%8s-|-%8s-|-%8s-|-%8s-|" % (  # noqa: UP031
    "------", "------", "----", "------", "--------", "--------", "--------", "--------",
    "--------", "--------",
)

counts = st.integers(min_value=1, max_value=4096)
seconds = st.floats(min_value=0.001, max_value=1000, allow_nan=False)


@st.composite
def rows(draw: st.DrawFn) -> dict[str, float | int]:
    pp, tg, pl = draw(counts), draw(counts), draw(st.integers(1, 64))
    t_pp, t_tg = draw(seconds), draw(seconds)
    return {
        "pp": pp, "tg": tg, "pl": pl, "n_kv": (pp + tg) * pl,
        "t_pp": t_pp, "speed_pp": pl * pp / t_pp, "t_tg": t_tg, "speed_tg": pl * tg / t_tg,
        "t": t_pp + t_tg, "speed": (pl * (pp + tg)) / (t_pp + t_tg),
    }


def table_line(row: dict[str, float | int]) -> str:
    return "|%6d | %6d | %4d | %6d | %8.3f | %8.2f | %8.3f | %8.2f | %8.3f | %8.2f |" % (  # noqa: UP031
        row["pp"], row["tg"], row["pl"], row["n_kv"], row["t_pp"], row["speed_pp"],
        row["t_tg"], row["speed_tg"], row["t"], row["speed"],
    )


SETTINGS_LINE = (
    "main: n_kv_max = 2048, n_batch = 2048, n_ubatch = 512, flash_attn = 1, is_pp_shared = 1, "
    "n_gpu_layers = 99, n_threads = 8, n_threads_batch = 8"
)


@settings(max_examples=100, deadline=None)
@given(st.lists(rows(), min_size=1, max_size=6), st.booleans())
def test_table_reads_back_to_its_printed_precision(
    printed: list[dict[str, float | int]], noise: bool
) -> None:
    lines = ["", SETTINGS_LINE, "", HEADER, RULE, *map(table_line, printed), ""]
    if noise:  # log lines around it, as with 2>&1
        lines = ["llama_model_loader: - kv 0: general.architecture str = llama", *lines,
                 "llama_perf_context_print: total time = 12.00 ms / 20 tokens"]
    bench = parse_batched_bench("\n".join(lines))
    assert len(bench.rows) == len(printed)
    for got, row in zip(bench.rows, printed, strict=True):
        assert (got.pp, got.tg, got.pl, got.n_kv) == (row["pp"], row["tg"], row["pl"],
                                                      row["n_kv"])
        assert got.t_pp == pytest.approx(row["t_pp"], abs=0.0005 + 1e-9)
        assert got.tolerance["t_pp"] == pytest.approx(0.0005)
        if f"{row['speed_tg']:.2f}" == "0.00":  # printed as zero: unknown, no precision
            assert got.speed_tg is None and "speed_tg" not in got.tolerance
        else:
            assert got.speed_tg == pytest.approx(row["speed_tg"], abs=0.005 + 1e-6)
            assert got.tolerance["speed_tg"] == pytest.approx(0.005)
    assert bench.settings["flash_attn"] == 1 and bench.settings["is_pp_shared"] is True


@settings(max_examples=100, deadline=None)
@given(st.lists(rows(), min_size=1, max_size=6))
def test_jsonl_reads_back_exactly(printed: list[dict[str, float | int]]) -> None:
    common = {"n_kv_max": 4096, "n_batch": 2048, "n_ubatch": 512, "flash_attn": 0,
              "is_pp_shared": 0, "n_gpu_layers": -1, "n_threads": 4, "n_threads_batch": 4}
    text = "\n".join(json.dumps({**common, **row}) for row in printed)
    bench = parse_batched_bench(text)
    assert [r.speed for r in bench.rows] == [row["speed"] for row in printed]
    assert bench.settings["is_pp_shared"] is False and bench.settings["n_gpu_layers"] == -1


def test_columns_are_found_by_their_header_and_inf_is_unknown() -> None:
    text = "\n".join([
        "|    TG |     PP |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |",
        "|-------|--------|------|--------|----------|----------|----------|----------|",
        "|     8 |    128 |    1 |    136 |    0.000 |      inf |    0.010 |   800.00 |",
    ])
    (row,) = parse_batched_bench(text).rows
    assert (row.pp, row.tg, row.speed_pp, row.speed_tg, row.t, row.speed) == (
        128, 8, None, 800.0, None, None
    )


def test_settings_keys_are_kept_as_printed_even_new_ones() -> None:
    text = SETTINGS_LINE + ", is_tg_separate = 1, split = layer\n" + HEADER + "\n" + RULE + (
        "\n|   128 |     32 |    1 |    160 |    0.001 | 88093.60 |    0.004 |  8602.15 |"
        "    0.005 | 30929.83 |"
    )
    bench = parse_batched_bench(text)
    assert bench.settings["is_tg_separate"] is True and bench.settings["split"] == "layer"


@pytest.mark.parametrize(
    "text",
    ["", "hello\n", SETTINGS_LINE, HEADER + "\n" + RULE + "\n", '{"pp": 1}\n', "| a | b |\n"],
)
def test_no_row_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_batched_bench(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=60), st.sampled_from(
    [HEADER, RULE, SETTINGS_LINE, '{"pp": 1, "tg": 2, "pl": 1, "n_kv": 3, "t": "x"}',
     "|     1 |      2 |    3 |      4 | nan | 1 | 2 | 3 | 4 | 5 |"])), max_size=10))
def test_any_text_gives_rows_or_a_parse_error(lines: list[str]) -> None:
    try:
        bench = parse_batched_bench("\n".join(lines))
    except ParseError:
        return
    assert isinstance(bench, BatchedBench) and bench.rows


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=1e7, allow_nan=False), st.integers(0, 8))
def test_a_printed_number_keeps_half_its_last_unit(value: float, decimals: int) -> None:
    printed = f"{value:.{decimals}f}"
    assert half_unit(printed) == pytest.approx(0.5 * 10.0**-decimals)
    assert abs(float(printed) - value) <= half_unit(printed) * (1 + 1e-9) + 1e-9 * value


def test_half_unit_reads_exponents_and_refuses_words() -> None:
    assert half_unit("1.5e-3") == pytest.approx(0.00005)
    assert half_unit("12") == 0.5
    assert half_unit("inf") is None


# A real jsonl row (tests/fixtures/llamacpp-real/0.5.0-dev-0c1e57098/batched-bench-wide.jsonl,
# the first) with its prompt speed and time changed by hand to what C's printf writes for a
# phase the microsecond clock read as 0: "0.000000" and "inf" (no such run was recorded).
JSONL_INF = (
    '{"n_kv_max": 4096, "n_batch": 512, "n_ubatch": 256, "flash_attn": -1, "is_pp_shared": 0, '
    '"n_gpu_layers": -1, "n_threads": 2, "n_threads_batch": 2, "pp": 8, "tg": 4, "pl": 1, '
    '"n_kv": 12, "t_pp": 0.000000, "speed_pp": inf, "t_tg": 0.000351, "speed_tg": 11396.011719, '
    '"t": 0.000931, "speed": 12889.366211}'
)


def test_a_jsonl_row_with_an_infinite_speed_keeps_its_other_values() -> None:
    (row,) = parse_batched_bench(JSONL_INF).rows
    assert (row.t_pp, row.speed_pp) == (None, None)
    assert (row.t_tg, row.speed_tg, row.speed) == (0.000351, 11396.011719, 12889.366211)
    assert set(row.tolerance) == {"t_tg", "speed_tg", "t", "speed"}
    for spelling in ("-inf", "nan", "-nan"):
        (row,) = parse_batched_bench(JSONL_INF.replace(": inf,", f": {spelling},")).rows
        assert row.speed_pp is None and row.speed_tg == 11396.011719
