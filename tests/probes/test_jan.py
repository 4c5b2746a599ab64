"""The Jan probe on recorded hosts (its parsers: tests/parsers/test_jan.py)."""

from __future__ import annotations

from typing import Any

from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm import jan
from envstamp.runner import ReplayRunner
from tests.frontends_support import HOSTS


def _replay(host: str) -> Outcome | ProbeFailure:
    runner = ReplayRunner(HOSTS / host)
    try:
        return jan.probe(ProbeContext(runner=runner, options=CaptureOptions()))
    except ProbeFailure as failure:
        return failure


def _jan(host: str) -> Any:
    outcome = _replay(host)
    assert isinstance(outcome, Outcome), outcome
    return outcome.sections["frontends"].jan


def test_host_linux_llamacpp_backends() -> None:
    found = _jan("frontends-linux-all")
    assert found.app_version == "0.6.9"
    assert [(e.name, e.version) for e in found.engines] == [
        ("llama.cpp linux-avx2-cuda-cu12.0-x64", "b6324"),
        ("llama.cpp linux-avx2-x64", "b6324"),
    ]


def test_host_macos_cortex_era_with_moved_data_folder() -> None:
    found = _jan("frontends-macos")
    assert found.app_version == "0.5.17"  # from the app bundle
    assert [(e.name, e.version) for e in found.engines] == [
        ("cortex.llamacpp mac-arm64", "0.1.40"),
        ("@janhq/inference-cortex-extension", "1.0.25"),
    ]


def test_host_windows_appdata() -> None:
    found = _jan("frontends-windows")
    assert found.app_version == "0.6.7"
    assert [e.version for e in found.engines] == ["b6150"]


def test_host_absent_and_garbage_settings() -> None:
    absent = _replay("frontends-none")
    assert isinstance(absent, ProbeFailure) and absent.status == "absent"
    garbage = _jan("frontends-misbehaving")
    assert garbage.app_version is None and garbage.engines == []
