"""Synthetic prompts of a given length in tokens.  Pure.

A prompt is a seeded sequence of common English words, each written with a leading space:
in the vocabularies of llama-family tokenizers such a word is usually one token, so ``n``
words are close to ``n`` tokens.  Where the server tokenizes on request (llama-server's
``/tokenize``), the session measures a draft and corrects the word count
(:func:`corrected_words`); the count the server reports for each request is what is
recorded either way.

Each request's prompt starts with its own number: no two requests share a prefix, so a
server's prompt cache cannot make a prompt cheaper than a cold one (llama.cpp and Ollama
reuse the longest cached prefix).
"""

from __future__ import annotations

import random

_TEXT = (
    "the of and to in is it you that he was for on are with as his they be at one have "
    "this from or had by word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come "
    "did number sound no most people my over know water than call first who may down side "
    "been now find"
)
_WORDS = tuple(_TEXT.split(" "))


def make_prompt(n_words: int, *, seed: int, request: int) -> str:
    """``n_words`` words (the first is the request's number), the same for the same seed."""
    if n_words <= 0:
        return ""
    rng = random.Random(seed * 1_000_003 + request)  # noqa: S311 - not for secrets
    words = [str(request)] + [rng.choice(_WORDS) for _ in range(n_words - 1)]
    return " ".join(words)


def corrected_words(target_tokens: int, words: int, measured_tokens: int) -> int:
    """The word count that should give ``target_tokens``, from a draft of ``words`` words
    that the server counted as ``measured_tokens`` tokens (a proportional correction)."""
    if target_tokens <= 0:
        return 0
    if measured_tokens <= 0 or words <= 0:
        return target_tokens
    return max(1, round(words * target_tokens / measured_tokens))
