"""What each server API is asked, and how its streamed answer is read.  Pure.

APIs (``--api``):

=====================  ===========================  ======================================
name                   route                        stream
=====================  ===========================  ======================================
llama-completion       ``POST /completion``         SSE; ``content``; last event ``stop``
                                                    true with ``timings``
openai-completions     ``POST /v1/completions``     SSE; ``choices[0].text``; ``[DONE]``
openai-chat            ``POST /v1/chat/completions`` SSE; ``choices[0].delta.content``
ollama-generate        ``POST /api/generate``       NDJSON; ``response``; last ``done``
                                                    true with ``*_count``/``*_duration`` (ns)
ollama-chat            ``POST /api/chat``           NDJSON; ``message.content``
lmstudio-completions   ``POST /api/v0/completions`` SSE as OpenAI, plus ``stats``
lmstudio-chat          ``POST /api/v0/chat/...``    SSE as OpenAI, plus ``stats``
=====================  ===========================  ======================================

A token event is an event that carried generated text (or reasoning text, or token ids):
its arrival time is when the client saw those tokens.  One event can carry more than one
token (a character split over two tokens): counts come from the server where it reports
them, from the events otherwise.

The server's own figures are kept as it reports them, converted to milliseconds and
counts: llama-server ``timings`` (prompt_n, prompt_ms, predicted_n, predicted_ms,
cache_n), Ollama's prompt_eval_count/duration, eval_count/duration, load_duration and
total_duration (nanoseconds), LM Studio's ``stats`` (tokens_per_second,
time_to_first_token in seconds, generation_time), and OpenAI ``usage`` counts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from envstamp.manifest.model import field

APIS = (
    "llama-completion",
    "openai-completions",
    "openai-chat",
    "ollama-generate",
    "ollama-chat",
    "lmstudio-completions",
    "lmstudio-chat",
)

_ROUTES = {
    "llama-completion": "/completion",
    "openai-completions": "/v1/completions",
    "openai-chat": "/v1/chat/completions",
    "ollama-generate": "/api/generate",
    "ollama-chat": "/api/chat",
    "lmstudio-completions": "/api/v0/completions",
    "lmstudio-chat": "/api/v0/chat/completions",
}

# Servers that take llama.cpp's own request fields on their OpenAI routes too.
LLAMA_SERVERS = frozenset({"llama-server", "llamafile"})


@attrs.frozen
class RequestSpec:
    """One request: where to send it and its JSON body."""

    path: str
    body: dict[str, Any]

    def encoded(self) -> bytes:
        """The body as sent."""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()


def route(api: str) -> str:
    """The path an API is asked on."""
    return _ROUTES[api]


def build_request(
    api: str,
    *,
    prompt: str,
    n_gen: int,
    seed: int,
    model: str | None,
    server: str | None = None,
) -> RequestSpec:
    """The streamed request for ``api``: temperature 0, a fixed seed, ``n_gen`` tokens.

    Generation is asked to ignore the end-of-sequence token where the API allows it
    (llama-server, llamafile, vLLM), so that every request generates ``n_gen`` tokens; where
    it does not, the server's count says how many were generated.  llama.cpp servers are
    asked not to reuse a cached prompt prefix: every request processes its whole prompt.
    """
    if api == "llama-completion":
        body: dict[str, Any] = {
            "prompt": prompt,
            "n_predict": n_gen,
            "stream": True,
            "temperature": 0,
            "seed": seed,
            "ignore_eos": True,
            "cache_prompt": False,
        }
        return RequestSpec(route(api), body)
    if api.startswith("ollama-"):
        body = {
            "stream": True,
            "options": {"num_predict": n_gen, "temperature": 0, "seed": seed},
        }
        if model:
            body["model"] = model
        if api == "ollama-generate":
            body["prompt"] = prompt
            body["raw"] = True  # no template: the prompt is the benchmark's, token for token
        else:
            body["messages"] = [{"role": "user", "content": prompt}]
        return RequestSpec(route(api), body)
    body = {"stream": True, "max_tokens": n_gen, "temperature": 0, "seed": seed}
    if api.endswith("-chat"):
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if api.startswith("openai-"):
        body["stream_options"] = {"include_usage": True}
    if model:
        body["model"] = model
    if server in LLAMA_SERVERS:
        body.update(ignore_eos=True, cache_prompt=False)
    elif server == "vllm":
        body["ignore_eos"] = True
    return RequestSpec(route(api), body)


# ------------------------------------------------------------------------ server figures


@attrs.define
class ServerFigures:
    """What the server said about its own work on one request (None: it did not say)."""

    source: str | None = field('Where: "timings", "ollama", "stats" or "usage".')
    prompt_n: int | None = field("Prompt tokens it processed (cached ones not included).")
    prompt_ms: float | None = field("Milliseconds it spent on the prompt.")
    predicted_n: int | None = field("Tokens it generated.")
    predicted_ms: float | None = field("Milliseconds it spent generating.")
    cached_n: int | None = field("Prompt tokens it took from its cache.")
    load_ms: float | None = field("Milliseconds it spent loading the model (Ollama).")
    total_ms: float | None = field("Milliseconds of the whole request (Ollama).")
    ttft_ms: float | None = field("Time to first token it measured (LM Studio).")
    tokens_per_s: float | None = field("Generation speed it measured (LM Studio).")

    @property
    def prompt_tps(self) -> float | None:
        """Prompt tokens per second by the server's clock."""
        return _rate(self.prompt_n, self.prompt_ms)

    @property
    def gen_tps(self) -> float | None:
        """Generated tokens per second by the server's clock."""
        if self.tokens_per_s is not None:
            return self.tokens_per_s
        return _rate(self.predicted_n, self.predicted_ms)


