"""Properties of the export's pieces: any rows read back from each format as written; which
build and model a result ran is told by path, folder, name or uniqueness, never guessed."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.exporting import llama_bench, writers
from envstamp.exporting.table import (
    LIST_SEPARATOR,
    Row,
    build_that_ran,
    columns_of,
    model_that_ran,
    signature_state,
    value_columns,
)
from envstamp.manifest.model import LlamaCppBuild, LlamaDevice, ModelFile
from envstamp.stamping.results import Result, Summary
from tests.timing_support import make_manifest

DIGEST = "sha256:" + "ab" * 32
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=12)  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=20),
)
rows_strategy = st.lists(st.dictionaries(names, scalars, max_size=6), min_size=1, max_size=8)


def _result(**fields: object) -> Result:
    return Result(manifest_digest=DIGEST, name="t", **fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ writers


@settings(max_examples=40, deadline=None)
@given(rows=rows_strategy)
def test_jsonl_reads_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, rows: list[Row]
) -> None:
    path = tmp_path_factory.mktemp("j") / "x.jsonl"
    columns = columns_of(rows)
    assert writers.write_jsonl(path, rows, columns) == len(rows)
    back = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert back == [{c: row.get(c) for c in columns} for row in rows]


@settings(max_examples=40, deadline=None)
@given(rows=rows_strategy)
def test_csv_reads_back_as_text(tmp_path_factory: pytest.TempPathFactory, rows: list[Row]) -> None:
    path = tmp_path_factory.mktemp("c") / "x.csv"
    columns = columns_of(rows)
    writers.write_csv(path, rows, columns)
    with path.open(newline="", encoding="utf-8") as handle:
        back = list(csv.reader(handle))
    assert back[0] == columns and len(back) == len(rows) + 1
    for row, read in zip(rows, back[1:], strict=True):
        for column, cell in zip(columns, read, strict=True):
            value = row.get(column)
            if value is None:
                assert cell == ""
            elif isinstance(value, bool):
                assert cell == ("true" if value else "false")
            elif isinstance(value, float):
                assert float(cell) == value
            else:  # NUL: see test_a_nul_character_is_replaced_in_csv
                assert cell == str(value).replace("\x00", "\ufffd") or cell == str(value)


def test_a_nul_character_is_replaced_in_csv(tmp_path: Path) -> None:
    """Python 3.10's csv refuses NUL (3.11+ writes it quoted): the cell reads U+FFFD there."""
    path = tmp_path / "x.csv"
    assert writers.write_csv(path, [{"a\x00": "x\x00y"}], ["a\x00"]) == 1
    with path.open(newline="", encoding="utf-8") as handle:
        (header, (cell,)) = list(csv.reader(handle))
    assert cell in {"x\ufffdy", "x\x00y"} and header[0] in {"a\ufffd", "a\x00"}


@settings(max_examples=40, deadline=None)
@given(rows=rows_strategy)
def test_sqlite_reads_back_in_the_narrowest_type(
    tmp_path_factory: pytest.TempPathFactory, rows: list[Row]
) -> None:
    path = tmp_path_factory.mktemp("s") / "x.sqlite"
    columns = columns_of(rows)
    writers.write_sqlite(path, rows, columns)
    connection = sqlite3.connect(path)
    try:
        back = connection.execute("SELECT * FROM results").fetchall()
        types = [r[2] for r in connection.execute("PRAGMA table_info(results)")]
    finally:
        connection.close()
    assert len(back) == len(rows)
    for row, read in zip(rows, back, strict=True):
        for column, sql_type, cell in zip(columns, types, read, strict=True):
            value = row.get(column)
            expected = int(value) if isinstance(value, bool) else value
            if sql_type == "TEXT" and value is not None:  # a mixed column: all of it text
                assert cell == ("true" if value is True else "false" if value is False
                                else str(value))  # fmt: skip
            elif isinstance(expected, float) and sql_type == "REAL":
                assert cell == expected
            elif sql_type == "REAL" and isinstance(expected, int):
                assert cell == float(expected)
            else:
                assert cell == expected


def test_columns_that_differ_only_in_case_stay_apart_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    writers.write_sqlite(
        path, [{"param.Model": "a", "param.model": "b"}], ["param.Model", "param.model"]
    )
    connection = sqlite3.connect(path)
    names = [r[1] for r in connection.execute("PRAGMA table_info(results)")]
    row = connection.execute("SELECT * FROM results").fetchone()
    connection.close()
    assert names == ["param.Model", "param.model~2"] and row == ("a", "b")


def test_a_column_mixing_numbers_and_text_is_text(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    rows: list[Row] = [{"a": 1, "b": 1, "c": True}, {"a": "x", "b": 2.5, "c": None}]
    writers.write_sqlite(path, rows, ["a", "b", "c"])
    connection = sqlite3.connect(path)
    declared = {r[1]: r[2] for r in connection.execute("PRAGMA table_info(results)")}
    connection.close()
    assert declared == {"a": "TEXT", "b": "REAL", "c": "INTEGER"}


def test_an_interrupted_export_leaves_no_half_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("the old export\n")

    def rows() -> Iterator[Row]:
        yield {"a": 1}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        writers.write_csv(path, rows(), ["a"])
    assert path.read_text() == "the old export\n"  # the target is replaced only when done


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.csv", "csv"), ("a.CSV", "csv"), ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"),
     ("a.sqlite", "sqlite"), ("a.sqlite3", "sqlite"), ("a.db", "sqlite"),
     ("a.parquet", "parquet"), ("a.pq", "parquet")],
)  # fmt: skip
def test_formats_by_extension(name: str, fmt: str) -> None:
    assert writers.format_of(name, None) == fmt
    assert writers.format_of(name, "csv") == "csv"  # the flag wins


