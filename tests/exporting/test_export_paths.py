"""The export's faster paths write what the plain ones wrote (issue 14): CSV and JSON Lines
rows streamed with columns told by the results, SQLite cells converted only in the columns
whose values change; and setups are told apart by everything they are made of."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.exporting import writers
from envstamp.exporting.export import export
from envstamp.exporting.table import (
    RESULT_COLUMNS,
    SETUP_COLUMNS,
    Row,
    columns_of,
    columns_of_results,
    result_columns,
    rows_of,
    setup_columns,
)
from envstamp.manifest.model import LlamaCppBuild, ModelFile
from envstamp.stamping.results import Result, Summary, load_results
from tests.timing_support import make_manifest, open_recorder

DIGEST = "sha256:" + "ab" * 32
MANIFEST = make_manifest(
    llamacpp=[LlamaCppBuild(path="/opt/a/bin/llama-bench", commit="aaaaaaa", backends=["CPU"])],
    models=[ModelFile(name="q4", path="/m/q4.gguf"), ModelFile(name="q8", path="/m/q8.gguf")],
)
param_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=6),
    st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(0, 9), max_size=2),
)  # fmt: skip
metric_names = st.sampled_from(["tokens_per_s", "prompt_ms", "x", "a.b"])


@st.composite
def some_results(draw: st.DrawFn) -> list[Result]:
    made = []
    for index in range(draw(st.integers(1, 5))):
        metrics = draw(st.dictionaries(metric_names, st.floats(0, 1e6), max_size=3))
        spread = draw(st.lists(st.sampled_from(sorted(metrics) or ["x"]), unique=True))
        names = st.sampled_from(["model", "Model", "n", "flag", "list", "p.q"])
        result = Result(
            manifest_digest=DIGEST,
            name=f"t{index}",
            params=draw(st.dictionaries(names, param_values, max_size=4)),
            metrics=metrics,
            summary={name: Summary(mean=1.0, stddev=0.5, n=2) for name in spread},
            command=draw(st.sampled_from([None, ["/opt/a/bin/llama-bench"], ["/x/y"]])),
            failed=draw(st.booleans()),
        )
        result.manifest = MANIFEST
        result.signed_by = draw(st.sampled_from([None, (), ("k1",)]))
        made.append(result)
    return made


@settings(max_examples=60, deadline=None)
@given(some_results())
def test_the_columns_told_by_the_results_are_those_of_their_rows(results: list[Result]) -> None:
    rows = list(rows_of(results, log="x.jsonl", setups={}))
    assert columns_of_results(results) == columns_of(rows)


def test_a_rows_result_and_setup_columns_are_the_fixed_ones() -> None:
    """What lets the columns be told without making the rows: only values add columns."""
    result = Result(manifest_digest=DIGEST, name="t", command=["/opt/a/bin/llama-bench"],
                    params={"model": "/m/q8.gguf"})  # fmt: skip
    assert list(result_columns(result, log="x", position=0)) == list(RESULT_COLUMNS)
    assert list(setup_columns(MANIFEST, result)) == list(SETUP_COLUMNS)
    assert list(setup_columns(None, result)) == list(SETUP_COLUMNS)


def test_setups_are_told_apart_by_the_model_each_result_names() -> None:
    # One manifest, two models: each result's row names the model it ran (the setup cache
    # once keyed by manifest, signers and program only, and gave both rows the first model).
    results = [Result(manifest_digest=DIGEST, name="pp512", params={"model": path})
               for path in ("/m/q4.gguf", "/m/q8.gguf", "q4.gguf", "/m/other.gguf")]  # fmt: skip
    for result in results:
        result.manifest = MANIFEST
    setups: dict[Any, Row] = {}
    rows = list(rows_of(results, log="x", setups=setups))
    assert [row["model_name"] for row in rows] == ["q4", "q8", "q4", None]
    assert len(setups) == 4


def _log(tmp_path: Path) -> Path:
    log = tmp_path / "r.jsonl"
    with open_recorder(log) as rec:
        for index in range(30):
            rec.record(f"pp{index % 3}",
                       params={"model": "m.gguf", "n": index, "flash": index % 2 == 0,
                               "extra" if index == 7 else "other": [1, "a"]},
                       metrics={"tokens_per_s": 10.5 + index}, wall_s=[0.1, 0.2],
                       failed=index == 5)  # fmt: skip
    return log


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_streamed_export_writes_what_its_rows_say(tmp_path: Path, fmt: str) -> None:
    log = _log(tmp_path)
    out = tmp_path / f"streamed.{fmt}"
    done = export([str(log), str(log)], str(out))
    results = load_results(log, require_signed=False, include_failed=True)
    setups: dict[Any, Row] = {}
    rows = [*rows_of(results, log=log.name, setups=setups),
            *rows_of(results, log=log.name, setups=setups)]  # fmt: skip
    held = tmp_path / f"held.{fmt}"
    write = writers.write_csv if fmt == "csv" else writers.write_jsonl
    write(held, rows, columns_of(rows))
    assert out.read_bytes() == held.read_bytes()
    states: dict[str, int] = {}
    for row in rows:
        states[str(row["signature"])] = states.get(str(row["signature"]), 0) + 1
    assert (done.rows, done.signatures) == (60, states)


def test_samples_and_the_other_formats_still_hold_every_row(tmp_path: Path) -> None:
    log = _log(tmp_path)
    by_sample = export([str(log)], str(tmp_path / "s.csv"), samples=True)
    assert by_sample.rows == 60  # two repetitions each
    done = export([str(log)], str(tmp_path / "r.sqlite"))
    connection = sqlite3.connect(tmp_path / "r.sqlite")
    try:
        (count,) = connection.execute("SELECT count(*) FROM results").fetchone()
    finally:
        connection.close()
    assert done.rows == count == 30


def test_json_lines_still_refuse_what_json_cannot_hold(tmp_path: Path) -> None:
    target = tmp_path / "x.jsonl"
    with pytest.raises(ValueError, match="JSON compliant"):
        writers.write_jsonl(target, [{"a": 1.0}, {"a": math.nan}], ["a"])
    assert not target.exists()
    writers.write_jsonl(target, [{"b": "é"}], ["a", "b"])
    assert target.read_text(encoding="utf-8") == json.dumps({"a": None, "b": "é"}) + "\n"


cells = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-2, 2),
                  st.text(max_size=3))  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from("abcd"), cells, max_size=4), min_size=1,
                max_size=6))  # fmt: skip
def test_sqlite_leaves_alone_only_columns_whose_values_it_would_not_change(
    rows: list[Row],
) -> None:
    columns = ["a", "b", "c", "d"]
    kinds = writers._column_kinds(rows, columns)
    assert kinds == [{type(row.get(c)) for row in rows} for c in columns]
    for column, kind in zip(columns, kinds, strict=True):
        for text in (True, False):
            if writers._cells_change(kind, text):
                continue
            for row in rows:
                value = row.get(column)
                stored = writers._sql_cell(value, text)
                assert stored == value and type(stored) is type(value)


def test_sqlite_converts_a_column_whose_kinds_differ_between_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    rows: list[Row] = [{"n": 1, "flag": None, "mixed": "x"}, {"n": True, "flag": False},
                       {"mixed": 2.5, "flag": True}]  # fmt: skip
    writers.write_sqlite(path, rows, ["n", "flag", "mixed"])
    connection = sqlite3.connect(path)
    try:
        stored = connection.execute("SELECT n, flag, mixed FROM results").fetchall()
    finally:
        connection.close()
    assert stored == [(1, None, "x"), (1, 0, None), (None, 1, "2.5")]
