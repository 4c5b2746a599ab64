"""Builders shared by the diff tests: the base manifests and small edits of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from envstamp.model import Manifest
from envstamp.serialize import manifest_from_json, to_json

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
    path.write_text(to_json(manifest), encoding="utf-8")
    return path


Edit = Callable[[Manifest], Manifest]


def result_log(
    path: Path, manifest: Manifest, tests: list[tuple[str, dict[str, Any], list[float]]]
) -> Path:
    """A real, signed results log: one record per (test name, params, tokens/s samples)."""
    from envstamp import keys, results, sign

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
    from envstamp import keys, results, sign

    key = keys.default_signing_key()
    for manifest, records in runs:
        log = results.ResultLog(path, envelope=sign.sign_manifest(manifest, key), key=key)
        log.write([results.Result(manifest_digest=log.manifest_digest, **r) for r in records])
        log.close()
    return path


def speed(name: str, samples: list[float], **fields: Any) -> dict[str, Any]:
    """A result's fields for a throughput test with its tokens/s samples."""
    from envstamp import results

    return {
        "name": name,
        "metrics": {"tokens_per_s": sum(samples) / len(samples)},
        "metric_samples": {"tokens_per_s": samples},
        "summary": {"tokens_per_s": results.summarize(samples)},
        **fields,
    }
