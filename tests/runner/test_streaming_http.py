"""runner/streaming's HTTP: what is sent, how heads are read, addresses, concurrency.

The exchange is written and read on the socket (not http.client), so the request's bytes and
the head parsing are tested here against a scripted loopback server
(tests/benchclient/fake_server.py)."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.runner.streaming import (
    StreamLimits,
    _NotHttpError,
    _parse_head,
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

QUICK = StreamLimits(connect_s=1.0, first_byte_s=0.5, stall_s=0.5, total_s=5.0)


def _raw_request(steps: list[Any]) -> tuple[bytes, dict[str, Any]]:
    """The bytes the client sent, read by a one-shot socket server that answers ``steps``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    seen: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            head_, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head_.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            while len(body) < length:
                body += conn.recv(4096)
            seen.append(head_ + b"\r\n\r\n" + body)
            for step in steps:
                conn.sendall(step)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    answer = stream_request(f"http://127.0.0.1:{port}/v1/x?y=1", body=b'{"a":1}', limits=QUICK)
    thread.join(5)
    listener.close()
    return seen[0], dict(answer)


def test_the_request_is_http_1_1_with_its_length_and_closes() -> None:
    sent, answer = _raw_request(json_answer({"ok": True}))
    head_, _, body = sent.partition(b"\r\n\r\n")
    lines = head_.decode().split("\r\n")
    assert lines[0] == "POST /v1/x?y=1 HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Host"].startswith("127.0.0.1:")
    assert headers["Content-Length"] == "7" and headers["Content-Type"] == "application/json"
    assert headers["Connection"] == "close"
    assert body == b'{"a":1}'
    assert answer["code"] == 200


def test_a_get_has_no_body_and_no_content_type() -> None:
    with serving({("GET", "/v"): fixed(json_answer({"v": 1}))}) as server:
        answer = stream_request(server.url + "/v", method="GET", limits=QUICK)
    method, path, body = server.requests[0]
    assert (method, path, body) == ("GET", "/v", b"")
    assert answer["code"] == 200


def test_interim_answers_are_skipped() -> None:
    steps = [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n",
             *json_answer({"final": True})]
    _, answer = _raw_request(steps)
    assert answer["code"] == 200 and [t for _, t in answer["lines"]] == ['{"final": true}']


def test_a_204_has_no_body_to_wait_for() -> None:
    _, answer = _raw_request([b"HTTP/1.1 204 No Content\r\n\r\n"])
    assert answer["status"] == "ok" and answer["code"] == 204 and answer["lines"] == []


def test_the_head_and_body_may_come_in_one_read_or_many() -> None:
    body = b'data: {"n": 1}\n\n'
    whole = head(200, "text/event-stream", chunked=True) + chunk(body) + LAST_CHUNK
    in_bytes = [whole[i : i + 1] for i in range(len(whole))]
    _, one = _raw_request([whole])
    _, many = _raw_request(in_bytes)
    assert [t for _, t in one["lines"]] == [t for _, t in many["lines"]] == ['data: {"n": 1}']


def test_only_a_few_headers_are_kept() -> None:
    steps = [head(200, "text/event-stream", chunked=True,
                  extra={"Server": "llama.cpp", "Set-Cookie": "secret=1", "X-Other": "y"}),
             LAST_CHUNK]
    _, answer = _raw_request(steps)
    assert answer["headers"] == {"content-type": "text/event-stream", "server": "llama.cpp",
                                 "transfer-encoding": "chunked"}


def test_a_head_that_never_ends_is_malformed() -> None:
    steps = [b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70000]
    _, answer = _raw_request(steps)
    assert (answer["status"], answer["failure"]) == ("error", "malformed")


def test_a_head_cut_short_is_a_disconnect() -> None:
    with serving({("POST", "/s"): fixed([b"HTTP/1.1 200 OK\r\nContent-Ty", None])}) as server:
        answer = stream_request(server.url + "/s", limits=QUICK)
    assert (answer["status"], answer["failure"]) == ("error", "disconnect")
    assert "cut short" in answer["detail"]


