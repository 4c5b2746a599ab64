"""Pure parser of llama-bench output (``-o md`` (the default), ``csv``, ``json``, ``jsonl``,
``sql``).

Each test becomes a :class:`BenchRow` with llama-bench's own field names; the build's commit
and number also go into a ``llamacpp`` entry.  The Markdown table prints only the columns
that differ from their defaults and spells some of them differently (``ngl``, ``fa``,
``threads``...); its sizes are rounded (``4.36 GiB``, ``7.62 B``) and its ``t/s`` column
holds ``mean ± stddev``.  Old builds spelled tests ``pp 512``: they are normalised to
``pp512``.  Log lines around the table (backend loading, device lists) are read for devices.

This module imports only attrs and envstamp's small helpers, so results code can use
:class:`BenchRow` cheaply.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import LlamaCppBuild, Sections, field
from envstamp.parsers.textutil import clean, collapse, csv_row, to_bool, to_float, to_int

Scalar = str | int | float | bool | None


@attrs.define
class BenchRow:
    """One llama-bench test result, with llama-bench's own field names."""

    test: str | None = field('Test name: "pp512", "tg128", "pp512+tg128", "pp512 @ d512".')
    n_prompt: int | None = field("Prompt tokens processed per repetition.")
    n_gen: int | None = field("Tokens generated per repetition.")
    n_depth: int | None = field("Context depth (tokens already in the KV cache).")
    avg_ts: float | None = field("Mean tokens per second.")
    stddev_ts: float | None = field("Standard deviation of tokens per second.")
    avg_ns: int | None = field("Mean time per repetition, ns (csv/json).")
    stddev_ns: int | None = field("Standard deviation of the time, ns (csv/json).")
    samples_ts: list[float] | None = field("Tokens per second of each repetition (json).")
    samples_ns: list[int] | None = field("Time of each repetition, ns (json).")
    model_type: str | None = field('Model description ("llama 8B Q4_K - Medium").')
    model_filename: str | None = field("Model file as given to llama-bench.")
    model_size: int | None = field("Model size, bytes (rounded when read from Markdown).")
    n_params: int | None = field("Parameter count (rounded when read from Markdown).")
    backend: str | None = field('Backends as llama-bench names them ("CUDA", "Metal,BLAS").')
    cpu_info: str | None = field("CPU as llama-bench describes it.")
    gpu_info: str | None = field("GPUs as llama-bench describes them.")
    n_gpu_layers: int | None = field("Layers offloaded to the GPU (ngl).")
    n_threads: int | None = field("CPU threads.")
    n_batch: int | None = field("Logical batch size.")
    n_ubatch: int | None = field("Physical batch size.")
    type_k: str | None = field("K cache type.")
    type_v: str | None = field("V cache type.")
    flash_attn: bool | str | None = field(
        'Flash attention on (true/false), or "auto": llama-bench\'s -1 since flash attention '
        "became a three-way choice (on, off, auto)."
    )
    split_mode: str | None = field("Multi-GPU split mode (layer, row, none).")
    main_gpu: int | None = field("Main GPU index.")
    no_kv_offload: bool | None = field("KV cache kept off the GPU.")
    tensor_split: str | None = field("Tensor split as printed.")
    use_mmap: bool | None = field("Model memory-mapped.")
    embeddings: bool | None = field("Embeddings mode.")
    cpu_mask: str | None = field("CPU affinity mask.")
    cpu_strict: bool | None = field("Strict CPU placement.")
    poll: int | None = field("Polling level.")
    test_time: str | None = field("When the test ran (csv/json).")
    build_commit: str | None = field("llama.cpp commit of the build that ran it.")
    build_number: int | None = field("llama.cpp build number of the build that ran it.")
    extra: dict[str, Scalar] = attrs.field(
        factory=dict, metadata={"doc": "Other columns, by llama-bench's name.", "volatile": False}
    )
    tolerance: dict[str, float] = attrs.field(
        factory=dict,
        metadata={
            "doc": "Precision of fields read from rounded text (Markdown model_size, n_params): "
            "half the last printed unit, in the field's own unit (bytes, count).",
            "volatile": False,
        },
    )


