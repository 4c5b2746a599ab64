"""Every parse kind against every output in tests/fixtures: its own and every other tool's.

The kind functions are called directly: ``kinds.parse`` turns stray exceptions into ParseError,
which would hide a parser bug.  A user pipes whatever they have into ``envstamp parse KIND``, so
another tool's real output is the most likely "wrong input" a kind will ever see.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError, ParseError
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import unstructure
from envstamp.parsers.kinds import KINDS, parse, parse_to_data, parser_for

FIXTURES = Path(__file__).parents[1] / "fixtures"

# The sections each kind may fill, by what the tool it reads can know (not read off the parsers).
KIND_SECTIONS: dict[str, set[str]] = {
    "os-release": {"os"},
    "proc-cpuinfo": {"cpu"},
    "lscpu": {"cpu", "memory"},
    "sysctl": {"cpu", "host", "memory"},
    "system-profiler": {"cpu", "gpus", "host", "memory", "runtimes"},
    "nvidia-smi-xml": {"gpus", "runtimes", "volatile"},
    "nvidia-smi-q": {"gpus", "runtimes", "volatile"},
    "nvidia-smi-csv": {"gpus", "runtimes", "volatile"},
    "nvidia-smi-list": {"gpus"},
    "nvidia-smi-version": {"runtimes"},
    "nvidia-smi-table": {"gpus", "runtimes", "volatile"},
    "rocm-smi-json": {"gpus"},
    "amd-smi-json": {"gpus"},
    "windows-gpu": {"gpus"},
    "sycl-ls": {"gpus", "runtimes"},
    "vulkaninfo": {"gpus", "runtimes"},
    "llama-version": {"llamacpp"},
    "llama-bench": {"llamacpp", "results"},
    "llama-batched-bench": {"batched_bench"},
    "llama-server-log": {"llamacpp", "server_timings"},
    "llama-server-timings": {"server_timings"},
    "llama-server-props": {"llamacpp", "server_props"},
    "llama-server-metrics": {"server_metrics"},
    "ollama-version": {"frontends"},
    "ollama-api-version": {"frontends"},
    "ollama-ps": {"frontends"},
    "ollama-server-log": {"frontends"},
    "lms-version": {"frontends"},
    "lms-ps": {"frontends"},
    "lms-ls": {"frontends"},
    "lmstudio-backends": {"frontends"},
    "lmstudio-runtime": {"frontends"},
    "koboldcpp": {"frontends"},
    "llamafile-version": {"frontends"},
    "vllm-version": {"frontends"},
    "ramalama-version": {"frontends"},
    "ramalama-info": {"frontends"},
    "ramalama-list": {"frontends"},
}

# Each kind's own outputs in tests/fixtures (globs under it): every one of them must parse.
OWN: dict[str, tuple[str, ...]] = {
    "os-release": ("text/os-release/*.os-release",),
    "proc-cpuinfo": ("text/proc-cpuinfo/*.txt",),
    "lscpu": ("text/lscpu/*.txt", "text/lscpu/*.json"),
    "sysctl": ("text/sysctl/*.txt",),
    "system-profiler": ("apple/sp-m*.json", "apple/sp-intel-*.json", "apple/sp-text-*.txt"),
    "nvidia-smi-xml": ("nvidia/*.xml", "nvidia/real-h200-580/q-x.xml"),
    "nvidia-smi-q": ("nvidia/*-q.txt", "nvidia/real-h200-580/q.txt"),
    "nvidia-smi-csv": ("nvidia/*.csv", "nvidia/real-h200-580/query-gpu.csv"),
    "nvidia-smi-list": ("nvidia/*-L.txt", "nvidia/real-h200-580/L.txt"),
    "nvidia-smi-version": ("nvidia/*-version.txt", "nvidia/real-h200-580/version.txt"),
    "nvidia-smi-table": ("nvidia/*-table.txt", "nvidia/real-h200-580/table.txt"),
    "rocm-smi-json": ("amd/rocm-smi-rx*.json",),
    "amd-smi-json": ("amd/amd-smi-mi*.json",),
    "windows-gpu": ("windows/ps-*", "windows/wmic-*"),
    "sycl-ls": ("intel/sycl-ls-*.txt",),
    "vulkaninfo": ("intel/vulkaninfo-radv-llvmpipe.txt", "intel/vulkaninfo-arc-nvidia.txt"),
    "llama-version": ("llamacpp/version/b*.txt", "llamacpp-real/*/version.txt"),
    "llama-bench": ("llamacpp/bench/*-*", "timing/llama-bench-*", "llamacpp-real/*/bench.[cjm]*"),
    "llama-batched-bench": ("llamacpp-real/*/batched-bench*.jsonl",),
    "llama-server-log": ("llamacpp-real/*/server.log",),
    "llama-server-timings": ("llamacpp-real/*/completion*", "llamacpp-real/*/chat*"),
    "llama-server-props": ("llamacpp-real/*/props.json",),
    "llama-server-metrics": ("llamacpp-real/*/metrics.txt",),
    "ollama-version": ("frontends/ollama-version-*.txt",),
    "ollama-api-version": ("frontends/ollama-api-version-*.json",),
    "ollama-ps": ("frontends/ollama-ps-*.txt",),
    "ollama-server-log": ("frontends/ollama-server-log-*.txt",),
    "lms-version": ("frontends/lms-version-*.txt",),
    "lms-ps": ("frontends/lms-ps-*.txt",),
    "lms-ls": ("frontends/lms-ls-*.txt",),
    "lmstudio-backends": ("frontends/lmstudio-backends-*.json",),
    "koboldcpp": ("frontends/koboldcpp-*.txt",),
    "llamafile-version": ("frontends/llamafile-*.txt",),
    "vllm-version": ("frontends/vllm-*.txt",),
    "ramalama-version": ("frontends/ramalama-*version-*.txt",),
    "ramalama-info": ("frontends/ramalama-info-*.json",),
    "ramalama-list": ("frontends/ramalama-list-*.json",),
}

_SKIPPED_SUFFIXES = {".py", ".sh", ".gguf", ".md"}


@cache
def every_output() -> tuple[tuple[str, str], ...]:
    """(name, text) of every tool output kept in tests/fixtures (recorded hosts aside)."""
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix in _SKIPPED_SUFFIXES or "hosts" in path.parts:
            continue
        if path.stat().st_size > 300_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found.append((str(path.relative_to(FIXTURES)), text))
    return tuple(found)


def own_outputs(kind: str) -> list[Path]:
    return sorted({p for pattern in OWN.get(kind, ()) for p in FIXTURES.glob(pattern)})


def function(kind: str) -> Callable[[str], dict[str, Any]]:
    parsed: Callable[[str], dict[str, Any]] = parser_for(kind)
    return parsed


def numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from numbers(item)


MANIFEST_SECTIONS = {a.name for a in Manifest.__attrs_attrs__}
EXTRA_SECTIONS = {"results", "batched_bench", "server_timings", "server_props", "server_metrics"}


def sections_of(kind: str) -> set[str]:
    """What the kind may fill; a kind added after this table, anything a kind may fill."""
    return KIND_SECTIONS.get(kind, MANIFEST_SECTIONS | EXTRA_SECTIONS)


def test_the_table_names_only_kinds_that_exist() -> None:
    assert set(KIND_SECTIONS) <= set(KINDS)
    assert set(OWN) <= set(KINDS)
    assert len(KIND_SECTIONS) >= 35


@pytest.mark.parametrize("kind", sorted(OWN))
def test_every_own_output_parses_within_the_kinds_sections(kind: str) -> None:
    paths = own_outputs(kind)
    assert paths, f"no fixture matches {OWN[kind]}"
    for path in paths:
        sections = function(kind)(path.read_text(encoding="utf-8", errors="replace"))
        assert sections, path.name
        assert set(sections) <= sections_of(kind), path.name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_any_fixture_fed_to_any_kind_gives_sections_or_parse_error(kind: str) -> None:
    """Another tool's real output is refused with ParseError, or read into the kind's sections
    as plain finite JSON: never another exception, never NaN."""
    parse_kind = function(kind)
    for name, text in every_output():
        try:
            sections = parse_kind(text)
        except ParseError as exc:
            assert str(exc).strip(), f"{kind} on {name}: an empty message"
            assert "\n" not in str(exc).strip(), f"{kind} on {name}: a multi-line message"
            continue
        assert set(sections) <= sections_of(kind), name
        data = {section: unstructure(value) for section, value in sections.items()}
        json.dumps(data, allow_nan=False)
        assert all(math.isfinite(n) for n in numbers(data)), name


@pytest.mark.parametrize("kind", sorted(OWN))
def test_parsing_is_pure(kind: str) -> None:
    """The same text twice gives equal sections; parse() and parse_to_data() agree with it."""
    path = own_outputs(kind)[0]
    text = path.read_text(encoding="utf-8", errors="replace")
    first, second = function(kind)(text), function(kind)(text)
    assert first == second
    assert parse(kind, text) == first
    assert parse_to_data(kind, text) == {name: unstructure(v) for name, v in first.items()}


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        parser_for("nvidia-smi-jsn")
    assert not isinstance(caught.value, ParseError)
    assert "nvidia-smi-xml" in str(caught.value) and "vllm-version" in str(caught.value)


def test_sections_are_manifest_fields_or_the_documented_extras() -> None:
    """Sections a kind adds beyond the manifest's own are the results-like fragments."""
    assert set().union(*KIND_SECTIONS.values()) - MANIFEST_SECTIONS == EXTRA_SECTIONS


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, str]:
    """A kind and one of its own outputs cut, repeated or spliced with junk."""
    kind = draw(st.sampled_from(sorted(OWN)))
    text = draw(st.sampled_from(own_outputs(kind))).read_text(encoding="utf-8",
                                                              errors="replace")
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        span = draw(st.integers(0, 60))
        junk = draw(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(["\x00", "NaN", "1e999", "-1", "9" * 40, "{", "]", "\r\n", "|"]),
            )
        )
        text = text[:at] + junk + text[at + span :]
    return kind, text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=damaged())
