"""Pure parsers of what llama-server says about its speed and itself.

* its log: each finished task prints (``print_timing``)::

      slot print_timing: id  0 | task 9 | prompt eval time =  24.24 ms /  1 tokens (...)
      slot print_timing: id  0 | task 9 |        eval time =   0.94 ms /  8 tokens (...)
      slot print_timing: id  0 | task 9 |       total time =  25.18 ms /  9 tokens

  Builds of early 2025 print the slot and task once, on a line of their own, and the three
  timing lines bare after it; the 2024 JSON log carries the same text in ``msg`` with
  ``id_slot`` / ``id_task`` beside it.  Lines may carry timestamps and level letters.
* the ``timings`` object of a ``/completion`` or ``/v1/chat/completions`` answer (in the last
  server-sent event when streamed): cache_n, prompt_n, prompt_ms, prompt_per_token_ms,
  prompt_per_second, predicted_n, predicted_ms, predicted_per_token_ms,
  predicted_per_second, and draft_n / draft_n_accepted with speculative decoding;
* ``/props``: ``build_info`` ("b5760-abc1234"), model path and alias, slots, context;
* ``/metrics`` (with ``--metrics``): Prometheus text, ``llamacpp:*`` counters and gauges.

A rate llama.cpp printed as ``inf`` or ``nan`` (nothing was timed) is unknown.  Nothing
here touches the system.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import LlamaCppBuild, Sections, field
from envstamp.parsers.llamacpp_log import build_from_state, clean_line, read_log, split_build_info
from envstamp.parsers.textutil import clean, to_float, to_int

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+|inf|nan|-?nan\(ind\))"
# Searched, not matched: the chat llama-cli prints its answer without a newline, so the
# first timing line can follow the generated text on the same line.
_SLOT = re.compile(r"\bslot\s+\w+:\s*id\s+(-?\d+)\s*\|\s*task\s+(-?\d+)\s*\|\s*(.*)$")
_PHASE = re.compile(
    rf"^(prompt eval|generation eval|eval) time\s*=\s*({_NUMBER})\s*ms\s*/\s*(\d+)\s*"
    rf"(?:tokens|runs)\s*\(\s*({_NUMBER})\s*ms per token,\s*({_NUMBER})\s*tokens per second\)",
    re.IGNORECASE,
)
_TOTAL = re.compile(rf"^total time\s*=\s*({_NUMBER})\s*ms\s*/\s*(\d+)\s*tokens", re.IGNORECASE)
_METRIC = re.compile(r"^([A-Za-z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)(?:\s+-?\d+)?$")
# llama-server names every metric it exports in its own namespace ("llamacpp:prompt_tokens_total").
# lscpu's "Model:  154" has the shape of a sample, but it is no llama.cpp metric.
_LLAMACPP_METRIC = "llamacpp:"


@attrs.define
class ServerTiming:
    """The timings of one request (task) as llama-server reports them."""

    task_id: int | None = field("Task id, where the log prints it.")
    slot_id: int | None = field("Slot that ran the task, where printed.")
    cache_n: int | None = field("Prompt tokens reused from the cache (response timings).")
    prompt_n: int | None = field("Prompt tokens evaluated.")
    prompt_ms: float | None = field("Milliseconds spent on the prompt.")
    prompt_per_token_ms: float | None = field("Milliseconds per prompt token.")
    prompt_per_second: float | None = field("Prompt tokens per second.")
    predicted_n: int | None = field("Tokens generated.")
    predicted_ms: float | None = field("Milliseconds spent generating.")
    predicted_per_token_ms: float | None = field("Milliseconds per generated token.")
    predicted_per_second: float | None = field("Generated tokens per second.")
    total_ms: float | None = field(
        "Prompt and generation milliseconds together: printed in the log; for a response's "
        "timings, their sum, as the server computes the log's total."
    )
    draft_n: int | None = field("Draft tokens proposed (speculative decoding).")
    draft_n_accepted: int | None = field("Draft tokens accepted (speculative decoding).")


@attrs.define
class ServerProps:
    """What ``GET /props`` says about the server."""

    build_info: str | None = field('The build as the server names it ("b5760-abc1234").')
    build_number: int | None = field("Build number read from build_info (unknown when 0).")
    commit: str | None = field("Commit read from build_info.")
    model_path: str | None = field("Model file as the server was given it.")
    model_alias: str | None = field("Name the server answers to.")
    model_ftype: str | None = field('Model file type ("F16", "Q4_K - Medium").')
    total_slots: int | None = field("Parallel slots.")
    n_ctx: int | None = field("Context size of a slot.")
    chat_template: bool | None = field("The model brought a chat template.")
    modalities: list[str] = attrs.field(
        factory=list, metadata={"doc": "Input kinds beyond text it accepts.", "volatile": False}
    )

    def build(self) -> LlamaCppBuild:
        """The llama.cpp build these props describe."""
        return LlamaCppBuild(build_number=self.build_number, commit=self.commit,
                             source="/props")


# ----------------------------------------------------------------------------- log lines


def _rate(raw: str) -> float | None:
    return to_float(raw) if re.fullmatch(r"[-+]?[\d.]+", raw) else None


@attrs.define
class _LogReader:
    timings: list[ServerTiming] = attrs.field(factory=list)
    slot: int | None = None
    task: int | None = None
    open: ServerTiming | None = None  # the task whose lines are being read
    follows_slot: bool = False  # the last line was a slot line or a timing line

    def line(self, raw: str) -> None:
        line = clean_line(raw)
        if line.startswith("{"):
            self.json_line(line)
            return
        slot = _SLOT.search(line)
        if slot:
            self.slot, self.task = int(slot.group(1)), int(slot.group(2))
            self.follows_slot = True
            rest = slot.group(3).strip()
            if rest:
                self.follows_slot = self.timing_text(rest)
            return
        if line.startswith("print_timings:"):  # the 2023 server's text log, no slot ids
            self.slot = self.task = None
            self.follows_slot = self.timing_text(line.partition(":")[2].strip())
            return
        # Bare timing lines belong to the slot line just above them (early 2025 builds);
        # anywhere else they are some other tool's (llama_perf_context_print has a prefix).
        self.follows_slot = self.follows_slot and self.timing_text(line)

    def json_line(self, line: str) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            return
        if not isinstance(record, dict) or not isinstance(record.get("msg"), str):
            return
        self.slot = to_int(record.get("id_slot", record.get("slot_id")))
        self.task = to_int(record.get("id_task", record.get("task_id")))
        self.timing_text(clean_line(record["msg"]))

    def timing_text(self, text: str) -> bool:
        """Read one timing statement; False when ``text`` is none."""
        phase = _PHASE.match(text)
        if phase:
            self.phase(phase.group(1).lower(), phase.groups()[1:])
            return True
        total = _TOTAL.match(text)
        if total:
            current = self.current()
            current.total_ms = to_float(total.group(1))
            self.open = None  # the total closes a task's report
            return True
        # Other statements of the same report ("graphs reused", "draft acceptance").
        return bool(re.match(r"^(?:graphs reused|draft acceptance)", text))

    def phase(self, name: str, values: tuple[str, ...]) -> None:
        ms, count, per_token, per_second = values
        if name == "prompt eval":
            timing = self.start()
            timing.prompt_ms, timing.prompt_n = to_float(ms), to_int(count)
            timing.prompt_per_token_ms, timing.prompt_per_second = (
                _rate(per_token), _rate(per_second)
            )
            return
        timing = self.current()
        timing.predicted_ms, timing.predicted_n = to_float(ms), to_int(count)
        timing.predicted_per_token_ms, timing.predicted_per_second = (
            _rate(per_token), _rate(per_second)
        )

    def start(self) -> ServerTiming:
        self.open = ServerTiming(task_id=self.task, slot_id=self.slot)
        self.timings.append(self.open)
        return self.open

    def current(self) -> ServerTiming:
        """The task being reported; a new one when this line opens the report."""
        same_task = self.open is not None and self.open.task_id == self.task
        return self.open if same_task and self.open is not None else self.start()


def parse_server_log_timings(text: str) -> list[ServerTiming]:
    """One ServerTiming per finished task of a llama-server log, in the order printed.

    Raises ParseError when the log holds no timing report.
    """
    if not isinstance(text, str):
        raise ParseError("a llama-server log must be text")
    reader = _LogReader()
    for raw in text.splitlines():
        reader.line(raw)
    if not reader.timings:
        raise ParseError("no llama-server timing lines (prompt eval time / eval time) found")
    return reader.timings


# ------------------------------------------------------------------------------ responses


_TIMING_INTS = ("cache_n", "prompt_n", "predicted_n", "draft_n", "draft_n_accepted")
_TIMING_FLOATS = (
    "prompt_ms",
    "prompt_per_token_ms",
    "prompt_per_second",
    "predicted_ms",
    "predicted_per_token_ms",
    "predicted_per_second",
)


def parse_timings(obj: Mapping[str, Any]) -> ServerTiming:
    """A response's ``timings`` object (or a whole response holding one) -> ServerTiming."""
    if not isinstance(obj, Mapping):
        raise ParseError("timings must be a JSON object")
    inner = obj.get("timings")
    timings: Mapping[str, Any] = inner if isinstance(inner, Mapping) else obj
    known = [key for key in (*_TIMING_INTS, *_TIMING_FLOATS) if key in timings]
    if not known:
        raise ParseError("no llama-server timings (prompt_n, predicted_ms...) in the object")
    values: dict[str, Any] = {key: _count(timings.get(key)) for key in _TIMING_INTS}
    values |= {key: _real(timings.get(key)) for key in _TIMING_FLOATS}
    prompt_ms, predicted_ms = values["prompt_ms"], values["predicted_ms"]
    total = None if prompt_ms is None or predicted_ms is None else prompt_ms + predicted_ms
    return ServerTiming(task_id=None, slot_id=_count(obj.get("id_slot")), total_ms=total, **values)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if math.isfinite(value) and value == int(value) else None


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _json_documents(text: str) -> Iterator[Any]:
    """The JSON of a plain answer, or of each ``data:`` line of a streamed one."""
    stripped = text.strip()
    try:
        yield json.loads(stripped)
        return
    except ValueError:
        pass
    for raw in stripped.splitlines():
        line = raw.strip()
        if line.startswith("data:"):
            line = line[5:].strip()
        if not line.startswith("{"):
            continue
        try:
            yield json.loads(line)
        except ValueError:
            continue


