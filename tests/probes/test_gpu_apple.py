"""The Apple probe on a recorded Mac: system_profiler run once, cached, failures kept (the
parser's tests: tests/parsers/test_system_profiler.py)."""

from __future__ import annotations

from pathlib import Path

from tests.gpu_support import SpecRunner, apple_host, asked, replay, run_probe


def test_probe_on_recorded_mac() -> None:
    outcome = replay("apple-m3-max", "gpu_apple")
    assert outcome.status == "ok"
    assert outcome.sections["gpus"][0].name == "Apple M3 Max"
    assert outcome.sections["cpu"].efficiency_cores == 4


def test_probe_runs_system_profiler_once_cached(tmp_path: Path) -> None:
    spec = apple_host()
    outcome = run_probe(SpecRunner(tmp_path, spec), "gpu_apple")
    assert outcome.status == "ok"
    assert asked(tmp_path).count("cmd") == 1


def test_probe_reports_a_failing_system_profiler(tmp_path: Path) -> None:
    spec = apple_host()
    argv = next(iter(spec.commands))
    spec.commands.clear()
    spec.failing[argv] = (1, "system_profiler: error")
    outcome = run_probe(SpecRunner(tmp_path, spec), "gpu_apple")
    assert outcome.status == "error"
    assert outcome.detail is not None and "exited 1" in outcome.detail
