"""What a wrapped command's own arguments say about what it runs (``envstamp run``).

Pure functions over the argv (and, for scripts, their first bytes): the model files a known
tool was given, the Ollama model ``ollama run`` runs, the Python interpreter that runs a
script, and llama-bench's repetition count.  Arguments are read by structure - ``-m X``,
``--model X``, ``--model=X`` - never by matching whole command lines.  Nothing here touches
the system: :mod:`envstamp.cli.run` asks the runner for files and paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath, PurePosixPath, PureWindowsPath

import attrs

LLAMA_BENCH_DEFAULT_REPETITIONS = 5  # llama-bench's -r default

# Model flags of llama.cpp's tools (common arg parser): the model and the draft model of
# speculative decoding.  llama-bench alone takes several -m and comma-separated lists.
_LLAMA_MODEL_FLAGS = ("-m", "--model", "-md", "--model-draft")
# Python modules of engines whose model argument may be a local path: flag names per module
# prefix.  (Hub names like "org/model" are not local paths and are left to the engine.)
_PYTHON_ENGINE_MODEL_FLAGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vllm", ("--model",)),
    ("llama_cpp", ("--model", "-m")),
    ("mlx_lm", ("--model",)),
    ("sglang", ("--model-path", "--model")),
)
# Interpreter options that take the next word as their value.
_PYTHON_VALUE_OPTIONS = frozenset({"-W", "-X", "--check-hash-based-pycs"})
# `ollama run` flags that take a value (the model is the first other word).
_OLLAMA_RUN_VALUE_FLAGS = frozenset({"--format", "--keepalive", "--dimensions"})
_PYTHON_NAME = re.compile(r"^(?:python|pypy)(?:\d+(?:\.\d+)*)?[tdm]?(?:\.exe)?$", re.IGNORECASE)
# pip / distlib write this when the interpreter's path is too long for a shebang line.
_SH_EXEC = re.compile(r"""^'''exec' (?:"([^"]+)"|(\S+)) "\$0" "\$@"\s*$""", re.MULTILINE)


@attrs.define
class Shebang:
    """The interpreter a script's first line names: a path, or a name ``env`` looks up."""

    program: str
    via_env: bool = False


def tool_name(program: str) -> str:
    """The command's name: lower case, without folder or ``.exe``."""
    name = _basename(program).lower()
    return name[:-4] if name.endswith(".exe") else name


def _basename(path: str) -> str:
    pure: PurePath = PureWindowsPath(path) if "\\" in path else PurePosixPath(path)
    return pure.name


def is_python_name(program: str) -> bool:
    """``python``, ``python3``, ``python3.12``, ``python3.13t``, ``pypy3``, ``python.exe``."""
    return bool(_PYTHON_NAME.match(_basename(program)))


def is_llama_tool(program: str) -> bool:
    """A llama.cpp program (``llama-bench``, ``llama-cli``, ``llama-server``...)."""
    return tool_name(program).startswith("llama")


# ------------------------------------------------------------------------------- flags


def flag_values(args: Sequence[str], flags: Sequence[str]) -> list[str]:
    """Every value given to one of ``flags``: ``-m X``, ``--model X``, ``--model=X``.

    A flag at the end with nothing after it gives nothing."""
    wanted = set(flags)
    found: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word in wanted:
            if index + 1 < len(args):
                found.append(args[index + 1])
            index += 2
            continue
        name, eq, value = word.partition("=")
        if eq and name.startswith("--") and name in wanted:
            found.append(value)
        index += 1
    return found


def llama_models(argv: Sequence[str]) -> list[str]:
    """Model files a llama.cpp tool was given (llama-bench: each of several -m and lists)."""
    values = flag_values(argv[1:], _LLAMA_MODEL_FLAGS)
    if tool_name(argv[0]) == "llama-bench":
        values = [part for value in values for part in value.split(",")]
    return _unique(v.strip() for v in values if v.strip())


def llama_bench_repetitions(argv: Sequence[str]) -> int:
    """llama-bench's repetition count: the last ``-r`` / ``--repetitions``, else 5."""
    values = flag_values(argv[1:], ("-r", "--repetitions"))
    for value in reversed(values):
        if value.strip().isdigit() and int(value) > 0:
            return int(value)
    return LLAMA_BENCH_DEFAULT_REPETITIONS


def ollama_run_models(argv: Sequence[str]) -> list[str]:
    """The model of ``ollama run [flags] MODEL [PROMPT...]``."""
    words = list(argv[1:])
    if not words or words[0] != "run":
        return []
    index = 1
    while index < len(words):
        word = words[index]
        if word in _OLLAMA_RUN_VALUE_FLAGS:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return [word]
    return []


def vllm_models(argv: Sequence[str]) -> list[str]:
    """Model arguments of the ``vllm`` command: ``vllm serve MODEL`` and ``--model``."""
    words = list(argv[1:])
    found = []
    if len(words) >= 2 and words[0] == "serve" and not words[1].startswith("-"):
        found.append(words[1])
    found += flag_values(words, ("--model",))
    return _unique(found)


def python_module(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """``python [options] -m MODULE ARGS...`` -> (MODULE, ARGS); None for anything else."""
    words = list(argv[1:])
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-m":
            return (words[index + 1], words[index + 2 :]) if index + 1 < len(words) else None
        if word.startswith("-m"):
            return word[2:], words[index + 1 :]
        if word in ("-c", "-") or not word.startswith("-"):
            return None  # code, stdin or a script: what follows is theirs
        index += 2 if word in _PYTHON_VALUE_OPTIONS else 1
    return None


def python_engine_models(argv: Sequence[str]) -> list[str]:
    """Model arguments of ``python -m vllm.entrypoints...``, ``-m llama_cpp.server`` ..."""
    found = python_module(argv)
    if found is None:
        return []
    module, args = found
    for prefix, flags in _PYTHON_ENGINE_MODEL_FLAGS:
        if module == prefix or module.startswith(prefix + "."):
            return _unique(flag_values(args, flags))
    return []


def named_models(argv: Sequence[str]) -> list[str]:
    """Model arguments of a known tool (candidates: the caller keeps the local files)."""
    tool = tool_name(argv[0])
    if is_llama_tool(argv[0]):
        return llama_models(argv)
    if tool == "vllm":
        return vllm_models(argv)
    if is_python_name(argv[0]):
        return python_engine_models(argv)
    return []


# ------------------------------------------------------------------------------ python


def parse_shebang(head: bytes) -> Shebang | None:
    """The interpreter a script's first bytes name, or None when it has no shebang.

    ``#!/usr/bin/python3 -u``, ``#!/usr/bin/env python3``, ``#!/usr/bin/env -S python3 -X
    dev``, and pip's ``#!/bin/sh`` + ``'''exec' "/long path/python" "$0" "$@"`` form."""
    if not head.startswith(b"#!"):
        return None
    text = head.decode("utf-8", "replace")
    first = text.splitlines()[0][2:].strip()
    words = first.split()
    if not words:
        return None
    if tool_name(words[0]) == "env":
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        return Shebang(rest[0], via_env=True) if rest else None
    if tool_name(words[0]) == "sh":
        exec_line = _SH_EXEC.search(text)
        if exec_line:
            return Shebang(exec_line.group(1) or exec_line.group(2))
    return Shebang(words[0])


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