def test_a_relative_redirect_keeps_the_host() -> None:
    moved = head(302, extra={"Location": "final?x=2"}, length=0)
    routes = {("POST", "/a/start"): fixed([moved]),
              ("POST", "/a/final?x=2"): fixed(json_answer({"ok": 1}))}
    with serving(routes) as server:
        answer = stream_request(server.url + "/a/start", limits=QUICK)
    assert answer["code"] == 200
    assert [p for _, p, _ in server.requests] == ["/a/start", "/a/final?x=2"]


def test_all_interfaces_are_reached_on_loopback() -> None:
    with serving({("GET", "/v"): fixed(json_answer({"v": 1}))}) as server:
        answer = stream_request(f"http://0.0.0.0:{server.port}/v", method="GET", limits=QUICK)
    assert answer["code"] == 200


def test_localhost_is_loopback() -> None:
    with serving({("GET", "/v"): fixed(json_answer({"v": 1}))}) as server:
        answer = stream_request(f"http://localhost:{server.port}/v", method="GET",
                                limits=QUICK)
    # localhost may resolve to ::1 first: each address is tried in turn
    assert answer["status"] == "ok" and answer["code"] == 200


def test_https_to_a_plain_server_is_a_failed_connect() -> None:
    with serving({("GET", "/v"): fixed(json_answer({"v": 1}))}) as server:
        answer = stream_request(f"https://127.0.0.1:{server.port}/v", method="GET",
                                limits=QUICK)
    assert answer["status"] in ("error", "timeout") and answer["failure"] in (
        "connect", "first_byte", "disconnect")


def test_credentials_in_the_url_are_never_sent() -> None:
    with serving({("GET", "/v"): fixed(json_answer({"v": 1}))}) as server:
        stream_request(f"http://user:pw@127.0.0.1:{server.port}/v", method="GET", limits=QUICK)
    assert server.requests and all(b"pw" not in body for _, _, body in server.requests)


def test_concurrent_streams_do_not_mix() -> None:
    def numbered(body: bytes) -> list[Any]:
        number = json.loads(body)["n"]
        return sse_events([{"n": number, "i": i} for i in range(20)], gap=0.001)

    answers: dict[int, Any] = {}
    with serving({("POST", "/s"): numbered}) as server:
        def client(number: int) -> None:
            body = json.dumps({"n": number}).encode()
            answers[number] = stream_request(server.url + "/s", body=body, limits=QUICK)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for number, answer in answers.items():
        events = [json.loads(t[5:]) for _, t in answer["lines"] if t != "data: [DONE]"]
        assert [e["n"] for e in events] == [number] * 20
        assert [e["i"] for e in events] == list(range(20))


# ---------------------------------------------------------------------------- head parsing


@given(st.integers(100, 599), st.dictionaries(
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True),
    st.from_regex(r"[ -~]{0,30}", fullmatch=True).map(str.strip), max_size=6))
def test_heads_parse_to_their_code_and_headers(code: int, headers: dict[str, str]) -> None:
    raw = f"HTTP/1.1 {code} Whatever\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    parsed = _parse_head(raw.rstrip("\r\n").encode("latin-1"))
    assert parsed.code == code
    expected: dict[str, str] = {}
    for name, value in headers.items():
        expected[name.lower()] = value
    assert parsed.headers == expected


@pytest.mark.parametrize("raw", [b"HTTP/1.1 OK", b"HTTP/1.1 20 OK", b"ICY 200 OK", b""])
def test_bad_status_lines_are_not_http(raw: bytes) -> None:
    with pytest.raises(_NotHttpError):
        _parse_head(raw)


@pytest.mark.parametrize(("headers", "chunked", "length"), [
    ({"transfer-encoding": "chunked"}, True, None),
    ({"transfer-encoding": "gzip, Chunked"}, True, None),
    ({"content-length": "12"}, False, 12),
    ({"content-length": "-1"}, False, None),
    ({"content-length": "twelve"}, False, None),
    ({}, False, None),
])
def test_where_a_body_ends(headers: dict[str, str], chunked: bool, length: int | None) -> None:
    from envstamp.runner.streaming import _Head

    parsed = _Head(200, headers)
    assert (parsed.chunked, parsed.length) == (chunked, length)
