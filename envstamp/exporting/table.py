"""One row per stamped result (or per sample), its setup's key fields flattened beside it.

A row is a flat mapping of column name to a JSON scalar: what a spreadsheet, DuckDB or Polars
reads without knowing envstamp.  The setup columns say which machine and software a number
came from (CPU, GPUs and driver, runtimes, the llama.cpp build that ran, frontends and their
bundled engines, the model, the power state), the digest of the manifest and who vouches
for it.  Unknown is an empty cell (None), never 0.  Column names are stable: fixed ones first,
then ``param.<name>`` and ``metric.<name>`` of whatever the results carry, sorted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from envstamp.manifest.model import LlamaCppBuild, Manifest, ModelFile
    from envstamp.stamping.results import Result

Scalar = str | int | float | bool | None
Row = dict[str, Scalar]
SetupKey = tuple[str, tuple[str, ...] | None, str, str | None]  # see setup_key

RESULT_COLUMNS = (
    "log",
    "position",
    "name",
    "origin",
    "at",
    "failed",
    "exit_code",
    "exit_signal",
    "repetitions",
    "wall_s",
    "wall_s_stddev",
)
SAMPLE_COLUMNS = ("sample", "sample_wall_s")
SETUP_COLUMNS = (
    "identity_digest",
    "manifest_digest",
    "captured_at",
    "signature",
    "signers",
    "os",
    "kernel",
    "arch",
    "cpu_model",
    "cpu_logical",
    "cpu_governor",
    "memory_total_bytes",
    "gpu_count",
    "gpu_names",
    "gpu_driver",
    "gpu_power_limit_w",
    "cuda_driver",
    "cuda_toolkit",
    "rocm",
    "hip",
    "vulkan",
    "metal",
    "llamacpp_version",
    "llamacpp_build",
    "llamacpp_commit",
    "llamacpp_backends",
    "frontends",
    "bundled_engines",
    "model_name",
    "model_quantization",
    "model_sha256",
    "power_ac_online",
    "power_profile",
)
LIST_SEPARATOR = "; "  # between the items of a multi-valued cell ("GPU A; GPU B")


def signature_state(result: Result) -> tuple[str, str | None]:
    """("verified", keyids) when trusted signed heads cover the result, ("unsigned", None)
    when none does, ("not checked", None) when no trusted key could check it."""
    if result.signed_by is None:
        return "not checked", None
    if not result.signed_by:
        return "unsigned", None
    return "verified", LIST_SEPARATOR.join(result.signed_by)


def setup_columns(manifest: Manifest | None, result: Result) -> Row:
    """The setup a result ran under, flattened (its manifest, the build it ran, its model)."""
    signature, signers = signature_state(result)
    row: Row = dict.fromkeys(SETUP_COLUMNS)
    row.update(manifest_digest=result.manifest_digest, signature=signature, signers=signers)
    if manifest is None:
        return row
    row.update(_system_columns(manifest))
    row.update(_build_columns(build_that_ran(manifest, result)))
    row.update(_frontend_columns(manifest))
    row.update(_model_columns(model_that_ran(manifest, result)))
    return row


def _system_columns(manifest: Manifest) -> Row:
    gpus = manifest.gpus
    os_ = manifest.os
    return {
        "identity_digest": manifest.identity_digest,
        "captured_at": manifest.captured_at,
        "os": os_.distro_pretty
        or _joined([os_.distro_name, os_.distro_version], " ")
        or os_.system,
        "kernel": os_.kernel,
        "arch": os_.arch,
        "cpu_model": manifest.cpu.model_name,
        "cpu_logical": manifest.cpu.logical_cpus,
        "cpu_governor": manifest.cpu.governor,
        "memory_total_bytes": manifest.memory.total_bytes,
        "gpu_count": len(gpus),
        "gpu_names": _joined(g.name for g in gpus),
        "gpu_driver": _joined(_distinct(g.driver_version for g in gpus)),
        "gpu_power_limit_w": _joined(_distinct(_number(g.power_limit_w) for g in gpus)),
        "cuda_driver": manifest.runtimes.cuda_driver,
        "cuda_toolkit": manifest.runtimes.cuda_toolkit,
        "rocm": manifest.runtimes.rocm,
        "hip": manifest.runtimes.hip,
        "vulkan": manifest.runtimes.vulkan_instance,
        "metal": manifest.runtimes.metal,
        "power_ac_online": manifest.power.ac_online,
        "power_profile": manifest.power.power_profile or manifest.power.platform_profile,
    }


def _build_columns(build: LlamaCppBuild | None) -> Row:
    if build is None:
        return {}
    return {
        "llamacpp_version": build.version,
        "llamacpp_build": build.build_number,
        "llamacpp_commit": build.commit,
        "llamacpp_backends": _joined(build.backends or ()),
    }


def _frontend_columns(manifest: Manifest) -> Row:
    """Every frontend found, "name version", and the engine each bundles where it told."""
    names: list[str] = []
    engines: list[str] = []
    for name, entry in _frontends(manifest):
        version = _version_of(entry)
        names.append(f"{name} {version}" if version else name)
        engine = getattr(entry, "engine", None)
        if engine is not None:
            told = [engine.name or "engine", engine.version, _build(engine.build_number),
                    engine.commit, engine.backend]  # fmt: skip
            engines.append(f"{name}: " + " ".join(str(part) for part in told if part))
    return {"frontends": _joined(names), "bundled_engines": _joined(engines)}


def _model_columns(model: ModelFile | None) -> Row:
    if model is None:
        return {}
    return {
        "model_name": model.name,
        "model_quantization": model.quantization,
        "model_sha256": model.sha256,
    }


def build_that_ran(manifest: Manifest, result: Result) -> LlamaCppBuild | None:
    """The llama.cpp build whose program the result's command ran (matched by path, then by
    program folder), or the only build the manifest holds; None when it cannot be told."""
    builds = manifest.llamacpp
    program = result.command[0] if result.command else None
    if program:
        for build in builds:
            if build.path and _same_path(build.path, program):
                return build
        folder = _folder(program)
        in_folder = [b for b in builds if b.path and _folder(b.path) == folder]
        if len(in_folder) == 1:
            return in_folder[0]
    return builds[0] if len(builds) == 1 else None


def model_that_ran(manifest: Manifest, result: Result) -> ModelFile | None:
    """The model file the result names (its ``model`` parameter, by path or file name), or
    the only model the manifest holds."""
    models = manifest.models
    named = result.params.get("model")
    if isinstance(named, str) and named:
        for model in models:
            if model.path and (_same_path(model.path, named) or _name(model.path) == _name(named)):
                return model
            if model.name == named:
                return model
    return models[0] if len(models) == 1 else None


def result_columns(result: Result, *, log: str, position: int) -> Row:
    """What the result itself says: where it is, what ran, how it ended, its wall time."""
    wall = result.summary.get("wall_s")
    return {
        "log": log,
        "position": position,
        "name": result.name,
        "origin": result.origin,
        "at": result.at,
        "failed": result.failed,
        "exit_code": result.exit_code,
        "exit_signal": result.exit_signal,
        "repetitions": len(result.wall_s) or (wall.n if wall is not None else None),
        "wall_s": _mean(result.wall_s) if result.wall_s else (wall.mean if wall else None),
        "wall_s_stddev": wall.stddev if wall is not None else None,
    }


def value_columns(result: Result) -> Row:
    """``param.<name>`` for each parameter, ``metric.<name>`` (the mean) and
    ``metric.<name>_stddev`` where the metric's spread is known."""
    row: Row = {
        f"param.{k}": v if v.__class__ in _SCALAR_TYPES else _scalar(v)
        for k, v in result.params.items()
    }
    for name, value in result.metrics.items():
        row[f"metric.{name}"] = value
        stats = result.summary.get(name)
        if stats is not None:
            row[f"metric.{name}_stddev"] = stats.stddev
    return row


