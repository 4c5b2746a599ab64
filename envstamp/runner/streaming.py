"""Streaming HTTP for ``envstamp bench``: one request, its answer as timed lines.

A benchmark client must know *when* each part of a streamed answer arrived (the first token,
every token after it), so this answer is not a body but a list of ``[seconds, line]`` pairs:
the seconds since the request was sent at which the line's last byte was read.  Server-sent
events (``data: {...}``) and newline-delimited JSON (Ollama) are both lines; blank lines
carry nothing and are dropped.  Lines that arrived in one read share its time: that is when
the client could first have seen them.

What can go wrong is data, never an exception or a hang:

* every phase has its own limit (:class:`StreamLimits`): connecting, the first byte of the
  answer, a stall between two reads, and the whole exchange;
* a refused connection is ``absent``; a limit that ran out is ``timeout`` with ``failure``
  naming the phase (``connect``, ``first_byte``, ``stall``, ``deadline``); an answer cut short
  (a chunked body that ends before its last chunk, a connection reset) is ``error`` with
  ``failure`` ``disconnect``; an answer larger than ``max_bytes`` is cut there (``too_large``);
* only loopback hosts are asked unless ``allow_remote``; a redirect is followed only to the
  same scheme, host and port (at most three), never off the host (``failure`` ``redirect``).

A 5xx or any other status is an answer like a 200 (``status`` ``ok``, its ``code``): the
caller decides what a code means.  Whether the lines make a well-formed stream is the
caller's question too (the bench client reads them per API).

Through a runner (:func:`stream`), an answer is recorded and replayed like every other
runner answer: a replay gives back the lines with their recorded times, so the figures a
bench computes from a recording are the ones it computed live.  Standard library only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from envstamp.manifest.records import FrozenRecord
from envstamp.runner.answers import AnswerStatus

if TYPE_CHECKING:
    import http.client

    from envstamp.runner.base import Runner

__all__ = [
    "StreamAnswer",
    "StreamLimits",
    "answer_problem",
    "is_loopback_host",
    "stream",
    "stream_request",
]

# The response headers kept (lower-cased): enough to tell a stream's format and the server.
KEPT_HEADERS = ("content-type", "server", "transfer-encoding", "content-length")
MAX_REDIRECTS = 3
_READ_SIZE = 65536


class StreamAnswer(TypedDict, total=False):
    """``http_stream``: one streamed HTTP exchange, timed line by line."""

    status: AnswerStatus
    code: int | None
    headers: dict[str, str]
    detail: str | None
    failure: str | None
    """refused, connect, first_byte, stall, deadline, disconnect, malformed, too_large,
    redirect, remote, url, recording; None when the exchange completed."""
    connect_s: float | None
    first_byte_s: float | None
    """Seconds from sending the request to reading the answer's status line and headers."""
    total_s: float | None
    """Seconds from sending the request to the end of the answer (or the failure)."""
    lines: list[list[Any]]
    """``[seconds since the request was sent, text]`` per non-blank line, in order."""
    truncated: bool


@attrs.frozen(eq=False, repr=False)
class StreamLimits(FrozenRecord):
    """Seconds each phase may take, and the largest answer kept."""

    connect_s: float = 3.0
    first_byte_s: float = 120.0  # a long prompt on a slow machine: the server is busy
    stall_s: float = 30.0
    total_s: float = 900.0
    max_bytes: int = 64 << 20


