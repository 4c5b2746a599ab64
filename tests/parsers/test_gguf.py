"""The GGUF header reader: every version and byte order, every value type, prefixes that ask
for more, truncated and malformed headers (the models probe: tests/probes/test_model_file.py)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.gguf import ArraySummary, NeedMoreDataError, read_header
from tests.gguf_support import (
    ARR,
    BOOL,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    STR,
    U8,
    U16,
    U32,
    U64,
    Gguf,
    llama_file,
)


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
