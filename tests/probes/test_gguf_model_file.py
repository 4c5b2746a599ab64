"""GGUF header reader and the models probe: files, Ollama names, hashing, progress."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp import runner as runner_module
from envstamp.capturing.capture import capture
from envstamp.errors import ParseError
from envstamp.parsers.gguf import ArraySummary, NeedMoreDataError, read_header
from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.probes.llm import model_file
from envstamp.probes.llm.model_file import Progress, model_layer_digest, parse_ollama_name
from envstamp.probes.registry import PROBES
from envstamp.runner import LiveRunner, ReplayRunner

HOSTS = Path(__file__).parents[1] / "fixtures" / "llamacpp" / "hosts"

# ----------------------------------------------------------------- a tiny GGUF writer

# value type ids of the GGUF spec
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
_FORMATS = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?",
            U64: "Q", I64: "q", F64: "d"}  # fmt: skip


class Gguf:
    """Writes GGUF headers by the spec: v1 (32-bit counts), v2/v3, either byte order."""

    def __init__(self, version: int = 3, endian: str = "<") -> None:
        self.version = version
        self.endian = endian
        self.kv: list[tuple[str, int, Any]] = []
        self.tensors: list[tuple[str, list[int]]] = []

    def count(self, n: int) -> bytes:
        return struct.pack(self.endian + ("I" if self.version == 1 else "Q"), n)

    def string(self, text: str) -> bytes:
        raw = text.encode()
        return self.count(len(raw)) + raw

    def value(self, kind: int, value: Any) -> bytes:
        if kind == STR:
            return self.string(value)
        if kind == ARR:
            item_kind, items = value
            body = b"".join(self.value(item_kind, item) for item in items)
            return struct.pack(self.endian + "I", item_kind) + self.count(len(items)) + body
        return struct.pack(self.endian + _FORMATS[kind], value)

    def add(self, key: str, kind: int, value: Any) -> Gguf:
        self.kv.append((key, kind, value))
        return self

    def tensor(self, name: str, *dims: int) -> Gguf:
        self.tensors.append((name, list(dims)))
        return self

    def header(self) -> bytes:
        e = self.endian
        out = [b"GGUF", struct.pack(e + "I", self.version)]
        out += [self.count(len(self.tensors)), self.count(len(self.kv))]
        for key, kind, value in self.kv:
            out += [self.string(key), struct.pack(e + "I", kind), self.value(kind, value)]
        for name, dims in self.tensors:
            out += [self.string(name), struct.pack(e + "I", len(dims))]
            out += [self.count(d) for d in dims]
            out += [struct.pack(e + "IQ", 0, 0)]
        return b"".join(out)

    def file(self) -> bytes:
        return self.header() + b"\0" * 256  # stands in for tensor data


def llama_file(vocab: int = 300, **extra: Any) -> Gguf:
    g = Gguf(**extra)
    g.add("general.architecture", STR, "llama").add("general.name", STR, "Tiny Llama 1B")
    g.add("general.file_type", U32, 15).add("general.size_label", STR, "1B")
    g.add("llama.context_length", U32, 131072).add("llama.rope.freq_base", F32, 500000.0)
    g.add("tokenizer.ggml.tokens", ARR, (STR, [f"tok{i}" for i in range(vocab)]))
    g.add("tokenizer.ggml.scores", ARR, (F32, [0.5] * vocab))
    g.add("tokenizer.ggml.add_bos_token", BOOL, True)
    g.add("general.tags", ARR, (STR, ["text-generation", "tiny"]))
    return g.tensor("token_embd.weight", 64, vocab).tensor("output_norm.weight", 64)


# ------------------------------------------------------------------------------ header


@pytest.mark.parametrize(("version", "endian"), [(3, "<"), (2, "<"), (1, "<"), (3, ">")])
def test_header_fields_every_version_and_byte_order(version: int, endian: str) -> None:
    header = read_header(llama_file(version=version, endian=endian).file())
    assert header.version == version
    assert header.big_endian is (endian == ">")
    assert header.tensor_count == 2
    assert header.architecture == "llama"
    assert header.name == "Tiny Llama 1B"
    assert header.size_label == "1B"
    assert header.quantization == "Q4_K_M"
    assert header.parameters == 64 * 300 + 64  # counted from the tensor infos
    assert header.metadata["llama.context_length"] == 131072
    assert header.metadata["tokenizer.ggml.add_bos_token"] is True
    assert header.metadata["general.tags"] == ["text-generation", "tiny"]
    assert header.metadata["tokenizer.ggml.tokens"] == ArraySummary("string", 300)
    assert header.metadata["tokenizer.ggml.scores"] == ArraySummary("float32", 300)


def test_every_value_type_and_nested_arrays() -> None:
    g = Gguf()
    values = [
        (U8, 250), (I8, -5), (U16, 65000), (I16, -300), (U32, 4_000_000_000), (I32, -7),
        (F32, 1.5), (BOOL, False), (U64, 2**40), (I64, -(2**40)), (F64, 0.25),
    ]  # fmt: skip
    for i, (kind, value) in enumerate(values):
        g.add(f"k{i}", kind, value)
    g.add("nested", ARR, (ARR, [(U8, [1, 2]), (STR, ["a"])]))
    header = read_header(g.file())
    assert [header.metadata[f"k{i}"] for i in range(len(values))] == [v for _, v in values]
    assert header.metadata["nested"] == [[1, 2], ["a"]]
    assert header.parameters is None  # no tensors, no stated count


def test_stated_parameter_count_wins_and_file_types_are_named() -> None:
    g = Gguf().add("general.parameter_count", U64, 8_030_261_248)
    g.add("general.file_type", U32, 1024 | 7)
    header = read_header(g.tensor("w", 2, 2).file())
    assert header.parameters == 8_030_261_248
    assert header.quantization == "Q8_0"  # the "guessed" bit is not part of the type
    assert read_header(Gguf().add("general.file_type", U32, 999).file()).quantization == "type 999"
    assert read_header(Gguf().add("general.file_type", STR, "Q4").file()).quantization is None


def test_prefix_too_short_asks_for_more() -> None:
    data = llama_file(vocab=70).file()
    end = len(llama_file(vocab=70).header())
    for cut in range(end):
        with pytest.raises(NeedMoreDataError) as need:
            read_header(data[:cut], file_size=len(data))
        assert cut < need.value.needed <= end
    assert read_header(data[:end], file_size=len(data)).tensor_count == 2


def test_truncated_file_is_a_parse_error_at_every_length() -> None:
    data = llama_file(vocab=70).header()
    for cut in range(len(data)):
        with pytest.raises(ParseError):
            read_header(data[:cut])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GGML" + bytes(60), "magic"),
        (b"GGUF" + struct.pack("<I", 7) + bytes(16), "version 7"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 2**40), "believable"),
        (b"GGUF" + struct.pack("<IQQ", 3, 2**40, 0), "believable"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**60), "believable"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1) + b"k"
         + struct.pack("<IIQ", ARR, U64, 2**50), "believable"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1) + b"k"
         + struct.pack("<I", 77), "type 77"),
    ],
)
def test_malformed_headers(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read_header(data + bytes(64))


def test_absurd_dimensions() -> None:
    g = Gguf()
    g.tensors.append(("w", [1] * 9))
    with pytest.raises(ParseError, match="dimensions"):
        read_header(g.file())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_parse_error(tail: bytes) -> None:
    for data in (tail, b"GGUF" + struct.pack("<I", 3) + tail, b"GGUF\x01\x00\x00\x00" + tail):
        try:
            header = read_header(data)
        except ParseError:
            continue
        assert header.version in (1, 2, 3)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 400), st.binary(min_size=1, max_size=8))
def test_corrupted_valid_header_raises_only_parse_error(at: int, junk: bytes) -> None:
    data = bytearray(llama_file().header())
    at = at % len(data)
    data[at : at + len(junk)] = junk
    try:
        header = read_header(bytes(data))
    except ParseError:
        return
    assert isinstance(header.metadata, dict)


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
    runner_module.reset_process_state()  # as a new process would
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


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("llama3.2:3b", ("registry.ollama.ai", "library", "llama3.2", "3b", "llama3.2:3b")),
        ("mistral", ("registry.ollama.ai", "library", "mistral", "latest", "mistral:latest")),
        ("jdoe/coder:q4", ("registry.ollama.ai", "jdoe", "coder", "q4", "jdoe/coder:q4")),
        ("hf.co/org/Repo-GGUF:Q4_K_M",
         ("hf.co", "org", "Repo-GGUF", "Q4_K_M", "hf.co/org/Repo-GGUF:Q4_K_M")),
    ],
)
def test_ollama_names(name: str, expected: tuple[str, ...]) -> None:
    ref = parse_ollama_name(name)
    assert ref is not None
    assert (ref.host, ref.namespace, ref.model, ref.tag, ref.display) == expected


@pytest.mark.parametrize("name", ["./m.gguf", "/abs/m.gguf", "m.gguf", "a/b/c/d", "C:\\m", ""])
def test_paths_are_not_ollama_names(name: str) -> None:
    assert parse_ollama_name(name) is None


def test_ollama_manifest_layers() -> None:
    layer = {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + "a" * 64}
    assert model_layer_digest(json.dumps({"layers": [layer]})) == "a" * 64
    assert model_layer_digest(json.dumps({"layers": []})) is None
    for bad in ("", "[]", "{}", "not json"):
        with pytest.raises(ParseError):
            model_layer_digest(bad)


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