# -------------------------------------------------------------------------- table


def test_the_build_that_ran_is_told_by_path_then_folder_then_uniqueness() -> None:
    a = LlamaCppBuild(path="/opt/a/bin/llama-bench", commit="aaaaaaa")
    b = LlamaCppBuild(path="/opt/b/bin/llama-cli", commit="bbbbbbb")
    both = make_manifest(llamacpp=[a, b])
    assert build_that_ran(both, _result(command=["/opt/a/bin/llama-bench"])) is a
    assert build_that_ran(both, _result(command=["/opt/b/bin/llama-bench"])) is b  # folder
    assert build_that_ran(both, _result(command=["/elsewhere/llama-bench"])) is None
    assert build_that_ran(both, _result()) is None  # two builds, no command: not guessed
    assert build_that_ran(make_manifest(llamacpp=[a]), _result()) is a
    windows = LlamaCppBuild(path="C:\\llama\\llama-bench.exe", commit="ccccccc")
    found = build_that_ran(
        make_manifest(llamacpp=[a, windows]), _result(command=["C:\\llama\\llama-bench.exe"])
    )
    assert found is windows


def test_the_model_that_ran_is_told_by_its_parameter() -> None:
    q4 = ModelFile(name="q4", path="/models/q4.gguf")
    q8 = ModelFile(name="q8", path="/models/q8.gguf")
    manifest = make_manifest(models=[q4, q8])
    assert model_that_ran(manifest, _result(params={"model": "/models/q8.gguf"})) is q8
    assert model_that_ran(manifest, _result(params={"model": "q4.gguf"})) is q4
    assert model_that_ran(manifest, _result(params={"model": "q8"})) is q8
    assert model_that_ran(manifest, _result(params={"model": "other.gguf"})) is None
    assert model_that_ran(make_manifest(models=[q4]), _result()) is q4


def test_signature_states() -> None:
    result = _result()
    assert signature_state(result) == ("not checked", None)
    result.signed_by = ()
    assert signature_state(result) == ("unsigned", None)
    result.signed_by = ("k1", "k2")
    assert signature_state(result) == ("verified", f"k1{LIST_SEPARATOR}k2")


def test_values_flatten_params_and_metrics_with_their_spread() -> None:
    result = _result(
        params={"n_prompt": 512, "model": "m.gguf"},
        metrics={"tokens_per_s": 10.5},
        summary={"tokens_per_s": Summary(mean=10.5, stddev=0.5, n=3)},
    )
    assert value_columns(result) == {
        "param.n_prompt": 512,
        "param.model": "m.gguf",
        "metric.tokens_per_s": 10.5,
        "metric.tokens_per_s_stddev": 0.5,
    }


def test_columns_put_the_fixed_ones_first_and_sort_the_rest() -> None:
    columns = columns_of([{"param.z": 1, "name": "x"}, {"metric.a": 2}])
    assert columns[0] == "log" and columns[-2:] == ["metric.a", "param.z"]
    assert columns.count("name") == 1


# -------------------------------------------------------------------- llama_bench


def test_switches_are_stored_as_llama_bench_stores_them() -> None:
    manifest = make_manifest(
        llamacpp=[LlamaCppBuild(path="/b/llama-bench", commit="0c1e57098", build_number=7,
                                devices=[LlamaDevice(backend="CUDA", name="RTX 4090"),
                                         LlamaDevice(backend="CPU", name="CPU")])]
    )  # fmt: skip
    result = _result(
        origin="run:llama-bench",
        command=["/b/llama-bench"],
        params={"flash_attn": "auto", "embeddings": False, "no_kv_offload": True,
                "n_params": 7, "backend": "CUDA", "model": "m.gguf"},
        metrics={"tokens_per_s": 100.0},
        metric_samples={"tokens_per_s": [99.0, 101.0]},
        wall_s=[0.5, 0.7],
    )  # fmt: skip
    result.manifest = manifest
    row = llama_bench.llama_bench_row(result)
    assert (row["flash_attn"], row["embeddings"], row["no_kv_offload"]) == (-1, 0, 1)
    assert (row["model_n_params"], row["backends"], row["model_filename"]) == (7, "CUDA", "m.gguf")
    assert (row["build_commit"], row["build_number"]) == ("0c1e57098", 7)
    assert row["gpu_info"] == "RTX 4090"  # the devices the build reported, not the CPU
    assert row["avg_ts"] == 100.0 and row["stddev_ts"] == pytest.approx(2**0.5)
    assert row["avg_ns"] == 600_000_000 and row["stddev_ns"] == round(0.2 / 2**0.5 * 1e9)
    assert row["n_cpu_moe"] == 0 and row["load_mode"] == "auto"  # options this test predates
    assert set(row) == {name for name, _ in llama_bench.COLUMNS}


def test_only_completed_llama_bench_tests_go_into_the_table() -> None:
    assert llama_bench.is_llama_bench(_result(origin="run:llama-bench"))
    assert not llama_bench.is_llama_bench(_result(origin="run:llama-bench", failed=True))
    assert not llama_bench.is_llama_bench(_result(origin="run"))