_INT_FIELDS = frozenset(
    {"n_prompt", "n_gen", "n_depth", "avg_ns", "stddev_ns", "model_size", "n_params",
     "n_gpu_layers", "n_threads", "n_batch", "n_ubatch", "main_gpu", "poll", "build_number"}
)  # fmt: skip
_FLOAT_FIELDS = frozenset({"avg_ts", "stddev_ts"})
_BOOL_FIELDS = frozenset({"flash_attn", "no_kv_offload", "use_mmap", "embeddings", "cpu_strict"})
_LIST_FIELDS = frozenset({"samples_ts", "samples_ns"})
_FIELDS = frozenset(a.name for a in attrs.fields(BenchRow)) - {"extra", "tolerance"}

# csv/json column names that differ from the field names.
_COLUMN_ALIASES = {"backends": "backend", "model_n_params": "n_params"}
# Markdown headers (display names) -> field names.
_MD_ALIASES = {
    "model": "model_type",
    "size": "model_size",
    "params": "n_params",
    "backend": "backend",
    "backends": "backend",
    "ngl": "n_gpu_layers",
    "threads": "n_threads",
    "sm": "split_mode",
    "mg": "main_gpu",
    "nkvo": "no_kv_offload",
    "fa": "flash_attn",
    "mmap": "use_mmap",
    "embd": "embeddings",
    "ts": "tensor_split",
    "dev": "devices",
    "ot": "tensor_buft_overrides",
}
# Old csv/json had one flag column per backend instead of "backends".
_OLD_BACKEND_FLAGS = (
    ("cuda", "CUDA"),
    ("vulkan", "Vulkan"),
    ("kompute", "Kompute"),
    ("metal", "Metal"),
    ("sycl", "SYCL"),
    ("rpc", "RPC"),
    ("opencl", "OpenCL"),
    ("gpu_blas", "BLAS"),
    ("blas", "BLAS"),
)
_TEST = re.compile(r"^(?:pp\s*(\d+))?(?:\s*\+?\s*tg\s*(\d+))?(?:\s*@\s*d\s*(\d+))?$")
_COUNT_UNITS = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}


# ------------------------------------------------------------------------------- values


def normalise_test(text: str | None) -> str | None:
    """ "pp 512" -> "pp512", "pp 512 + tg 128" -> "pp512+tg128", "pp512 @ d512" as is."""
    value = clean(text)
    if value is None:
        return None
    match = _TEST.match(value)
    if not match or not any(match.groups()):
        return value
    return bench_test_name(*(int(g) if g else 0 for g in match.groups()))


def bench_test_name(n_prompt: int, n_gen: int, n_depth: int) -> str | None:
    """llama-bench's name of a test from its token counts."""
    parts = []
    if n_prompt > 0:
        parts.append(f"pp{n_prompt}")
    if n_gen > 0:
        parts.append(f"tg{n_gen}")
    if not parts:
        return None
    name = "+".join(parts)
    return f"{name} @ d{n_depth}" if n_depth > 0 else name


def _size_bytes(text: str) -> tuple[int | None, float | None]:
    """ "4.36 GiB" -> (bytes, precision in bytes); llama-bench's sizes are binary, whatever
    the label says."""
    match = re.fullmatch(r"([\d.]+)\s*([KMGT]?)i?B", text.strip(), re.IGNORECASE)
    if not match:
        return to_int(text), None
    power = " KMGT".index(match.group(2).upper() or " ")
    return _scaled(match.group(1), 1024**power)


def _count(text: str) -> tuple[int | None, float | None]:
    """ "7.62 B" -> (7620000000, 5000000.0); "494.03 M" -> (494030000, 5000.0)."""
    match = re.fullmatch(r"([\d.]+)\s*([KMBGT]?)", text.strip(), re.IGNORECASE)
    if not match:
        return None, None
    factor = _COUNT_UNITS.get(match.group(2).lower())
    if factor is None:
        return None, None
    return _scaled(match.group(1), factor)


def _scaled(digits: str, factor: int) -> tuple[int | None, float | None]:
    """A printed number times its unit, and its precision: half the last printed digit's
    place times the unit (None for a plain integer count, which is exact)."""
    number = to_float(digits)
    if number is None or not math.isfinite(number * factor):
        return None, None
    decimals = len(digits.partition(".")[2])
    if factor == 1 and not decimals:
        return round(number), None
    return round(number * factor), 0.5 * 10.0**-decimals * factor


