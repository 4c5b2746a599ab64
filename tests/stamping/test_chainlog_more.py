"""The hash-chained appender on its own: layout, chaining, offsets, torn tails, refusals.

These drive :class:`envstamp.stamping.chainlog.LockedAppender` directly with plain bodies,
without signing or results: what the results log builds on must hold by itself.
"""

from __future__ import annotations

import json
import math
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.stamping import chainlog

HEADER = chainlog.encode_body({"kind": "test-log", "schema": "x/1"})
BODY_TEXT = st.text(max_size=20)
BATCHES = st.lists(st.lists(BODY_TEXT, max_size=4), min_size=1, max_size=5)
FEW = settings(max_examples=30, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def _open(path: Path, **options: object) -> chainlog.LockedAppender:
    return chainlog.LockedAppender(
        path,
        header=lambda: HEADER,
        accepts_first_line=lambda line: chainlog.line_kind(line) == b"test-log",
        **options,  # type: ignore[arg-type]
    )


def _body(text: str, kind: str = "entry") -> bytes:
    return chainlog.encode_body({"kind": kind, "text": text})


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return data.split(b"\n")[:-1]


def _chain_breaks(lines: list[bytes]) -> list[int]:
    """Indexes of lines whose prev is not the hash of the line before them."""
    prev = chainlog.GENESIS
    broken = []
    for index, line in enumerate(lines):
        if line[len(chainlog.PREFIX) : chainlog.HASH_END].decode() != prev:
            broken.append(index)
        prev = chainlog.line_hash(line)
    return broken


# ------------------------------------------------------------------------------ layout


@given(st.text(max_size=30), st.text(string.ascii_lowercase + "-_", min_size=1, max_size=10))
def test_a_chained_line_is_json_with_prev_first_and_kind_readable_without_parsing(
    text: str, kind: str
) -> None:
    prev = "ab" * 32
    line = chainlog.chain_line(prev, chainlog.encode_body({"kind": kind, "text": text}))
    data = json.loads(line)
    assert list(data) == ["prev", "kind", "text"]
    assert (data["prev"], data["kind"], data["text"]) == (prev, kind, text)
    assert line.isascii()  # non-ASCII text is escaped, so the layout has fixed byte offsets
    assert chainlog.line_kind(line) == kind.encode("ascii")
    assert chainlog.is_chained_line(line)


@pytest.mark.parametrize(
    "line",
    [b"", b"{}", b'{"kind":"entry"}', b'{"prev":"' + b"0" * 64 + b'","name":"x"}',
     b'{"prev":"' + b"0" * 63 + b'","kind":"x"}', b'["prev"]'],
)
def test_lines_without_the_fixed_layout_are_not_chained(line: bytes) -> None:
    assert chainlog.line_kind(line) is None and not chainlog.is_chained_line(line)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_bodies_refuse_values_json_cannot_carry(bad: float) -> None:
    with pytest.raises(ValueError):
        chainlog.encode_body({"kind": "entry", "value": bad})
    with pytest.raises(TypeError):
        chainlog.encode_body({"kind": "entry", "value": {1, 2}})


def test_the_torn_marker_accounts_for_the_fragment_by_hash_and_size() -> None:
    fragment = b'{"prev":"12'
    marker = json.loads(chainlog.torn_marker_body(fragment))
    assert marker == {"kind": "torn", "fragment_sha256": chainlog.line_hash(fragment),
                      "fragment_bytes": len(fragment)}


# ---------------------------------------------------------------------------- appending


@FEW
@given(batches=BATCHES)
def test_any_sequence_of_appends_forms_one_unbroken_chain(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[str]]
) -> None:
    path = tmp_path_factory.mktemp("chain") / "log.jsonl"
    appender = _open(path)
    hashes: list[str] = []
    try:
        for batch in batches:
            appended = appender.append([_body(t) for t in batch])
            hashes += appended.hashes
            assert appended.size == path.stat().st_size
    finally:
        appender.close()
    lines = _lines(path)
    assert _chain_breaks(lines) == []
    assert lines[0].startswith(chainlog.PREFIX + chainlog.GENESIS.encode())
    assert [json.loads(line)["text"] for line in lines[1:]] == [t for b in batches for t in b]
    assert hashes == [chainlog.line_hash(line) for line in lines[1:]]


