"""koboldcpp, llamafile, vLLM and Python engines; plus what all frontend probes share:
fresh recorded hosts, no spawn when nothing is installed, the rendered summary."""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.capturing.capture import capture
from envstamp.errors import ParseError
from envstamp.output.render import to_text
from envstamp.parsers.kinds import parse_to_data
from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm import engines
from envstamp.probes.registry import PROBES
from envstamp.runner import Answer, LiveRunner, ReplayRunner
from tests.frontends_support import HOSTS, SPECS, record_host, run_probe
from tests.frontends_support import PROBES as FRONTEND_PROBES

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frontends"
SLEEP = shutil.which("sleep") or "/bin/sleep"


def _frontend(kind: str, name: str, key: str) -> dict[str, Any]:
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    result: dict[str, Any] = parse_to_data(kind, text)["frontends"][key]
    return result


# ---------------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("name", "version", "backend"),
    [
        ("koboldcpp-1.68-vulkan.txt", "1.68", "Vulkan"),
        ("koboldcpp-1.43-clblast.txt", "1.43", "CLBlast"),
        ("koboldcpp-1.80.3-noavx2.txt", "1.80.3", "CPU"),
        ("koboldcpp-1.60.1-cublas.txt", "1.60.1", "CUDA"),
        ("koboldcpp-rocm-fork-windows.txt", "1.79.1.yr1-ROCm", "HIP"),
    ],
)
def test_koboldcpp_kind(name: str, version: str, backend: str) -> None:
    found = _frontend("koboldcpp", name, "koboldcpp")
    assert {k: found[k] for k in ("version", "backend")} == {"version": version, "backend": backend}
    # Its llama.cpp runs on the backend the banner chose; no build is printed.
    assert found["engine"] == {
        "name": "llama.cpp",
        "version": None,
        "build_number": None,
        "commit": None,
        "backend": backend,
        "source": "koboldcpp banner",
    }


def test_koboldcpp_engine_from_llama_cpp_lines() -> None:
    found = _frontend("koboldcpp", "koboldcpp-1.76-cuda-model-load.txt", "koboldcpp")
    assert (found["version"], found["backend"]) == ("1.76", "CUDA")
    assert found["engine"]["name"] == "llama.cpp"
    assert found["engine"]["backend"] == "CUDA"
    assert found["engine"]["source"] == "koboldcpp output"
    assert found["engine"]["build_number"] is None  # koboldcpp prints no llama.cpp build


def test_koboldcpp_version_alone_states_no_engine() -> None:
    assert engines.parse_koboldcpp("1.75.2\n").engine is None


@pytest.mark.parametrize(
    ("text", "version", "backend"),
    [
        ("1.75.2\n", "1.75.2", None),
        ("KoboldCpp v1.52\nAuto Selected Default Backend...", "1.52", "CPU"),
        ("Welcome to KoboldCpp - Version 1.70\nggml_metal_init: allocating", "1.70", "Metal"),
        ("Initializing CUDA/HIP, please wait", None, "CUDA"),
        ("Using hipBLAS library\nInitializing CUDA/HIP, please wait", None, "HIP"),
    ],
)
def test_koboldcpp_other_banners(text: str, version: str | None, backend: str | None) -> None:
    found = engines.parse_koboldcpp(text)
    assert (found.version, found.backend) == (version, backend)


@pytest.mark.parametrize("text", ["", "hello", "usage: koboldcpp.py [-h]", "1.2.3\n4.5.6\n"])
def test_koboldcpp_rejects_other_output(text: str) -> None:
    with pytest.raises(ParseError):
        engines.parse_koboldcpp(text)


def test_koboldcpp_source_version() -> None:
    assert engines.parse_koboldcpp_source('x = 1\nKcppVersion = "1.82.1"\n') == "1.82.1"
    assert engines.parse_koboldcpp_source("print('hi')") is None


