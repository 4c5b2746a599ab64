"""Loopback HTTP, and nothing else."""

from __future__ import annotations

import re
import socket
import time
from typing import TYPE_CHECKING

from envstamp.runner.answers import MAX_FILE_BYTES, decode

if TYPE_CHECKING:
    from envstamp.runner.answer_types import HttpAnswer

# ----------------------------------------------------------------------------------- http

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}  # noqa: S104


def split_http_url(url: str) -> tuple[str, int, str] | None:
    """(host, port, path) of an http:// URL on a loopback host, else None."""
    match = re.match(r"^http://(\[[^\]]+\]|[^/:]+)(?::(\d+))?(/.*)?$", url)
    if not match:
        return None
    host = match.group(1)
    if host not in _LOOPBACK_HOSTS and not host.startswith("127."):
        return None
    if host == "0.0.0.0":  # noqa: S104 - a server bound to all interfaces answers on loopback
        host = "127.0.0.1"
    port = int(match.group(2) or 80)
    return host.strip("[]"), port, match.group(3) or "/"


def http_answer(url: str, timeout: float, *, method: str = "GET", body: str = "") -> HttpAnswer:
    """One HTTP/1.0 request over a socket, on loopback only, bounded in time."""
    parts = split_http_url(url)
    if parts is None:
        return {"status": "unsupported", "detail": "only http:// on loopback is probed"}
    host, port, path = parts
    deadline = time.monotonic() + timeout
    try:
        # Each address of the host in turn (localhost may be ::1 first, the server on IPv4).
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return {"status": "absent", "detail": "connection refused (not running)"}
    except TimeoutError:
        return {"status": "timeout", "detail": f"no answer within {timeout:g} s"}
    except OSError as exc:
        return {"status": "error", "detail": exc.strerror or str(exc)}
    try:
        payload = body.encode()
        request = f"{method} {path} HTTP/1.0\r\nHost: {host}:{port}\r\nAccept: */*\r\n"
        if method != "GET":
            request += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        sock.sendall(request.encode() + b"\r\n" + payload)
        chunks: list[bytes] = []
        size = 0
        while size < MAX_FILE_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {"status": "timeout", "detail": f"no answer within {timeout:g} s"}
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except TimeoutError:
        return {"status": "timeout", "detail": f"no answer within {timeout:g} s"}
    except OSError as exc:
        return {"status": "error", "detail": exc.strerror or str(exc)}
    finally:
        sock.close()
    return parse_http_response(b"".join(chunks))


def parse_http_response(raw: bytes) -> HttpAnswer:
    """Status code and body of a raw HTTP/1.x response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/\d\.\d (\d{3})", head)
    if not match:
        return {"status": "error", "detail": "not an HTTP response"}
    return {"status": "ok", "code": int(match.group(1)), "body": decode(body)}
