"""Rows into files: CSV, JSON Lines, SQLite, Parquet.

Every writer takes the rows and the column order, writes to a temporary file beside the
target and renames it over the target when done, so an interrupted export never leaves half
a file under the name a script reads."""

from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from envstamp.errors import InputError
from envstamp.exporting.table import Row, Scalar

FORMATS = ("csv", "jsonl", "sqlite", "parquet")
RESULTS_TABLE = "results"


def format_of(path: str, given: str | None) -> str:
    """The format asked for, else the one the file's extension names."""
    if given is not None:
        return given
    suffix = Path(path).suffix.lower().lstrip(".")
    aliases = {"db": "sqlite", "sqlite3": "sqlite", "ndjson": "jsonl", "pq": "parquet"}
    chosen = aliases.get(suffix, suffix)
    if chosen not in FORMATS:
        raise InputError(
            f"{path}: cannot tell the format from the extension; add --format {'|'.join(FORMATS)}"
        )
    return chosen


def write_csv(path: Path, rows: Iterable[Row], columns: Sequence[str]) -> int:
    def write(handle: IO[str]) -> int:
        writer = csv.writer(handle)
        _csv_row(writer, list(columns))
        count = 0
        for row in rows:
            # None is an empty cell already; booleans are spelled as JSON spells them
            # (inline rather than a call per cell: the cells of a large export add up).
            _csv_row(
                writer,
                [
                    "true" if v is True else "false" if v is False else v
                    for v in map(row.get, columns)
                ],
            )
            count += 1
        return count

    return _replacing(path, "w", write)


def write_jsonl(path: Path, rows: Iterable[Row], columns: Sequence[str]) -> int:
    # One encoder for every line (json.dumps(..., allow_nan=False) makes one per call).
    encode = json.JSONEncoder(allow_nan=False).encode

    def write(handle: IO[str]) -> int:
        count = 0
        for row in rows:
            handle.write(encode({c: row.get(c) for c in columns}) + "\n")
            count += 1
        return count

    return _replacing(path, "w", write)


def write_sqlite(
    path: Path,
    rows: Sequence[Row],
    columns: Sequence[str],
    extra_tables: Sequence[tuple[str, Sequence[tuple[str, str]], Sequence[Row]]] = (),
) -> int:
    """``results`` with every row, and each extra table (name, (column, SQL type), rows)."""
    temporary = _temporary(path)
    connection = sqlite3.connect(temporary)
    try:
        with connection:
            kinds = _column_kinds(rows, columns)
            typed = [
                (name, _sql_type(kind))
                for name, kind in zip(_sql_names(columns), kinds, strict=True)
            ]
            _fill(connection, RESULTS_TABLE, typed, rows, keys=columns, kinds=kinds)
            for name, layout, table_rows in extra_tables:
                _fill(connection, name, layout, table_rows)
    finally:
        connection.close()
    temporary.replace(path)
    return len(rows)


def write_parquet(path: Path, rows: Sequence[Row], columns: Sequence[str]) -> int:
    try:
        import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise InputError(
            "Parquet needs pyarrow: pip install 'envstamp[parquet]' (or export csv, jsonl, sqlite)"
        ) from None
    table = pa.table({c: _parquet_column([row.get(c) for row in rows]) for c in columns})
    temporary = _temporary(path)
    pq.write_table(table, temporary)
    temporary.replace(path)
    return len(rows)


# ----------------------------------------------------------------------------- helpers


def _fill(
    connection: sqlite3.Connection,
    table: str,
    layout: Sequence[tuple[str, str]],
    rows: Sequence[Row],
    *,
    keys: Sequence[str] | None = None,
    kinds: Sequence[set[type]] | None = None,
) -> None:
    """Create ``table`` with ``layout`` (name, SQL type) and insert ``rows``, each column read
    from the row's member of the same name, or of the same place in ``keys`` (``kinds``: the
    types each column holds, when the caller has them)."""
    names = [name for name, _ in layout]
    members = list(keys) if keys is not None else names
    declared = ", ".join(f"{_quoted(name)} {sql_type}" for name, sql_type in layout)
    connection.execute(f"CREATE TABLE {_quoted(table)} ({declared})")
    marks = ", ".join("?" for _ in names)
    # Names are quoted identifiers of envstamp's own columns; every value is a bound parameter.
    insert = f"INSERT INTO {_quoted(table)} ({', '.join(map(_quoted, names))}) VALUES ({marks})"  # noqa: S608
    texts = [sql_type == "TEXT" for _, sql_type in layout]
    held = _column_kinds(rows, members) if kinds is None else kinds
    # Only the columns whose values _sql_cell changes are converted, cell by cell; the
    # others are read at C speed (issue 14: a call per cell was a third of writing 100,000
    # rows of ~50 cells).
    changed = [
        (index, text)
        for index, (text, kind) in enumerate(zip(texts, held, strict=True))
        if _cells_change(kind, text)
    ]
    connection.executemany(
        insert, (_sql_cells(list(map(row.get, members)), changed) for row in rows)
    )


