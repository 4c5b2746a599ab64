"""A fake inference server for the bench tests: a loopback socket server in a thread that
answers each route with a script of raw bytes, sent with pauses, so that every fault a real
server can show (a stall, a disconnect in the middle of a chunk, a garbage status line, an
answer that never starts) is produced exactly.

Hand-made on purpose: real servers do not fail on request.  The field names of the Ollama,
LM Studio and OpenAI answers the tests script come from those projects' documentation and
client packages (ollama-python's ``_types.py``, lmstudio-python's prediction stats), written
here by hand; the llama-server answers the tests replay are recorded from a real one
(tests/fixtures/bench/README.md).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# A step of a scripted answer: bytes to send, or a pause in seconds, or None to close now.
Step = bytes | float | None
Responder = Callable[[bytes], Iterable[Step]]


class FakeServer:
    """Answers ``(method, path)`` routes with scripted steps; 404 for anything else."""

    def __init__(self, routes: Mapping[tuple[str, str], Responder]) -> None:
        self.routes = dict(routes)
        self.requests: list[tuple[str, str, bytes]] = []
        self.release = threading.Event()  # ends every pause early at shutdown
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                method, path, body = _read_request(conn)
            except (OSError, ValueError):
                return
            self.requests.append((method, path, body))
            responder = self.routes.get((method, path)) or self.routes.get(("*", path))
            steps = responder(body) if responder else json_answer({"error": "not found"}, 404)
            try:
                for step in steps:
                    if step is None:
                        return
                    if isinstance(step, float):
                        if self.release.wait(step):
                            return
                        continue
                    conn.sendall(step)
            except OSError:
                return

    def close(self) -> None:
        self.release.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the serving thread
        self._sock.close()


@contextmanager
def serving(routes: Mapping[tuple[str, str], Responder]) -> Iterator[FakeServer]:
    server = FakeServer(routes)
    try:
        yield server
    finally:
        server.close()


def _read_request(conn: socket.socket) -> tuple[str, str, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("no request")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return method, path, body


# ------------------------------------------------------------------------ answer builders


def head(code: int = 200, content_type: str = "application/json", *, chunked: bool = False,
         length: int | None = None, extra: Mapping[str, str] | None = None) -> bytes:
    reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error",
              503: "Service Unavailable", 302: "Found", 307: "Temporary Redirect"}
    lines = [f"HTTP/1.1 {code} {reason.get(code, 'X')}", f"Content-Type: {content_type}",
             "Connection: close"]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


LAST_CHUNK = b"0\r\n\r\n"


def json_answer(obj: Any, code: int = 200, extra: Mapping[str, str] | None = None) -> list[Step]:
    body = json.dumps(obj).encode()
    return [head(code, length=len(body), extra=extra) + body]


def sse_events(events: Iterable[Any], *, gap: float = 0.0, done: bool = True) -> list[Step]:
    """Server-sent events, chunked, one event per chunk with ``gap`` seconds between them."""
    steps: list[Step] = [head(200, "text/event-stream", chunked=True)]
    for event in events:
        payload = event if isinstance(event, str) else json.dumps(event)
        steps.append(chunk(f"data: {payload}\n\n".encode()))
        if gap:
            steps.append(gap)
    if done:
        steps.append(chunk(b"data: [DONE]\n\n"))
    steps.append(LAST_CHUNK)
    return steps


def ndjson_events(events: Iterable[Any], *, gap: float = 0.0) -> list[Step]:
    """Newline-delimited JSON (Ollama), chunked."""
    steps: list[Step] = [head(200, "application/x-ndjson", chunked=True)]
    for event in events:
        steps.append(chunk(json.dumps(event).encode() + b"\n"))
        if gap:
            steps.append(gap)
    steps.append(LAST_CHUNK)
    return steps


def fixed(steps: list[Step]) -> Responder:
    """A responder that answers every request with the same steps."""
    return lambda _body: list(steps)


# ----------------------------------------------------------------- servers by their APIs


def llama_events(n: int, *, prompt_n: int = 32) -> list[dict[str, Any]]:
    """llama-server /completion events: n tokens, then the final event with timings."""
    events: list[dict[str, Any]] = [
        {"index": 0, "content": f" t{i}", "tokens": [100 + i], "stop": False,
         "tokens_predicted": i + 1, "tokens_evaluated": prompt_n}
        for i in range(n)
    ]
    events.append({
        "index": 0, "content": "", "tokens": [], "stop": True, "model": "fake.gguf",
        "tokens_predicted": n, "tokens_evaluated": prompt_n,
        "timings": {"cache_n": 0, "prompt_n": prompt_n, "prompt_ms": 4.0,
                    "prompt_per_token_ms": 4.0 / prompt_n, "prompt_per_second": prompt_n / 0.004,
                    "predicted_n": n, "predicted_ms": 2.0 * n,
                    "predicted_per_token_ms": 2.0, "predicted_per_second": 500.0},
    })
    return events


def ollama_generate_events(n: int, model: str = "llama3.2:1b") -> list[dict[str, Any]]:
    """/api/generate stream (ollama-python GenerateResponse fields): n fragments, then done
    with the counts and nanosecond durations."""
    events: list[dict[str, Any]] = [
        {"model": model, "created_at": "2026-12-06T07:00:00Z", "response": f" w{i}",
         "done": False}
        for i in range(n)
    ]
    events.append({
        "model": model, "created_at": "2026-12-06T07:00:01Z", "response": "", "done": True,
        "done_reason": "length", "total_duration": 250_000_000, "load_duration": 20_000_000,
        "prompt_eval_count": 40, "prompt_eval_duration": 50_000_000, "eval_count": n,
        "eval_duration": 10_000_000 * n,
    })
    return events


def ollama_chat_events(n: int, model: str = "llama3.2:1b") -> list[dict[str, Any]]:
    """/api/chat stream: ``message.content`` fragments, then done (ChatResponse fields)."""
    events: list[dict[str, Any]] = [
        {"model": model, "created_at": "2026-12-06T07:00:00Z",
         "message": {"role": "assistant", "content": f" w{i}"}, "done": False}
        for i in range(n)
    ]
    final = ollama_generate_events(0, model)[-1] | {"eval_count": n,
                                                      "eval_duration": 10_000_000 * n}
    final.pop("response")
    final["message"] = {"role": "assistant", "content": ""}
    events.append(final)
    return events


OLLAMA_DIGEST = "sha256:" + "ab" * 32
OLLAMA_BLOB = "cd" * 32


def ollama_routes(n: int = 4, *, model: str = "llama3.2:1b") -> dict[tuple[str, str], Responder]:
    """An Ollama server: version, ps (size against size_vram), tags, show, generate, chat."""
    details = {"format": "gguf", "family": "llama", "parameter_size": "1.2B",
               "quantization_level": "Q8_0"}
    return {
        ("GET", "/api/version"): fixed(json_answer({"version": "0.12.3"})),
        ("GET", "/api/ps"): fixed(json_answer({"models": [{
            "name": model, "model": model, "digest": OLLAMA_DIGEST, "size": 2_000_000_000,
            "size_vram": 1_500_000_000, "expires_at": "2026-12-06T08:00:00Z",
            "details": details, "context_length": 4096}]})),
        ("GET", "/api/tags"): fixed(json_answer({"models": [{
            "name": model, "model": model, "digest": OLLAMA_DIGEST, "size": 1_300_000_000,
            "modified_at": "2026-11-01T00:00:00Z", "details": details}]})),
        ("POST", "/api/show"): fixed(json_answer({
            "modelfile": f"FROM /usr/share/ollama/.ollama/models/blobs/sha256-{OLLAMA_BLOB}\n",
            "details": details,
            "model_info": {"general.architecture": "llama",
                           "general.parameter_count": 1_235_814_432}})),
        ("POST", "/api/generate"): fixed(ndjson_events(ollama_generate_events(n, model))),
        ("POST", "/api/chat"): fixed(ndjson_events(ollama_chat_events(n, model))),
    }


def openai_chunks(n: int, *, chat: bool, model: str, usage: bool = True,
                  stats: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """OpenAI streaming chunks (text or chat deltas), a finish chunk with usage and, for LM
    Studio's REST API, ``stats``/``model_info``/``runtime``."""
    def choice(text: str, finish: str | None) -> dict[str, Any]:
        if chat:
            return {"index": 0, "delta": {"content": text} if text else {},
                    "finish_reason": finish}
        return {"index": 0, "text": text, "finish_reason": finish}

    kind = "chat.completion.chunk" if chat else "text_completion"
    events = [{"id": "x", "object": kind, "model": model, "choices": [choice(f" w{i}", None)]}
              for i in range(n)]
    last: dict[str, Any] = {"id": "x", "object": kind, "model": model,
                            "choices": [choice("", "length")]}
    if usage:
        last["usage"] = {"prompt_tokens": 33, "completion_tokens": n, "total_tokens": 33 + n}
    if stats is not None:
        last["stats"] = dict(stats)
        last["model_info"] = {"arch": "llama", "quant": "Q4_K_M", "format": "gguf",
                              "context_length": 4096}
        last["runtime"] = {"name": "llama.cpp-linux-x86_64-avx2", "version": "1.52.1",
                           "supported_formats": ["gguf"]}
    events.append(last)
    return events


