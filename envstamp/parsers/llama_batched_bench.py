"""Pure parser of llama-batched-bench output: its Markdown table and ``--output-format jsonl``.

llama-batched-bench (``tools/batched-bench`` in llama.cpp) prints one settings line and one
row per (PP, TG, B) combination::

    main: n_kv_max = 256, n_batch = 128, n_ubatch = 64, flash_attn = 0, is_pp_shared = 0, ...

    |  PP |  TG |  B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s |   T s |    S t/s |
    |-----|-----|----|------|--------|----------|--------|----------|-------|----------|
    |  16 |   8 |  1 |   24 |  0.000 | 83769.63 |  0.001 | 14084.51 | 0.001 | 31620.55 |

(the real table pads its columns wider)
or, with ``--output-format jsonl``, one JSON object per row holding the settings and the row.
The settings line's prefix is the function's name (``main`` in older builds,
``llama_batched_bench`` in newer ones) and its keys grow over time (``is_tg_separate``): any
``key = value`` list is kept as printed.  Columns are found by their header, not by position.
A speed printed as ``inf`` or ``nan`` (a phase too short for the clock) is unknown.

Both forms are rounded text: the table prints seconds to the millisecond (``0.000`` for a
phase under half a millisecond) and speeds to hundredths, jsonl both with six decimals.  Each
row keeps, per timing it read, half the last printed unit (``tolerance``: ``0.0005`` for a
table's seconds).  A timing that prints as zero is unknown (None): it says only "less than half
the last digit", not "no time".  When one text holds both forms for a row (a script that ran
the tool twice), its jsonl row is kept and the table's dropped: same run, finer print.

PP is the prompt length, TG the tokens generated per sequence, B the number of parallel
sequences, N_KV the KV cells used; T_PP/T_TG/T are seconds and S_PP/S_TG/S tokens per second
of the prompt, the generation and the whole.  Nothing here touches the system.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import Sections, field
from envstamp.parsers.llamacpp_log import clean_line
from envstamp.parsers.textutil import to_float, to_int

Setting = int | bool | str

# Table headers (their first word, lower case) -> row fields.
_COLUMNS = {
    "pp": "pp",
    "tg": "tg",
    "b": "pl",
    "pl": "pl",
    "n_kv": "n_kv",
    "t_pp": "t_pp",
    "s_pp": "speed_pp",
    "t_tg": "t_tg",
    "s_tg": "speed_tg",
    "t": "t",
    "s": "speed",
}
_INT_FIELDS = ("pp", "tg", "pl", "n_kv")
_FLOAT_FIELDS = ("t_pp", "speed_pp", "t_tg", "speed_tg", "t", "speed")
_SETTINGS_LINE = re.compile(r"^(?:[\w.-]+:\s*)?((?:\w+\s*=\s*[^,]+,\s*)+\w+\s*=\s*[^,]+)$")
_SETTING = re.compile(r"(\w+)\s*=\s*([^,]+)")
_RULE = re.compile(r"^\|[\s|:-]+\|$")
_PRINTED_NUMBER = re.compile(r"[-+]?\d+(?:\.(\d*))?(?:[eE]([-+]?\d+))?")
# C's printf writes an infinite or undefined speed as inf / nan: not JSON, so such a jsonl
# row would be lost whole; as null it keeps its other values.
_C_NON_FINITE = re.compile(r"(?<=[:,\[])(\s*)[-+]?(?:inf(?:inity)?|nan)\b", re.IGNORECASE)


@attrs.define
class BatchedBenchRow:
    """One (PP, TG, B) result of llama-batched-bench."""

    pp: int = field("Prompt tokens per sequence (PP).")
    tg: int = field("Tokens generated per sequence (TG).")
    pl: int = field("Parallel sequences (B).")
    n_kv: int = field("KV cells the test used (N_KV).")
    t_pp: float | None = field("Seconds spent on the prompt (T_PP).")
    speed_pp: float | None = field("Prompt tokens per second (S_PP).")
    t_tg: float | None = field("Seconds spent generating (T_TG).")
    speed_tg: float | None = field("Generated tokens per second, all sequences (S_TG).")
    t: float | None = field("Seconds in all (T).")
    speed: float | None = field("Tokens per second in all (S).")
    tolerance: dict[str, float] = attrs.field(
        factory=dict,
        metadata={
            "doc": "Precision of each timing read (t_pp, speed_pp...): half the last printed "
            "unit, in the field's own unit (0.0005 for the table's seconds).",
            "volatile": False,
        },
    )


@attrs.define
class BatchedBench:
    """A llama-batched-bench run: its settings and its rows."""

    settings: dict[str, Setting] = attrs.field(
        factory=dict,
        metadata={"doc": "What the settings line or the jsonl rows say (n_kv_max, n_batch...).",
                  "volatile": False},
    )
    rows: list[BatchedBenchRow] = attrs.field(
        factory=list, metadata={"doc": "One row per PP, TG and B.", "volatile": False}
    )


def _setting(key: str, raw: Any) -> Setting:
    """An int as an int; 0/1 of an ``is_*`` switch as a bool; anything else as printed."""
    if isinstance(raw, bool):
        return raw
    number = raw if isinstance(raw, int) else None
    if number is None and re.fullmatch(r"-?\d+", str(raw).strip()):
        number = int(str(raw).strip())
    if number is None:
        return str(raw).strip()
    if key.startswith("is_") and number in (0, 1):
        return bool(number)
    return number


def half_unit(printed: str) -> float | None:
    """Half the last printed unit of a number as text ("0.001" -> 0.0005, "12" -> 0.5,
    "1.5e-3" -> 0.00005); None when the text holds no number."""
    match = _PRINTED_NUMBER.search(printed)
    if match is None:
        return None
    decimals = len(match.group(1) or "") - int(match.group(2) or 0)
    return 0.5 * 10.0**-decimals


def _timing(raw: Any) -> tuple[float | None, float | None]:
    """A printed timing and its precision.  Zero is unknown: it printed as less than half
    its last digit (a phase the table shows as 0.000 took up to half a millisecond)."""
    value = to_float(raw)
    if value is None or value == 0:
        return None, None
    return value, half_unit(raw) if isinstance(raw, str) else None


def _row(values: dict[str, Any]) -> BatchedBenchRow | None:
    """A row from its named values (numbers as printed); None when a count is missing (not
    a result row)."""
    counts = {name: to_int(values.get(name)) for name in _INT_FIELDS}
    if any(count is None for count in counts.values()):
        return None
    timings: dict[str, float | None] = {}
    tolerance: dict[str, float] = {}
    for name in _FLOAT_FIELDS:
        timings[name], precision = _timing(values.get(name))
        if precision is not None:
            tolerance[name] = precision
    return BatchedBenchRow(
        pp=counts["pp"] or 0,
        tg=counts["tg"] or 0,
        pl=counts["pl"] or 0,
        n_kv=counts["n_kv"] or 0,
        tolerance=tolerance,
        **timings,
    )


def _row_key(row: BatchedBenchRow) -> tuple[int, int, int]:
    return row.pp, row.tg, row.pl


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _header(cells: list[str]) -> list[str | None] | None:
    """Row fields of a header's cells; None when the line is no batched-bench header."""
    names = [_COLUMNS.get(cell.split()[0].lower()) if cell.split() else None for cell in cells]
    if not {"pp", "tg", "pl"} <= {name for name in names if name}:
        return None
    return names


