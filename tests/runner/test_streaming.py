"""runner/streaming: one streamed HTTP exchange, timed line by line; every fault is data.

The faults are produced by a scripted loopback server (tests/benchclient/fake_server.py):
a stall, a disconnect inside a chunk, a garbage status line, an answer that never starts, a
5xx, redirects on and off the host, an answer too large, one that outlives its deadline.
Limits are set small so that a fault is over in a fraction of a second; nothing here
asserts on how long anything took, only on what was answered.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.runner import LiveRunner, RecordingRunner, ReplayRunner
from envstamp.runner.answer_types import BenchClockAnswer
from envstamp.runner.recorded import answer_problem
from envstamp.runner.streaming import (
    StreamLimits,
    is_loopback_host,
    stream,
    stream_request,
)
from tests.benchclient.fake_server import (
    LAST_CHUNK,
    chunk,
    fixed,
    head,
    json_answer,
    serving,
    sse_events,
)

QUICK = StreamLimits(connect_s=1.0, first_byte_s=0.3, stall_s=0.3, total_s=5.0)


def _texts(answer: Any) -> list[str]:
    return [line[1] for line in answer["lines"]]


def test_a_stream_is_read_as_timed_lines() -> None:
    events = [{"content": f"t{i}"} for i in range(5)]
    with serving({("POST", "/s"): fixed(sse_events(events, gap=0.01))}) as server:
        answer = stream_request(server.url + "/s", body=b"{}", limits=QUICK)
    assert answer["status"] == "ok" and answer["code"] == 200
    assert answer.get("failure") is None
    assert answer["headers"]["content-type"] == "text/event-stream"
    texts = _texts(answer)
    assert texts == [f'data: {{"content": "t{i}"}}' for i in range(5)] + ["data: [DONE]"]
    times = [line[0] for line in answer["lines"]]
    assert times == sorted(times) and times[0] >= answer["first_byte_s"] >= 0
    assert answer["total_s"] >= times[-1]
    assert answer_problem("http_stream", answer) is None


def test_the_request_is_sent_as_given() -> None:
    with serving({("POST", "/s"): fixed(json_answer({"ok": True}))}) as server:
        stream_request(server.url + "/s?x=1", body=b'{"a": 1}', limits=QUICK)
    method, path, body = server.requests[0]
    assert (method, path, body) == ("POST", "/s?x=1", b'{"a": 1}')


def test_a_plain_body_without_newline_is_one_line() -> None:
    with serving({("GET", "/v"): fixed(json_answer({"version": "1"}))}) as server:
        answer = stream_request(server.url + "/v", method="GET", limits=QUICK)
    assert _texts(answer) == ['{"version": "1"}']


def test_a_refused_connection_is_absent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer = stream_request(f"http://127.0.0.1:{port}/x", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("absent", "refused")


@pytest.mark.parametrize("url", ["http://example.com/x", "http://192.168.1.5:8080/",
                                 "http://10.0.0.1/"])
def test_other_hosts_are_not_asked_unless_allowed(url: str) -> None:
    answer = stream_request(url, limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("unsupported", "remote")
    assert "--allow-remote" in answer["detail"]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "127.0.0.1:8080", "http://127.0.0.1:99999/"])
def test_unusable_urls_are_refused(url: str) -> None:
    answer = stream_request(url, limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("unsupported", "url")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True),
     ("[::1]", True), ("0.0.0.0", True), ("192.168.0.1", False), ("example.com", False),
     ("localhost.evil.com", False), ("128.0.0.1", False)],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_a_5xx_is_an_answer_with_its_code() -> None:
    with serving({("POST", "/s"): fixed(json_answer({"error": "busy"}, 503))}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert answer["status"] == "ok" and answer["code"] == 503
    assert _texts(answer) == ['{"error": "busy"}']


def test_a_disconnect_inside_a_chunk_is_a_failed_answer_that_keeps_what_came() -> None:
    steps = [head(200, "text/event-stream", chunked=True), chunk(b'data: {"a": 1}\n\n'),
             b"40\r\ndata: {\"cut", None]
    with serving({("POST", "/s"): fixed(steps)}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("error", "disconnect")
    assert _texts(answer)[0] == 'data: {"a": 1}'
    assert answer_problem("http_stream", answer) is None


def test_a_close_between_chunks_is_a_disconnect() -> None:
    steps = [head(200, "text/event-stream", chunked=True), chunk(b'data: {"a": 1}\n\n'), None]
    with serving({("POST", "/s"): fixed(steps)}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("error", "disconnect")


def test_a_stall_is_a_timeout_named_stall() -> None:
    steps = [head(200, "text/event-stream", chunked=True), chunk(b'data: {"a": 1}\n\n'), 30.0,
             LAST_CHUNK]
    with serving({("POST", "/s"): fixed(steps)}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("timeout", "stall")
    assert _texts(answer) == ['data: {"a": 1}']


def test_an_answer_that_never_starts_is_a_first_byte_timeout() -> None:
    with serving({("POST", "/s"): fixed([30.0])}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("timeout", "first_byte")
    assert answer["connect_s"] is not None


def test_a_trickle_past_the_deadline_is_cut_there() -> None:
    steps: list[Any] = [head(200, "text/event-stream", chunked=True)]
    steps += [chunk(b"data: {}\n\n"), 0.05] * 200
    limits = StreamLimits(connect_s=1.0, first_byte_s=1.0, stall_s=1.0, total_s=0.3)
    with serving({("POST", "/s"): fixed(steps)}) as server:
        answer = stream_request(server.url + "/s", limits=limits)
    assert answer["status"] == "timeout" and answer["failure"] in ("deadline", "stall")
    assert 0 < len(answer["lines"]) < 200


def test_garbage_instead_of_http_is_malformed() -> None:
    with serving({("POST", "/s"): fixed([b"hello there\r\n\r\n", None])}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("error", "malformed")


def test_a_connection_closed_without_answer_is_a_disconnect() -> None:
    with serving({("POST", "/s"): fixed([None])}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("error", "disconnect")


def test_an_answer_too_large_is_cut() -> None:
    steps = [head(200, "text/plain", chunked=True)] + [chunk(b"x" * 1000 + b"\n")] * 50
    limits = StreamLimits(connect_s=1.0, first_byte_s=1.0, stall_s=1.0, max_bytes=10_000)
    with serving({("POST", "/s"): fixed([*steps, LAST_CHUNK])}) as server:
        answer = stream_request(server.url + "/s", limits=limits)
    assert (answer["status"], answer["failure"], answer["truncated"]) == (
        "error", "too_large", True)
    assert len(answer["lines"]) < 50


def test_a_redirect_on_the_host_is_followed() -> None:
    moved = head(307, extra={"Location": "/there"}, length=0)
    routes = {("POST", "/here"): fixed([moved]),
              ("POST", "/there"): fixed(json_answer({"ok": 1}))}
    with serving(routes) as server:
        answer = stream_request(server.url + "/here", body=b"{}", limits=QUICK)
    assert answer["status"] == "ok" and _texts(answer) == ['{"ok": 1}']
    assert [r[1] for r in server.requests] == ["/here", "/there"]
    assert server.requests[1][2] == b"{}"


@pytest.mark.parametrize("location", ["http://example.com/x", "http://127.0.0.1:1/x",
                                      "https://127.0.0.1/x"])
def test_a_redirect_off_the_host_is_not_followed(location: str) -> None:
    moved = head(302, extra={"Location": location}, length=0)
    with serving({("POST", "/here"): fixed([moved])}) as server:
        answer = stream_request(server.url + "/here", limits=QUICK, allow_remote=True)
    assert (answer["status"], answer["failure"]) == ("error", "redirect")
    assert len(server.requests) == 1


def test_endless_redirects_end() -> None:
    moved = head(307, extra={"Location": "/here"}, length=0)
    with serving({("POST", "/here"): fixed([moved])}) as server:
        answer = stream_request(server.url + "/here", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("error", "redirect")
    assert len(server.requests) == 4


# -------------------------------------------------------------------- record and replay


def test_a_recorded_stream_replays_with_its_times(tmp_path: Path) -> None:
    events = [{"content": f"t{i}"} for i in range(3)]
    with serving({("POST", "/s"): fixed(sse_events(events, gap=0.01))}) as server:
        recording = RecordingRunner(tmp_path / "rec")
        live = stream(recording, server.url + "/s", body=b'{"p": 1}', limits=QUICK, tag="a")
    replayed = stream(ReplayRunner(tmp_path / "rec"), server.url + "/s", body=b'{"p": 1}',
                      limits=QUICK, tag="a")
    assert replayed == live
    assert live["lines"] and live["status"] == "ok"
    files = list((tmp_path / "rec").glob("http_stream-*.json"))
    assert len(files) == 1


def test_a_tag_tells_equal_requests_apart(tmp_path: Path) -> None:
    from envstamp.runner import NotRecorded

    with serving({("POST", "/s"): fixed(json_answer({"n": 1}))}) as server:
        recording = RecordingRunner(tmp_path / "rec")
        stream(recording, server.url + "/s", body=b"{}", limits=QUICK, tag="one")
        stream(recording, server.url + "/s", body=b"{}", limits=QUICK, tag="two")
    assert len(list((tmp_path / "rec").glob("*.json"))) == 2
    with pytest.raises(NotRecorded):
        stream(ReplayRunner(tmp_path / "rec"), server.url + "/s", body=b"{}", tag="three")


@pytest.mark.parametrize(("field", "wrong", "named"), [
    ("lines", [["soon", "text"]], "'lines'"),
    ("lines", [[2.0, "a"], [1.0, "b"]], "'lines'"),
    ("code", "200", "'code'"),
    ("headers", {"server": 1}, "'headers'"),
    ("first_byte_s", -0.5, "'first_byte_s'"),
    ("status", "fine", "'status'"),
])
def test_a_broken_recorded_stream_refuses_the_recording(
    tmp_path: Path, field: str, wrong: Any, named: str
) -> None:
    """As any other malformed answer: loading the recording fails in one line naming the file
    and the field, before any request is replayed (a bench never sees it)."""
    with serving({("POST", "/s"): fixed(json_answer({"n": 1}))}) as server:
        stream(RecordingRunner(tmp_path / "rec"), server.url + "/s", body=b"{}", limits=QUICK)
    path = next((tmp_path / "rec").glob("*.json"))
    record = json.loads(path.read_text())
    assert ReplayRunner(tmp_path / "rec")  # as recorded, it loads
    record["answer"][field] = wrong
    path.write_text(json.dumps(record))
    with pytest.raises(InputError) as refused:
        ReplayRunner(tmp_path / "rec")
    message = str(refused.value)
    assert message.startswith(f"bad recorded answer {path.name}: field {named}")
    assert "of a http_stream answer" in message and "\n" not in message


def test_the_live_runner_asks_the_server() -> None:
    with serving({("GET", "/v"): fixed(json_answer({"version": "2"}))}) as server:
        answer = stream(LiveRunner(), server.url + "/v", method="GET", limits=QUICK)
    assert _texts(answer) == ['{"version": "2"}']


_LINE = st.lists(st.tuples(st.floats(0, 1e3), st.text(max_size=5)).map(list), max_size=4)


@given(
    status=st.sampled_from(["ok", "timeout", "error", "absent", "bogus", 3]),
    code=st.one_of(st.none(), st.integers(100, 599), st.just("200"), st.just(True)),
    lines=st.one_of(_LINE, st.just([[1, 2]]), st.just([["x", "y"]]), st.just("text"),
                    st.just([[-1.0, "x"]]), st.just([[2.0, "a"], [1.0, "b"]])),
)
def test_answer_problem_accepts_exactly_the_live_shape(status: Any, code: Any, lines: Any) -> None:
    answer = {"status": status, "code": code, "lines": lines}
    good_status = status in ("ok", "timeout", "error", "absent")
    good_code = code is None or (isinstance(code, int) and not isinstance(code, bool))
    good_lines = (
        isinstance(lines, list)
        and all(isinstance(x, list) and len(x) == 2 and isinstance(x[0], float | int)
                and not isinstance(x[0], bool) and x[0] >= 0 and isinstance(x[1], str)
                for x in lines)
        and [x[0] for x in lines] == sorted(x[0] for x in lines)
    )
    problem = answer_problem("http_stream", answer)
    assert (problem is None) == (good_status and good_code and good_lines), problem


# ------------------------------------------------------------------- the chunked coding


def _encoded(pieces: list[bytes], trailer: bytes = b"") -> bytes:
    body = b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in pieces if p)
    return body + b"0\r\n" + trailer + b"\r\n"


@given(st.lists(st.binary(min_size=1, max_size=300), max_size=8),
       st.lists(st.integers(1, 400), min_size=1, max_size=30),
       st.sampled_from([b"", b"X-Trailer: 1\r\n"]))
def test_dechunking_gives_the_body_however_the_bytes_arrive(
    pieces: list[bytes], cuts: list[int], trailer: bytes
) -> None:
    from envstamp.runner.streaming import _Dechunker

    raw = _encoded(pieces, trailer)
    decoder = _Dechunker()
    out, pos = [], 0
    for cut in cuts * (len(raw) // max(1, sum(cuts)) + 1):
        if pos >= len(raw):
            break
        out.append(decoder.feed(raw[pos : pos + cut]))
        pos += cut
    if pos < len(raw):
        out.append(decoder.feed(raw[pos:]))
    assert b"".join(out) == b"".join(pieces)
    assert decoder.done


@pytest.mark.parametrize("raw", [b"zz\r\nab\r\n", b"2\r\nabXY", b"-1\r\n", b"\r\n",
                                 b"1" * 5000])
def test_a_broken_chunked_coding_is_an_error_that_ends_decoding(raw: bytes) -> None:
    from envstamp.runner.streaming import _Dechunker

    decoder = _Dechunker()
    decoder.feed(raw)
    assert decoder.error is not None and "chunk" in decoder.error and decoder.done
    assert decoder.feed(b"1\r\na\r\n") == b""


def test_a_broken_chunk_size_in_a_stream_is_malformed() -> None:
    steps = [head(200, "text/event-stream", chunked=True), chunk(b"data: {}\n\n"),
             b"zz\r\nxx\r\n", LAST_CHUNK]
    with serving({("POST", "/s"): fixed(steps)}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("error", "malformed")
    assert _texts(answer) == ["data: {}"]


def test_a_body_shorter_than_its_length_is_a_disconnect() -> None:
    steps = [head(200, length=100) + b'{"a": 1}', None]
    with serving({("POST", "/s"): fixed(steps)}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("error", "disconnect")
    assert "92 bytes" in answer["detail"]


def test_a_body_without_length_ends_when_the_server_closes() -> None:
    steps = [head(200, "application/x-ndjson") + b'{"a": 1}\n{"b": 2}\n', None]
    with serving({("POST", "/s"): fixed(steps)}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert answer["status"] == "ok" and answer.get("failure") is None
    assert _texts(answer) == ['{"a": 1}', '{"b": 2}']


# ------------------------------------------------------------------------- clock readings


def test_clock_readings_are_recorded_and_replayed(tmp_path: Path) -> None:
    from envstamp.runner.streaming import clock_reading

    measured: BenchClockAnswer = {"wall_s": 1.5, "started_s": [0.0, 0.25]}
    assert clock_reading(LiveRunner(), "level", measured) == measured
    assert clock_reading(RecordingRunner(tmp_path / "rec"), "level", measured) == measured
    replayed = clock_reading(ReplayRunner(tmp_path / "rec"), "level",
                             {"wall_s": 9.0, "started_s": [9.0, 9.0]})
    assert replayed == measured


def test_a_recording_without_clock_readings_gives_the_replays_own(tmp_path: Path) -> None:
    from envstamp.runner.streaming import clock_reading

    (tmp_path / "rec").mkdir()
    own: BenchClockAnswer = {"wall_s": 2.0, "started_s": [0.0]}
    assert clock_reading(ReplayRunner(tmp_path / "rec"), "level", own) == own


@pytest.mark.parametrize("broken", [{"wall_s": -1.0, "started_s": []},
                                    {"wall_s": "soon", "started_s": []},
                                    {"other": 1.0, "started_s": []},
                                    {"wall_s": 1.0},
                                    {"wall_s": 1.0, "started_s": [1.0, float("nan")]},
                                    {"wall_s": 1.0, "started_s": 0.5}])
def test_broken_clock_readings_refuse_the_recording(tmp_path: Path, broken: Any) -> None:
    from envstamp.runner.streaming import clock_reading

    recording = RecordingRunner(tmp_path / "rec")
    clock_reading(recording, "level", {"wall_s": 1.0, "started_s": [0.0]})
    path = next((tmp_path / "rec").glob("bench_clock-*.json"))
    assert ReplayRunner(tmp_path / "rec")  # as recorded, it loads
    record = json.loads(path.read_text())
    record["answer"] = broken
    path.write_text(json.dumps(record))
    with pytest.raises(InputError, match=r"^bad recorded answer bench_clock-.*: field '"
                                         r"(wall_s|started_s)' of a bench_clock answer"):
        ReplayRunner(tmp_path / "rec")


def test_fields_a_later_version_records_beside_the_clock_are_left_out(tmp_path: Path) -> None:
    from envstamp.runner.streaming import clock_reading

    measured: BenchClockAnswer = {"wall_s": 1.0, "started_s": [0.0, 0.5]}
    clock_reading(RecordingRunner(tmp_path / "rec"), "level", measured)
    path = next((tmp_path / "rec").glob("bench_clock-*.json"))
    record = json.loads(path.read_text())
    record["answer"]["finished_s"] = [0.9, 1.0]
    path.write_text(json.dumps(record))
    replayed = clock_reading(ReplayRunner(tmp_path / "rec"), "level",
                             {"wall_s": 7.0, "started_s": [7.0, 7.0]})
    assert replayed == measured