def rows_of(
    results: Sequence[Result], *, log: str, samples: bool = False, setups: dict[SetupKey, Row]
) -> Iterator[Row]:
    """The rows of one log's results: one per result, or one per sample with ``samples``.

    ``setups`` caches the setup columns by what they are made of (manifest, signers, the
    program and the model the result names: a log holds many results of few setups); the
    caller owns it, so nothing outlives one export."""
    for position, result in enumerate(results):
        key = setup_key(result)
        setup = setups.get(key)
        if setup is None:
            setup = setups[key] = setup_columns(result.manifest, result)
        row = result_columns(result, log=log, position=position)
        row.update(value_columns(result))
        if not samples:
            row.update(setup)  # the setup's columns last, as in every row
            yield row
            continue
        yield from _sample_rows(result, row, setup)


def setup_key(result: Result) -> SetupKey:
    """What :func:`setup_columns` reads of a result besides its manifest (named by its
    digest): its signers, the program it ran, the model it names."""
    named = result.params.get("model")
    return (
        result.manifest_digest,
        result.signed_by,
        _command_key(result),
        named if isinstance(named, str) and named else None,
    )


def _sample_rows(result: Result, base: Row, setup: Row) -> Iterator[Row]:
    """One row per repetition: its wall time and each metric's value in that repetition."""
    count = max([len(result.wall_s), *(len(v) for v in result.metric_samples.values())])
    if count == 0:
        yield {**base, "sample": None, "sample_wall_s": None, **setup}
        return
    for index in range(count):
        row: Row = {**base, "sample": index, "sample_wall_s": _at(result.wall_s, index)}
        for name, values in result.metric_samples.items():
            row[f"sample.{name}"] = _at(values, index)
        yield {**row, **setup}


