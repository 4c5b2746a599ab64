"""py-cpuinfo is an optional extra (``envstamp[cpuinfo]``, in the test extra): the cpu
probe's last source, for systems with no native description.  With it the runner answers
with its info; without it the answer says so, as data, and the probe records it."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from envstamp.capturing.pool import run_probes
from envstamp.probes.context import CaptureOptions, ProbeContext
from envstamp.probes.registry import ProbeSpec
from envstamp.probes.system import cpu as cpu_probe
from envstamp.runner import LiveRunner, RecordingRunner, ReplayRunner
from envstamp.runner.answer_types import PlatformAnswer

PYPROJECT = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")


class ElsewhereRunner(LiveRunner):
    """The live system, said to be one with no native CPU description (py-cpuinfo's case)."""

    def platform(self) -> PlatformAnswer:
        return {**super().platform(), "system": "FreeBSD"}


def _requirements(name: str) -> list[str]:
    """Requirement strings of ``dependencies`` or of one extra (one line or a block)."""
    match = re.search(rf"^{name} = \[(.*?)\]$", PYPROJECT, re.MULTILINE | re.DOTALL)
    assert match is not None, f"no {name} in pyproject.toml"
    return re.findall(r'"([^"]+)"', re.sub(r"#[^\n]*", "", match.group(1)))


def test_py_cpuinfo_is_an_extra_the_tests_install_and_distro_is_gone() -> None:
    names = [re.split(r"[<>=;\[ ]", req)[0] for req in _requirements("dependencies")]
    assert "py-cpuinfo" not in names and "distro" not in names
    assert [re.split(r"[<>=;]", req)[0] for req in _requirements("cpuinfo")] == ["py-cpuinfo"]
    assert "envstamp[cpuinfo]" in _requirements("test")


def test_with_py_cpuinfo_the_probe_describes_the_cpu() -> None:
    pytest.importorskip("cpuinfo", reason="the test extra installs py-cpuinfo")
    answer = LiveRunner().library("py-cpuinfo")
    assert answer["status"] == "ok"
    info = answer.get("info") or {}
    outcome = cpu_probe.probe(ProbeContext(runner=ElsewhereRunner(), options=CaptureOptions()))
    assert outcome.status == "ok" and outcome.source == "py-cpuinfo"
    assert outcome.sections["cpu"].model_name == info.get("brand_raw")


def test_without_py_cpuinfo_the_answer_says_so_as_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cpuinfo", None)  # import cpuinfo raises ImportError
    answer = RecordingRunner(tmp_path / "rec").library("py-cpuinfo")
    assert answer == {
        "status": "absent",
        "detail": "py-cpuinfo unavailable: not installed (the envstamp[cpuinfo] extra)",
    }
    assert ReplayRunner(tmp_path / "rec").library("py-cpuinfo") == answer  # recorded as data
    spec = ProbeSpec("cpu", "envstamp.probes.system.cpu:probe")
    context = ProbeContext(runner=ElsewhereRunner(), options=CaptureOptions())
    ((_, outcome, record),) = run_probes([spec], context, time.monotonic() + 5.0)
    assert outcome.sections == {}  # no CPU made up
    assert record.status == "absent"
    assert record.detail == "py-cpuinfo: " + answer["detail"]
