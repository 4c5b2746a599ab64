"""The engines probe (koboldcpp, llamafile, vLLM, Python engines) and what all frontend probes
share: fresh recorded hosts, no spawn when nothing is installed, the rendered summary (the
parsers: tests/parsers/test_engines.py)."""

from __future__ import annotations

import filecmp
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from envstamp.capturing.capture import capture
from envstamp.output.render import to_text
from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm import engines
from envstamp.probes.registry import PROBES
from envstamp.runner import ReplayRunner
from tests.frontends_support import HOSTS, SPECS, AskingRunner, record_host, run_probe
from tests.frontends_support import PROBES as FRONTEND_PROBES

SLEEP = shutil.which("sleep") or "/bin/sleep"


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
    runner = AskingRunner()
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
    outcome = run_probe("engines", AskingRunner())
    assert isinstance(outcome, Outcome)
    assert outcome.status == "timeout"
    found = outcome.sections["frontends"]
    assert found.koboldcpp.version is None
    assert found.llamafile.version == "0.8.17"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
