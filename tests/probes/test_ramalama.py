"""The RamaLama probe, replayed: hosts whose command answers are RamaLama's own outputs
(tests/fixtures/frontends/ramalama-*, most printed by RamaLama itself) are recorded through
the runner and replayed; a capture of such a host; nothing spawned without it (the parsers:
tests/parsers/test_ramalama.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.capturing.capture import capture
from envstamp.diffing.manifests import diff_manifests
from envstamp.manifest.serialize import manifest_from_data, unstructure
from envstamp.output.render import to_text
from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm import ramalama
from envstamp.probes.registry import PROBES
from envstamp.runner import Answer, LiveRunner, ReplayRunner
from tests.frontends_support import LOGS, AskingRunner, SpecRunner, ok

BINARY = "/usr/local/bin/ramalama"
INFO = f"{BINARY} info"
VERSION = f"{BINARY} version"
LIST = f"{BINARY} --nocontainer list --json"


def _out(name: str) -> str:
    return (LOGS / name).read_text(encoding="utf-8")


def _failed(name: str) -> Answer:
    """A command that exited 1 with the fixture on stderr."""
    return ok(stderr=_out(name), code=1)


def _host(cmds: dict[str, Answer], *, which: str | None = BINARY) -> dict[str, Any]:
    return {
        "platform": {"system": "Linux", "node": "rig", "release": "6.8.0", "machine": "x86_64",
                     "home": "/home/user", "python_version": "3.11.9"},
        "which": {"ramalama": which} if which else {},
        "cmds": cmds,
    }


NO_ENGINE = _host({
    INFO: ok(_out("ramalama-info-0.25.0-no-engine.json")),
    LIST: ok(_out("ramalama-list-0.25.0.json")),
})
DOCKER_DOWN = _host({
    INFO: _failed("ramalama-info-0.25.0-docker-down.txt"),
    VERSION: ok(_out("ramalama-version-0.25.0.txt")),
    LIST: ok(_out("ramalama-list-0.25.0-empty.json")),
})
PODMAN_CUDA = _host({
    INFO: ok(_out("ramalama-info-0.25.0-podman-cuda.json")),
    LIST: ok(_out("ramalama-list-0.25.0-hf-ollama.json")),
})
OLD_0_9 = _host({
    INFO: ok(_out("ramalama-info-0.9.0-no-engine.json")),
    LIST: ok(_out("ramalama-list-0.9.0.json")),
})


def _recorded(tmp_path: Path, spec: dict[str, Any]) -> Path:
    """A folder of the runner's answers to what the probe asks of ``spec``."""
    folder = tmp_path / "host"
    if folder.exists():
        shutil.rmtree(folder)
    runner = SpecRunner(folder, spec)
    runner.platform()  # what a capture asks before any probe
    _run(runner)
    return folder


def _run(runner: Any) -> Outcome | ProbeFailure:
    try:
        return ramalama.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    except ProbeFailure as failure:
        return failure


def _replayed(tmp_path: Path, spec: dict[str, Any]) -> Outcome | ProbeFailure:
    return _run(ReplayRunner(_recorded(tmp_path, spec)))


# ------------------------------------------------------------------------------- replayed


def test_no_container_engine(tmp_path: Path) -> None:
    outcome = _replayed(tmp_path, NO_ENGINE)
    assert isinstance(outcome, Outcome) and (outcome.status, outcome.detail) == ("ok", None)
    found = outcome.sections["frontends"].ramalama
    assert (found.version, found.runtime, found.container_engine, found.use_container) == (
        "0.25.0", "llama.cpp", None, False,
    )
    assert [m.name for m in found.models] == [
        "file:///home/user/models/tinyllama-q8.gguf",
        "file:///home/user/models/granite-3b-q4.gguf",
    ]


def test_info_states_the_version_so_version_is_not_run(tmp_path: Path) -> None:
    folder = _recorded(tmp_path, NO_ENGINE)
    asked = sorted(p.name for p in folder.glob("cmd-*"))
    assert len(asked) == 2 and not any("ramalama-version" in name for name in asked)


def test_a_stopped_docker_daemon_leaves_the_version_and_says_why(tmp_path: Path) -> None:
    outcome = _replayed(tmp_path, DOCKER_DOWN)
    assert isinstance(outcome, Outcome) and outcome.status == "ok"
    found = outcome.sections["frontends"].ramalama
    assert (found.version, found.runtime, found.container_engine, found.models) == (
        "0.25.0", None, None, [],
    )
    assert outcome.detail is not None
    assert outcome.detail.startswith("ramalama info: ramalama exited 1")
    assert "docker" in outcome.detail


def test_podman_with_cuda_and_models_from_hubs(tmp_path: Path) -> None:
    outcome = _replayed(tmp_path, PODMAN_CUDA)
    assert isinstance(outcome, Outcome)
    found = outcome.sections["frontends"].ramalama
    assert (found.container_engine, found.use_container, found.image, found.accelerator) == (
        "podman", True, "quay.io/ramalama/cuda:0.25", "cuda",
    )
    assert [(m.shortname, m.partial) for m in found.models] == [
        ("granite", False), (None, False), (None, True),
    ]