def columns_of(rows: Iterable[Row], *, samples: bool = False) -> list[str]:
    """Every column the rows use: the fixed ones in their order, then the others sorted."""
    fixed = [*RESULT_COLUMNS, *(SAMPLE_COLUMNS if samples else ()), *SETUP_COLUMNS]
    extra: set[str] = set()
    for row in rows:
        extra.update(row)
    return fixed + sorted(extra.difference(fixed))


def columns_of_results(results: Iterable[Result]) -> list[str]:
    """``columns_of`` the rows :func:`rows_of` makes of ``results`` (one per result), without
    making them: a row's result and setup columns are fixed ones, so only its value columns
    add any."""
    return columns_of(value_columns(result) for result in results)


# ----------------------------------------------------------------------------- helpers


def _frontends(manifest: Manifest) -> Iterator[tuple[str, object]]:
    section = manifest.frontends
    for field in attrs.fields(type(section)):
        entry = getattr(section, field.name)
        if entry is not None:
            yield field.name, entry


def _version_of(entry: object) -> str | None:
    for name in ("version", "app_version", "server_version", "client_version", "cli_version"):
        value = getattr(entry, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _build(number: int | None) -> str | None:
    return f"b{number}" if number is not None else None


def _command_key(result: Result) -> str:
    return result.command[0] if result.command else ""


def _joined(values: Iterable[object], separator: str = LIST_SEPARATOR) -> str | None:
    parts = [str(v) for v in values if v is not None and v != ""]
    return separator.join(parts) if parts else None


def _distinct(values: Iterable[object]) -> list[object]:
    return list(dict.fromkeys(v for v in values if v is not None))


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _scalar(value: object) -> Scalar:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _at(values: Sequence[float], index: int) -> float | None:
    return values[index] if index < len(values) else None


def _same_path(a: str, b: str) -> bool:
    return _pure(a) == _pure(b)


def _pure(path: str) -> PurePosixPath | PureWindowsPath:
    return PureWindowsPath(path) if "\\" in path else PurePosixPath(path)


def _folder(path: str) -> str:
    return str(_pure(path).parent)


def _name(path: str) -> str:
    return _pure(path).name
