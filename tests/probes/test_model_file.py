"""The models probe: files, Ollama names resolved to their blobs, hashing, progress (the GGUF
header reader's tests: tests/parsers/test_gguf.py; Ollama names: test_ollama_manifest.py)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from envstamp import runner as runner_module
from envstamp.capturing.capture import capture
from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.probes.llm import model_file
from envstamp.probes.llm.model_file import Progress
from envstamp.probes.registry import PROBES
from envstamp.runner import LiveRunner, ReplayRunner
from tests.gguf_support import ARR, STR, U32, Gguf, llama_file

HOSTS = Path(__file__).parents[1] / "fixtures" / "llamacpp" / "hosts"

# ------------------------------------------------------------------------------ header


# ------------------------------------------------------------------------- the probe


def live(*models: str, progress: bool = False) -> ProbeContext:
    return ProbeContext(
        runner=LiveRunner(), options=CaptureOptions(models=models, progress=progress)
    )


def test_model_file_from_disk_with_sha256_like_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    data = llama_file().file()
    path.write_bytes(data)
    outcome = model_file.probe(live(str(path)))
    assert outcome.status == "ok"
    (model,) = outcome.sections["models"]
    assert model.path == str(path)
    assert model.sha256 == hashlib.sha256(data).hexdigest()
    assert (model.size_bytes, model.format, model.format_version) == (len(data), "gguf", 3)
    assert (model.architecture, model.quantization) == ("llama", "Q4_K_M")
    assert model.name == "Tiny Llama 1B"
    assert model.parameters == 64 * 300 + 64


def test_big_vocabulary_header_is_read_in_growing_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_file, "FIRST_READ", 4096)
    g = llama_file()
    g.add("tokenizer.ggml.merges", ARR, (STR, [f"m{i} x{i}" for i in range(20000)]))
    path = tmp_path / "big.gguf"
    path.write_bytes(g.file())
    reads: list[tuple[int, int]] = []
    original = LiveRunner.read_bytes

    def counting(self: LiveRunner, p: Any, offset: int, length: int) -> bytes | None:
        reads.append((offset, length))
        return original(self, p, offset, length)

    monkeypatch.setattr(LiveRunner, "read_bytes", counting)
    (model,) = model_file.probe(live(str(path))).sections["models"]
    assert model.quantization == "Q4_K_M"
    assert len(reads) <= 6  # the prefix grows fourfold each time
    assert sum(length for _, length in reads) <= path.stat().st_size
    assert [offset for offset, _ in reads] == sorted({offset for offset, _ in reads})


def test_header_beyond_the_cap_keeps_the_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = llama_file()
    path = tmp_path / "m.gguf"
    path.write_bytes(g.file())
    cap = len(g.header()) - 10  # the tensor infos end past the cap
    monkeypatch.setattr(model_file, "HEADER_CAP", cap)
    monkeypatch.setattr(model_file, "FIRST_READ", 64)
    (model,) = model_file.probe(live(str(path))).sections["models"]
    assert (model.architecture, model.parameters) == ("llama", None)


def test_truncated_gguf_is_a_probe_error_with_size_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(llama_file().header()[:100])
    outcome = model_file.probe(live(str(path)))
    assert outcome.status == "error"
    assert outcome.detail is not None and "malformed GGUF" in outcome.detail
    (model,) = outcome.sections["models"]
    assert model.format is None and model.size_bytes == 100 and model.sha256 is not None


def test_not_a_gguf_file_is_hashed_without_complaint(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"{}" * 10)
    outcome = model_file.probe(live(str(path)))
    assert outcome.status == "ok"
    assert outcome.sections["models"][0].format is None


def test_missing_file_folder_and_no_models(tmp_path: Path) -> None:
    outcome = model_file.probe(live(str(tmp_path / "nope.gguf"), str(tmp_path)))
    assert outcome.status == "absent"  # the first failure decides
    assert outcome.detail is not None
    assert "not found" in outcome.detail and "folder" in outcome.detail
    assert outcome.sections == {}
    with pytest.raises(ProbeFailure) as failure:
        model_file.probe(live())
    assert failure.value.status == "unsupported"


def test_second_capture_takes_the_hash_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(llama_file().file())
    first = model_file.probe(live(str(path))).sections["models"][0].sha256
    stamp = path.stat()
    path.write_bytes(bytes(stamp.st_size))  # same size ...
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # ... and mtime: not re-read
    runner_module.reset()  # as a new process would
    assert model_file.probe(live(str(path))).sections["models"][0].sha256 == first


def test_progress_meter_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(model_file, "PROGRESS_FROM_BYTES", 0)
    path = tmp_path / "m.gguf"
    path.write_bytes(llama_file().file())
    model_file.probe(live(str(path), progress=True))
    err = capsys.readouterr().err
    assert "\rhashing m.gguf: 100.0%" in err
    assert err.endswith("\r")  # the line is wiped afterwards


def test_progress_is_throttled() -> None:
    stream = io.StringIO()
    meter = Progress("x", stream)
    for done in range(0, 1000):
        meter(done, 10_000)
    meter(10_000, 10_000)
    meter.close()
    assert 1 <= stream.getvalue().count("hashing x") <= 3
    assert "100.0%" in stream.getvalue()


# ------------------------------------------------------------------------------ Ollama


def ollama_store(root: Path, data: bytes, name: str = "qwen2.5", tag: str = "7b") -> str:
    digest = hashlib.sha256(data).hexdigest()
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / name / tag
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.license", "digest": "sha256:" + "0" * 64},
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + digest},
    ]}))  # fmt: skip
    (root / "blobs").mkdir()
    (root / "blobs" / f"sha256-{digest}").write_bytes(data)
    return digest


def test_ollama_name_resolves_to_its_blob_without_rehashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = Gguf().add("general.architecture", STR, "qwen2").add("general.file_type", U32, 15).file()
    digest = ollama_store(tmp_path / "models", data)
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "models"))

    def no_hashing(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an Ollama blob is not hashed again")

    monkeypatch.setattr(LiveRunner, "sha256_file", no_hashing)
    outcome = model_file.probe(live("qwen2.5:7b"))
    (model,) = outcome.sections["models"]
    assert model.sha256 == digest
    assert model.name == "qwen2.5:7b"
    assert model.path == str(tmp_path / "models" / "blobs" / f"sha256-{digest}")
    assert (model.architecture, model.quantization) == ("qwen2", "Q4_K_M")
    assert model.size_bytes == len(data)


def test_unknown_ollama_model_is_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    outcome = model_file.probe(live("nosuchmodel:1b"))
    assert outcome.status == "absent"
    assert outcome.detail == "nosuchmodel:1b: not a file, nor an installed Ollama model"


# ---------------------------------------------------------------------- recorded hosts


def test_replayed_ollama_model_on_macos() -> None:
    ctx = ProbeContext(
        runner=ReplayRunner(HOSTS / "macos-brew-metal-ollama"),
        options=CaptureOptions(models=("llama3.2:3b",)),
    )
    (model,) = model_file.probe(ctx).sections["models"]
    assert model.name == "llama3.2:3b"
    assert model.sha256 == "dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff"
    assert model.parameters == 3072 * 128256 + 3072


def test_replayed_truncated_model_on_windows() -> None:
    ctx = ProbeContext(
        runner=ReplayRunner(HOSTS / "windows-vulkan-release"),
        options=CaptureOptions(models=("C:\\models\\cut.gguf",)),
    )
    outcome = model_file.probe(ctx)
    assert outcome.status == "error"
    assert outcome.sections["models"][0].size_bytes == 60


def test_hashing_may_outlive_the_capture_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(llama_file().file())
    original = model_file.describe_model

    def slow(ctx: ProbeContext, given: str) -> Any:
        time.sleep(0.4)
        return original(ctx, given)

    monkeypatch.setattr(model_file, "describe_model", slow)
    others = frozenset(spec.name for spec in PROBES if spec.name != "models")
    manifest = capture(CaptureOptions(models=(str(path),), deadline=0.1, skip=others))
    record = next(r for r in manifest.probes if r.name == "models")
    assert record.status == "ok"
    assert manifest.models[0].quantization == "Q4_K_M"