def parse_response_timings(text: str) -> list[ServerTiming]:
    """The timings of a saved answer: a JSON body, or the events of a streamed one."""
    if not isinstance(text, str):
        raise ParseError("a llama-server answer must be text")
    found = [
        parse_timings(doc)
        for doc in _json_documents(text)
        if isinstance(doc, dict) and isinstance(doc.get("timings"), dict)
    ]
    if not found:
        raise ParseError("no 'timings' object in the answer")
    return found


# ----------------------------------------------------------------------------------- props


def parse_props(obj: Mapping[str, Any]) -> ServerProps:
    """``GET /props`` -> ServerProps.  Raises ParseError when it is not a props answer."""
    if not isinstance(obj, Mapping):
        raise ParseError("/props must be a JSON object")
    settings = obj.get("default_generation_settings")
    if not any(key in obj for key in ("build_info", "total_slots", "model_path")):
        raise ParseError("no build_info, total_slots or model_path: not a /props answer")
    build_info = clean(obj.get("build_info")) if isinstance(obj.get("build_info"), str) else None
    number = commit = None
    for value in split_build_info(build_info):
        number = value.number if value.role == "number" else number
        commit = value.text if value.role == "commit" else commit
    modalities = obj.get("modalities")
    return ServerProps(
        build_info=build_info,
        build_number=number,
        commit=commit,
        model_path=_text(obj.get("model_path")),
        model_alias=_text(obj.get("model_alias")),
        model_ftype=_text(obj.get("model_ftype")),
        total_slots=_count(obj.get("total_slots")),
        n_ctx=_count(settings.get("n_ctx")) if isinstance(settings, Mapping) else None,
        chat_template=(
            bool(obj["chat_template"]) if isinstance(obj.get("chat_template"), str) else None
        ),
        modalities=sorted(k for k, v in modalities.items() if v is True)
        if isinstance(modalities, Mapping)
        else [],
    )


