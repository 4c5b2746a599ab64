"""llama-bench's results in llama-bench's own SQL layout, so llama.cpp's tools read them.

``llama-bench -o sql`` writes a table ``llama_bench`` (``test`` before mid-2025); llama.cpp's
``scripts/compare-llama-bench.py`` compares two builds from such a database.  envstamp's export
writes the same table from stamped ``run:llama-bench`` results, so a comparison of builds that
envstamp stamped needs no other tool.  The columns and their SQL types are those of the
newest layout llama-bench printed (tests/fixtures/llamacpp-real/*/bench.sql holds both
layouts as llama-bench wrote them).

What llama-bench wrote but a result does not keep comes from the manifest: the build's commit
and number (envstamp knows them even where a build printed ``unknown``), the CPU and GPU
names, the backends.  Where a build's llama-bench predates an option that the comparison
script pairs tests by (``KEY_DEFAULTS``), the row holds the value a later llama-bench prints
for its default: before the option existed every test ran that way, and without it no test
of an older build would pair with a newer one's.  The ``results`` table keeps such a value
unknown (empty)."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from envstamp.exporting.table import Scalar, build_that_ran

if TYPE_CHECKING:
    from envstamp.manifest.model import LlamaCppBuild
    from envstamp.stamping.results import Result

TABLE = "llama_bench"
ORIGIN = "run:llama-bench"

# (column, SQL type), in llama-bench's order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("build_commit", "TEXT"),
    ("build_number", "INTEGER"),
    ("cpu_info", "TEXT"),
    ("gpu_info", "TEXT"),
    ("backends", "TEXT"),
    ("model_filename", "TEXT"),
    ("model_type", "TEXT"),
    ("model_size", "INTEGER"),
    ("model_n_params", "INTEGER"),
    ("n_batch", "INTEGER"),
    ("n_ubatch", "INTEGER"),
    ("n_threads", "INTEGER"),
    ("cpu_mask", "TEXT"),
    ("cpu_strict", "INTEGER"),
    ("poll", "INTEGER"),
    ("type_k", "TEXT"),
    ("type_v", "TEXT"),
    ("n_gpu_layers", "INTEGER"),
    ("n_cpu_moe", "INTEGER"),
    ("split_mode", "TEXT"),
    ("main_gpu", "INTEGER"),
    ("no_kv_offload", "INTEGER"),
    ("flash_attn", "INTEGER"),
    ("devices", "TEXT"),
    ("tensor_split", "TEXT"),
    ("tensor_buft_overrides", "TEXT"),
    ("load_mode", "TEXT"),
    ("lazy_mode", "TEXT"),
    ("embeddings", "INTEGER"),
    ("no_op_offload", "INTEGER"),
    ("no_host", "INTEGER"),
    ("repack", "INTEGER"),
    ("fit_target", "INTEGER"),
    ("fit_min_ctx", "INTEGER"),
    ("n_prompt", "INTEGER"),
    ("n_gen", "INTEGER"),
    ("n_depth", "INTEGER"),
    ("test_time", "TEXT"),
    ("avg_ns", "INTEGER"),
    ("stddev_ns", "INTEGER"),
    ("avg_ts", "REAL"),
    ("stddev_ts", "REAL"),
)
# Options that later llama-bench versions added, with the value they print by default: what
# every test of an earlier build ran with.
KEY_DEFAULTS: dict[str, Scalar] = {
    "n_cpu_moe": 0,
    "tensor_buft_overrides": "none",
    "load_mode": "auto",
    "fit_target": 0,
    "fit_min_ctx": 0,
}
# Result parameters under another name than llama-bench's column.
_PARAM_OF = {"model_n_params": "n_params", "backends": "backend", "model_filename": "model"}
# Filled from the manifest or the result's own numbers, not from a parameter.
_DERIVED = frozenset(
    {"build_commit", "build_number", "cpu_info", "gpu_info", "test_time",
     "avg_ns", "stddev_ns", "avg_ts", "stddev_ts"}
)  # fmt: skip


def is_llama_bench(result: Result) -> bool:
    return result.origin == ORIGIN and not result.failed


def llama_bench_row(result: Result) -> dict[str, Scalar]:
    """The row llama-bench's ``-o sql`` would have written for this test, as far as known."""
    row: dict[str, Scalar] = {}
    for column, sql_type in COLUMNS:
        if column in _DERIVED:
            continue
        value = result.params.get(_PARAM_OF.get(column, column))
        if value is None:
            value = KEY_DEFAULTS.get(column)
        row[column] = _as_sql(value, sql_type)
    row.update(_from_manifest(result))
    row.update(_speeds(result))
    row["test_time"] = result.at
    return row


def _from_manifest(result: Result) -> dict[str, Scalar]:
    manifest = result.manifest
    if manifest is None:
        return {"build_commit": None, "build_number": None, "cpu_info": None, "gpu_info": None}
    build = build_that_ran(manifest, result)
    told: dict[str, Scalar] = {
        "build_commit": _commit(build.commit if build else None, manifest.identity_digest),
        "build_number": build.build_number if build else None,
        "cpu_info": manifest.cpu.model_name,
        "gpu_info": _gpu_info(build),
    }
    if build is not None and build.backends and result.params.get("backend") is None:
        told["backends"] = ",".join(build.backends)
    return told


def _gpu_info(build: LlamaCppBuild | None) -> str | None:
    """The GPUs the build itself reported (its devices), joined with ", " as llama-bench does;
    "" when it reported none (a CPU build, even on a machine with GPUs)."""
    if build is None:
        return None
    gpus = [d.name for d in build.devices if d.name and (d.backend or "").upper() != "CPU"]
    return ", ".join(gpus)


def _commit(commit: str | None, identity_digest: str | None) -> str | None:
    """The build's commit; for a build that does not know it (built without git: llama-bench
    prints "unknown"), "?" and 8 hex digits of the setup's identity digest, so that two such
    builds stay apart.  Nine characters, like llama.cpp's short commits: the comparison
    script cuts every commit to the shortest length it finds."""
    if commit:
        return commit
    if identity_digest:
        return "?" + identity_digest.removeprefix("sha256:")[:8]
    return None


def _speeds(result: Result) -> dict[str, Scalar]:
    """Mean and spread of tokens/s and of a test's time, as llama-bench reports them: from the
    samples where the result kept them, else from the statistics llama-bench printed."""
    speed = result.summary.get("tokens_per_s")
    wall = result.summary.get("wall_s")
    samples_ts = result.metric_samples.get("tokens_per_s", [])
    return {
        "avg_ts": result.metrics.get("tokens_per_s"),
        "stddev_ts": _stddev(samples_ts) if samples_ts else (speed.stddev if speed else None),
        "avg_ns": _ns(_mean(result.wall_s) if result.wall_s else (wall.mean if wall else None)),
        "stddev_ns": _ns(
            _stddev(result.wall_s) if result.wall_s else (wall.stddev if wall else None)
        ),
    }


def _as_sql(value: object, sql_type: str) -> Scalar:
    """A parameter as llama-bench's column holds it: booleans as 0/1, flash attention's
    "auto" as -1 (its value since llama-bench made it a three-way choice)."""
    if value is None:
        return None
    if sql_type == "INTEGER":
        if value == "auto":
            return -1
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return int(value)
        return None
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, (str, int, float)) else str(value)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _stddev(values: list[float]) -> float | None:
    """Sample standard deviation (n-1), as llama-bench computes it; None under two samples."""
    return statistics.stdev(values) if len(values) > 1 else None


def _ns(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1e9)
