"""Pure GGUF header reader: bytes -> version, tensor count, metadata, quantization.

Written from the GGUF specification (ggml's docs/gguf.md), without the ``gguf`` package:

    magic "GGUF" | version u32 | tensor_count u64 | kv_count u64 | kv pairs | tensor infos

Version 1 files use 32-bit counts and string lengths; versions 2 and 3 use 64-bit ones.
Big-endian files (for s390x) are recognised by a byte-swapped version.  A key/value pair is a
string key, a u32 value type and the value; arrays carry an element type and a count.

The reader works on a prefix of the file: when the prefix ends inside the header and the file
is longer, :class:`NeedMoreDataError` (a ParseError) says how much is needed, so the caller can read
more and try again.  Any other malformation is a plain ParseError.
"""

from __future__ import annotations

import struct
from typing import Any

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import ModelFile

MAGIC = b"GGUF"
# Bound what a header may claim, so absurd counts fail fast instead of allocating.
MAX_KV = 1 << 20
MAX_TENSORS = 1 << 24
MAX_DIMS = 8
MAX_ARRAY_DEPTH = 3
SMALL_ARRAY = 64  # longer arrays (vocabularies) are summarised, not kept

# Value types: id -> (name, struct format or None for strings/arrays).
_TYPES: dict[int, tuple[str, str | None]] = {
    0: ("uint8", "B"),
    1: ("int8", "b"),
    2: ("uint16", "H"),
    3: ("int16", "h"),
    4: ("uint32", "I"),
    5: ("int32", "i"),
    6: ("float32", "f"),
    7: ("bool", "?"),
    8: ("string", None),
    9: ("array", None),
    10: ("uint64", "Q"),
    11: ("int64", "q"),
    12: ("float64", "d"),
}
_STRING, _ARRAY = 8, 9

# general.file_type (llama_ftype) -> the name llama-quantize uses.
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    4: "Q4_1_SOME_F16",
    5: "Q4_2",
    6: "Q4_3",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    33: "Q4_0_4_4",
    34: "Q4_0_4_8",
    35: "Q4_0_8_8",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
}
FILE_TYPE_GUESSED = 1024  # llama.cpp sets this bit when it guessed the type


