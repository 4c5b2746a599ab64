"""parsers/gguf against an independent writer: files written by the ``gguf`` package (ggml's
own Python writer, in the test extra) read back exactly, in both byte orders, and a reader fed
a growing prefix (NeedMoreDataError's "needed") reaches the same header.

envstamp's reader was written from the specification without that package, so agreeing with
it on generated files is evidence neither a shared misreading nor a fixture could give.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.manifest.model import ModelFile
from envstamp.parsers.gguf import (
    FILE_TYPES,
    SMALL_ARRAY,
    ArraySummary,
    NeedMoreDataError,
    apply_header,
    read_header,
)

gguf = pytest.importorskip(
    "gguf", reason="the gguf package (test extra) writes the files these tests read"
)
np = pytest.importorskip("numpy", reason="the gguf package writes tensors from numpy arrays")

KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=12).map(
    lambda k: "t." + k  # never one of the general.* keys the writer sets itself
)
U32, I64, F64 = st.integers(0, 2**32 - 1), st.integers(-(2**63), 2**63 - 1), st.floats(
    allow_nan=False, allow_infinity=False
)
# (writer method, value strategy)
SCALARS: list[tuple[str, st.SearchStrategy[Any]]] = [
    ("add_uint8", st.integers(0, 255)),
    ("add_int16", st.integers(-(2**15), 2**15 - 1)),
    ("add_uint32", U32),
    ("add_int32", st.integers(-(2**31), 2**31 - 1)),
    ("add_uint64", st.integers(0, 2**64 - 1)),
    ("add_int64", I64),
    ("add_float64", F64),
    ("add_bool", st.booleans()),
    ("add_string", st.text(min_size=1, max_size=20)),  # the writer skips empty strings
]
entries = st.one_of(
    *[st.tuples(st.just(method), values) for method, values in SCALARS],
    st.tuples(st.just("add_array"),  # the writer skips empty arrays too
              st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=80)),
    st.tuples(st.just("add_array"), st.lists(st.text(max_size=6), min_size=1, max_size=80)),
)
shapes = st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple)


def written(metadata: dict[str, tuple[str, Any]], tensors: list[tuple[int, ...]], *,
            big: bool = False, file_type: int | None = None, name: str | None = None) -> bytes:
    """A GGUF file written by the gguf package."""
    endian = gguf.GGUFEndian.BIG if big else gguf.GGUFEndian.LITTLE
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.gguf"
        writer = gguf.GGUFWriter(str(path), "llama", endianess=endian)
        if name is not None:
            writer.add_name(name)
        if file_type is not None:
            writer.add_file_type(file_type)
        for key, (method, value) in metadata.items():
            getattr(writer, method)(key, value)
        for number, shape in enumerate(tensors):
            # The writer byte-swaps the data itself; only the infos matter here.
            writer.add_tensor(f"blk.{number}.weight", np.zeros(shape, dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return path.read_bytes()


def expected(method: str, value: Any) -> Any:
    if method != "add_array":
        return value
    if len(value) > SMALL_ARRAY:
        return ArraySummary("int32" if isinstance(value[0], int) else "string", len(value))
    return value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    metadata=st.dictionaries(KEYS, entries, max_size=6),
    tensors=st.lists(shapes, max_size=4),
    big=st.booleans(),
)
def test_files_of_the_gguf_writer_read_back_exactly(
    metadata: dict[str, tuple[str, Any]], tensors: list[tuple[int, ...]], big: bool
) -> None:
    data = written(metadata, tensors, big=big)
    header = read_header(data, file_size=len(data))
    assert (header.version, header.tensor_count, header.big_endian) == (3, len(tensors), big)
    assert header.architecture == "llama"
    for key, (method, value) in metadata.items():
        assert header.metadata[key] == expected(method, value), (key, method)
    assert set(header.metadata) == {"general.architecture", *metadata}
    counts = [math.prod(shape) for shape in tensors]
    assert header.parameters_from_tensors == (sum(counts) if tensors else None)
    assert header.parameters == header.parameters_from_tensors
    assert header.header_bytes is not None and header.header_bytes <= len(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    metadata=st.dictionaries(KEYS, entries, max_size=5),
    tensors=st.lists(shapes, max_size=3),
    start=st.integers(0, 64),
)
def test_reading_a_growing_prefix_reaches_the_same_header(
    metadata: dict[str, tuple[str, Any]], tensors: list[tuple[int, ...]], start: int
) -> None:
    """The caller's loop: read ``needed`` bytes when asked, until the header parses."""
    data = written(metadata, tensors)
    whole = read_header(data)
    size = start
    for _ in range(len(data) + 1):  # each round asks for more: it ends within the file
        try:
            header = read_header(data[:size], file_size=len(data))
            break
        except NeedMoreDataError as more:
            assert more.needed > size, "asking for no more than it had would loop forever"
            size = more.needed
    else:
        pytest.fail("the prefix never sufficed")
    assert header == whole
    assert size <= (whole.header_bytes or len(data))


@pytest.mark.parametrize("file_type", sorted(FILE_TYPES))
def test_every_file_type_is_named_as_llama_quantize_names_it(file_type: int) -> None:
    header = read_header(written({}, [], file_type=file_type))
    assert header.quantization == FILE_TYPES[file_type]
    assert header.quantization.replace("_", "").isalnum()


def test_a_file_type_newer_than_the_table_is_named_by_number() -> None:
    newest = max(FILE_TYPES) + 1
    assert read_header(written({}, [], file_type=newest)).quantization == f"type {newest}"


def test_the_stated_parameter_count_wins_over_the_tensors() -> None:
    data = written({"general.parameter_count": ("add_uint64", 8_030_261_248)}, [(4, 4)])
    header = read_header(data)
    assert header.parameters_from_tensors == 16
    assert header.parameters == 8_030_261_248


def test_apply_header_fills_the_model_entry() -> None:
    data = written({"general.size_label": ("add_string", "8B")}, [(2, 3), (5,)],
                   file_type=15, name="Meta  Llama 3\t8B")
    header = read_header(data)
    model = apply_header(ModelFile(path="~/models/x.gguf", name="mine"), header)
    assert (model.format, model.format_version, model.architecture) == ("gguf", 3, "llama")
    assert (model.name, model.quantization, model.parameters) == ("Meta Llama 3 8B", "Q4_K_M", 11)
    assert header.size_label == "8B"
    kept = apply_header(ModelFile(path="~/models/x.gguf", name="mine"), header, keep_name=True)
    assert kept.name == "mine" and kept.path == "~/models/x.gguf"


def test_without_tensors_only_the_metadata_is_read() -> None:
    data = written({}, [(3, 3)])
    header = read_header(data, tensors=False)
    assert header.tensor_count == 1
    assert (header.parameters_from_tensors, header.header_bytes) == (None, None)


@pytest.mark.parametrize("cut", [0, 3, 7, 12, 23])
def test_a_short_file_is_a_parse_error_not_a_request_for_more(cut: int) -> None:
    data = written({"t.k": ("add_string", "value")}, [(2,)])[:cut]
    with pytest.raises(ParseError) as caught:
        read_header(data, file_size=len(data))  # the whole file: nothing more to read
    assert not isinstance(caught.value, NeedMoreDataError)