def _text(value: Any) -> str | None:
    return clean(value) if isinstance(value, str) else None


# --------------------------------------------------------------------------------- metrics


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text of ``/metrics`` -> {metric name (with labels as printed): value}.

    Only llama-server's own samples count: ``name{labels} value`` with a name in its
    ``llamacpp:`` namespace (another exporter's samples beside them are not its facts).
    Comments (# HELP, # TYPE) are skipped; a value that is not a finite number (NaN, +Inf)
    is left out: it measures nothing.  Raises ParseError when no llama.cpp sample is found.
    """
    if not isinstance(text, str):
        raise ParseError("/metrics must be text")
    metrics: dict[str, float] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _METRIC.match(line)
        if not match or not match.group(1).startswith(_LLAMACPP_METRIC):
            continue
        try:
            value = float(match.group(2))
        except ValueError:
            continue
        if math.isfinite(value):
            metrics[match.group(1)] = value
    if not metrics:
        raise ParseError("no llama-server metrics (llamacpp:... samples) found")
    return metrics


# ------------------------------------------------------------------------------ parse kinds


def _json_object(text: str, what: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"{what} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ParseError(f"{what} must be a JSON object")
    return data


def parse_server_log_kind(text: str) -> Sections:
    """Kind ``llama-server-log``: {"server_timings": [...]} (+ the build, if it says)."""
    sections: Sections = {"server_timings": parse_server_log_timings(text)}
    state = read_log(text)
    if state.commit or state.build_number or state.compiler:
        sections["llamacpp"] = [build_from_state(state)]
    return sections


def parse_response_timings_kind(text: str) -> Sections:
    """Kind ``llama-server-timings``: a saved answer, plain or streamed."""
    return {"server_timings": parse_response_timings(text)}


def parse_props_kind(text: str) -> Sections:
    """Kind ``llama-server-props``: {"server_props": ..., "llamacpp": [build]}."""
    props = parse_props(_json_object(text, "/props"))
    return {"server_props": props, "llamacpp": [props.build()]}


def parse_metrics_kind(text: str) -> Sections:
    """Kind ``llama-server-metrics``: {"server_metrics": {name: value}}."""
    return {"server_metrics": parse_metrics(text)}


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "llama-server-log": (
        "parse_server_log_kind",
        "a llama-server log (the timing lines of each task)",
    ),
    "llama-server-timings": (
        "parse_response_timings_kind",
        "a /completion or /v1/chat/completions answer, plain JSON or streamed events",
    ),
    "llama-server-props": ("parse_props_kind", "llama-server GET /props"),
    "llama-server-metrics": (
        "parse_metrics_kind",
        "llama-server GET /metrics (Prometheus text, with --metrics)",
    ),
}
