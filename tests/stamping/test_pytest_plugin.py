"""The pytest plugin: free without --envstamp, stamped test durations with it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from envstamp.stamping import pytest_plugin
from envstamp.stamping.results import load_results, verify_log
from tests.timing_support import open_recorder

pytestmark = pytest.mark.slow  # subprocesses: seconds each

# Inner pytest runs: quiet, no cache folder, no plugins they do not need (they start faster).
QUICK = ("-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest")

INNER_TESTS = """
import sys
import time

def test_fast():
    assert "envstamp.stamping.timing" in sys.modules or not {expect_loaded}

def test_slow():
    time.sleep(0.02)

def test_fails():
    assert False, "on purpose"
"""


def run_pytest(folder: Path, *args: str, expect_loaded: bool) -> subprocess.CompletedProcess[str]:
    (folder / "test_inner.py").write_text(
        INNER_TESTS.format(expect_loaded=expect_loaded), encoding="utf-8"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", *QUICK, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_the_option_nothing_is_imported_or_written(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "import sys\n"
        "def test_nothing_loaded():\n"
        "    assert 'envstamp.stamping.timing' not in sys.modules\n"
        "    assert 'envstamp.capturing.capture' not in sys.modules\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *QUICK, str(probe)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(tmp_path.glob("*.jsonl"))


def test_each_test_duration_is_recorded_and_stamped(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, "--envstamp", "durations.jsonl", expect_loaded=True)
    assert done.returncode == 1, done.stdout + done.stderr  # one inner test fails on purpose
    loaded = load_results(tmp_path / "durations.jsonl", include_failed=True)
    by_name = {r.name: r for r in loaded}
    assert set(by_name) == {
        "test_inner.py::test_fast",
        "test_inner.py::test_slow",
        "test_inner.py::test_fails",
    }
    assert by_name["test_inner.py::test_slow"].wall_s[0] >= 0.02
    assert by_name["test_inner.py::test_fails"].params == {"outcome": "failed"}
    assert by_name["test_inner.py::test_fails"].failed
    assert by_name["test_inner.py::test_fast"].params == {"outcome": "passed"}
    assert not by_name["test_inner.py::test_fast"].failed
    # A failing test's duration is not a result unless asked for.
    passed = {r.name for r in load_results(tmp_path / "durations.jsonl")}
    assert passed == {"test_inner.py::test_fast", "test_inner.py::test_slow"}
    assert all(r.origin == "pytest" and r.manifest is not None for r in loaded)
    assert verify_log(tmp_path / "durations.jsonl").ok


def test_an_unusable_results_path_stops_pytest_before_tests(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, "--envstamp", "missing/dir/r.jsonl", expect_loaded=True)
    assert done.returncode == 4  # pytest's usage error
    assert "--envstamp missing/dir/r.jsonl" in done.stderr
    assert "passed" not in done.stdout


def test_works_with_pytest_benchmark_disabled(tmp_path: Path) -> None:
    # The optional hook must not upset pytest when pytest-benchmark is not loaded.
    done = run_pytest(
        tmp_path, "-p", "no:benchmark", "--envstamp", "r.jsonl", "-k", "fast", expect_loaded=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(load_results(tmp_path / "r.jsonl")) == 1


def test_benchmark_hook_adds_the_manifest_summary(tmp_path: Path) -> None:
    rec = open_recorder(tmp_path / "r.jsonl")
    config = SimpleNamespace()
    pytest_plugin._RECORDERS[id(config)] = rec
    machine_info: dict[str, Any] = {"cpu": {"brand_raw": "whatever pytest-benchmark found"}}
    pytest_plugin.pytest_benchmark_update_machine_info(config, machine_info)
    info = machine_info["envstamp"]
    assert info["manifest_digest"] == rec.manifest_digest
    assert info["identity_digest"] == rec.manifest.identity_digest
    assert info["gpus"] == ["Radeon RX 7900 XTX"] and info["governor"] == "performance"
    json.dumps(machine_info)
    empty: dict[str, Any] = {}
    pytest_plugin.pytest_benchmark_update_machine_info(SimpleNamespace(), empty)
    assert empty == {}
    del pytest_plugin._RECORDERS[id(config)]
    rec.close()


def test_pytest_benchmark_machine_info_end_to_end(tmp_path: Path) -> None:
    if importlib.util.find_spec("pytest_benchmark") is None:
        pytest.skip("pytest-benchmark is not installed (the hook itself is tested above)")
    (tmp_path / "test_bench.py").write_text(
        "def test_sum(benchmark):\n    benchmark(sum, range(100))\n", encoding="utf-8"
    )
    bench_args = ["--benchmark-max-time=0.01", "--benchmark-min-rounds=1",
                  "--benchmark-warmup=off"]

    def run_pytest(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", *QUICK, "test_bench.py", *bench_args, *extra],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    control = run_pytest("-p", "no:envstamp")
    if control.returncode != 0:
        # Seen on a GPU host whose preinstalled pytest-benchmark predates its pytest.
        pytest.skip("the installed pytest-benchmark fails under this pytest without envstamp too")
    done = run_pytest("--envstamp", "r.jsonl", "--benchmark-json", "bench.json")
    assert done.returncode == 0, done.stdout + done.stderr
    info = json.loads((tmp_path / "bench.json").read_text())["machine_info"]["envstamp"]
    assert info["manifest_digest"] == load_results(tmp_path / "r.jsonl")[0].manifest_digest
