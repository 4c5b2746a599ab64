"""Properties of reading a wrapped command's argv: flags by structure, wherever they stand.

The parametrized cases in ``test_run_argv.py`` pin real command lines; these vary what
surrounds the flags (other options, their order, the program's folder and spelling) and
hold the answer to what the flags say.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from envstamp.stamping import run_argv

# Words that are neither model flags nor values they could swallow.
OTHER = st.lists(st.sampled_from(["-p", "hello", "--port", "8080", "-ngl", "99", "-t", "8",
                                  "--verbose", "-fa", "-c", "4096"]), max_size=6)
PATHS = st.sampled_from(["a.gguf", "/models/q4_k_m.gguf", "C:\\m\\b.gguf", "./x y.gguf"])
FOLDERS = st.sampled_from(["", "/usr/local/bin/", "./build/bin/", "C:\\llama\\"])


def _unpaired(words: list[str]) -> list[str]:
    """``words`` with options that take a value kept whole: a value never becomes a flag."""
    return [w for w in words if w not in ("-m", "--model", "-md", "--model-draft")]


@given(FOLDERS, st.sampled_from(["llama-cli", "llama-server", "LLAMA-CLI.EXE"]), OTHER, OTHER,
       PATHS, st.sampled_from(["-m", "--model", "--model="]))
def test_a_llama_tools_model_is_found_wherever_it_stands(
    folder: str, tool: str, before: list[str], after: list[str], path: str, flag: str
) -> None:
    given_model = [flag + path] if flag.endswith("=") else [flag, path]
    argv = [folder + tool, *_unpaired(before), *given_model, *_unpaired(after)]
    assert run_argv.named_models(argv) == [path]


@given(st.lists(st.lists(PATHS, min_size=1, max_size=3), min_size=1, max_size=3), OTHER)
def test_llama_bench_takes_every_model_of_every_list_once(
    lists: list[list[str]], other: list[str]
) -> None:
    argv = ["llama-bench", *_unpaired(other)]
    for models in lists:
        argv += ["-m", ",".join(models)]
    expected = list(dict.fromkeys(m for models in lists for m in models))
    assert run_argv.named_models(argv) == expected


@given(st.lists(st.integers(-3, 50), max_size=4), OTHER)
def test_the_last_positive_repetition_count_wins(counts: list[int], other: list[str]) -> None:
    argv = ["llama-bench", *_unpaired(other)]
    for count in counts:
        argv += ["-r", str(count)]
    positive = [c for c in counts if c > 0]
    expected = positive[-1] if positive else run_argv.LLAMA_BENCH_DEFAULT_REPETITIONS
    assert run_argv.llama_bench_repetitions(argv) == expected


@given(st.sampled_from(["python", "python3", "python3.12", "/venv/bin/python3"]),
       st.lists(st.sampled_from([["-u"], ["-O"], ["-B"], ["-E"], ["-X", "dev"],
                                 ["-W", "ignore"], ["-Xutf8"]]), max_size=4),
       st.sampled_from(["vllm.entrypoints.openai.api_server", "llama_cpp.server",
                        "mlx_lm.generate"]),
       PATHS)
def test_an_engine_module_under_any_interpreter_options_names_its_model(
    python: str, options: list[list[str]], module: str, path: str
) -> None:
    # -X and -W take the next word as their value: it is never read as a script
    argv = [python, *(w for option in options for w in option), "-m", module, "--model", path]
    found = run_argv.python_module(argv)
    assert found is not None and found[0] == module
    assert run_argv.named_models(argv) == [path]


@given(st.sampled_from(["python3", "python"]), st.sampled_from(["bench.py", "-c", "-"]), PATHS)
def test_what_follows_a_script_or_code_is_theirs(python: str, what: str, path: str) -> None:
    argv = [python, what, "-m", "vllm", "--model", path]
    assert run_argv.python_module(argv) is None
    assert run_argv.named_models(argv) == []


@given(st.lists(st.sampled_from(["--verbose", "--insecure", "--nowordwrap", "--think=false"]),
                max_size=3),
       st.lists(st.sampled_from([("--format", "json"), ("--keepalive", "5m")]), max_size=2),
       st.sampled_from(["llama3.2", "qwen3:8b", "hf.co/org/repo:Q4_K_M"]))
def test_ollama_run_finds_its_model_after_any_flags(
    switches: list[str], valued: list[tuple[str, str]], model: str
) -> None:
    flags = [*switches, *(w for pair in valued for w in pair)]
    assert run_argv.ollama_run_models(["ollama", "run", *flags, model, "a prompt"]) == [model]
    assert run_argv.named_models(["ollama", "run", *flags, model]) == []  # a name, not a file


@given(st.sampled_from(["python3", "/usr/bin/python3.11", "pypy3"]),
       st.lists(st.sampled_from(["-u", "-X dev", "-O"]), max_size=2))
def test_a_shebang_names_its_interpreter_directly_or_through_env(
    python: str, options: list[str]
) -> None:
    tail = (" " + " ".join(options)) if options else ""
    direct = run_argv.parse_shebang(f"#!{python}{tail}\nprint(1)\n".encode())
    assert direct == run_argv.Shebang(python)
    name = python.rsplit("/", 1)[-1]
    via_env = run_argv.parse_shebang(f"#!/usr/bin/env -S {name}{tail}\n".encode())
    assert via_env == run_argv.Shebang(name, via_env=True)
    assert run_argv.is_python_name(python)
