"""Builders shared by the diff tests: the base manifests and small edits of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from envstamp.manifest.model import LlamaCppBuild, Manifest
from envstamp.manifest.serialize import manifest_from_json, structure, to_json, with_digest

DIFF_FIXTURES = Path(__file__).parent / "fixtures" / "diff"
WORKSTATION = DIFF_FIXTURES / "workstation-b3447.json"
RENDER_NODE = DIFF_FIXTURES / "render-node-b4589.json"
OLDER = DIFF_FIXTURES / "older-envstamp-0.0.9.json"
NEWER_MAJOR = DIFF_FIXTURES / "newer-major-schema.json"
NOT_A_MANIFEST = DIFF_FIXTURES / "not-a-manifest.json"
TOOL_OUTPUT = DIFF_FIXTURES / "nvidia-smi-list.txt"


def load(path: Path) -> Manifest:
    return manifest_from_json(path.read_bytes(), what=path.name)


def base() -> Manifest:
    """The RTX 4090 workstation every planted difference starts from."""
    return load(WORKSTATION)


def edit(manifest: Manifest, section: str, **changes: Any) -> Manifest:
    """The manifest with fields of one section (an attrs object) changed."""
    return attrs.evolve(manifest, **{section: attrs.evolve(getattr(manifest, section), **changes)})


def edit_gpu(manifest: Manifest, index: int = 0, **changes: Any) -> Manifest:
    gpus = list(manifest.gpus)
    gpus[index] = attrs.evolve(gpus[index], **changes)
    return attrs.evolve(manifest, gpus=gpus)


def edit_build(manifest: Manifest, index: int = 0, **changes: Any) -> Manifest:
    builds = list(manifest.llamacpp)
    builds[index] = attrs.evolve(builds[index], **changes)
    return attrs.evolve(manifest, llamacpp=builds)


def edit_volatile_gpu(manifest: Manifest, index: int = 0, **changes: Any) -> Manifest:
    states = list(manifest.volatile.gpus)
    states[index] = attrs.evolve(states[index], **changes)
    return attrs.evolve(manifest, volatile=attrs.evolve(manifest.volatile, gpus=states))


def write(manifest: Manifest, path: Path) -> Path:
    # As a capture writes it: with the identity digest of what it holds (an edited manifest
    # that keeps its old digest reads as "edited after capture").
    path.write_text(to_json(with_digest(manifest)), encoding="utf-8")
    return path


Edit = Callable[[Manifest], Manifest]


def result_log(
    path: Path, manifest: Manifest, tests: list[tuple[str, dict[str, Any], list[float]]]
) -> Path:
    """A real, signed results log: one record per (test name, params, tokens/s samples)."""
    from envstamp.signing import keys, sign
    from envstamp.stamping import results

    key = keys.default_signing_key()
    log = results.ResultLog(path, envelope=sign.sign_manifest(manifest, key), key=key)
    records = []
    for name, params, samples in tests:
        walls = [128 / s for s in samples]
        records.append(
            results.Result(
                manifest_digest=log.manifest_digest,
                name=name,
                params=params,
                metrics={"tokens_per_s": sum(samples) / len(samples)},
                metric_samples={"tokens_per_s": samples} if len(samples) > 1 else {},
                wall_s=walls,
                summary={"tokens_per_s": results.summarize(samples),
                         "wall_s": results.summarize(walls)},
            )
        )
    log.write(records)
    log.close()
    return path


def write_log(path: Path, runs: list[tuple[Manifest, list[dict[str, Any]]]]) -> Path:
    """A real, signed results log with one writer per (manifest, results): each run appends
    its manifest line and its results, as ``envstamp run`` under a new setup does.  Each
    result is given as the keyword arguments of ``Result`` (its digest is filled in)."""
    from envstamp.signing import keys, sign
    from envstamp.stamping import results

    key = keys.default_signing_key()
    for manifest, records in runs:
        log = results.ResultLog(path, envelope=sign.sign_manifest(manifest, key), key=key)
        log.write([results.Result(manifest_digest=log.manifest_digest, **r) for r in records])
        log.close()
    return path


def speed(name: str, samples: list[float], **fields: Any) -> dict[str, Any]:
    """A result's fields for a throughput test with its tokens/s samples."""
    from envstamp.stamping import results

    return {
        "name": name,
        "metrics": {"tokens_per_s": sum(samples) / len(samples)},
        "metric_samples": {"tokens_per_s": samples},
        "summary": {"tokens_per_s": results.summarize(samples)},
        **fields,
    }


# ------------------------------------------------- real llama.cpp builds and outputs

BENCH = DIFF_FIXTURES / "llama-bench-0c1e570"
BUILDS = DIFF_FIXTURES / "cpu-builds"
COMMAND = ["llama-bench", "-m", "tiny.gguf", "-r", "3", "-p", "64", "-n", "16"]
# Precision of the Markdown table's rounded values, read off pp64-tg16-r3.md: "0.29 MiB" is
# known to half its last digit (0.005 MiB = 5242.88 bytes), "0.15 M" to 0.005 M = 5000.
MD_TOLERANCE = {"model_size": 5242.88, "n_params": 5000.0}


def bench_results(text: str, *, markdown: bool) -> list[dict[str, Any]]:
    """Results of one llama-bench output, shaped as ``envstamp run`` stores them: one per
    test (origin run:llama-bench) and the wrapper's whole-process result after them."""
    from envstamp.cli.run import BENCH_PARAMS
    from envstamp.parsers.llama_bench import parse_llama_bench

    rows, _ = parse_llama_bench(text)
    found = []
    for row in rows:
        params = {k: getattr(row, k) for k in BENCH_PARAMS if getattr(row, k) is not None}
        fields: dict[str, Any] = {"origin": "run:llama-bench", "command": COMMAND,
                                  "exit_code": 0, "output_digest": "sha256:" + "0" * 64}
        if markdown:
            params["n_reps"] = 3
            found.append({"name": row.test, "params": params,
                          "metrics": {"tokens_per_s": row.avg_ts, "stddev_ts": row.stddev_ts},
                          "param_tolerance": dict(MD_TOLERANCE), **fields})
        else:
            assert row.test is not None and row.samples_ts is not None
            found.append(speed(row.test, list(row.samples_ts), params=params, **fields))
    wrapper = {"name": "llama-bench", "origin": "run", "command": COMMAND, "exit_code": 0,
               "output_digest": "sha256:" + "0" * 64, "wall_s": [0.21, 0.2, 0.22]}
    return [*found, wrapper]


def cpu_build(name: str) -> LlamaCppBuild:
    """One of the two real CPU builds of fixtures/diff/cpu-builds."""
    data = json.loads((BUILDS / name).read_text(encoding="utf-8"))
    return structure(data, LlamaCppBuild)


def with_build(build: LlamaCppBuild, manifest: Manifest | None = None) -> Manifest:
    """The workstation manifest (or ``manifest``) with this one llama.cpp build."""
    return attrs.evolve(manifest or base(), llamacpp=[build])