class NeedMoreDataError(ParseError):
    """The prefix ended inside the header; ``needed`` bytes from the start would help."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"GGUF header continues past the {needed}-byte mark")
        self.needed = needed


@attrs.frozen
class ArraySummary:
    """A long metadata array (a vocabulary, say), kept as its type and length only."""

    item_type: str
    length: int


@attrs.define
class GgufHeader:
    """What the header of a GGUF file says."""

    version: int
    tensor_count: int
    metadata: dict[str, Any]
    big_endian: bool = False
    header_bytes: int | None = None  # where the tensor infos end, when they were read
    parameters_from_tensors: int | None = None

    @property
    def architecture(self) -> str | None:
        return _text(self.metadata.get("general.architecture"))

    @property
    def name(self) -> str | None:
        return _text(self.metadata.get("general.name"))

    @property
    def size_label(self) -> str | None:
        return _text(self.metadata.get("general.size_label"))

    @property
    def quantization(self) -> str | None:
        """general.file_type as llama-quantize names it ("Q4_K_M"), "type N" when new."""
        value = self.metadata.get("general.file_type")
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        value &= ~FILE_TYPE_GUESSED
        return FILE_TYPES.get(value, f"type {value}")

    @property
    def parameters(self) -> int | None:
        """general.parameter_count where stated, else the element count of all tensors."""
        stated = self.metadata.get("general.parameter_count")
        if isinstance(stated, int) and not isinstance(stated, bool) and stated > 0:
            return stated
        return self.parameters_from_tensors


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


class _Reader:
    """A cursor over the prefix, aware of how long the whole file is."""

    def __init__(self, data: bytes, file_size: int | None, endian: str, wide: bool) -> None:
        self.data = data
        self.file_size = len(data) if file_size is None else max(file_size, len(data))
        self.pos = 0
        self.endian = endian
        self.count_format = "Q" if wide else "I"

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            if end <= self.file_size:
                raise NeedMoreDataError(end)
            raise ParseError(f"GGUF file is truncated (header needs byte {end})")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        return struct.unpack(self.endian + fmt, self.take(size))[0]

    def count(self, what: str, limit: int) -> int:
        value = int(self.unpack(self.count_format))
        if value > limit:
            raise ParseError(f"GGUF {what} of {value} is not believable")
        return value

    def string(self) -> str:
        length = self.count("string length", self.file_size - self.pos)
        return self.take(length).decode("utf-8", errors="replace")

    def value(self, kind: int, depth: int = 0) -> Any:
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            return self.array(depth)
        entry = _TYPES.get(kind)
        if entry is None or entry[1] is None:
            raise ParseError(f"GGUF value type {kind} is unknown")
        return self.unpack(entry[1])

    def array(self, depth: int) -> Any:
        if depth >= MAX_ARRAY_DEPTH:
            raise ParseError("GGUF arrays nested too deeply")
        kind = int(self.unpack("I"))
        if kind not in _TYPES:
            raise ParseError(f"GGUF array of unknown type {kind}")
        name, fmt = _TYPES[kind]
        item_size = struct.calcsize(fmt) if fmt else struct.calcsize(self.count_format)
        length = self.count("array length", (self.file_size - self.pos) // item_size)
        if length <= SMALL_ARRAY:
            return [self.value(kind, depth + 1) for _ in range(length)]
        if fmt is not None:
            self.take(length * item_size)  # fixed-size items: jump over them
        elif kind == _STRING:
            for _ in range(length):
                self.take(self.count("string length", self.file_size - self.pos))
        else:
            for _ in range(length):
                self.array(depth + 1)
        return ArraySummary(name, length)


def _open(data: bytes, file_size: int | None) -> tuple[_Reader, int]:
    if len(data) < 8:
        if file_size is not None and file_size >= 8 and len(data) < file_size:
            raise NeedMoreDataError(8)
        raise ParseError("too short to be a GGUF file")
    if data[:4] != MAGIC:
        raise ParseError("not a GGUF file (no GGUF magic)")
    little, big = struct.unpack("<I", data[4:8])[0], struct.unpack(">I", data[4:8])[0]
    endian, version = ("<", little) if little <= 0xFFFF else (">", big)
    if version not in (1, 2, 3):
        raise ParseError(f"GGUF version {version} is not supported")
    reader = _Reader(data, file_size, endian, wide=version >= 2)
    reader.pos = 8
    return reader, version


def read_header(data: bytes, *, file_size: int | None = None, tensors: bool = True) -> GgufHeader:
    """Parse a GGUF header from ``data`` (the file, or a prefix of a ``file_size``-byte file).

    With ``tensors`` the tensor infos are read too, which gives the parameter count when the
    metadata does not state it.  Raises NeedMoreDataError when the prefix is too short, ParseError
    for anything that is not a sound GGUF header.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ParseError("GGUF data must be bytes")
    data = bytes(data)
    reader, version = _open(data, file_size)
    tensor_count = reader.count("tensor count", MAX_TENSORS)
    kv_count = reader.count("metadata count", MAX_KV)
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string()
        kind = int(reader.unpack("I"))
        metadata[key] = reader.value(kind)
    header = GgufHeader(
        version=version,
        tensor_count=tensor_count,
        metadata=metadata,
        big_endian=reader.endian == ">",
    )
    if tensors:
        header.parameters_from_tensors = _tensor_elements(reader, tensor_count)
        header.header_bytes = reader.pos
    return header


def _tensor_elements(reader: _Reader, count: int) -> int | None:
    """Sum of element counts over the tensor infos (name, dims, type, offset)."""
    total = 0
    for _ in range(count):
        reader.string()
        n_dims = int(reader.unpack("I"))
        if n_dims > MAX_DIMS:
            raise ParseError(f"GGUF tensor with {n_dims} dimensions is not believable")
        elements = 1
        for _ in range(n_dims):
            elements *= int(reader.unpack(reader.count_format))
        reader.unpack("I")  # ggml type
        reader.unpack("Q")  # data offset
        total += elements
    return total if count else None


def apply_header(model: ModelFile, header: GgufHeader, *, keep_name: bool = False) -> ModelFile:
    """The model entry with what its GGUF header says."""
    return attrs.evolve(
        model,
        format="gguf",
        format_version=header.version,
        name=model.name if keep_name and model.name else header.name,
        architecture=header.architecture,
        quantization=header.quantization,
        parameters=header.parameters,
    )