def test_the_header_is_written_once_with_the_first_append(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    appender = _open(path)
    assert path.read_bytes() == b""  # opening writes nothing
    first = appender.append([_body("a")])
    header_hash = chainlog.line_hash(_lines(path)[0])
    assert first.prev == header_hash  # the first body chains from the header
    second = appender.append([_body("b")])
    appender.close()
    assert second.prev == first.hashes[0] == first.last
    assert [chainlog.line_kind(line) for line in _lines(path)] == [b"test-log", b"entry",
                                                                     b"entry"]


def test_spans_name_the_bytes_of_the_bodies_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    appender = _open(path)
    seen: list[tuple[int, int]] = []

    def last(prev: str, start: int, end: int) -> bytes:
        seen.append((start, end))
        return _body(prev, kind="seal")

    appended = appender.append([_body("one"), _body("two")], last=last)
    range_bytes = appender.read_range(*appended.span)
    appender.close()
    assert seen == [appended.span]
    lines = _lines(path)
    assert range_bytes == lines[1] + b"\n" + lines[2] + b"\n"
    seal = json.loads(lines[3])
    assert seal["kind"] == "seal" and seal["text"] == appended.hashes[-1] == seal["prev"]
    assert appended.last == chainlog.line_hash(lines[3])
    assert _chain_breaks(lines) == []


def test_an_empty_append_writes_nothing_after_the_header(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    appender = _open(path)
    appender.append([_body("x")])
    size = path.stat().st_size
    appended = appender.append([])
    appender.close()
    assert path.stat().st_size == size == appended.size
    assert appended.hashes == [] and appended.span[0] == appended.span[1]


def test_a_failing_check_stops_the_append_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    appender = _open(path)
    appender.append([_body("kept")])
    before = path.read_bytes()
    sizes: list[int] = []

    def refuse(size: int) -> None:
        sizes.append(size)
        raise InputError("not today")

    with pytest.raises(InputError, match="not today"):
        appender.append([_body("lost")], check=refuse)
    assert path.read_bytes() == before and sizes == [len(before)]
    appender.append([_body("after")])
    appender.close()
    assert [json.loads(line)["text"] for line in _lines(path)[1:]] == ["kept", "after"]
    assert _chain_breaks(_lines(path)) == []


def test_two_appenders_on_one_file_extend_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    first, second = _open(path), _open(path)
    try:
        for index in range(6):
            (first if index % 2 else second).append([_body(str(index))])
    finally:
        first.close()
        second.close()
    lines = _lines(path)
    assert _chain_breaks(lines) == []
    assert [json.loads(line)["text"] for line in lines[1:]] == [str(i) for i in range(6)]
    assert sum(chainlog.line_kind(line) == b"test-log" for line in lines) == 1


# --------------------------------------------------------------------- torn and foreign


@pytest.mark.parametrize("fragment", [b"{", b'{"prev":"' + b"1" * 30, b"garbage \xff bytes"])
def test_a_torn_tail_is_closed_and_accounted_for(tmp_path: Path, fragment: bytes) -> None:
    path = tmp_path / "log.jsonl"
    appender = _open(path)
    appender.append([_body("before")])
    appender.close()
    with path.open("ab") as handle:
        handle.write(fragment)
    appender = _open(path)
    appended = appender.append([_body("after")])
    appender.close()
    parts = path.read_bytes().split(b"\n")[:-1]
    assert parts[2] == fragment
    marker = json.loads(parts[3])
    assert marker["kind"] == "torn" and marker["fragment_bytes"] == len(fragment)
    assert marker["fragment_sha256"] == chainlog.line_hash(fragment)
    assert marker["prev"] == chainlog.line_hash(parts[1])  # from the last complete line
    assert appended.prev == chainlog.line_hash(parts[3])
    assert json.loads(parts[4])["prev"] == appended.prev
    # the chain holds around the fragment: its lines minus the fragment are unbroken
    assert _chain_breaks([parts[0], parts[1], parts[3], parts[4]]) == []


def test_a_file_of_one_torn_fragment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"prev":"' + chainlog.GENESIS.encode() + b'","kind":"test-log"')
    appender = _open(path)  # its first line is a header, torn before its newline
    with pytest.raises(InputError, match="no complete line"):
        appender.append([_body("x")])
    appender.close()


def test_a_long_last_line_is_found_beyond_the_first_tail_window(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    appender = _open(path)
    appender.append([_body("x" * (3 * (1 << 16)))])
    appender.close()
    appender = _open(path)  # a fresh appender reads the tail from the file
    appended = appender.append([_body("next")])
    appender.close()
    lines = _lines(path)
    assert appended.prev == chainlog.line_hash(lines[1])
    assert _chain_breaks(lines) == []


@FEW
@given(batches=BATCHES, data=st.data())
def test_deleting_or_editing_any_line_breaks_the_chain_at_the_next(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[str]], data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("chain") / "log.jsonl"
    appender = _open(path)
    for batch in batches:
        appender.append([_body(t) for t in batch])
    appender.append([_body("last")])
    appender.close()
    lines = _lines(path)
    index = data.draw(st.integers(0, len(lines) - 2), label="line")
    deleted = lines[:index] + lines[index + 1 :]
    assert _chain_breaks(deleted) == [index]
    edited = list(lines)
    edited[index] = edited[index].replace(b'"kind"', b'"kind" ', 1)
    assert _chain_breaks(edited) == [index + 1]
