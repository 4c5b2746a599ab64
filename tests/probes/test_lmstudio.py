"""The LM Studio probe on recorded hosts; lms asked only while the server answers (its
parsers: tests/parsers/test_lmstudio.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm import lmstudio
from envstamp.runner import ReplayRunner
from tests.frontends_support import HOSTS, SPECS, SpecRunner, http, ok

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frontends"


# ------------------------------------------------------------------------- recorded hosts


def _replay(host: str) -> Outcome | ProbeFailure:
    runner = ReplayRunner(HOSTS / host)
    try:
        return lmstudio.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    except ProbeFailure as failure:
        return failure


def _app(outcome: Outcome | ProbeFailure) -> Any:
    assert isinstance(outcome, Outcome), outcome
    return outcome.sections["frontends"].lmstudio


def test_host_linux_with_server() -> None:
    app = _app(_replay("frontends-linux-all"))
    assert app.app_version == "0.3.27"
    assert app.cli_version == "0.3.27"
    assert [(r.name, r.version) for r in app.runtimes] == [
        ("llama.cpp-linux-x86_64-avx2", "1.50.2"),
        ("llama.cpp-linux-x86_64-nvidia-cuda12-avx2", "1.50.2"),
        ("llama.cpp-linux-x86_64-vulkan-avx2", "1.47.0"),  # from the folder name
    ]
    selected = [r.name for r in app.selected_runtimes]
    assert selected == ["llama.cpp-linux-x86_64-nvidia-cuda12-avx2"]
    assert [m.type for m in app.models] == ["llm", "llm", "embedding"]
    assert [m.name for m in app.loaded_models] == ["qwen2.5-coder-14b-instruct"]
    # The API answered: lms ps / lms ls were not needed.
    assert not list((HOSTS / "frontends-linux-all").glob("cmd-lms-ps-*"))


def test_host_macos_app_bundle_and_mlx() -> None:
    app = _app(_replay("frontends-macos"))
    assert app.app_version == "0.3.31"
    assert [r.name.split("-")[0] for r in app.runtimes] == ["llama.cpp", "mlx"]
    assert app.models == []


def test_host_windows_preferences_object() -> None:
    app = _app(_replay("frontends-windows"))
    assert app.app_version is None  # the .exe path carries no version
    assert [r.version for r in app.selected_runtimes] == ["1.52.1"]
    assert len(app.runtimes) == 2


def test_host_lms_without_app() -> None:
    app = _app(_replay("frontends-half-installed"))
    assert (app.cli_version, app.cli_commit) == (None, "3f9c2ab")
    assert app.runtimes == []


def test_host_absent_and_broken() -> None:
    absent = _replay("frontends-none")
    assert isinstance(absent, ProbeFailure) and absent.status == "absent"
    broken = _replay("frontends-misbehaving")
    assert isinstance(broken, Outcome)
    assert "not valid JSON" in (broken.detail or "")
    assert _app(broken).selected_runtimes == []


def test_lms_lists_only_while_the_server_answers(tmp_path: Path) -> None:
    """An old server without /api/v0 answers 404: then lms ps / lms ls are asked."""
    spec = dict(SPECS["frontends-macos"])
    spec["http"] = {"http://127.0.0.1:1234/api/v0/models": http("Not Found", code=404)}
    spec["which"] = {"lms": "/usr/local/bin/lms"}
    spec["cmds"] = {
        "/usr/local/bin/lms version": ok("lms - LM Studio CLI - v0.2.31\n"),
        "/usr/local/bin/lms ps": ok((FIXTURES / "lms-ps-new.txt").read_text()),
        "/usr/local/bin/lms ls": ok((FIXTURES / "lms-ls-0.3.txt").read_text()),
    }
    runner = SpecRunner(tmp_path / "rec", spec)
    app = _app(lmstudio.probe(ProbeContext(runner=runner, options=CaptureOptions())))
    assert [m.name for m in app.loaded_models] == ["qwen3-8b", "text-embedding-bge-m3"]
    assert len(app.models) == 4
    # With no server at all, lms is asked only for its version (it could wake the app).
    del spec["http"]
    runner = SpecRunner(tmp_path / "rec2", spec)
    app = _app(lmstudio.probe(ProbeContext(runner=runner, options=CaptureOptions())))
    assert app.cli_version == "0.2.31"
    assert app.models == [] and app.loaded_models == []
    assert not list((tmp_path / "rec2").glob("cmd-lms-ps-*"))
