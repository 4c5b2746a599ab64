"""What a wrapped command's arguments say: model files, Ollama models, the Python that runs
it, llama-bench's repetitions.  Command lines here are written to the tools' documented
flags (llama.cpp's common arg parser and llama-bench's --help, vLLM's and Ollama's CLIs)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.stamping.run_argv import (
    Shebang,
    flag_values,
    is_python_name,
    llama_bench_repetitions,
    named_models,
    ollama_run_models,
    parse_shebang,
    python_engine_models,
    python_module,
    tool_name,
)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["llama-cli", "-m", "a.gguf", "-p", "hi"], ["a.gguf"]),
        (["/opt/llama/llama-server", "--model", "a.gguf", "--port", "8080"], ["a.gguf"]),
        (["llama-server", "--model=/m/a b.gguf"], ["/m/a b.gguf"]),
        (["llama-server", "-m", "big.gguf", "-md", "draft.gguf"], ["big.gguf", "draft.gguf"]),
        (["llama-batched-bench", "-m", "a.gguf", "-npp", "128"], ["a.gguf"]),
        # llama-bench alone takes several -m and comma-separated lists
        (["llama-bench", "-m", "a.gguf,b.gguf", "-m", "c.gguf", "-r", "3"],
         ["a.gguf", "b.gguf", "c.gguf"]),
        (["llama-cli", "-m", "a,b.gguf"], ["a,b.gguf"]),  # a comma in another tool's path
        (["LLAMA-BENCH.EXE", "-m", "a.gguf"], ["a.gguf"]),
        (["llama-cli", "-p", "tell me about -m", "-m"], []),  # -m with nothing after it
        (["vllm", "serve", "/models/q.gguf", "--port", "8000"], ["/models/q.gguf"]),
        (["vllm", "serve", "--model", "/models/q.gguf"], ["/models/q.gguf"]),
        (["python3", "-m", "vllm.entrypoints.openai.api_server", "--model=/m/q.gguf"],
         ["/m/q.gguf"]),
        (["python", "-m", "llama_cpp.server", "--model", "q.gguf"], ["q.gguf"]),
        (["python", "bench.py", "--model", "q.gguf"], []),  # a script's own flags: unknown
        (["ollama", "run", "llama3.2"], []),  # an Ollama name is not a file
        (["mytool", "-m", "a.gguf"], []),
    ],
)
def test_model_arguments_of_known_tools(argv: list[str], expected: list[str]) -> None:
    assert named_models(argv) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ollama", "run", "llama3.2", "Why is the sky blue?", "--verbose"], ["llama3.2"]),
        (["ollama", "run", "--verbose", "hf.co/org/repo:Q4_K_M"], ["hf.co/org/repo:Q4_K_M"]),
        (["ollama", "run", "--format", "json", "--keepalive", "5m", "qwen3:8b"], ["qwen3:8b"]),
        (["ollama", "run", "--think=false", "qwen3"], ["qwen3"]),
        (["ollama", "serve"], []),
        (["ollama", "run"], []),
    ],
)
def test_ollama_run_model(argv: list[str], expected: list[str]) -> None:
    assert ollama_run_models(argv) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["llama-bench", "-m", "a.gguf"], 5),  # llama-bench's default
        (["llama-bench", "-r", "3"], 3),
        (["llama-bench", "--repetitions", "10"], 10),
        (["llama-bench", "--repetitions=7"], 7),
        (["llama-bench", "-r", "2", "-r", "4"], 4),  # the last one counts
        (["llama-bench", "-r", "many"], 5),
        (["llama-bench", "-r"], 5),
    ],
)
def test_llama_bench_repetitions(argv: list[str], expected: int) -> None:
    assert llama_bench_repetitions(argv) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["python", "-m", "vllm.entrypoints.openai.api_server"],
         "vllm.entrypoints.openai.api_server"),
        (["python3", "-u", "-X", "dev", "-m", "mlx_lm.generate"], "mlx_lm.generate"),
        (["python3", "-mvllm"], "vllm"),
        (["python3", "script.py", "-m", "x"], None),
        (["python3", "-c", "import x", "-m", "y"], None),
        (["python3"], None),
    ],
)
def test_python_module(argv: list[str], expected: str | None) -> None:
    found = python_module(argv)
    assert (found[0] if found else None) == expected


def test_engine_models_only_for_engine_modules() -> None:
    assert python_engine_models(["python", "-m", "sglang.launch_server", "--model-path", "/m"]) == [
        "/m"
    ]
    assert python_engine_models(["python", "-m", "http.server", "--model", "x"]) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("python", True), ("python3", True), ("python3.12", True), ("python3.13t", True),
        ("/usr/bin/pypy3", True), ("C:\\Python312\\python.exe", True), ("pythonw", False),
        ("python-config", False), ("ipython", False), ("llama-bench", False),
    ],
)
def test_python_names(name: str, expected: bool) -> None:
    assert is_python_name(name) is expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"#!/home/u/venv/bin/python3\n# -*- coding: utf-8 -*-\nimport re\n",
         Shebang("/home/u/venv/bin/python3")),
        (b"#!/usr/bin/env python3\nprint(1)\n", Shebang("python3", via_env=True)),
        (b"#!/usr/bin/env -S python3 -X dev\n", Shebang("python3", via_env=True)),
        (b"#! /usr/bin/python3 -u\n", Shebang("/usr/bin/python3")),
        # pip's launcher when the interpreter path is too long or has spaces
        (b"#!/bin/sh\n'''exec' \"/opt/my envs/x/bin/python3\" \"$0\" \"$@\"\n' '''\nimport re\n",
         Shebang("/opt/my envs/x/bin/python3")),
        (b"#!/bin/bash\necho hi\n", Shebang("/bin/bash")),
        (b"\x7fELF\x02\x01\x01", None),
        (b"", None),
        (b"#!\n", None),
    ],
)
def test_shebangs(head: bytes, expected: Shebang | None) -> None:
    assert parse_shebang(head) == expected


def test_tool_names() -> None:
    assert tool_name("/usr/local/bin/Llama-Bench.exe") == "llama-bench"
    assert tool_name("C:\\llama\\llama-server.exe") == "llama-server"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["-m", "--model", "--model=x", "a.gguf", "-r", "3", "b,c",
                                 "--", "-p", "serve", "run", ""]), max_size=12))
def test_flag_reading_never_fails_and_takes_only_given_words(words: list[str]) -> None:
    values = flag_values(words, ("-m", "--model"))
    assert all(v in words or v == "x" for v in values)
    for program in ("llama-bench", "llama-cli", "vllm", "python3", "ollama"):
        named_models([program, *words])
        ollama_run_models([program, *words])
        assert llama_bench_repetitions([program, *words]) >= 1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_shebang_parser_takes_any_bytes(head: bytes) -> None:
    found = parse_shebang(head)
    assert found is None or (head.startswith(b"#!") and found.program)