def _rate(text: str) -> tuple[float | None, float | None]:
    """ "7285.68 ± 100.06" -> (7285.68, 100.06)."""
    mean, _, spread = text.replace("+-", "±").partition("±")
    return to_float(mean), to_float(spread) if spread.strip() else None


def _scalar(value: Any) -> Scalar:
    """A JSON value, or csv text read as the number it spells."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d{1,15}", text):
            return int(text)
        if re.fullmatch(r"-?\d+\.\d+(?:[eE][-+]?\d+)?", text):
            return float(text)
        return text
    return json.dumps(value, sort_keys=True)


def _is_auto(value: object) -> bool:
    """llama-bench's "let llama.cpp decide": -1 in csv/json/sql, "auto" in Markdown."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value == -1
    return isinstance(value, str) and value.strip().lower() in {"-1", "auto"}


def _typed(name: str, value: Any) -> Any:
    if name in _INT_FIELDS:
        return to_int(value)
    if name in _FLOAT_FIELDS:
        return to_float(value)
    if name == "flash_attn" and _is_auto(value):
        return "auto"
    if name in _BOOL_FIELDS:
        return to_bool(value)
    if name in _LIST_FIELDS:
        if not isinstance(value, list):
            return None
        convert = to_float if name == "samples_ts" else to_int
        items = [convert(v) for v in value]
        return None if any(i is None for i in items) else items
    if isinstance(value, (dict, list)):
        return None
    return clean(value)


# ---------------------------------------------------------------------------- csv / json


def row_from_record(record: dict[str, Any]) -> BenchRow:
    """A row from one csv/json record (llama-bench's field names)."""
    values: dict[str, Any] = {}
    extra: dict[str, Scalar] = {}
    for key, raw in record.items():
        name = _COLUMN_ALIASES.get(str(key), str(key))
        if name in _FIELDS and name != "test":
            values[name] = _typed(name, raw)
        else:
            extra[str(key)] = _scalar(raw)
    if values.get("backend") is None:
        values["backend"] = _old_backend(record)
    if values.get("build_number") == 0:
        values["build_number"] = None  # llama.cpp's "no git" default: no release is build 0
    row = BenchRow(**values, extra=extra)
    counts = (row.n_prompt, row.n_gen, row.n_depth or 0)
    if counts[0] is not None and counts[1] is not None:
        row.test = bench_test_name(*counts)  # type: ignore[arg-type]
    else:
        row.test = normalise_test(str(record.get("test") or "")) or None
    return row


def _old_backend(record: dict[str, Any]) -> str | None:
    if not any(flag in record for flag, _ in _OLD_BACKEND_FLAGS):
        return None
    names = [name for flag, name in _OLD_BACKEND_FLAGS if to_bool(record.get(flag))]
    gpu = [n for n in dict.fromkeys(names) if n != "BLAS"]
    return ",".join(gpu) or ("BLAS" if names else "CPU")


# Keys of every llama-bench record since its first release (the test's prompt size, the speed).
_MEASURE_KEYS = ("avg_ts", "n_prompt")


def is_bench_record(record: object) -> bool:
    """An object of llama-bench's: it names the test's token counts or its speed (every
    version's csv, json, jsonl and sql records do); another tool's object does not."""
    return isinstance(record, dict) and any(key in record for key in _MEASURE_KEYS)