LMSTUDIO_STATS = {"tokens_per_second": 51.5, "time_to_first_token": 0.121,
                  "generation_time": 0.08, "stop_reason": "maxPredictedTokensReached"}


def lmstudio_routes(n: int = 4, *, model: str = "qwen2.5-7b-instruct"
                    ) -> dict[tuple[str, str], Responder]:
    """LM Studio's REST API (/api/v0): models with type and state, completions with stats."""
    models = {"object": "list", "data": [
        {"id": model, "object": "model", "type": "llm", "publisher": "lmstudio-community",
         "arch": "qwen2", "compatibility_type": "gguf", "quantization": "Q4_K_M",
         "state": "loaded", "max_context_length": 32768},
        {"id": "text-embedding-nomic", "object": "model", "type": "embeddings",
         "arch": "nomic-bert", "state": "not-loaded"}]}
    return {
        ("GET", "/api/v0/models"): fixed(json_answer(models)),
        ("GET", "/v1/models"): fixed(json_answer({"object": "list", "data": [
            {"id": model, "object": "model", "owned_by": "organization_owner"}]})),
        ("POST", "/api/v0/completions"): fixed(sse_events(
            openai_chunks(n, chat=False, model=model, stats=LMSTUDIO_STATS))),
        ("POST", "/api/v0/chat/completions"): fixed(sse_events(
            openai_chunks(n, chat=True, model=model, stats=LMSTUDIO_STATS))),
        ("POST", "/v1/completions"): fixed(sse_events(
            openai_chunks(n, chat=False, model=model))),
    }


