"""llama.cpp builds: banner/log parser, CMakeCache, git, discovery (live and replayed)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.capturing.capture import capture
from envstamp.errors import ParseError
from envstamp.manifest.model import LlamaCppBuild
from envstamp.output import render
from envstamp.parsers.kinds import parse, parse_to_data
from envstamp.parsers.llamacpp_log import backend_name, parse_llama_log
from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.probes.llm import llamacpp
from envstamp.probes.llm.llamacpp_build import (
    backends_from_flags,
    backends_from_libraries,
    git_from_answer,
    parse_cmake_cache,
    strip_credentials,
)
from envstamp.probes.registry import PROBES
from envstamp.runner import LiveRunner, ReplayRunner
from tests.frontends_support import AskingRunner

HERE = Path(__file__).parents[1] / "fixtures" / "llamacpp"
VERSIONS = HERE / "version"
HOSTS = HERE / "hosts"


def version(name: str) -> LlamaCppBuild:
    sections = parse("llama-version", (VERSIONS / name).read_text(encoding="utf-8"))
    builds = sections["llamacpp"]
    assert len(builds) == 1
    build: LlamaCppBuild = builds[0]
    return build


def devices(build: LlamaCppBuild) -> list[tuple[Any, ...]]:
    return [
        (d.backend, d.name, d.memory_total_mib, d.compute_capability, d.architecture, d.driver)
        for d in build.devices
    ]


# --------------------------------------------------------------------------- banners


def test_old_main_build_and_cublas_device() -> None:
    build = version("b1500-main-cublas-rtx3090.txt")
    assert (build.build_number, build.commit) == (1500, "57ad015")
    assert build.compiler == "cc (GCC) 12.2.1 20230201"
    assert build.target == "x86_64-pc-linux-gnu"
    assert build.backends == ["CUDA"]
    assert devices(build) == [("CUDA", "NVIDIA GeForce RTX 3090", None, "8.6", None, None)]


def test_2024_server_json_log_build_info() -> None:
    build = version("b2600-server-json-log.txt")
    assert (build.build_number, build.commit) == (2600, "e3c337d8")
    assert build.backends is None  # the old "BLAS = 0 | ..." system info names no backend


def test_metal_m2_start_up_log() -> None:
    build = version("b3600-metal-m2max-startup.txt")
    assert (build.build_number, build.commit) == (3600, "2fb92678")
    assert build.compiler == "Apple clang version 15.0.0 (clang-1500.3.9.4)"
    assert build.target == "arm64-apple-darwin23.6.0"
    assert build.backends == ["Metal"]
    # found device / picking default device / GPU name describe one device
    assert devices(build) == [("Metal", "Apple M2 Max", None, None, "Apple8", None)]


def test_warnings_and_errors_before_the_banner() -> None:
    build = version("b3900-cpu-arm64-server-noise.txt")
    assert (build.build_number, build.commit) == (3912, "edc26566")
    assert build.target == "aarch64-linux-gnu"
    assert build.devices == []


def test_cuda_two_gpus_and_loaded_backends() -> None:
    build = version("b4820-cuda-2gpu-dl-backends.txt")
    assert (build.build_number, build.commit) == (4820, "1a24c462")
    assert build.backends == ["CUDA", "RPC", "CPU"]
    assert devices(build) == [
        ("CUDA", "NVIDIA GeForce RTX 4090", None, "8.9", None, None),
        ("CUDA", "NVIDIA GeForce RTX 3060", None, "8.6", None, None),
    ]


def test_rocm_build_is_hip_with_gfx_architecture() -> None:
    build = version("b5415-rocm-7900xtx.txt")
    assert build.backends == ["HIP"]
    assert devices(build) == [("HIP", "AMD Radeon RX 7900 XTX", None, None, "gfx1100", None)]
    assert build.compiler is not None and build.compiler.startswith("AMD clang version 18.0.0git")
    assert build.target == "x86_64-unknown-linux-gnu"


def test_windows_vulkan_crlf_two_devices_and_windows_paths() -> None:
    text = (VERSIONS / "b6012-win-vulkan-2gpu.txt").read_bytes().decode()
    assert "\r\n" in text
    build = parse_llama_log(text)
    assert (build.build_number, build.commit) == (6012, "0a5036bee")
    assert build.target == "x86_64-pc-windows-msvc"
    assert build.backends == ["Vulkan", "CPU"]
    assert devices(build) == [
        ("Vulkan", "NVIDIA GeForce RTX 2070", None, None, None, "NVIDIA"),
        ("Vulkan", "Intel(R) UHD Graphics 630", None, None, None, "Intel Corporation"),
    ]


def test_vulkan_radv_name_keeps_its_own_parentheses() -> None:
    build = version("b5990-vulkan-radv-uma.txt")
    assert devices(build) == [
        ("Vulkan", "AMD Radeon Graphics (RADV GFX1151)", None, None, None, "radv")
    ]
    assert build.compiler == "gcc (GCC) 15.1.1 20250521 (Red Hat 15.1.1-2)"


def test_sycl_table_with_two_header_rows_and_mb_memory() -> None:
    build = version("b4500-sycl-arc-b580-table.txt")
    assert build.backends == ["SYCL"]
    # "12168M" is 12168 * 10**6 bytes; the optimisation-feature table adds no device
    assert devices(build) == [
        ("SYCL", "Intel(R) Arc(TM) B580 Graphics", 11604, "20.1", None, "1.6.32224+14"),
        ("SYCL", "Intel(R) UHD Graphics 770", 59999, "12.2", None, "1.6.32224+14"),
    ]


def test_old_sycl_device_line_with_memory_on_the_next_line() -> None:
    build = version("b2300-sycl-old-device-line.txt")
    assert (build.build_number, build.commit) == (2300, "4e3b3f3a")
    assert devices(build) == [
        ("SYCL", "Intel(R) Data Center GPU Max 1100", 49152, "1.3", None, None)
    ]


def test_cpu_only_build() -> None:
    build = version("b5002-cpu-only-dl.txt")
    assert (build.build_number, build.backends, build.devices) == (5002, ["CPU"], [])


def test_source_build_without_git_has_unknown_build_and_commit() -> None:
    build = version("source-build-unknown.txt")
    assert (build.build_number, build.commit) == (None, None)
    assert build.target == "x86_64-alpine-linux-musl"


def test_list_devices_adds_memory_to_the_init_lines() -> None:
    build = version("b5600-list-devices-cuda.txt")
    assert build.backends == ["CUDA"]
    assert devices(build) == [("CUDA", "NVIDIA RTX A6000", 48570, "8.6", None, None)] * 2


def test_metal_list_devices_merges_with_the_named_device() -> None:
    build = version("b6500-metal-list-devices.txt")
    assert devices(build) == [("Metal", "Apple M4 Pro", 36864, None, "Apple9", None)]


def test_fragment_with_only_a_device_line() -> None:
    build = version("fragment-devices-only.txt")
    assert build.build_number is None
    assert build.backends == ["CUDA"]
    assert devices(build) == [("CUDA", "NVIDIA GeForce RTX 4070 Ti SUPER", None, "8.9", None, None)]


def test_timestamped_server_log_and_system_info_backends() -> None:
    build = version("b5900-server-timestamps.txt")
    assert (build.build_number, build.commit) == (5900, "7de5c7ca")
    assert build.backends == ["CUDA", "CPU"]
    assert devices(build) == [("CUDA", "NVIDIA GeForce RTX 3090 Ti", None, None, None, None)]


def test_opencl_adreno() -> None:
    build = version("b6100-opencl-adreno.txt")
    assert build.backends == ["OpenCL"]
    assert build.devices[0].name is not None and build.devices[0].name.startswith("QUALCOMM Adreno")
    assert build.target == "aarch64-unknown-linux-android33"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 5760 (abc1234)", (5760, None, "abc1234")),
        ("version: b6123 (deadbeef)", (6123, None, "deadbeef")),
        ("version: 1.2.3 (deadbeef)", (None, "1.2.3", "deadbeef")),
        ("version: 0 (unknown)", (None, None, None)),
        ("server: build = 1800 (a1b2c3d)", (1800, None, "a1b2c3d")),
        ("\x1b[32mbuild: 4338 (7b1ec53f) with cc (GCC) 14 for x86_64-linux-gnu\x1b[0m",
         (4338, None, "7b1ec53f")),
        ("[1710317358] main: build = 2416 (16c31f6)", (2416, None, "16c31f6")),
    ],
)
def test_banner_spellings(text: str, expected: tuple[Any, ...]) -> None:
    build = parse_llama_log(text)
    assert (build.build_number, build.version, build.commit) == expected


def test_build_with_line_splits_compiler_and_target_at_the_last_for() -> None:
    build = parse_llama_log(
        "build: 3259 (e57dc620) with cc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0 for x86_64-linux-gnu"
    )
    assert build.compiler == "cc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0"
    assert build.target == "x86_64-linux-gnu"
    msvc = parse_llama_log("version: 4000 (1d735c0b)\nbuilt with MSVC 19.42.34436.0 for x64")
    assert (msvc.compiler, msvc.target) == ("MSVC 19.42.34436.0", "x64")


def test_cuda_init_failure_still_names_the_backend() -> None:
    build = parse_llama_log(
        "ggml_cuda_init: failed to initialize CUDA: no CUDA-capable device is detected\n"
        "version: 5000 (abcdef01)\n"
    )
    assert build.backends == ["CUDA"] and build.devices == []


def test_backend_names() -> None:
    assert [backend_name(n) for n in ("ROCm", "cuda", "MTL", "Vulkan", "Foo")] == [
        "HIP",
        "CUDA",
        "Metal",
        "Vulkan",
        "Foo",
    ]


@pytest.mark.parametrize(
    "text",
    ["", "   \n", "hello world\n", "usage: llama-cli [options]\n", "ggml_cuda_init: no\n"],
)
def test_unrecognisable_text_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_llama_log(text)


def test_kind_fragment_is_plain_json() -> None:
    data = parse_to_data("llama-version", (VERSIONS / "b5415-rocm-7900xtx.txt").read_text())
    assert data["llamacpp"][0]["devices"][0]["backend"] == "HIP"
    assert data["llamacpp"][0]["build_number"] == 5415


LOG_PIECES = [
    "version: 5760 (abc1234)",
    "built with cc (GCC) 13.2 for x86_64-linux-gnu",
    "  Device 0: NVIDIA GeForce RTX 4090, compute capability 8.9, VMM: yes",
    "ggml_vulkan: 0 = AMD Radeon (RADV) (radv) | uma: 1",
    "found 1 SYCL devices:",
    "| 0| [level_zero:gpu:0]| Intel Arc|  1.3| 512| 1024| 32| 99M| 1.3|",
    "|--|--|--|",
    "|ID|Device Type|Name|",
    "  CUDA0: NVIDIA X (100 MiB, 50 MiB free)",
    "ggml_metal_init: GPU family: MTLGPUFamilyApple7 (1007)",
    "{\"msg\":\"build info\",\"build\":1}",
    "main: build = 99999999999999999999 (x)",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(LOG_PIECES), st.text(max_size=80)), max_size=12))
def test_log_parser_raises_only_parse_error(lines: list[str]) -> None:
    try:
        build = parse_llama_log("\n".join(lines))
    except ParseError:
        return
    assert isinstance(build, LlamaCppBuild)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_cmake_cache_parser_raises_only_parse_error(text: str) -> None:
    try:
        cache = parse_cmake_cache(text)
    except ParseError:
        return
    assert all(isinstance(v, str) and v for v in cache.flags.values())


# ------------------------------------------------------------------------- CMakeCache


CACHE = """# This is the CMakeCache file.
//Choose the type of build
CMAKE_BUILD_TYPE:STRING=Release
CMAKE_CUDA_ARCHITECTURES:STRING=86;89
CMAKE_HOME_DIRECTORY:INTERNAL=/home/u/llama.cpp
CMAKE_CUDA_COMPILER:FILEPATH=/usr/local/cuda/bin/nvcc
AMDGPU_TARGETS:STRING=gfx1100
GGML_CUDA:BOOL=ON
GGML_HIP:BOOL=OFF
GGML_CUDA_FORCE_MMQ:BOOL=OFF
GGML_AVX512:BOOL=ON
GGML_BUILD_TESTS:BOOL=OFF
GGML_CCACHE:BOOL=ON
GGML_BLAS_VENDOR:STRING=Generic
GGML_SOME_PATH:STRING=C:/tools/sdk
LLAMA_CURL:BOOL=ON
LLAMA_BUILD_EXAMPLES:BOOL=ON
GGML_EMPTY:STRING=
GGML_INTERNAL_THING:INTERNAL=1
UNRELATED_OPTION:BOOL=ON
"""


def test_cmake_cache_keeps_speed_relevant_options_as_printed() -> None:
    cache = parse_cmake_cache(CACHE)
    assert cache.flags == {
        "AMDGPU_TARGETS": "gfx1100",
        "CMAKE_BUILD_TYPE": "Release",
        "CMAKE_CUDA_ARCHITECTURES": "86;89",
        "GGML_AVX512": "ON",
        "GGML_BLAS_VENDOR": "Generic",
        "GGML_CUDA": "ON",
        "GGML_CUDA_FORCE_MMQ": "OFF",
        "GGML_HIP": "OFF",
        "LLAMA_CURL": "ON",
    }
    assert cache.source_dir == "/home/u/llama.cpp"


def test_old_llama_prefixed_options_name_backends() -> None:
    text = "LLAMA_CUBLAS:BOOL=ON\nLLAMA_METAL:BOOL=OFF\nLLAMA_BLAS:BOOL=1\n"
    flags = parse_cmake_cache(text).flags
    # trees of the LLAMA_* era had no CPU switch: the CPU backend was always compiled in
    assert backends_from_flags(flags) == ["CUDA", "BLAS", "CPU"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"GGML_CPU": "ON", "GGML_CUDA": "OFF"}, ["CPU"]),
        ({"GGML_CPU": "OFF", "GGML_VULKAN": "ON"}, ["Vulkan"]),
        ({"GGML_CUDA": "ON", "GGML_RPC": "ON", "GGML_CPU": "ON"}, ["CUDA", "RPC", "CPU"]),
        ({"CMAKE_BUILD_TYPE": "Release"}, []),  # no ggml option at all: says nothing
    ],
)
def test_backends_from_build_switches_include_cpu(
    flags: dict[str, str], expected: list[str]
) -> None:
    assert backends_from_flags(flags) == expected


def test_backends_from_the_libraries_beside_the_binaries() -> None:
    names = [
        "ggml-base.dll", "ggml-cpu-haswell.dll", "ggml-cpu-skylakex.dll", "ggml-vulkan.dll",
        "libggml-cuda.so", "libggml-rpc.so.0", "libggml-metal.dylib", "llama.dll", "libggml.so",
        "llama-cli.exe", "ggml-readme.txt",
    ]
    assert backends_from_libraries(names) == ["CPU", "Vulkan", "CUDA", "Metal", "RPC"]


def test_cmake_cache_of_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_cmake_cache("not a cache\n# comment only\n")


# --------------------------------------------------------------------------------- git


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:ghp_secret@github.com/ggml-org/llama.cpp.git",
         "https://github.com/ggml-org/llama.cpp.git"),
        ("https://token@example.com/x.git", "https://example.com/x.git"),
        ("git@github.com:ggml-org/llama.cpp.git", "git@github.com:ggml-org/llama.cpp.git"),
        ("https://github.com/ggml-org/llama.cpp", "https://github.com/ggml-org/llama.cpp"),
        (None, None),
    ],
)
def test_credentials_are_stripped_from_remotes(url: str | None, expected: str | None) -> None:
    assert strip_credentials(url) == expected


def test_git_answer_that_is_no_checkout_gives_none() -> None:
    assert git_from_answer({"status": "absent", "detail": "not a git checkout"}) is None
    info = git_from_answer({"status": "ok", "commit": "ab" * 20, "dirty": False, "remote": None})
    assert info is not None and info.dirty is False and info.commit == "ab" * 20


# ---------------------------------------------------------------------- recorded hosts


def replay(host: str, **options: Any) -> ProbeContext:
    return ProbeContext(runner=ReplayRunner(HOSTS / host), options=CaptureOptions(**options))


def test_replayed_checkout_with_two_build_folders_and_a_path_symlink() -> None:
    outcome = llamacpp.probe(replay("linux-cuda-checkout", llama_cpp=["~/src/llama.cpp"]))
    assert outcome.status == "ok"
    builds = outcome.sections["llamacpp"]
    # build-cpu and build-cuda; llama-server on PATH links into build-cuda: not a third entry
    assert [b.path for b in builds] == [
        "/home/ana/src/llama.cpp/build-cpu",
        "/home/ana/src/llama.cpp/build-cuda",
    ]
    cpu, cuda = builds
    assert cuda.backends == ["CUDA", "RPC", "CPU"]
    assert cuda.build_flags["CMAKE_CUDA_ARCHITECTURES"] == "89;86"
    assert cuda.build_flags["GGML_CUDA"] == "ON"
    assert "GGML_BUILD_TESTS" not in cuda.build_flags
    assert "CMAKE_CUDA_COMPILER" not in cuda.build_flags
    # from GGML_BLAS=ON, and CPU from a cache without a GGML_CPU switch (always built then):
    # --version printed no backend
    assert cpu.backends == ["BLAS", "CPU"]
    assert cpu.build_flags["GGML_BLAS_VENDOR"] == "OpenBLAS"
    assert cuda.git is not None and cuda.git.remote == "https://github.com/ggml-org/llama.cpp.git"
    assert cuda.git.dirty is True and cuda.git.branch == "master"
    assert cuda.source == "--version+CMakeCache.txt+git"
    line = render.llama_line(cuda)
    assert "b4820" in line and "CUDA+RPC+CPU" in line and "dirty" in line


def test_replayed_homebrew_metal_build_lists_devices_once_per_folder() -> None:
    outcome = llamacpp.probe(replay("macos-brew-metal-ollama"))
    (build,) = outcome.sections["llamacpp"]
    assert build.path == "/opt/homebrew/Cellar/llama.cpp/5760/bin/llama-cli"
    assert (build.build_number, build.commit) == (5760, "5d2a5b9c")
    assert build.backends == ["Metal"]
    assert devices(build) == [("Metal", "Apple M2 Max", 49152, None, None, None)]


def test_replayed_windows_release_folder_from_the_environment() -> None:
    outcome = llamacpp.probe(replay("windows-vulkan-release"))
    (build,) = outcome.sections["llamacpp"]
    assert build.path == "C:\\llama\\b6012"
    assert build.backends == ["Vulkan", "CPU"]
    assert len(build.devices) == 2
    assert outcome.status == "ok"
    assert outcome.detail is not None and "D:\\gone: not found" in outcome.detail


def test_replayed_hung_version_is_a_timeout_with_the_build_still_listed() -> None:
    outcome = llamacpp.probe(replay("linux-hung-build", llama_cpp=["/opt/llama/bin/llama-cli"]))
    assert outcome.status == "timeout"
    assert outcome.detail is not None and "no answer within" in outcome.detail
    assert [b.path for b in outcome.sections["llamacpp"]] == ["/opt/llama/bin/llama-cli"]


def test_replayed_random_main_is_never_run() -> None:
    # the recording holds no command answer: running /usr/bin/main would raise NotRecorded
    with pytest.raises(ProbeFailure) as failure:
        llamacpp.probe(replay("linux-random-main"))
    assert failure.value.status == "absent"


def test_recorded_machine_without_llama_cpp_is_absent() -> None:
    with pytest.raises(ProbeFailure) as failure:
        llamacpp.probe(replay("recorded-linux-none"))
    assert failure.value.status == "absent"


def test_full_capture_replay_carries_the_builds_and_the_probe_record() -> None:
    manifest = capture(
        CaptureOptions(
            llama_cpp=("~/src/llama.cpp",), models=("~/models/tiny-q4km.gguf",), deadline=60
        ),
        replay=str(HOSTS / "linux-cuda-checkout"),
    )
    assert [b.path for b in manifest.llamacpp][-1] == "/home/ana/src/llama.cpp/build-cuda"
    record = next(r for r in manifest.probes if r.name == "llamacpp")
    assert record.status == "ok"
    assert manifest.models[0].quantization == "Q4_K_M"
    text = render.to_text(manifest)
    assert "b4820 (1a24c462) CUDA+RPC+CPU dirty /home/ana/src/llama.cpp/build-cuda" in text
    assert "Tiny Llama, Q4_K_M, llama" in text


# ------------------------------------------------------------------------------- live


BANNER = (VERSIONS / "b4820-cuda-2gpu-dl-backends.txt").read_text()


def fake_tool(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


posix_only = pytest.mark.skipif(os.name != "posix", reason="fake tools are sh scripts")


def live(**options: Any) -> ProbeContext:
    return ProbeContext(runner=LiveRunner(), options=CaptureOptions(**options))


@posix_only
def test_live_fake_llama_cli_on_path_is_asked_once_per_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp import runner as runner_module
    from envstamp.runner import caches as runner_caches

    counter = tmp_path / "runs"
    banner = tmp_path / "banner.txt"
    banner.write_text(BANNER)
    bindir = tmp_path / "llama-b4820" / "bin"
    fake_tool(bindir, "llama-cli", f'echo run >> "{counter}"\ncat "{banner}" >&2\n')
    fake_tool(bindir, "llama-server", f'echo run >> "{counter}"\ncat "{banner}" >&2\n')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.delenv("ENVSTAMP_LLAMA_CPP", raising=False)
    outcome = llamacpp.probe(live())
    (build,) = outcome.sections["llamacpp"]  # llama-cli and llama-server: one build
    assert build.build_number == 4820 and len(build.devices) == 2
    runner_module.Runner().finish()  # write the static cache, as capture() does
    runner_module.reset()  # a new process
    again = llamacpp.probe(live())
    assert again.sections["llamacpp"][0].build_number == 4820
    if runner_caches.boot_id() is not None:
        assert counter.read_text().count("run") == 1


@posix_only
def test_live_hanging_version_times_out_and_capture_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    fake_tool(bindir, "llama-cli", "echo 'ggml_cuda_init: found 1 CUDA devices:' >&2\nsleep 30\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    started = time.monotonic()
    others = frozenset(spec.name for spec in PROBES if spec.name != "llamacpp")
    options = CaptureOptions(command_timeout=0.5, deadline=3.0, skip=others)
    manifest = capture(options, runner=LiveRunner(command_timeout=0.5))
    elapsed = time.monotonic() - started
    record = next(r for r in manifest.probes if r.name == "llamacpp")
    assert record.status == "timeout"
    assert record.detail is not None and "llama-cli" in record.detail
    assert elapsed < 2.0  # the command's timeout, not the tool's 30 s
    assert manifest.llamacpp[0].backends == ["CUDA"]  # what it printed before hanging


@posix_only
def test_live_random_main_on_path_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    bindir = tmp_path / "tools"
    fake_tool(bindir, "main", f'touch "{marker}"\n')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    with pytest.raises(ProbeFailure) as failure:
        llamacpp.probe(live())
    assert failure.value.status == "absent"
    assert not marker.exists()


@posix_only
def test_live_old_main_beside_libllama_is_described(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "old"
    fake_tool(bindir, "main", "echo 'main: build = 1234 (abc1234)' >&2\nexit 1\n")
    (bindir / "libllama.so").write_bytes(b"")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    outcome = llamacpp.probe(live())
    assert outcome.sections["llamacpp"][0].build_number == 1234


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"},
    )


@posix_only
def test_live_source_checkout_with_build_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "llama.cpp"
    checkout.mkdir()
    (checkout / "CMakeLists.txt").write_text("project(llama.cpp)\n")
    _git(checkout, "init", "-q", "-b", "master")
    _git(checkout, "add", "CMakeLists.txt")
    _git(checkout, "commit", "-q", "-m", "init")
    _git(checkout, "remote", "add", "origin", "https://me:s3cret@example.org/llama.cpp.git")
    build = checkout / "build"
    build.mkdir()
    (build / "CMakeCache.txt").write_text(
        f"CMAKE_HOME_DIRECTORY:INTERNAL={checkout}\n"
        "GGML_VULKAN:BOOL=ON\nCMAKE_BUILD_TYPE:STRING=Release\n"
    )
    banner = "echo 'version: 0 (unknown)'\necho 'built with cc for x'\n"
    fake_tool(build / "bin", "llama-cli", banner)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ENVSTAMP_LLAMA_CPP", str(checkout))
    outcome = llamacpp.probe(live())
    (entry,) = outcome.sections["llamacpp"]
    assert entry.path == str(build)
    assert entry.backends == ["Vulkan", "CPU"]  # no GGML_CPU switch: CPU is compiled in
    assert entry.build_flags == {"CMAKE_BUILD_TYPE": "Release", "GGML_VULKAN": "ON"}
    assert entry.git is not None
    assert entry.git.remote == "https://example.org/llama.cpp.git"
    assert entry.git.branch == "master" and entry.git.dirty is False
    assert entry.git.commit is not None and len(entry.git.commit) == 40


def test_missing_given_path_is_an_error_not_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ProbeFailure) as failure:
        llamacpp.probe(live(llama_cpp=["/nonexistent/llama.cpp"]))
    assert failure.value.status == "error"
    assert "not found" in failure.value.detail


def test_nothing_installed_costs_only_which_and_env_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = AskingRunner()
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("ENVSTAMP_LLAMA_CPP", raising=False)
    with pytest.raises(ProbeFailure):
        llamacpp.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    assert set(runner.asked) <= {"which", "env"} and len(runner.asked) <= 5


def test_probe_modules_import_lazily() -> None:
    code = (
        "import sys, envstamp.probes.llm.llamacpp, envstamp.probes.llm.model_file;"
        "print(sorted(m for m in sys.modules if m.startswith('envstamp.probes.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "llamacpp_log" not in out.stdout and "llamacpp_build" not in out.stdout
    assert "envstamp.parsers.gguf" not in out.stdout

