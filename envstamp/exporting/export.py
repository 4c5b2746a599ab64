"""``envstamp export``: results logs in, one file of rows out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from envstamp.exporting import llama_bench, writers
from envstamp.exporting.table import Row, SetupKey, columns_of, columns_of_results, rows_of

if TYPE_CHECKING:
    from envstamp.stamping.results import Result


@attrs.frozen
class Exported:
    """What an export wrote."""

    path: str
    format: str
    rows: int
    llama_bench_rows: int | None  # sqlite only: tests in llama.cpp's own table
    signatures: dict[str, int]  # "verified" / "unsigned" / "not checked" -> rows


def export(
    logs: Sequence[str],
    output: str,
    *,
    fmt: str | None = None,
    samples: bool = False,
    include_failed: bool = True,
) -> Exported:
    """Every result of ``logs`` (verified as they load: a tampered log is refused), one row
    each (or one per sample), written to ``output`` in ``fmt`` (by default, its extension's).

    Failed results are kept and marked (``failed``) unless ``include_failed`` is False: a
    crash is data a table of many machines should show.  SQLite also gets llama.cpp's
    ``llama_bench`` table of the llama-bench tests that completed."""
    chosen = writers.format_of(output, fmt)
    bench_rows: list[Row] = []  # llama_bench rows, filled as the logs load
    logs_read = _each_log(logs, include_failed=include_failed, bench_rows=bench_rows)
    target = Path(output)
    if chosen in ("csv", "jsonl") and not samples:
        loaded = list(logs_read)  # the columns need every result before the first row
        count, signatures = _write_streamed(chosen, target, _rows(loaded, samples=False), loaded)
    else:
        # Each log's results are dropped once its rows are made.
        held = list(_rows(logs_read, samples=samples))
        _write_held(chosen, target, held, columns_of(held, samples=samples), bench_rows)
        count, signatures = len(held), _signature_counts(held)
    return Exported(
        path=output,
        format=chosen,
        rows=count,
        llama_bench_rows=len(bench_rows) if chosen == "sqlite" else None,
        signatures=signatures,
    )


Loaded = Iterable[tuple[str, Sequence["Result"]]]  # (log's file name, its results)


def _each_log(
    logs: Sequence[str], *, include_failed: bool, bench_rows: list[Row]
) -> Iterator[tuple[str, list[Result]]]:
    """Each log's file name and results (verified as they load), one log at a time; its
    llama-bench tests are added to ``bench_rows`` as it loads."""
    from envstamp.stamping.results import load_results

    for log in logs:
        results = load_results(log, require_signed=False, include_failed=include_failed)
        bench_rows.extend(
            llama_bench.llama_bench_row(r) for r in results if llama_bench.is_llama_bench(r)
        )
        yield Path(log).name, results


def _rows(loaded: Loaded, *, samples: bool) -> Iterator[Row]:
    """Every log's rows in order, made as they are asked for."""
    setups: dict[SetupKey, Row] = {}  # setup columns, flattened once per setup
    for name, results in loaded:
        yield from rows_of(results, log=name, samples=samples, setups=setups)


def _write_streamed(
    chosen: str, target: Path, rows: Iterator[Row], loaded: Sequence[tuple[str, Sequence[Result]]]
) -> tuple[int, dict[str, int]]:
    """CSV or JSON Lines, each row written as it is made and never all held (100,000 rows of
    ~50 cells took ~250 MB, and allocating them a sixth of the export: issue 14).  The
    columns come from the results, as rows_of makes them (a test holds the two alike)."""
    columns = columns_of_results(r for _, results in loaded for r in results)
    signatures: dict[str, int] = {}
    write = writers.write_csv if chosen == "csv" else writers.write_jsonl
    return write(target, _counting(rows, signatures), columns), signatures


def _write_held(
    chosen: str, target: Path, rows: list[Row], columns: list[str], bench_rows: list[Row]
) -> None:
    """Every format from rows all made first (SQLite and Parquet type each column from all
    of its values; one row per sample has columns only the rows tell)."""
    if chosen == "csv":
        writers.write_csv(target, rows, columns)
    elif chosen == "jsonl":
        writers.write_jsonl(target, rows, columns)
    elif chosen == "parquet":
        writers.write_parquet(target, rows, columns)
    else:
        table = (llama_bench.TABLE, llama_bench.COLUMNS, bench_rows)
        writers.write_sqlite(target, rows, columns, [table])


def _signature_counts(rows: Iterable[Row]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _ in _counting(rows, counts):
        pass
    return counts


def _counting(rows: Iterable[Row], counts: dict[str, int]) -> Iterator[Row]:
    """The rows, each counted in ``counts`` by its signature state as it passes."""
    for row in rows:
        state = str(row.get("signature"))
        counts[state] = counts.get(state, 0) + 1
        yield row
