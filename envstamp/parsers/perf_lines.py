"""Speed figures that inference tools print when they finish: pure parsers.

* llama.cpp (``llama-cli``, ``llama-server``, older ``main``/``server``): the timing block::

      llama_perf_context_print: prompt eval time =  72.12 ms /  10 tokens (...,
                                                        138.66 tokens per second)
      llama_perf_context_print:        eval time = 995.21 ms /  63 runs   (...,
                                                        63.30 tokens per second)

  (each on one line; one block's rate is the one printed, which the tool computed from its
  unrounded clock: recomputed from the milliseconds printed to two decimals, a short
  phase's rate would be off by their rounding; several blocks' rates are recomputed from
  the summed times and counts);
  (``llama_print_timings:`` in older builds; llama-server prints the same lines after a
  ``slot print_timing`` header, once per request);
* the chat ``llama-cli`` (llama.cpp late 2025 on), after each answer::

      [ Prompt: 34017.6 t/s | Generation: 4696.3 t/s ]

  read by structure: a bracketed list of ``|``-separated ``Label: number unit`` parts, every
  part of that shape; a part whose unit is a rate (``t/s``, ``tokens/s``...) counts by what
  its label means (prompt / prefill, or generation / eval / decode), other parts and labels
  are left alone.  It prints rates only, no counts or times, so the timing lines above win
  where a build prints both (``-lv 3``), and several answers' rates are not averaged into a
  made-up overall rate: with more than one such line the rates are unknown;
* ``ollama run --verbose``::

      prompt eval count:    26 token(s)
      prompt eval duration: 97.386ms
      prompt eval rate:     266.98 tokens/s
      eval count:           298 token(s)
      eval duration:        5.398596s
      eval rate:            55.20 tokens/s

Several blocks (a server that answered several requests, an interactive session) add up:
tokens and times are summed and the rates recomputed from the sums.  Metrics use the
result vocabulary: ``prompt_tps``, ``tokens_per_s`` (generation), ``prompt_tokens``,
``gen_tokens``.  The parsers raise only :class:`~envstamp.errors.ParseError`.
"""

from __future__ import annotations

import math
import re

import attrs

from envstamp.errors import ParseError

_NUMBER = r"(\d+(?:\.\d+)?)"
_LLAMA_LINE = re.compile(
    r"(?:^|[\s:|])(?P<what>prompt eval|eval|load|total) time\s*=\s*" + _NUMBER + r"\s*ms"
    r"(?:\s*/\s*(?P<count>\d+)\s*(?:tokens|runs))?"
    r"(?:\s*\(\s*" + _NUMBER + r"\s*ms per token,\s*(?P<rate>\d+(?:\.\d+)?|inf|nan)"
    r"\s*tokens per second\s*\))?",
    re.IGNORECASE,
)
_OLLAMA_LINE = re.compile(
    r"^\s*(?P<key>total duration|load duration|prompt eval count|prompt eval duration|"
    r"prompt eval rate|eval count|eval duration|eval rate)\s*:\s*(?P<value>\S+)",
    re.IGNORECASE | re.MULTILINE,
)
_BRACKETED = re.compile(r"\[([^\[\]]*)\]")
_LABELLED = re.compile(
    r"^(?P<label>[A-Za-z][A-Za-z0-9 _.-]*?)\s*:\s*"
    r"(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|inf|nan)\s*(?P<unit>\S.*)?$",
    re.IGNORECASE,
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Rate units, lower case and without spaces.
_RATE_UNITS = frozenset(
    {"t/s", "tok/s", "tokens/s", "token/s", "tk/s", "tps", "tokens/sec", "tok/sec",
     "tokenspersecond"}
)
# What a labelled rate measures, by the words of its label (prompt first: "prompt eval").
_PROMPT_WORDS = ("prompt", "prefill", "pp")
_GENERATION_WORDS = ("generation", "generate", "gen", "eval", "decode", "predicted", "tg")
_GO_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0
}


