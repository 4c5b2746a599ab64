"""The python section of another interpreter (``CaptureOptions.python``): asked through the
runner with a short ``-c`` script, read by a pure parser, failures kept as the probe's status;
and ``envstamp run`` of a Python program naming its interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

from envstamp.cli import main as cli
from envstamp.parsers.python_interpreter import parse_interpreter_answer
from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.probes.system.python import (
    INTERPRETER_SCRIPT,
    RELEVANT_DISTRIBUTIONS,
    interpreter_probe,
)
from envstamp.runner import LiveRunner, RecordingRunner, ReplayRunner
from tests.timing_support import make_manifest

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="venv layout and shebangs")


@pytest.fixture
def child_venv(tmp_path: Path) -> Path:
    """A real virtual environment of this Python (no pip), with two distributions' metadata.

    The dist-info folders are hand-made (a METADATA file is all importlib.metadata reads): the
    packages themselves would take minutes and gigabytes to install."""
    folder = tmp_path / "child-venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    python = folder / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )
    for name, version in (("torch", "2.4.0+cu124"), ("llama_cpp_python", "0.3.9")):
        info = site / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        dist = name.replace("_", "-")
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
    return python


@posix_only
def test_another_interpreter_is_described_not_envstamps(child_venv: Path) -> None:
    ctx = ProbeContext(runner=LiveRunner(), options=CaptureOptions(python=str(child_venv)))
    outcome = interpreter_probe(ctx, str(child_venv))
    info = outcome.sections["python"]
    assert info.executable == str(child_venv)
    assert info.virtualenv is True
    assert info.version == sys.version.split()[0]
    assert info.implementation == "CPython" or sys.implementation.name != "cpython"
    # Only what that interpreter has installed: not envstamp, not this venv's packages.
    assert info.packages == {"llama-cpp-python": "0.3.9", "torch": "2.4.0+cu124"}
    assert outcome.source == f"{child_venv} -c (importlib.metadata)"


@posix_only
def test_the_answer_is_recorded_and_replays(child_venv: Path, tmp_path: Path) -> None:
    options = CaptureOptions(python=str(child_venv))
    folder = tmp_path / "recording"
    recorder = RecordingRunner(folder)
    live = interpreter_probe(ProbeContext(runner=recorder, options=options), str(child_venv))
    recorder.finish()
    replayed = interpreter_probe(
        ProbeContext(runner=ReplayRunner(folder), options=options), str(child_venv)
    )
    assert replayed.sections["python"] == live.sections["python"]


def test_a_missing_interpreter_is_the_probes_status(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-python")
    ctx = ProbeContext(runner=LiveRunner(), options=CaptureOptions(python=missing))
    with pytest.raises(ProbeFailure) as failure:
        interpreter_probe(ctx, missing)
    assert failure.value.status == "absent"


@posix_only
def test_an_interpreter_that_answers_nonsense_is_an_error(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 'Python 2.7.18'\n", encoding="utf-8")
    fake.chmod(0o755)
    ctx = ProbeContext(runner=LiveRunner(), options=CaptureOptions(python=str(fake)))
    with pytest.raises(ProbeFailure) as failure:
        interpreter_probe(ctx, str(fake))
    assert failure.value.status == "error" and "unreadable answer" in failure.value.detail


def test_the_capture_records_the_failure_and_goes_on(tmp_path: Path) -> None:
    from envstamp import capture

    manifest = capture(python=str(tmp_path / "no-python"), skip=_all_but_python())
    (record,) = [p for p in manifest.probes if p.name == "python"]
    assert record.status == "absent" and manifest.python.version is None


def _all_but_python() -> frozenset[str]:
    from envstamp.probes.registry import PROBES

    return frozenset(spec.name for spec in PROBES if spec.name != "python")


def test_the_script_prints_what_the_parser_reads() -> None:
    """This interpreter runs the real script; the parser reads its real answer."""
    done = subprocess.run(
        [sys.executable, "-c", INTERPRETER_SCRIPT, json.dumps(list(RELEVANT_DISTRIBUTIONS))],
        capture_output=True, text=True, check=True,
    )
    info = parse_interpreter_answer(done.stdout)
    assert info.executable == sys.executable and info.version == sys.version.split()[0]
    assert set(info.packages) <= set(RELEVANT_DISTRIBUTIONS)
    assert "envstamp" in info.packages  # installed in the environment running the tests


# ------------------------------------------------------------------------- envstamp run


def _captured_options(monkeypatch: pytest.MonkeyPatch) -> list[CaptureOptions]:
    from envstamp.stamping import timing

    seen: list[CaptureOptions] = []

    def fake_capture(options: CaptureOptions | None, runner: Any) -> Any:
        assert options is not None
        seen.append(options)
        return make_manifest()

    monkeypatch.setattr(timing, "_capture", fake_capture)
    return seen


@posix_only
def test_run_of_a_script_names_its_interpreter(
    tmp_path: Path, child_venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _captured_options(monkeypatch)
    script = tmp_path / "bench.py"
    script.write_text(f"#!{child_venv}\nprint('done')\n", encoding="utf-8")
    script.chmod(0o755)
    out = str(tmp_path / "r.jsonl")
    assert cli.main(["run", "-q", "-o", out, "--", str(script)]) == 0
    assert cli.main(["run", "-q", "-o", out, "--", str(child_venv), str(script)]) == 0
    assert [options.python for options in seen] == [str(child_venv)] * 2


@posix_only
def test_run_of_a_console_script_found_through_env(
    tmp_path: Path, child_venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _captured_options(monkeypatch)
    bin_dir = child_venv.parent
    tool = bin_dir / "vllm"
    tool.write_text("#!/usr/bin/env python\nimport sys\nsys.exit(0)\n", encoding="utf-8")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    out = str(tmp_path / "r.jsonl")
    assert cli.main(["run", "-q", "-o", out, "--", "vllm", "serve", "org/model"]) == 0
    assert seen[0].python == str(child_venv)
    assert seen[0].models == ()  # a hub name is not a local file


def test_run_of_a_program_that_is_not_python_keeps_envstamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _captured_options(monkeypatch)
    assert cli.main(["run", "-q", "-o", str(tmp_path / "r.jsonl"), "--", "true"]) == 0
    assert seen[0].python is None
