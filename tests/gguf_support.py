"""A tiny GGUF writer for the tests: headers by the spec (v1 with 32-bit counts, v2/v3, either
byte order), written from the specification, not copied from a real file."""

from __future__ import annotations

import struct
from typing import Any

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
