"""``OLLAMA_HOST``: where Ollama's server listens, as the base URL envstamp may ask.

Apart from :mod:`envstamp.parsers.ollama` because the Ollama probe needs it on every capture,
before it knows whether Ollama is there at all, and Ollama's other parsers only once it is
(their patterns compile at import, as the other frontends' do)."""

from __future__ import annotations

import re

DEFAULT_HOST = "127.0.0.1:11434"
DEFAULT_PORT = 11434
_LOOPBACK = {"", "localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}  # noqa: S104 - see below


def ollama_base_url(value: str | None) -> str | None:
    """The http:// base URL for an OLLAMA_HOST value; None when it is not on loopback.

    Accepts "host", "host:port", ":port", "http://host:port[/path]", "[::1]:port";
    "0.0.0.0" (listen everywhere) is reached on 127.0.0.1.
    """
    text = (value or "").strip() or DEFAULT_HOST
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "http", text
    if scheme.lower() != "http":
        return None
    hostport, slash, path = rest.partition("/")
    hostport = hostport.rpartition("@")[2]  # credentials are never sent
    match = re.fullmatch(r"\[([^\]]*)\](?::(\d*))?|([^:]*)(?::(\d*))?", hostport)
    if match is None:
        return None
    host = (match.group(1) if match.group(1) is not None else match.group(3) or "").lower()
    port = match.group(2) or match.group(4) or str(DEFAULT_PORT)
    if host not in _LOOPBACK and not host.startswith("127."):
        return None
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a server bound everywhere answers here
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return base + "/" + path.strip("/") if slash and path.strip("/") else base