@pytest.mark.parametrize(
    ("name", "version"),
    [("llamafile-0.8.13.txt", "0.8.13"), ("llamafile-server-0.6.2.txt", "0.6.2")],
)
def test_llamafile_kind(name: str, version: str) -> None:
    # `--version` names llamafile only: its llama.cpp is not stated, so it stays unknown.
    assert _frontend("llamafile-version", name, "llamafile") == {"version": version, "engine": None}


def test_llamafile_start_up_states_its_llama_cpp_build() -> None:
    found = _frontend("llamafile-version", "llamafile-0.8.6-server-start.txt", "llamafile")
    assert found == {
        "version": "0.8.6",
        "engine": {
            "name": "llama.cpp",
            "version": None,
            "build_number": 1500,
            "commit": "a30b324",
            "backend": "CUDA",
            "source": "llamafile output",
        },
    }


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("vllm-0.6.3.post1.txt", "0.6.3.post1"),
        ("vllm-0.8.5-with-logs.txt", "0.8.5"),
        ("vllm-api-server-0.4.3.txt", "0.4.3"),
        ("vllm-engine-0.6.2.txt", "0.6.2"),
    ],
)
def test_vllm_kind(name: str, version: str) -> None:
    assert _frontend("vllm-version", name, "vllm") == {"version": version}


@pytest.mark.parametrize("text", ["", "Segmentation fault", "INFO starting server on :8000"])
def test_version_kinds_reject_other_output(text: str) -> None:
    for parse in (engines.parse_llamafile_version, engines.parse_vllm_version):
        with pytest.raises(ParseError):
            parse(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parsers_raise_only_parse_error(text: str) -> None:
    for parse in (
        engines.parse_koboldcpp_kind,
        engines.parse_llamafile_version_kind,
        engines.parse_vllm_version_kind,
    ):
        with contextlib.suppress(ParseError):
            parse(text)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.4.1+cu124", ("2.4.1", "cu124")),
        ("2.5.0+rocm6.2", ("2.5.0", "rocm6.2")),
        ("2.3.0+cpu", ("2.3.0", "cpu")),
        ("4.46.3", ("4.46.3", None)),
        (None, None),
    ],
)
def test_python_engine_build_tag(version: str | None, expected: tuple[str, Any] | None) -> None:
    found = engines.python_engine(version)
    assert (None if found is None else (found.version, found.build_tag)) == expected


def test_dist_info_version() -> None:
    names = ["vllm", "vllm_flash_attn-2.6.2.dist-info", "vLLM-0.6.4.post1.dist-info"]
    assert engines.dist_info_version(names, "vllm") == "0.6.4.post1"
    assert engines.dist_info_version(["vllm-0.2.0-py3.10.egg-info"], "vllm") == "0.2.0"
    assert engines.dist_info_version(["torch-2.1.0.dist-info"], "vllm") is None


@pytest.mark.parametrize(
    ("head", "python"),
    [
        (b"#!/opt/venv/bin/python3\nimport x\n", "/opt/venv/bin/python3"),
        (b"#!/usr/bin/env python3\n", None),
        (b"\x7fELF\x02\x01", None),
        (b"#!", None),
    ],
)
def test_shebang_python(head: bytes, python: str | None) -> None:
    assert engines.shebang_python(head) == python


# ------------------------------------------------------------------------- recorded hosts


def _replay(host: str) -> Outcome | ProbeFailure:
    runner = ReplayRunner(HOSTS / host)
    try:
        return engines.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    except ProbeFailure as failure:
        return failure


def test_host_linux_everything() -> None:
    outcome = _replay("frontends-linux-all")
    assert isinstance(outcome, Outcome) and outcome.status == "ok"
    found = outcome.sections["frontends"]
    assert found.koboldcpp.version == "1.97.4"
    assert found.llamafile.version == "0.9.3"
    assert found.vllm.version == "0.6.4.post1"  # from the venv the script names, not spawned
    assert (found.torch.version, found.torch.build_tag) == ("2.5.1", "cu124")
    assert found.llama_cpp_python.version == "0.3.9"
    assert not list((HOSTS / "frontends-linux-all").glob("cmd-vllm-*"))