@attrs.define
class _Reader:
    bench: BatchedBench = attrs.field(factory=BatchedBench)
    columns: list[str | None] | None = None
    # Rows in the order printed, each with whether it came from jsonl.
    found: list[tuple[bool, BatchedBenchRow]] = attrs.field(factory=list)

    def rows(self) -> list[BatchedBenchRow]:
        """The rows; a table row is dropped where jsonl printed the same PP/TG/B."""
        from_jsonl = {_row_key(row) for is_json, row in self.found if is_json}
        return [
            row for is_json, row in self.found if is_json or _row_key(row) not in from_jsonl
        ]

    def line(self, raw: str) -> None:
        line = clean_line(raw)
        if not line:
            return
        if line.startswith("{"):
            self.json_row(line)
        elif line.startswith("|"):
            self.table_line(line)
        else:
            self.columns = None
            self.settings_line(line)

    def json_row(self, line: str) -> None:
        try:
            # Floats as printed, for their precision; C's inf/nan as null.
            record = json.loads(_C_NON_FINITE.sub(r"\1null", line), parse_float=str)
        except (ValueError, RecursionError):
            return
        if not isinstance(record, dict):
            return
        row = _row(record)
        if row is None:
            return
        self.found.append((True, row))
        for key, value in record.items():
            if key not in _INT_FIELDS and key not in _FLOAT_FIELDS:
                self.bench.settings.setdefault(key, _setting(key, value))

    def table_line(self, line: str) -> None:
        if _RULE.match(line):
            return
        cells = _cells(line)
        header = _header(cells)
        if header is not None:
            self.columns = header
            return
        if self.columns is None or len(cells) != len(self.columns):
            return
        values = {name: cell for name, cell in zip(self.columns, cells, strict=True) if name}
        row = _row(values)
        if row is not None:
            self.found.append((False, row))

    def settings_line(self, line: str) -> None:
        match = _SETTINGS_LINE.match(line)
        if not match:
            return
        pairs = _SETTING.findall(match.group(1))
        if not any(key in ("n_kv_max", "n_batch", "is_pp_shared") for key, _ in pairs):
            return  # some other "k = v, k = v" log line
        for key, value in pairs:
            self.bench.settings.setdefault(key, _setting(key, value))


def parse_batched_bench(text: str) -> BatchedBench:
    """Settings and rows of llama-batched-bench output (table or jsonl, log lines around).

    Raises ParseError when the text holds no result row.
    """
    if not isinstance(text, str):
        raise ParseError("llama-batched-bench output must be text")
    reader = _Reader()
    for raw in text.splitlines():
        reader.line(raw)
    reader.bench.rows = reader.rows()
    if not reader.bench.rows:
        raise ParseError("no llama-batched-bench result rows (table or jsonl) found")
    return reader.bench


def parse_batched_bench_kind(text: str) -> Sections:
    """Kind ``llama-batched-bench``: {"batched_bench": BatchedBench}."""
    return {"batched_bench": parse_batched_bench(text)}


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "llama-batched-bench": (
        "parse_batched_bench_kind",
        "llama-batched-bench output (its table or --output-format jsonl)",
    ),
}