def _rate(count: int | None, ms: float | None) -> float | None:
    if count is None or not ms or ms <= 0:
        return None
    return count / (ms / 1000.0)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0 or value != int(value):
        return None
    return int(value)


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _ns_to_ms(value: Any) -> float | None:
    ns = _real(value)
    return None if ns is None else ns / 1e6


def figures_from_timings(timings: Mapping[str, Any]) -> ServerFigures:
    """llama-server's ``timings`` object."""
    return ServerFigures(
        source="timings",
        prompt_n=_int(timings.get("prompt_n")),
        prompt_ms=_real(timings.get("prompt_ms")),
        predicted_n=_int(timings.get("predicted_n")),
        predicted_ms=_real(timings.get("predicted_ms")),
        cached_n=_int(timings.get("cache_n")),
    )


def figures_from_ollama(final: Mapping[str, Any]) -> ServerFigures:
    """Ollama's last event (``done`` true): counts, and durations in nanoseconds."""
    return ServerFigures(
        source="ollama",
        prompt_n=_int(final.get("prompt_eval_count")),
        prompt_ms=_ns_to_ms(final.get("prompt_eval_duration")),
        predicted_n=_int(final.get("eval_count")),
        predicted_ms=_ns_to_ms(final.get("eval_duration")),
        load_ms=_ns_to_ms(final.get("load_duration")),
        total_ms=_ns_to_ms(final.get("total_duration")),
    )


def figures_from_stats(stats: Mapping[str, Any], usage: Mapping[str, Any]) -> ServerFigures:
    """LM Studio's ``stats`` (seconds and tokens per second) with the ``usage`` counts."""
    ttft = _real(stats.get("time_to_first_token"))
    generation = _real(stats.get("generation_time"))
    return ServerFigures(
        source="stats",
        prompt_n=_int(usage.get("prompt_tokens")),
        predicted_n=_int(usage.get("completion_tokens")),
        predicted_ms=None if generation is None else generation * 1000.0,
        ttft_ms=None if ttft is None else ttft * 1000.0,
        tokens_per_s=_real(stats.get("tokens_per_second")),
    )


def figures_from_usage(usage: Mapping[str, Any]) -> ServerFigures:
    """OpenAI ``usage``: counts only."""
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    return ServerFigures(
        source="usage",
        prompt_n=_int(usage.get("prompt_tokens")),
        predicted_n=_int(usage.get("completion_tokens")),
        cached_n=_int(cached),
    )


# ------------------------------------------------------------------------ reading a stream


@attrs.define
class StreamReading:
    """What one streamed answer said, read per its API."""

    token_times: list[float] = attrs.field(factory=list)
    """Seconds since the request was sent, of each event that carried generated tokens."""
    done: bool = False
    """The stream's own end was seen (``stop``, ``done``, ``[DONE]``)."""
    error: str | None = None
    """Why the stream is not a good answer (an error event, a malformed line, no end)."""
    error_kind: str | None = None
    """``server_error`` (the server said so), ``malformed`` or ``incomplete`` (no end)."""
    figures: ServerFigures | None = None
    model: str | None = None
    """The model the answer names."""
    extra: dict[str, Any] = attrs.field(factory=dict)
    """Provenance some servers attach to answers (LM Studio's model_info and runtime)."""


