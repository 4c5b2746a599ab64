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
from envstamp.model import field
from envstamp.probes import Sections
from envstamp.probes.llamacpp_log import clean_line
from envstamp.textutil import to_float, to_int

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


def _row(values: dict[str, Any]) -> BatchedBenchRow | None:
    """A row from its named values; None when a count is missing (not a result row)."""
    counts = {name: to_int(values.get(name)) for name in _INT_FIELDS}
    if any(count is None for count in counts.values()):
        return None
    timings = {name: to_float(values.get(name)) for name in _FLOAT_FIELDS}
    return BatchedBenchRow(
        pp=counts["pp"] or 0,
        tg=counts["tg"] or 0,
        pl=counts["pl"] or 0,
        n_kv=counts["n_kv"] or 0,
        **timings,
    )


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
            record = json.loads(line)
        except ValueError:
            return
        if not isinstance(record, dict):
            return
        row = _row(record)
        if row is None:
            return
        self.bench.rows.append(row)
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
            self.bench.rows.append(row)

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
    if not reader.bench.rows:
        raise ParseError("no llama-batched-bench result rows (table or jsonl) found")
    return reader.bench


def parse_batched_bench_kind(text: str) -> Sections:
    """Kind ``llama-batched-bench``: {"batched_bench": BatchedBench}."""
    return {"batched_bench": parse_batched_bench(text)}
