"""scripts/make-tiny-gguf writes a real, reproducible GGUF that envstamp's own reader reads.

That llama.cpp loads and runs it is proven by the end-to-end tests (tests/e2e/test_llamacpp_e2e.py)
and the recorded fixtures (tests/fixtures/llamacpp-real/); this module checks the file itself.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from envstamp.parsers.gguf import read_header

SCRIPT = Path(__file__).parents[2] / "scripts" / "make-tiny-gguf"

try:
    import gguf  # noqa: F401

    HAVE_GGUF = True
except ImportError:
    HAVE_GGUF = False

needs_gguf = pytest.mark.skipif(
    not HAVE_GGUF,
    reason="the gguf package writes the model (pip install gguf); envstamp does not need it",
)


def make(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path), *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_gguf
def test_tiny_model_header_says_llama_and_its_sizes(tmp_path: Path) -> None:
    out = tmp_path / "tiny.gguf"
    done = make(out)
    assert done.returncode == 0, done.stderr
    header = read_header(out.read_bytes())
    assert header.architecture == "llama"
    assert header.quantization == "F16"
    meta = header.metadata
    assert (meta["llama.embedding_length"], meta["llama.block_count"]) == (64, 2)
    assert (meta["llama.attention.head_count"], meta["llama.attention.head_count_kv"]) == (4, 2)
    assert meta["tokenizer.ggml.model"] == "llama"
    # token_embd, output_norm, output and nine tensors per block
    assert header.tensor_count == 3 + 9 * 2
    assert header.parameters == int(done.stdout.split(": ")[1].split()[0])


@needs_gguf
def test_same_options_write_the_same_bytes_and_the_seed_changes_them(tmp_path: Path) -> None:
    digests = []
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        out = tmp_path / f"{name}.gguf"
        assert make(out, "--seed", seed, "--type", "q8_0").returncode == 0
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1] != digests[2]


@needs_gguf
def test_size_options_override_the_preset(tmp_path: Path) -> None:
    out = tmp_path / "wider.gguf"
    assert make(out, "--n-embd", "128", "--n-layer", "3", "--type", "f32").returncode == 0
    header = read_header(out.read_bytes())
    assert (header.metadata["llama.embedding_length"], header.metadata["llama.block_count"]) == (
        128,
        3,
    )
    assert header.quantization == "F32"


def test_shapes_llama_cpp_would_refuse_are_refused_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "bad.gguf"
    done = make(out, "--n-embd", "66", "--n-head", "4")
    assert done.returncode == 2
    assert "multiple of --n-head" in done.stderr
    assert not out.exists()