@attrs.define
class PerfStats:
    """Prompt processing and generation figures of one run (summed over its blocks)."""

    source: str
    prompt_tokens: int | None = None
    prompt_s: float | None = None
    prompt_tps: float | None = None
    gen_tokens: int | None = None
    gen_s: float | None = None
    tokens_per_s: float | None = None
    load_s: float | None = None
    total_s: float | None = None
    blocks: int = 0

    def metrics(self) -> dict[str, float]:
        """The figures as result metrics (unknown ones left out)."""
        found: dict[str, float] = {}
        for name in ("prompt_tps", "tokens_per_s", "prompt_tokens", "gen_tokens"):
            value = getattr(self, name)
            if value is not None:
                found[name] = float(value)
        return found


# ------------------------------------------------------------------------------ llama.cpp


def parse_llama_perf(text: str) -> PerfStats:
    """The llama.cpp timing lines in ``text`` (any amount of other output around them)."""
    if not isinstance(text, str):
        raise ParseError("llama.cpp output must be text")
    stats = PerfStats(source="llama.cpp")
    # Per kind: milliseconds, tokens, blocks, the last printed rate.
    sums: dict[str, list[float]] = {"prompt eval": [0, 0, 0, 0], "eval": [0, 0, 0, 0]}
    for line in text.splitlines():
        match = _LLAMA_LINE.search(line)
        if match is None:
            continue
        what = match["what"].lower()
        ms = float(match[2])
        if what in sums:
            entry = sums[what]
            entry[0] += ms
            entry[1] += int(match["count"] or 0)
            entry[2] += 1
            entry[3] = _printed_rate(match["rate"])
            if what == "prompt eval":
                stats.blocks += 1
        elif what == "load":
            stats.load_s = (stats.load_s or 0.0) + ms / 1000
        elif what == "total":
            stats.total_s = (stats.total_s or 0.0) + ms / 1000
    if not sums["prompt eval"][2] and not sums["eval"][2]:
        raise ParseError("no llama.cpp timing lines (prompt eval time / eval time) found")
    stats.blocks = max(stats.blocks, 1)
    stats.prompt_s, stats.prompt_tokens, stats.prompt_tps = _rates(sums["prompt eval"])
    stats.gen_s, stats.gen_tokens, stats.tokens_per_s = _rates(sums["eval"])
    return stats


def _printed_rate(text: str | None) -> float:
    """A printed tokens-per-second figure; 0 when missing or not finite (inf, nan)."""
    rate = float(text) if text else 0.0
    return rate if math.isfinite(rate) and rate > 0 else 0.0


def _rates(entry: list[float]) -> tuple[float | None, int | None, float | None]:
    ms, count, seen, printed = entry
    if not seen:
        return None, None, None
    seconds = ms / 1000
    tokens = int(count)
    rate = tokens / seconds if seconds > 0 and tokens else None
    if seen == 1 and printed:
        rate = printed
    return seconds, tokens, rate


# ------------------------------------------------------------- llama.cpp chat CLI summary


def _labelled_parts(body: str) -> list[tuple[str, float | None, str]] | None:
    """``Label: number unit`` parts of a bracket's body as (label, number, unit); None when
    any part is of another shape (a bracket that is not such a summary)."""
    parts = []
    for part in body.split("|"):
        match = _LABELLED.match(part.strip())
        if match is None:
            return None
        number = float(match["number"])
        finite = number if math.isfinite(number) else None
        unit = re.sub(r"\s+", "", match["unit"] or "").lower()
        parts.append((match["label"].strip().lower(), finite, unit))
    return parts


def _meaning(label: str) -> str | None:
    """"prompt_tps" or "tokens_per_s" for a rate's label; None for anything else."""
    words = re.split(r"[\s_.-]+", label)
    if any(word in _PROMPT_WORDS for word in words):
        return "prompt_tps"
    if any(word in _GENERATION_WORDS for word in words):
        return "tokens_per_s"
    return None


def _bracket_rates(line: str) -> dict[str, float | None]:
    """The rates a line's ``[ Label: N t/s | ... ]`` summary gives, by meaning."""
    found: dict[str, float | None] = {}
    for body in _BRACKETED.findall(_ANSI.sub("", line)):
        parts = _labelled_parts(body)
        if not parts:
            continue
        for label, number, unit in parts:
            meaning = _meaning(label)
            if meaning is not None and unit in _RATE_UNITS:
                found[meaning] = number if number is None or number > 0 else None
    return found


