"""``envstamp export``: results logs in, one file of rows out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs

from envstamp.exporting import llama_bench, writers
from envstamp.exporting.table import Row, columns_of, rows_of


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
    from envstamp.stamping.results import load_results

    chosen = writers.format_of(output, fmt)
    rows: list[Row] = []
    bench_rows: list[Row] = []
    setups: dict[str, Row] = {}
    for log in logs:
        results = load_results(log, require_signed=False, include_failed=include_failed)
        rows.extend(rows_of(results, log=Path(log).name, samples=samples, setups=setups))
        bench_rows.extend(
            llama_bench.llama_bench_row(r) for r in results if llama_bench.is_llama_bench(r)
        )
    columns = columns_of(rows, samples=samples)
    target = Path(output)
    if chosen == "csv":
        writers.write_csv(target, rows, columns)
    elif chosen == "jsonl":
        writers.write_jsonl(target, rows, columns)
    elif chosen == "parquet":
        writers.write_parquet(target, rows, columns)
    else:
        table = (llama_bench.TABLE, llama_bench.COLUMNS, bench_rows)
        writers.write_sqlite(target, rows, columns, [table])
    return Exported(
        path=output,
        format=chosen,
        rows=len(rows),
        llama_bench_rows=len(bench_rows) if chosen == "sqlite" else None,
        signatures=_signature_counts(rows),
    )


def _signature_counts(rows: Sequence[Row]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        state = str(row.get("signature"))
        counts[state] = counts.get(state, 0) + 1
    return counts
