"""``envstamp bench``'s time to first token against a real llama-server (issue 14 target: within
1 ms of the server's own figure on loopback).

    ENVSTAMP_LLAMA_CPP_BIN=<folder with llama-server> python benchmarks/bench_ttft.py \
        [--requests N] [--prompt-words W] [--model-args "..."]

Makes a small model with ``scripts/make-tiny-gguf`` (the gguf package is needed), starts
``llama-server`` on it (2 threads) and sends N streamed ``/completion`` requests, alternating
two clients on identical requests (each prompt begins with its own number, so no prompt cache
helps; ``cache_prompt`` is off):

* raw socket - the least a client can do: connect, send, ``recv`` until a read holds the
  first event with generated text, one ``perf_counter`` per read;
* envstamp - ``runner.streaming.stream_request`` and ``benchclient.apis.read_stream``, the
  code ``envstamp bench`` runs, its TTFT as the bench computes it.

Each answer's last event carries llama-server's ``timings.prompt_ms``: the server's own
figure nearest to a TTFT (its prompt evaluation; the client's TTFT adds what the server does
around it - parsing the request, tokenizing, sampling the first token, writing the event -
and the loopback both ways).  Printed: medians of each client's TTFT, of the server's
``prompt_ms`` and of the differences, per request pair.  Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.llama_server_support import LlamaServerError, llama_server

ROOT = Path(__file__).resolve().parent.parent
# One token each in llama vocabularies (as envstamp bench's prompts).
WORDS = [
    "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are",
    "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by",
    "word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said", "there",
    "use", "an", "each", "which", "she", "do", "how", "their", "if", "will", "up", "other",
    "about", "out", "many", "then", "them", "these", "so",
]

# An event that carries generated text (the final event's content is empty).
TOKEN_EVENT = re.compile(rb'data: \{[^\n]*"content":"[^"]')


def request_body(index: int, words: int) -> bytes:
    prompt = " ".join([str(index), *(WORDS[(index + i) % len(WORDS)] for i in range(words))])
    return json.dumps({"prompt": prompt, "n_predict": 8, "stream": True, "temperature": 0,
                       "seed": 1, "cache_prompt": False, "ignore_eos": True}).encode()


def raw_client(port: int, body: bytes) -> tuple[float, float | None] | None:
    """(TTFT seconds, the server's prompt_ms) read on a bare socket."""
    clock = time.perf_counter
    sock = socket.create_connection(("127.0.0.1", port))
    request = (b"POST /completion HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
    sent = clock()
    sock.sendall(request + body)
    first: float | None = None
    data = b""
    while True:
        chunk = sock.recv(65536)
        now = clock()
        if not chunk:
            break
        data += chunk
        if first is None and TOKEN_EVENT.search(data):
            first = now - sent
    sock.close()
    if first is None:
        return None  # every token was a piece of a character: the server sent none alone
    return first, _prompt_ms(data.decode("utf-8", "replace"))


def _prompt_ms(text: str) -> float | None:
    for line in reversed(text.splitlines()):
        if line.startswith("data: ") and '"timings"' in line:
            timings = json.loads(line[6:]).get("timings") or {}
            value = timings.get("prompt_ms")
            return float(value) if isinstance(value, int | float) else None
    return None


def envstamp_client(url: str, body: bytes) -> tuple[float, float | None] | None:
    """(TTFT seconds, the server's prompt_ms) as ``envstamp bench`` measures them."""
    from envstamp.benchclient.apis import read_stream
    from envstamp.runner.streaming import stream_request

    answer = stream_request(url, body=body, headers={"Content-Type": "application/json"})
    reading = read_stream("llama-completion", answer.get("lines") or [])
    if reading.error is not None:
        raise SystemExit(f"bad answer: {answer.get('detail')} {reading.error}")
    if not reading.token_times:
        return None  # every token was a piece of a character: the server sent none alone
    prompt_ms = reading.figures.prompt_ms if reading.figures is not None else None
    return reading.token_times[0], prompt_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40, help="pairs of requests")
    parser.add_argument("--prompt-words", type=int, default=64)
    parser.add_argument("--model-args", default="", help="make-tiny-gguf options, quoted")
    args = parser.parse_args()
    folder_env = os.environ.get("ENVSTAMP_LLAMA_CPP_BIN")
    if not folder_env or not (Path(folder_env) / "llama-server").is_file():
        raise SystemExit("set ENVSTAMP_LLAMA_CPP_BIN to a folder holding llama-server")
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "ttft.gguf"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make-tiny-gguf"), str(model),
                        *shlex.split(args.model_args)], check=True, capture_output=True)
        binary = Path(folder_env) / "llama-server"
        try:
            with llama_server(binary, model, Path(folder)) as url:
                port = int(url.rsplit(":", 1)[1])
                rows = _measure(port, url + "/completion", args.requests, args.prompt_words)
        except LlamaServerError as exc:
            raise SystemExit(str(exc)) from None
    _report(rows)


def _measure(port: int, url: str, pairs: int, words: int) -> list[dict[str, float]]:
    for index in range(3):  # warm-up: the server's first requests allocate
        raw_client(port, request_body(10_000 + index, words))
        envstamp_client(url, request_body(20_000 + index, words))
    rows = []
    for index in range(pairs):
        order = ("raw", "envstamp") if index % 2 == 0 else ("envstamp", "raw")
        row: dict[str, float] = {}
        for client in order:
            # The same prompt for both clients of a pair; no pair shares a first word.
            body = request_body(index, words)
            got = raw_client(port, body) if client == "raw" else envstamp_client(url, body)
            if got is None:
                break
            row[client] = got[0] * 1000.0
            row[client + "_server"] = got[1] if got[1] is not None else float("nan")
        if len(row) == 4:
            rows.append(row)
    return rows


def _report(rows: list[dict[str, float]]) -> None:
    def median(name: str, minus: str | None = None) -> float:
        values = [r[name] - (r[minus] if minus else 0.0) for r in rows]
        return statistics.median(v for v in values if not math.isnan(v))

    print(f"{len(rows)} request pairs with a token event each, medians in ms")
    print(f"  raw socket TTFT       {median('raw'):7.3f}   "
          f"server prompt_ms {median('raw_server'):7.3f}")
    print(f"  envstamp bench TTFT   {median('envstamp'):7.3f}   "
          f"server prompt_ms {median('envstamp_server'):7.3f}")
    print(f"  envstamp - its server figure    {median('envstamp', 'envstamp_server'):7.3f}")
    print(f"  raw socket - its server figure  {median('raw', 'raw_server'):7.3f}")
    print(f"  envstamp - raw socket (pairs)   {median('envstamp', 'raw'):7.3f}")

if __name__ == "__main__":
    main()