def parse_llama_chat_summary(text: str) -> PerfStats:
    """The chat llama-cli's ``[ Prompt: X t/s | Generation: Y t/s ]`` lines in ``text``."""
    if not isinstance(text, str):
        raise ParseError("llama.cpp output must be text")
    lines = [rates for rates in map(_bracket_rates, text.splitlines()) if rates]
    if not lines:
        raise ParseError("no llama.cpp '[ Prompt: ... t/s | Generation: ... t/s ]' line found")
    stats = PerfStats(source="llama.cpp", blocks=len(lines))
    if len(lines) == 1:  # rates of several answers do not add up without their counts
        stats.prompt_tps = lines[0].get("prompt_tps")
        stats.tokens_per_s = lines[0].get("tokens_per_s")
    return stats


# --------------------------------------------------------------------------------- ollama


def parse_go_duration(text: str) -> float | None:
    """Seconds of a Go duration ("5.398596s", "97.386ms", "1m2.5s", "850µs"); None if not."""
    text = text.strip()
    if not text or _GO_PART.sub("", text) != "":
        return None
    return sum(float(n) * _GO_UNITS[unit] for n, unit in _GO_PART.findall(text))


def parse_ollama_verbose(text: str) -> PerfStats:
    """The statistics ``ollama run --verbose`` prints after each answer."""
    if not isinstance(text, str):
        raise ParseError("ollama output must be text")
    stats = PerfStats(source="ollama")
    prompt = [0.0, 0.0, 0.0]  # seconds, tokens, blocks
    gen = [0.0, 0.0, 0.0]
    printed_rates: dict[str, float] = {}
    for match in _OLLAMA_LINE.finditer(text):
        key = match["key"].lower()
        value = match["value"]
        target = prompt if key.startswith("prompt") else gen
        if key.endswith("count"):
            count = _count(value)
            if count is not None:
                target[1] += count
                target[2] += 1
        elif key.endswith("duration"):
            seconds = parse_go_duration(value)
            if seconds is None:
                continue
            if key == "total duration":
                stats.total_s = (stats.total_s or 0.0) + seconds
                stats.blocks += 1
            elif key == "load duration":
                stats.load_s = (stats.load_s or 0.0) + seconds
            else:
                target[0] += seconds
        elif key.endswith("rate"):
            rate = _float(value)
            if rate is not None:
                printed_rates[key] = rate
    if not prompt[2] and not gen[2] and not printed_rates:
        raise ParseError("no ollama --verbose statistics (eval count / eval rate) found")
    stats.blocks = max(stats.blocks, 1)
    stats.prompt_s, stats.prompt_tokens, stats.prompt_tps = _ollama_rates(
        prompt, printed_rates.get("prompt eval rate")
    )
    stats.gen_s, stats.gen_tokens, stats.tokens_per_s = _ollama_rates(
        gen, printed_rates.get("eval rate")
    )
    return stats


def _ollama_rates(
    entry: list[float], printed: float | None
) -> tuple[float | None, int | None, float | None]:
    seconds, count, seen = entry
    if not seen:
        return None, None, printed
    tokens = int(count)
    rate = tokens / seconds if seconds > 0 and tokens else printed
    return (seconds or None), tokens, rate


def _count(text: str) -> int | None:
    digits = re.match(r"\d+", text)
    return int(digits.group()) if digits else None


def _float(text: str) -> float | None:
    match = re.match(r"\d+(?:\.\d+)?", text)
    return float(match.group()) if match else None


# ----------------------------------------------------------------------------------- all


def parse_perf(text: str) -> PerfStats | None:
    """Whichever a command printed: llama.cpp's timing lines (counts and times), else the
    chat llama-cli's rate summary, else ollama's statistics; None when none."""
    for parser in (parse_llama_perf, parse_llama_chat_summary, parse_ollama_verbose):
        try:
            return parser(text)
        except ParseError:
            continue
    return None