def _json_records(text: str) -> list[dict[str, Any]] | None:
    """Records of ``-o json`` (an array) or ``-o jsonl`` (one object a line); None if neither."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^\s*\[", text, re.MULTILINE):
        try:
            data, _ = decoder.raw_decode(text, match.start() + len(match.group()) - 1)
        except ValueError:
            continue
        if isinstance(data, list) and data and all(is_bench_record(d) for d in data):
            return data
    records = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("{"):
            continue
        try:
            data = json.loads(stripped)
        except ValueError:
            continue
        if is_bench_record(data):
            records.append(data)
    return records or None


def parse_cut_json(text: str) -> list[BenchRow]:
    """The tests of a ``-o json`` array whose end was never printed (llama-bench was
    stopped): every object printed whole.  llama-bench prints a test's object once all its
    repetitions are done, so a whole object is a complete test; [] when there is none."""
    decoder = json.JSONDecoder()
    match = re.search(r"^\s*\[", text, re.MULTILINE)
    if match is None:
        return []
    records: list[dict[str, Any]] = []
    at = match.end()
    while True:
        at = _skip(text, at, " \t\r\n,")
        try:
            record, at = decoder.raw_decode(text, at)
        except ValueError:
            break  # the object the stop cut short, or the array's end
        if not is_bench_record(record):
            break
        records.append(record)
    return [row_from_record(r) for r in records]


def _skip(text: str, at: int, chars: str) -> int:
    while at < len(text) and text[at] in chars:
        at += 1
    return at


def _is_csv_header(line: str) -> bool:
    header = csv_row(line) or []
    return len(header) > 3 and ("avg_ts" in header or "n_prompt" in header)


def _csv_records(lines: list[str]) -> tuple[list[dict[str, Any]], list[str]] | None:
    """Records of ``-o csv`` and the lines around them; None when there is no csv header."""
    at = next((i for i, line in enumerate(lines) if _is_csv_header(line)), None)
    if at is None:
        return None
    header = csv_row(lines[at]) or []
    records: list[dict[str, Any]] = []
    rest = lines[:at]
    for line in lines[at + 1 :]:
        cells = csv_row(line) or []  # an unreadable line (a 128 KiB field) is not a record
        if len(cells) == len(header):
            records.append(dict(zip(header, cells, strict=True)))
        elif line.strip():
            rest.append(line)
    return records, rest


def _sql_records(text: str) -> list[dict[str, Any]] | None:
    """Records of ``-o sql``: ``INSERT INTO table (col, ...) VALUES ('v', ...);`` lines
    (SQL string literals: single quotes, a doubled quote inside); None when there are none."""
    records = []
    for match in _SQL_INSERT.finditer(text):
        columns = [c.strip() for c in match.group(1).split(",")]
        values = csv_row(
            match.group(2), quotechar="'", doublequote=True, skipinitialspace=True
        ) or []
        if len(values) == len(columns) and ("avg_ts" in columns or "n_prompt" in columns):
            records.append(dict(zip(columns, values, strict=True)))
    return records or None


_SQL_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+\w+\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)\s*;?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


# ------------------------------------------------------------------------------ markdown


def _md_cells(line: str) -> list[str]:
    return [collapse(cell) for cell in line.strip().strip("|").split("|")]


def _md_row(header: list[str], cells: list[str]) -> BenchRow:
    values: dict[str, Any] = {}
    extra: dict[str, Scalar] = {}
    tolerance: dict[str, float] = {}
    for name, cell in zip(header, cells, strict=False):
        key = _MD_ALIASES.get(name, name)
        text = clean(cell)
        if key == "t/s":
            values["avg_ts"], values["stddev_ts"] = _rate(cell)
        elif key == "test":
            values["test"] = normalise_test(cell)
        elif key in ("model_size", "n_params") and text:
            value, precision = (_size_bytes if key == "model_size" else _count)(cell)
            values[key] = value
            if value is not None and precision is not None:
                tolerance[key] = precision
        elif key in _FIELDS:
            values[key] = _typed(key, cell)
        else:
            extra[key] = _scalar(text)
    row = BenchRow(**values, extra=extra, tolerance=tolerance)
    match = _TEST.match(row.test or "")
    if row.test and match and any(match.groups()):
        row.n_prompt, row.n_gen, row.n_depth = (int(g) if g else 0 for g in match.groups())
    return row


def _md_tables(lines: list[str]) -> tuple[list[BenchRow], list[str]]:
    """Rows of every llama-bench table, and the lines that are not part of one."""
    rows: list[BenchRow] = []
    rest: list[str] = []
    header: list[str] | None = None
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith("|"):
            header = None
            rest.append(line)
            continue
        cells = _md_cells(stripped)
        if header is None:
            lowered = [c.lower() for c in cells]
            if "t/s" in lowered and "test" in lowered:
                header = lowered
            else:
                rest.append(line)
        elif not re.fullmatch(r"[|\-:\s]+", stripped):
            rows.append(_md_row(header, cells))
    return rows, rest


# ------------------------------------------------------------------------------- entry


def parse_llama_bench(text: str) -> tuple[list[BenchRow], list[str]]:
    """Rows of llama-bench output in any format, and the log lines around them."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("empty llama-bench output")
    lines = text.splitlines()
    records = _json_records(text)
    if records is not None:
        return [row_from_record(r) for r in records], _non_json(lines)
    found = _csv_records(lines)
    if found is not None and found[0]:
        return [row_from_record(r) for r in found[0]], found[1]
    inserts = _sql_records(text)
    if inserts is not None:
        return [row_from_record(r) for r in inserts], _non_sql(lines)
    rows, rest = _md_tables(lines)
    if not rows:
        raise ParseError("no llama-bench results (md, csv, json or jsonl) found")
    return rows, rest