# ------------------------------------------------------------------------------- hosts


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); 0.0.0.0 too (a
    server bound to every interface is reached on loopback)."""
    import ipaddress

    name = host.strip("[]").lower()
    if name in ("localhost", "0.0.0.0", "::"):  # noqa: S104 - reached on loopback
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@attrs.frozen
class _Target:
    scheme: str
    host: str
    port: int
    path: str

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


def _target(url: str, allow_remote: bool) -> _Target | StreamAnswer:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return _failed("unsupported", "url", f"not a usable URL: {exc}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _failed("unsupported", "url", "only http:// and https:// URLs are asked")
    host = parts.hostname
    if not allow_remote and not is_loopback_host(host):
        detail = f"{host} is not a loopback address (--allow-remote asks other hosts)"
        return _failed("unsupported", "remote", detail)
    if host in ("0.0.0.0", "::"):  # noqa: S104
        host = "127.0.0.1"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default = 443 if parts.scheme == "https" else 80
    return _Target(parts.scheme, host, port or default, path)


def _failed(status: AnswerStatus, failure: str, detail: str, **more: Any) -> StreamAnswer:
    answer: StreamAnswer = {"status": status, "failure": failure, "detail": detail}
    answer.update(more)  # type: ignore[typeddict-item]
    return answer


# -------------------------------------------------------------------------- the request


def stream_request(
    url: str,
    *,
    method: str = "POST",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    limits: StreamLimits | None = None,
    allow_remote: bool = False,
) -> StreamAnswer:
    """Send one request and read its answer line by line, each line timed (see the module)."""
    limits = limits or StreamLimits()
    target = _target(url, allow_remote)
    if not isinstance(target, _Target):
        return target
    for _ in range(MAX_REDIRECTS + 1):
        answer, location = _exchange(target, method, body, headers or {}, limits)
        if location is None:
            return answer
        moved = _target(_joined(target, location), allow_remote)
        if not isinstance(moved, _Target) or moved.origin != target.origin:
            shown = moved.host if isinstance(moved, _Target) else location[:80]
            return _failed(
                "error", "redirect", f"redirected off the host (to {shown}): not followed",
                code=answer.get("code"),
            )
        target = moved
    return _failed("error", "redirect", f"more than {MAX_REDIRECTS} redirects")


def _joined(target: _Target, location: str) -> str:
    from urllib.parse import urljoin

    host = f"[{target.host}]" if ":" in target.host else target.host
    return urljoin(f"{target.scheme}://{host}:{target.port}{target.path}", location)


def _connection(target: _Target, timeout: float) -> http.client.HTTPConnection:
    import http.client

    if target.scheme == "https":
        return http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
    return http.client.HTTPConnection(target.host, target.port, timeout=timeout)


def _exchange(
    target: _Target,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    limits: StreamLimits,
) -> tuple[StreamAnswer, str | None]:
    """One request to ``target``: the answer, and the Location of a redirect (else None)."""
    import http.client

    clock = time.perf_counter
    conn = _connection(target, limits.connect_s)
    started = clock()
    try:
        conn.connect()
    except ConnectionRefusedError:
        return _failed("absent", "refused", "connection refused (no server there)"), None
    except TimeoutError:
        return _failed("timeout", "connect", f"no connection within {limits.connect_s:g} s"), None
    except OSError as exc:
        return _failed("error", "connect", f"cannot connect: {exc.strerror or exc}"), None
    connect_s = clock() - started
    try:
        sock = conn.sock
        sock.settimeout(min(limits.first_byte_s, limits.total_s))
        sent = clock()
        conn.request(method, target.path, body=body, headers=_request_headers(headers, body))
        response = conn.getresponse()
        first_byte_s = clock() - sent
        timing = {"connect_s": connect_s, "first_byte_s": first_byte_s}
        location = response.getheader("location")
        if 300 <= response.status < 400 and location:
            response.close()
            return {"status": "ok", "code": response.status, **timing}, location  # type: ignore[typeddict-item]
        return _read_lines(response, sock, sent, limits, timing), None
    except TimeoutError:
        waited = clock() - started - connect_s
        return _failed(
            "timeout", "first_byte", f"no answer within {waited:.3g} s", connect_s=connect_s
        ), None
    except http.client.RemoteDisconnected as exc:  # a BadStatusLine too: closed, no answer
        return _failed("error", "disconnect", f"no answer: {_describe(exc)}",
                       connect_s=connect_s), None
    except (http.client.BadStatusLine, http.client.LineTooLong) as exc:
        detail = f"not an HTTP answer: {_describe(exc)}"
        return _failed("error", "malformed", detail, connect_s=connect_s), None
    except (http.client.HTTPException, OSError) as exc:
        detail = f"no answer: {_describe(exc)}"
        return _failed("error", "disconnect", detail, connect_s=connect_s), None
    finally:
        conn.close()


def _request_headers(headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
    sent = {"Accept": "*/*", "User-Agent": "envstamp-bench"}
    if body is not None:
        sent["Content-Type"] = "application/json"
    sent.update(headers)
    return sent


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _read_lines(
    response: http.client.HTTPResponse,
    sock: Any,
    sent: float,
    limits: StreamLimits,
    timing: Mapping[str, float],
) -> StreamAnswer:
    """Read the body as it comes; each line stamped with the time of the read that ended it.

    The loop does the least it can per read (no JSON, no decoding of lines that are not
    finished): this is the client's share of every streamed token.
    """
    import http.client

    clock = time.perf_counter
    lines: list[list[Any]] = []
    add = lines.append
    pending = b""
    size = 0
    deadline = sent + limits.total_s
    stall = limits.stall_s
    sock.settimeout(min(stall, limits.total_s))
    read = response.read1
    answer: StreamAnswer = {
        "status": "ok",
        "code": response.status,
        "headers": _kept_headers(response),
        **timing,  # type: ignore[typeddict-item]
    }
    try:
        while True:
            chunk = read(_READ_SIZE)
            now = clock()
            if not chunk:
                break
            size += len(chunk)
            if b"\n" in chunk:
                *done, pending = (pending + chunk).split(b"\n")
                seconds = now - sent
                for raw in done:
                    if raw.strip():
                        add([seconds, raw.decode("utf-8", "replace").rstrip("\r")])
            else:
                pending += chunk
            if size > limits.max_bytes:
                answer["truncated"] = True
                _end(answer, "error", "too_large", f"answer over {limits.max_bytes} bytes: cut")
                break
            left = deadline - now
            if left <= 0:
                _end(answer, "timeout", "deadline", f"not finished within {limits.total_s:g} s")
                break
            if left < stall:
                stall = left
                sock.settimeout(left)
    except TimeoutError:
        _end(answer, "timeout", "stall", f"nothing more for {stall:.3g} s")
    except (http.client.HTTPException, OSError) as exc:
        _end(answer, "error", "disconnect", f"answer cut short: {_describe(exc)}")
    if pending.strip():
        add([clock() - sent, pending.decode("utf-8", "replace").rstrip("\r")])
    answer["lines"] = lines
    answer["total_s"] = clock() - sent
    return answer


def _end(answer: StreamAnswer, status: AnswerStatus, failure: str, detail: str) -> None:
    answer["status"] = status
    answer["failure"] = failure
    answer["detail"] = detail


def _kept_headers(response: http.client.HTTPResponse) -> dict[str, str]:
    kept = {}
    for name in KEPT_HEADERS:
        value = response.getheader(name)
        if value is not None:
            kept[name] = value[:200]
    return kept


# ----------------------------------------------------------------- through a runner


def stream(
    runner: Runner,
    url: str,
    *,
    method: str = "POST",
    body: bytes | None = None,
    limits: StreamLimits | None = None,
    allow_remote: bool = False,
    tag: str = "",
) -> StreamAnswer:
    """:func:`stream_request` through ``runner``: live, recorded or replayed.

    ``tag`` tells apart requests that are otherwise equal (the same prompt sent twice, or by
    two concurrent clients): a recording keys each answer by URL, method, body and tag.  A
    replayed answer is checked field by field first (:func:`answer_problem`): a recording is
    input, and a broken one is a failed answer here, not a crash later.
    """
    key: dict[str, object] = {"url": url, "method": method, "tag": tag}
    if body is not None:
        key["body"] = body.decode("utf-8", "replace")
    # The runners' one seam for record and replay (Runner._answer).
    answer = runner._answer(
        "http_stream",
        key,
        lambda: stream_request(
            url, method=method, body=body, limits=limits, allow_remote=allow_remote
        ),
    )
    problem = answer_problem(answer)
    if problem is not None:
        return _failed("error", "recording", f"recorded answer unusable: {problem}")
    return answer


_STATUSES = frozenset({"ok", "absent", "permission", "timeout", "error", "unsupported"})


def answer_problem(answer: Mapping[str, Any]) -> str | None:
    """What is wrong with a (recorded) stream answer, or None when it has the live shape."""
    if answer.get("status") not in _STATUSES:
        return "status must be one of " + ", ".join(sorted(_STATUSES))
    for name in ("code",):
        value = answer.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{name} must be an integer"
    for name in ("connect_s", "first_byte_s", "total_s"):
        value = answer.get(name)
        if value is not None and not _seconds(value):
            return f"{name} must be a non-negative number of seconds"
    for name in ("detail", "failure"):
        if answer.get(name) is not None and not isinstance(answer.get(name), str):
            return f"{name} must be a string"
    headers = answer.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return "headers must be an object of strings"
    lines = answer.get("lines", [])
    if not isinstance(lines, list):
        return "lines must be a list"
    last = 0.0
    for item in lines:
        ok = isinstance(item, list) and len(item) == 2 and _seconds(item[0])
        if not ok or not isinstance(item[1], str):
            return "each line must be [seconds, text]"
        if item[0] < last:
            return "line times must not go backwards"
        last = item[0]
    return None


def _seconds(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value >= 0