def test_host_macos_mlx() -> None:
    outcome = _replay("frontends-macos")
    assert isinstance(outcome, Outcome)
    found = outcome.sections["frontends"]
    assert (found.mlx.version, found.mlx_lm.version) == ("0.26.3", "0.26.0")
    assert found.koboldcpp is None and found.torch is None


def test_host_half_installed_vllm_hangs() -> None:
    outcome = _replay("frontends-half-installed")
    assert isinstance(outcome, Outcome) and outcome.status == "timeout"
    found = outcome.sections["frontends"]
    assert found.koboldcpp.version == "1.82.1"  # read from koboldcpp.py, not run
    assert found.vllm.version is None


def test_host_broken_llamafile() -> None:
    outcome = _replay("frontends-misbehaving")
    assert isinstance(outcome, Outcome)
    assert outcome.sections["frontends"].llamafile.version is None
    assert "exited 139" in (outcome.detail or "")


def test_host_none() -> None:
    failure = _replay("frontends-none")
    assert isinstance(failure, ProbeFailure) and failure.status == "absent"


def test_recorded_hosts_are_fresh(tmp_path: Path) -> None:
    """The committed hosts hold exactly what the probes ask now (else: regenerate them with
    ``python tests/frontends_support.py``)."""
    for name, spec in SPECS.items():
        record_host(tmp_path / name, spec)
        committed = sorted(p.name for p in (HOSTS / name).iterdir())
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == committed, name
        _, mismatch, errors = filecmp.cmpfiles(HOSTS / name, tmp_path / name, committed, False)
        assert (mismatch, errors) == ([], []), name


def test_capture_shows_the_stack() -> None:
    others = {spec.name for spec in PROBES} - set(FRONTEND_PROBES)
    manifest = capture(replay=str(HOSTS / "frontends-linux-all"), skip=others)
    text = to_text(manifest)
    assert "Ollama 0.11.10" in text
    assert "LM Studio 0.3.27 (engine llama.cpp-linux-x86_64-nvidia-cuda12-avx2 1.50.2)" in text
    assert "Jan 0.6.9 (llama.cpp b6324)" in text
    assert "torch 2.5.1+cu124" in text
    statuses = {p.name: p.status for p in manifest.probes if p.name in FRONTEND_PROBES}
    assert statuses == dict.fromkeys(FRONTEND_PROBES, "ok")


# --------------------------------------------------------------------------------- live


class _CountingRunner(LiveRunner):
    def __init__(self) -> None:
        super().__init__(command_timeout=0.5)
        self.asked: list[str] = []

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        self.asked.append(op)
        return super()._answer(op, key, compute)


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty PATH and home, no XDG folders, Ollama pointed at a refusing port."""
    import socket

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{sock.getsockname()[1]}")
    # This venv's packages are not the bare machine's.
    monkeypatch.setattr("envstamp.runner.system.package_versions", dict.fromkeys)
    yield bin_dir
    sock.close()


@pytest.mark.skipif(os.name != "posix", reason="HOME decides the home folder on POSIX")
def test_nothing_installed_spawns_nothing(bare_machine: Path) -> None:
    runner = _CountingRunner()
    for name in FRONTEND_PROBES:
        failure = run_probe(name, runner)
        assert isinstance(failure, ProbeFailure) and failure.status == "absent", name
    assert "cmd" not in runner.asked
    assert runner.asked.count("http") == 1  # Ollama's refused /api/version, nothing else


def _script(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.mark.skipif(os.name != "posix", reason="fake executables are shell scripts")
def test_hanging_version_is_killed(bare_machine: Path) -> None:
    pid_file = bare_machine / "pid"
    _script(bare_machine, "koboldcpp", f'echo $$ > "{pid_file}"\nexec {SLEEP} 30')
    _script(bare_machine, "llamafile", "echo 'llamafile v0.8.17'")
    outcome = run_probe("engines", _CountingRunner())
    assert isinstance(outcome, Outcome)
    assert outcome.status == "timeout"
    found = outcome.sections["frontends"]
    assert found.koboldcpp.version is None
    assert found.llamafile.version == "0.8.17"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