def vllm_routes(n: int = 4, *, model: str = "Qwen/Qwen2.5-0.5B") -> dict[tuple[str, str],
                                                                          Responder]:
    """vLLM's OpenAI server: /v1/models owned by vllm, /version, streamed completions."""
    return {
        ("GET", "/v1/models"): fixed(json_answer({"object": "list", "data": [
            {"id": model, "object": "model", "owned_by": "vllm", "max_model_len": 32768}]})),
        ("GET", "/version"): fixed(json_answer({"version": "0.11.0"})),
        ("POST", "/v1/completions"): fixed(sse_events(openai_chunks(n, chat=False, model=model))),
        ("POST", "/v1/chat/completions"): fixed(sse_events(
            openai_chunks(n, chat=True, model=model))),
    }


def llama_routes(n: int = 4, *, gap: float = 0.0) -> dict[tuple[str, str], Responder]:
    """A llama-server lookalike: /props, /tokenize (one token per word, plus BOS) and a
    streamed /completion."""
    props = {"build_info": "b6500-abcdef12", "model_path": "models/fake.gguf",
             "total_slots": 1, "default_generation_settings": {"n_ctx": 4096}}

    def tokenize(body: bytes) -> list[Step]:
        content = json.loads(body)["content"]
        return json_answer({"tokens": list(range(len(content.split()) + 1))})

    return {
        ("GET", "/props"): fixed(json_answer(props)),
        ("POST", "/tokenize"): tokenize,
        ("POST", "/completion"): fixed(sse_events(llama_events(n), gap=gap, done=False)),
    }


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return False