def test_damaged_own_outputs_raise_only_parse_error(case: tuple[str, str]) -> None:
    kind, text = case
    try:
        sections = function(kind)(text)
    except ParseError:
        return
    assert set(sections) <= sections_of(kind)
    data = {section: unstructure(value) for section, value in sections.items()}
    json.dumps(data, allow_nan=False)


# Real bugs found by feeding one tool's output to another kind (docs: "parse by structure and
# meaning").  Each case reads a fact that is not in the text; it may be refused or give nothing.
def _gpu_named(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda sections: any(g.name == name for g in sections.get("gpus", []))


def _nvidia_driver(sections: dict[str, Any]) -> bool:
    runtimes = sections.get("runtimes")
    return runtimes is not None and runtimes.nvidia_driver is not None


def _any_gpu(sections: dict[str, Any]) -> bool:
    return bool(sections.get("gpus"))


def _any_result(sections: dict[str, Any]) -> bool:
    return bool(sections.get("results"))


def _koboldcpp(sections: dict[str, Any]) -> bool:
    frontends = sections.get("frontends")
    return frontends is not None and frontends.koboldcpp is not None


def _frontend(name: str) -> Callable[[dict[str, Any]], bool]:
    """The kind found the frontend ``name`` (any of its fields)."""

    def found(sections: dict[str, Any]) -> bool:
        frontends = sections.get("frontends")
        return frontends is not None and getattr(frontends, name) is not None

    return found


def _foreign_metric(sections: dict[str, Any]) -> bool:
    return any(not name.startswith("llamacpp:") for name in sections.get("server_metrics", {}))


_BENCH_JSON = "bench/llama-server-0c1e570-openai-chat/bench_clock-pp32_tg8_c1-6fdc4a995a.json"

WRONG_FACTS = [
    pytest.param(
        "lmstudio-backends", "hosts/nvidia-t4-450-csv-fallback/which-nvidia-smi-b19b340ba3.json",
        _frontend("lmstudio"), id="lmstudio-backends-makes-a-runtime-of-a-recorded-which",
    ),
    pytest.param(
        "lmstudio-backends", "hosts/amd-sysfs-rx6600-nvidia/env-ROCM_PATH-683eaa643b.json",
        _frontend("lmstudio"), id="lmstudio-backends-makes-a-runtime-of-a-recorded-env-name",
    ),
    pytest.param(
        "nvidia-smi-list", "nvidia/h100-610-q.txt", _gpu_named("41:00.0"),
        id="nvidia-smi-list-reads-a-q-bus-id-heading-as-gpu-0",
    ),
    pytest.param(
        "nvidia-smi-list", "nvidia/a100-mig-2gpu-535-q.txt", _any_gpu,
        id="nvidia-smi-list-makes-gpus-of-q-headings",
    ),
    pytest.param(
        "windows-gpu", "text/os-release/ubuntu-22.04.os-release", _gpu_named('"Ubuntu"'),
        id="windows-gpu-reads-os-release-NAME-as-a-gpu",
    ),
    pytest.param(
        "amd-smi-json", "frontends/lmstudio-backends-windows.json", _any_gpu,
        id="amd-smi-json-makes-an-amd-gpu-of-lmstudio-backends",
    ),
    pytest.param(
        "llama-bench", "amd/amd-smi-mi250x-bare-list.json", _any_result,
        id="llama-bench-makes-empty-result-rows-of-amd-smi-json",
    ),
    pytest.param(
        "nvidia-smi-version", "amd/rocm-smi-text-w7900.txt", _nvidia_driver,
        id="nvidia-smi-version-takes-the-amdgpu-driver-of-rocm-smi",
    ),
    pytest.param(
        "nvidia-smi-q", "amd/rocm-smi-text-w7900.txt", _nvidia_driver,
        id="nvidia-smi-q-takes-the-amdgpu-driver-of-rocm-smi",
    ),
    pytest.param(
        "koboldcpp", "amd/rocm-smi-text-w7900.txt", _koboldcpp,
        id="koboldcpp-found-in-rocm-smi-text",
    ),
    pytest.param(
        "koboldcpp", "frontends/vllm-0.6.3.post1.txt", _koboldcpp,
        id="koboldcpp-version-from-vllm-version",
    ),
    pytest.param(
        "vllm-version", _BENCH_JSON, _frontend("vllm"),
        id="vllm-version-from-a-float-of-llama-server-bench-json",
    ),
    pytest.param(
        "vllm-version", "runtimes/hipconfig-version.txt", _frontend("vllm"),
        id="vllm-version-from-hipconfig",
    ),
    pytest.param(
        "llamafile-version", _BENCH_JSON, _frontend("llamafile"),
        id="llamafile-version-from-a-float-of-llama-server-bench-json",
    ),
    pytest.param(
        "llamafile-version", "frontends/vllm-0.6.3.post1.txt", _frontend("llamafile"),
        id="llamafile-version-from-vllm-version",
    ),
    pytest.param(
        "llamafile-version", "runtimes/hipconfig-version.txt", _frontend("llamafile"),
        id="llamafile-version-from-hipconfig",
    ),
    pytest.param(
        "ramalama-version", _BENCH_JSON, _frontend("ramalama"),
        id="ramalama-version-from-a-float-of-llama-server-bench-json",
    ),
    pytest.param(
        "ramalama-version", "frontends/vllm-0.8.5-with-logs.txt", _frontend("ramalama"),
        id="ramalama-version-from-vllm-version",
    ),
    pytest.param(
        "ramalama-list", "frontends/lmstudio-backends-windows.json", _frontend("ramalama"),
        id="ramalama-list-reads-lmstudio-backends",
    ),
    pytest.param(
        "ramalama-list", "timing/llama-bench-a4000-cuda.json", _frontend("ramalama"),
        id="ramalama-list-reads-llama-bench-json",
    ),
    pytest.param(
        "lms-version", "frontends/vllm-0.6.3.post1.txt", _frontend("lmstudio"),
        id="lms-version-takes-vllm-version-as-the-cli-version",
    ),
    pytest.param(
        "lms-version", "llamacpp-real/0.5.0-dev-0c1e57098/version.txt", _frontend("lmstudio"),
        id="lms-version-takes-llama-cpp-commit-as-the-cli-commit",
    ),
    pytest.param(
        "lmstudio-backends", "runtimes/cuda-12.4-version.json", _frontend("lmstudio"),
        id="lmstudio-backends-reads-cuda-version-json",
    ),
    pytest.param(
        "lmstudio-backends", "frontends/ramalama-list-0.25.0.json", _frontend("lmstudio"),
        id="lmstudio-backends-reads-ramalama-list",
    ),
    pytest.param(
        "lms-ls", "frontends/lms-ps-new.txt", _frontend("lmstudio"),
        id="lms-ls-reads-lms-ps",
    ),
    pytest.param(
        "lms-ls", "frontends/ollama-ps-0.7.0-windows.txt", _frontend("lmstudio"),
        id="lms-ls-reads-ollama-ps",
    ),
    pytest.param(
        "lms-ps", "frontends/lms-ls-0.3.txt", _frontend("lmstudio"),
        id="lms-ps-reads-lms-ls",
    ),
    pytest.param(
        "lms-ps", "frontends/ollama-ps-empty.txt", _frontend("lmstudio"),
        id="lms-ps-reads-ollama-ps",
    ),
    pytest.param(
        "llama-server-metrics", "text/lscpu/xeon-e5-2620v4-2s-centos7.txt", _foreign_metric,
        id="llama-server-metrics-reads-lscpu-lines",
    ),
    pytest.param(
        "llama-server-metrics", "amd/amd-smi-text-mi210x2.txt", _foreign_metric,
        id="llama-server-metrics-reads-amd-smi-text",
    ),
    pytest.param(
        "ollama-api-version", "diff/cpu-builds/0c1e570-cpu.json", _frontend("ollama"),
        id="ollama-api-version-reads-a-llama-cpp-build-record",
    ),
    pytest.param(
        "ollama-server-log", "llamacpp/version/b2600-server-json-log.txt", _frontend("ollama"),
        id="ollama-server-log-reads-a-llama-server-json-log",
    ),
    pytest.param(
        "ollama-server-log", "llamacpp/version/b5002-cpu-only-dl.txt", _frontend("ollama"),
        id="ollama-server-log-reads-llama-cpp-backend-loading",
    ),
    pytest.param(
        "ollama-server-log", "frontends/llamafile-0.8.6-server-start.txt", _frontend("ollama"),
        id="ollama-server-log-reads-llamafile-start-up",
    ),
    pytest.param(
        "lmstudio-runtime", "llamacpp-real/b5308-8733e0cf6/chat.json", _frontend("lmstudio"),
        id="lmstudio-runtime-reads-a-llama-server-chat-answer",
    ),
    pytest.param(
        "lmstudio-runtime", "diff/not-a-manifest.json", _frontend("lmstudio"),
        id="lmstudio-runtime-reads-a-llama-bench-record",
    ),
]


@pytest.mark.parametrize(("kind", "name", "wrong"), WRONG_FACTS)
def test_another_tools_output_yields_no_invented_fact(
    kind: str, name: str, wrong: Callable[[dict[str, Any]], bool]
) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    try:
        sections = function(kind)(text)
    except ParseError:
        return
    assert not wrong(sections)
