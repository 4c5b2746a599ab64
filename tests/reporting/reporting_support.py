"""Hand-made results logs for the report and trend tests.

Each log is written by a real Recorder (signed, hash-chained) on a small hand-made manifest
(tests/timing_support.make_manifest) naming one llama.cpp build; the numbers are chosen so that
each test's outcome (a step beyond noise, one within it) is known in advance.  Real outputs of
the two real llama.cpp builds are stamped by tests/exporting/export_support.stamped_log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envstamp.manifest.model import LlamaCppBuild, Manifest
from tests.timing_support import make_manifest, open_recorder

BENCH = "/opt/llama.cpp/build/bin/llama-bench"


def build_manifest(
    number: int | None,
    commit: str | None = None,
    *,
    captured_at: str = "2025-03-01T09:00:00.000Z",
    **sections: Any,
) -> Manifest:
    """The workstation of timing_support with one llama.cpp build (number and commit)."""
    import attrs

    from envstamp.manifest.serialize import with_digest

    build = LlamaCppBuild(path=BENCH, build_number=number, commit=commit, backends=["Vulkan"])
    manifest = make_manifest(llamacpp=[build], **sections)
    return with_digest(attrs.evolve(manifest, captured_at=captured_at))


def write_log(
    path: Path,
    manifest: Manifest,
    tests: Mapping[str, Sequence[float]],
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """A log of one result per test: its tokens/s samples (one value: a single reading)."""
    with open_recorder(path, manifest=manifest) as rec:
        for name, samples in tests.items():
            extra = dict((params or {}).get(name, {}))
            if len(samples) == 1:
                rec.record(name, metrics={"tokens_per_s": samples[0]}, params=extra)
            else:
                rec.record(name, metric_samples={"tokens_per_s": list(samples)}, params=extra)
    return path