def _column_kinds(rows: Sequence[Row], columns: Sequence[str]) -> list[set[type]]:
    """The types of each column's values (NoneType where a row has none), in one pass: the
    rows of an export share few patterns of types, so each is looked at once."""
    patterns = {tuple(map(type, map(row.get, columns))) for row in rows}
    return [{pattern[index] for pattern in patterns} for index in range(len(columns))]


def _cells_change(kinds: set[type], text: bool) -> bool:
    """Whether :func:`_sql_cell` changes any value of a column of ``kinds``: text in a TEXT
    column and numbers elsewhere stay as they are (None everywhere), booleans never do."""
    if text:
        return not kinds <= {str, type(None)}
    return bool in kinds


def _sql_cells(cells: list[Scalar], changed: Sequence[tuple[int, bool]]) -> list[Scalar]:
    """A row's cells as their columns hold them (``changed``: (index, text) of the columns
    whose values :func:`_sql_cell` may change; it leaves the others as they are)."""
    for index, text in changed:
        cells[index] = _sql_cell(cells[index], text)
    return cells


def _sql_names(columns: Sequence[str]) -> list[str]:
    """Column names SQLite tells apart: it ignores case, so a second ``param.Model`` beside
    ``param.model`` becomes ``param.Model~2`` (the other formats keep names as they are)."""
    seen: dict[str, int] = {}
    names = []
    for column in columns:
        count = seen[column.lower()] = seen.get(column.lower(), 0) + 1
        names.append(column if count == 1 else f"{column}~{count}")
    return names


def _sql_type(kinds: set[type]) -> str:
    """INTEGER, REAL or TEXT: the narrowest that holds every value of a column of ``kinds``."""
    kinds = kinds - {type(None)}
    if kinds <= {bool, int}:
        return "INTEGER"
    if kinds <= {bool, int, float}:
        return "REAL"
    return "TEXT"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_cell(value: Scalar, text: bool) -> Scalar:
    """A value as its column holds it: in a TEXT column (one that mixes text with other
    values) every value is text, booleans spelled as in CSV; elsewhere booleans are 0/1."""
    if value is None:
        return None
    if text:
        return _csv_cell(value) if isinstance(value, bool) else str(value)
    return int(value) if isinstance(value, bool) else value


def _csv_row(writer: Any, cells: list[Any]) -> None:
    """One CSV line.  Python 3.10's csv module cannot write a NUL character (later ones
    quote it) and no CSV reader keeps one: such a cell gets U+FFFD in its place."""
    try:
        writer.writerow(cells)
    except csv.Error:
        writer.writerow([c.replace("\x00", "\ufffd") if isinstance(c, str) else c for c in cells])


def _csv_cell(value: Scalar) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _parquet_column(values: list[Scalar]) -> list[Scalar]:
    """Arrow holds one type per column: numbers stay numbers (integers widen to floats beside
    floats), a column that mixes text with other values becomes text."""
    kinds = {type(v) for v in values} - {type(None)}
    if kinds <= {bool} or kinds <= {int} or kinds <= {str}:
        return values
    if kinds <= {int, float}:
        return [None if v is None else float(v) for v in values]
    return [None if v is None else _csv_cell(v) if isinstance(v, bool) else str(v) for v in values]


def _temporary(path: Path) -> Path:
    temporary = path.with_name(f".{path.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    return temporary


def _replacing(path: Path, mode: str, write: Callable[[IO[str]], int]) -> int:
    temporary = _temporary(path)
    with temporary.open(mode, encoding="utf-8", newline="") as handle:
        count = write(handle)
    temporary.replace(path)
    return count