def read_stream(api: str, lines: Sequence[Sequence[Any]]) -> StreamReading:
    """Read a streamed answer's timed lines (``[seconds, text]``) per ``api``."""
    reader = _Reader(api)
    for item in lines:
        seconds, text = float(item[0]), str(item[1])
        if reader.reading.error is not None:
            break
        reader.line(seconds, text)
    reading = reader.finish()
    if reading.error is None and not reading.done:
        reading.error = "the stream ended before its last event"
        reading.error_kind = "incomplete"
    return reading


class _Reader:
    def __init__(self, api: str) -> None:
        self.api = api
        self.ndjson = api.startswith("ollama-")
        self.reading = StreamReading()
        self.timings: Mapping[str, Any] | None = None
        self.usage: Mapping[str, Any] | None = None
        self.stats: Mapping[str, Any] | None = None

    def line(self, seconds: float, text: str) -> None:
        stripped = text.strip()
        if self.ndjson:
            self.event(seconds, stripped)
            return
        if stripped.startswith("data:"):
            payload = stripped[5:].strip()
            if payload == "[DONE]":
                self.reading.done = True
                return
            self.event(seconds, payload)
            return
        if stripped.startswith((":", "event:", "id:", "retry:")):
            return  # SSE comments and fields that carry no data
        if stripped.startswith("error:"):
            self.fail("server_error", "the server sent an error: " + stripped[6:].strip()[:200])
            return
        # A plain JSON body where a stream was asked (an error answer, or a server that
        # ignores "stream"): read as one event.
        self.event(seconds, stripped)

    def event(self, seconds: float, payload: str) -> None:
        try:
            obj = json.loads(payload)
        except ValueError:
            self.fail("malformed", f"malformed event: {payload[:80]!r}")
            return
        if not isinstance(obj, dict):
            self.fail("malformed", f"malformed event: {payload[:80]!r}")
            return
        if "error" in obj:
            self.fail("server_error", "the server sent an error: " + _error_text(obj["error"]))
            return
        if isinstance(obj.get("model"), str):
            self.reading.model = obj["model"]
        if self.has_tokens(obj):
            self.reading.token_times.append(seconds)
        self.collect(obj)

    def fail(self, kind: str, text: str) -> None:
        self.reading.error, self.reading.error_kind = text, kind

    def has_tokens(self, obj: Mapping[str, Any]) -> bool:
        if self.api == "llama-completion":
            return bool(obj.get("content")) or bool(obj.get("tokens"))
        if self.api == "ollama-generate":
            return bool(obj.get("response")) or bool(obj.get("thinking"))
        if self.api == "ollama-chat":
            message = obj.get("message")
            if not isinstance(message, Mapping):
                return False
            return bool(message.get("content")) or bool(message.get("thinking"))
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            return False
        choice = choices[0]
        if "delta" in choice:
            delta = choice["delta"]
            if not isinstance(delta, Mapping):
                return False
            return any(bool(delta.get(k)) for k in ("content", "reasoning_content", "reasoning"))
        return bool(choice.get("text"))

    def collect(self, obj: Mapping[str, Any]) -> None:
        if isinstance(obj.get("timings"), Mapping):
            self.timings = obj["timings"]
        if isinstance(obj.get("usage"), Mapping):
            self.usage = obj["usage"]
        if isinstance(obj.get("stats"), Mapping):
            self.stats = obj["stats"]
        for key in ("model_info", "runtime"):
            if isinstance(obj.get(key), Mapping):
                self.reading.extra[key] = dict(obj[key])
        if self.api == "llama-completion" and obj.get("stop") is True:
            self.reading.done = True
        if self.ndjson and obj.get("done") is True:
            self.reading.done = True
            self.reading.figures = figures_from_ollama(obj)

    def finish(self) -> StreamReading:
        reading = self.reading
        if reading.figures is None:
            if self.timings is not None:
                reading.figures = figures_from_timings(self.timings)
            elif self.stats is not None:
                reading.figures = figures_from_stats(self.stats, self.usage or {})
            elif self.usage is not None:
                reading.figures = figures_from_usage(self.usage)
        if reading.figures is not None and self.usage is not None:
            usage = figures_from_usage(self.usage)
            # llama-server's timings count only the prompt tokens it processed; usage counts
            # the whole prompt (cached included).
            reading.figures.cached_n = (
                reading.figures.cached_n if reading.figures.cached_n is not None
                else usage.cached_n
            )
        return reading


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        message = error.get("message")
        return str(message)[:200] if message is not None else json.dumps(error)[:200]
    return str(error)[:200]