def test_an_older_ramalama(tmp_path: Path) -> None:
    outcome = _replayed(tmp_path, OLD_0_9)
    assert isinstance(outcome, Outcome)
    found = outcome.sections["frontends"].ramalama
    assert (found.version, found.runtime, len(found.models)) == ("0.9.0", "llama.cpp", 1)


def test_a_hung_list_is_a_timeout_with_what_info_said(tmp_path: Path) -> None:
    hung = dict(NO_ENGINE, cmds={
        INFO: ok(_out("ramalama-info-0.25.0-no-engine.json")),
        LIST: {"status": "timeout", "detail": "timed out after 2.0 s"},
    })
    outcome = _replayed(tmp_path, hung)
    assert isinstance(outcome, Outcome) and outcome.status == "timeout"
    assert outcome.sections["frontends"].ramalama.version == "0.25.0"
    assert outcome.detail == "ramalama --nocontainer list --json: ramalama: timed out after 2.0 s"


def test_a_broken_ramalama_is_an_error_naming_each_command(tmp_path: Path) -> None:
    broken = _host({
        INFO: ok(stderr="ModuleNotFoundError: No module named 'ramalama'\n", code=1),
        VERSION: ok(stderr="ModuleNotFoundError: No module named 'ramalama'\n", code=1),
        LIST: ok("garbage\n"),
    })
    failure = _replayed(tmp_path, broken)
    assert isinstance(failure, ProbeFailure) and failure.status == "error"
    assert [part.split(":")[0] for part in failure.detail.split("; ")] == [
        "ramalama info", "ramalama version", "ramalama --nocontainer list --json",
    ]


def test_not_on_path_is_absent(tmp_path: Path) -> None:
    failure = _replayed(tmp_path, _host({}, which=None))
    assert isinstance(failure, ProbeFailure) and failure.status == "absent"


# -------------------------------------------------------------------------------- capture


def test_capture_includes_ramalama_and_diff_ranks_its_change(tmp_path: Path) -> None:
    assert "ramalama" in {spec.name for spec in PROBES}
    others = {spec.name for spec in PROBES} - {"ramalama"}
    manifest = capture(replay=str(_recorded(tmp_path / "a", NO_ENGINE)), skip=others)
    statuses = {p.name: p.status for p in manifest.probes}
    assert statuses.pop("ramalama") == "ok" and set(statuses.values()) == {"unsupported"}
    found = manifest.frontends.ramalama
    assert found is not None and (found.version, found.runtime) == ("0.25.0", "llama.cpp")
    assert "RamaLama 0.25.0" in to_text(manifest)  # the summary names it, as any frontend
    # It survives the manifest's own JSON round trip, and a diff names what changed.
    again = manifest_from_data(unstructure(manifest))
    assert again.frontends.ramalama.models[1].size_bytes == 256
    other = capture(replay=str(_recorded(tmp_path / "b", OLD_0_9)), skip=others)
    found_diffs = {d.path: d for d in diff_manifests(manifest, other).found}
    version = found_diffs["frontends.ramalama.version"]
    assert (version.a, version.b, version.impact) == ("0.25.0", "0.9.0", "high")
    assert version.label == "ramalama version"


# ----------------------------------------------------------------------------------- live


@pytest.mark.skipif(os.name != "posix", reason="an empty PATH is a POSIX notion here")
def test_not_installed_spawns_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    runner = AskingRunner()
    failure = _run(runner)
    assert isinstance(failure, ProbeFailure) and failure.status == "absent"
    assert "cmd" not in runner.asked


@pytest.mark.skipif(shutil.which("ramalama") is None,
                    reason="needs RamaLama installed (pip install ramalama)")
def test_the_installed_ramalama_agrees_with_its_own_version() -> None:
    outcome = _run(LiveRunner(command_timeout=10.0))
    assert isinstance(outcome, Outcome)
    printed = subprocess.run(["ramalama", "version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    assert outcome.sections["frontends"].ramalama.version in printed


def test_importing_the_probe_imports_no_ramalama_parser() -> None:
    code = (
        "import sys, envstamp.probes.llm.ramalama\n"
        "print('envstamp.parsers.ramalama' in sys.modules)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert ran.stdout.strip() == "False"


def test_the_spec_hosts_only_ask_what_the_probe_asks(tmp_path: Path) -> None:
    # Every answer a host holds is one the probe asked for (no stale command in a spec).
    for spec in (NO_ENGINE, PODMAN_CUDA, OLD_0_9):
        folder = _recorded(tmp_path, spec)
        assert len(list(folder.glob("cmd-*"))) == len(spec["cmds"])
    assert attrs.has(type(ramalama.Ramalama()))
