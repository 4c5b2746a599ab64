"""Results logs of the two real llama.cpp builds, stamped the way ``envstamp run`` stamps them.

A fake ``llama-bench`` prints what each real build printed (tests/fixtures/llamacpp-real,
recorded by scripts/record-llamacpp-fixtures); the capture is a small hand-made manifest
naming that build (its path, commit and build number as the build's own --version told
them; the older build was built without git and does not know its commit)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from envstamp.manifest.model import LlamaCppBuild, ModelFile
from envstamp.stamping import timing
from tests.cli.test_run_command import envstamp_run, make_tool
from tests.timing_support import make_manifest

REAL = Path("..") / "llamacpp-real"
NEW, OLD = "0.5.0-dev-0c1e57098", "b5308-8733e0cf6"
BUILDS = {
    NEW: LlamaCppBuild(version="0.5.0-dev", commit="0c1e57098", backends=["CPU"]),
    OLD: LlamaCppBuild(version=None, commit=None, backends=["CPU"]),
}
MODEL = ModelFile(name="tiny", path="tiny.gguf", quantization="F16", sha256="da45be0b" * 8)


def stamped_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: str, output: str = "bench.json"
) -> Path:
    """A results log of one real llama-bench output of ``build``, run through envstamp run."""
    folder = tmp_path / build / "bin"
    folder.parent.mkdir(parents=True, exist_ok=True)
    tool = make_tool(folder, "llama-bench", stdout=str(REAL / build / output))
    described = BUILDS[build]
    manifest = make_manifest(llamacpp=[attrs.evolve(described, path=str(tool))], models=[MODEL])
    monkeypatch.setattr(timing, "_capture", lambda options, runner: manifest)
    log = tmp_path / f"{build}.jsonl"
    code = envstamp_run("-q", "-o", str(log), "--", str(tool), "-m", "tiny.gguf")
    assert code == 0
    return log