def _non_sql(lines: list[str]) -> list[str]:
    """Lines outside the CREATE TABLE statement and the INSERTs (log lines, if any)."""
    rest: list[str] = []
    in_create = False
    for line in lines:
        stripped = line.strip()
        if stripped.upper().startswith("CREATE TABLE"):
            in_create = True
        if not in_create and not _SQL_INSERT.match(line):
            rest.append(line)
        if in_create and stripped.endswith(");"):
            in_create = False
    return rest


def _non_json(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.lstrip().startswith(("{", "[", "]", "}", '"'))]


# What a row says of its model, and what it measured: the rest is the point of llama-bench's
# test grid that the row ran.
_MODEL_FIELDS = frozenset({"model_type", "model_filename", "model_size", "n_params"})
_MEASURED_FIELDS = frozenset(
    {"avg_ts", "stddev_ts", "avg_ns", "stddev_ns", "samples_ts", "samples_ns", "test_time"}
)


def grid_point(row: BenchRow) -> tuple[Any, ...]:
    """The test and settings a row ran, apart from its model."""
    skip = _MODEL_FIELDS | _MEASURED_FIELDS | {"extra", "tolerance"}
    names = [f.name for f in attrs.fields(BenchRow) if f.name not in skip]
    own = tuple((name, getattr(row, name)) for name in names)
    return own + tuple(sorted((k, repr(v)) for k, v in row.extra.items()))


def models_by_block(rows: list[BenchRow], models: list[str]) -> list[str | None]:
    """The model file of each row of one llama-bench output, from the ``-m`` list it ran.

    llama-bench runs its whole test grid for each model in turn, in ``-m`` order (the models
    are the outermost loop of its test instances), so the output of n models is n equal
    blocks holding the same tests.  Markdown names no file, and two models of one shape print
    identical rows: their place is what tells them apart.  Any other shape - a run cut short,
    a model that failed to load - names no model (None for every row)."""
    if not models or not rows or len(rows) % len(models):
        return [None] * len(rows)
    size = len(rows) // len(models)
    grid = [grid_point(row) for row in rows[:size]]
    for start in range(size, len(rows), size):
        if [grid_point(row) for row in rows[start : start + size]] != grid:
            return [None] * len(rows)
    return [models[index // size] for index in range(len(rows))]


def _builds(rows: list[BenchRow], rest: list[str]) -> list[LlamaCppBuild]:
    """One llamacpp entry per build the rows name (or the Markdown footer names)."""
    from envstamp.parsers.llamacpp_log import backend_name, build_from_state, read_log

    state = read_log("\n".join(rest))
    logged = build_from_state(state)
    for row in rows:
        if row.build_commit is None and row.build_number is None:
            row.build_commit, row.build_number = logged.commit, logged.build_number
    builds: list[LlamaCppBuild] = []
    for row in rows:
        key = (row.build_commit, row.build_number)
        if key == (None, None) or any((b.commit, b.build_number) == key for b in builds):
            continue
        builds.append(LlamaCppBuild(commit=key[0], build_number=key[1], source="llama-bench"))
    if not builds and (logged.devices or logged.backends):
        builds.append(LlamaCppBuild(source="llama-bench"))
    if builds:
        first = builds[0]
        named = [backend_name(b) for r in rows for b in (r.backend or "").split(",") if b.strip()]
        first.backends = list(dict.fromkeys([*(logged.backends or []), *named])) or None
        first.devices = logged.devices
        first.compiler, first.target = logged.compiler, logged.target
    return builds


def parse_llama_bench_kind(text: str) -> Sections:
    """Kind ``llama-bench``: {"results": [BenchRow...], "llamacpp": [LlamaCppBuild...]}."""
    rows, rest = parse_llama_bench(text)
    sections: Sections = {"results": rows}
    builds = _builds(rows, rest)
    if builds:
        sections["llamacpp"] = builds
    return sections


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "llama-bench": ("parse_llama_bench_kind", "llama-bench output (md, csv, json, jsonl)"),
}
