"""``pytest --envstamp`` with pytest-benchmark: a test that uses its ``benchmark`` fixture is
recorded with the benchmark's own rounds and statistics, not the test call's duration."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.stamping import pytest_plugin
from envstamp.stamping.pytest_plugin import BenchmarkRounds, benchmark_params, benchmark_rounds
from envstamp.stamping.results import Result, load_results, verify_log

QUICK = ("-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest")
# Short benchmarks: a few hundredths of a second each, at least 3 rounds.
BENCH_ARGS = ("--benchmark-max-time=0.01", "--benchmark-min-rounds=3")

needs_pytest_benchmark = pytest.mark.skipif(
    importlib.util.find_spec("pytest_benchmark") is None,
    reason="pytest-benchmark is not installed (it is in envstamp's test extra)",
)

BENCH_TESTS = """
import pytest

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def test_fib(benchmark):
    assert benchmark(fib, 12) == 144

def test_pedantic(benchmark):
    benchmark.pedantic(fib, args=(10,), rounds=7, iterations=3, warmup_rounds=1)

@pytest.mark.benchmark(group="small")
@pytest.mark.parametrize("n", [5, 8])
def test_grouped(benchmark, n):
    benchmark(fib, n)

def test_fails_after_its_rounds(benchmark):
    benchmark(fib, 5)
    assert False, "on purpose"

def test_fails_before_any_round(benchmark):
    def broken():
        raise RuntimeError("on purpose")
    benchmark(broken)

def test_plain():
    assert fib(5) == 5
"""


def run_inner(folder: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_inner.py").write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", *QUICK, "test_inner.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def by_name(results: list[Result]) -> dict[str, Result]:
    return {r.name: r for r in results}


@pytest.mark.slow
@needs_pytest_benchmark
def test_benchmark_rounds_and_statistics_become_the_result(tmp_path: Path) -> None:
    done = run_inner(
        tmp_path, BENCH_TESTS, *BENCH_ARGS, "--benchmark-json", "bench.json",
        "--envstamp", "r.jsonl",
    )
    assert done.returncode == 1, done.stdout + done.stderr  # two inner tests fail on purpose
    assert verify_log(tmp_path / "r.jsonl").ok
    results = by_name(load_results(tmp_path / "r.jsonl", include_failed=True))
    own = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))["benchmarks"]
    compared = 0
    for bench in own:
        result = results[bench["fullname"]]
        if result.failed:
            continue
        stats = bench["stats"]
        assert result.origin == "pytest-benchmark"
        # The samples are pytest-benchmark's own: each round's time per iteration.
        assert result.wall_s == stats["data"]
        assert result.params["rounds"] == stats["rounds"] == len(stats["data"])
        assert result.params["iterations"] == stats["iterations"]
        assert result.params["warmup"] == bench["options"]["warmup"]
        summary = result.summary["wall_s"]
        for key in ("min", "max", "mean", "median", "stddev"):
            assert math.isclose(getattr(summary, key), stats[key], rel_tol=1e-12), key
        assert summary.n == stats["rounds"]
        compared += 1
    assert compared == 4  # test_fib, test_pedantic, test_grouped[5], test_grouped[8]

    pedantic = results["test_inner.py::test_pedantic"]
    assert pedantic.params == {"outcome": "passed", "rounds": 7, "iterations": 3,
                               "warmup": False}
    grouped = results["test_inner.py::test_grouped[8]"]
    assert grouped.params["group"] == "small" and grouped.params["param"] == "8"
    assert "group" not in results["test_inner.py::test_fib"].params
    # Calibration and the test's own code are not a round: far fewer than one call's time.
    fib = results["test_inner.py::test_fib"]
    assert len(fib.wall_s) >= 3 and fib.params["rounds"] == len(fib.wall_s)


@pytest.mark.slow
@needs_pytest_benchmark
def test_a_benchmark_test_that_fails_is_recorded_failed(tmp_path: Path) -> None:
    done = run_inner(tmp_path, BENCH_TESTS, *BENCH_ARGS, "-k", "fails or plain",
                     "--envstamp", "r.jsonl")
    assert done.returncode == 1, done.stdout + done.stderr
    results = by_name(load_results(tmp_path / "r.jsonl", include_failed=True))
    after = results["test_inner.py::test_fails_after_its_rounds"]
    assert after.failed and after.origin == "pytest-benchmark"
    assert after.params["outcome"] == "failed"
    assert after.params["rounds"] == len(after.wall_s) >= 3  # kept for the record
    before = results["test_inner.py::test_fails_before_any_round"]
    assert before.failed and before.origin == "pytest-benchmark"
    assert before.wall_s == [] and before.params["rounds"] == 0  # no round, no sample
    plain = results["test_inner.py::test_plain"]
    assert plain.origin == "pytest" and not plain.failed and len(plain.wall_s) == 1
    # Failed results are never read as speeds unless asked for.
    assert {r.name for r in load_results(tmp_path / "r.jsonl")} == {plain.name}


@pytest.mark.slow
@needs_pytest_benchmark
def test_benchmarks_disabled_record_the_call_duration(tmp_path: Path) -> None:
    done = run_inner(tmp_path, BENCH_TESTS, "-k", "fib", "--benchmark-disable",
                     "--envstamp", "r.jsonl")
    assert done.returncode == 0, done.stdout + done.stderr
    (fib,) = load_results(tmp_path / "r.jsonl")
    # --benchmark-disable runs the function once, untimed: the test is an ordinary test.
    assert fib.origin == "pytest" and fib.params == {"outcome": "passed"}


@pytest.mark.slow
def test_without_pytest_benchmark_a_benchmark_fixture_of_its_own_is_a_plain_test(
    tmp_path: Path,
) -> None:
    source = (
        "import sys\n"
        "import pytest\n\n"
        "class BenchmarkFixture:\n"  # pytest-benchmark's class name, another module
        "    stats = None\n\n"
        "@pytest.fixture\n"
        "def benchmark():\n"
        "    return BenchmarkFixture()\n\n"
        "def test_uses_its_own(benchmark):\n"
        "    assert 'pytest_benchmark' not in sys.modules\n"
    )
    done = run_inner(tmp_path, source, "-p", "no:benchmark", "--envstamp", "r.jsonl")
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = load_results(tmp_path / "r.jsonl")
    assert result.origin == "pytest" and result.params == {"outcome": "passed"}


# ------------------------------------------------------------- reading the fixture


def fake_fixture(module: str = "pytest_benchmark.fixture", **attributes: Any) -> Any:
    """An object of a class named as pytest-benchmark's fixture, from ``module``."""
    kind = type("BenchmarkFixture", (), {"__module__": module})
    fixture = kind()
    defaults: dict[str, Any] = {"disabled": False, "group": None, "param": None, "stats": None}
    for key, value in {**defaults, **attributes}.items():
        setattr(fixture, key, value)
    return fixture


def metadata(data: Any, iterations: Any = 2, warmup: Any = False) -> SimpleNamespace:
    return SimpleNamespace(
        stats=SimpleNamespace(data=data), iterations=iterations, options={"warmup": warmup}
    )


def test_the_fixture_is_read_by_its_class_and_attributes() -> None:
    fixture = fake_fixture(stats=metadata([0.5, 0.25]), group="io", param="x-1")
    assert benchmark_rounds({"benchmark": fixture}) == BenchmarkRounds(
        rounds=[0.5, 0.25], iterations=2, warmup=False, group="io", param="x-1"
    )
    # Not pytest-benchmark's: another module, no fixture, no fixture values at all.
    assert benchmark_rounds({"benchmark": fake_fixture(module="mybench")}) is None
    assert benchmark_rounds({"benchmark": fake_fixture(module="pytest_benchmarks")}) is None
    assert benchmark_rounds({"benchmark": fake_fixture(module="pytest_benchmark")}) is not None
    assert benchmark_rounds({"other": fixture}) is None
    assert benchmark_rounds(None) is None
    # Disabled benchmarks measure nothing; a fixture whose rounds have not started has none.
    assert benchmark_rounds({"benchmark": fake_fixture(disabled=True)}) is None
    assert benchmark_rounds({"benchmark": fake_fixture()}) == BenchmarkRounds(
        rounds=[], iterations=None, warmup=None, group=None, param=None
    )


@pytest.mark.parametrize(
    "data", [[0.1, math.nan], [0.1, -0.1], [math.inf], ["0.1"], [True], (0.1, 0.2), "0.1"]
)
def test_rounds_that_cannot_be_stored_are_not_read(data: Any) -> None:
    fixture = fake_fixture(stats=metadata(data))
    assert benchmark_rounds({"benchmark": fixture}) is None


def test_odd_settings_are_left_unknown() -> None:
    fixture = fake_fixture(stats=metadata([1.0], iterations=True, warmup="yes"))
    found = benchmark_rounds({"benchmark": fixture})
    assert found is not None and found.iterations is None and found.warmup is None
    assert benchmark_params(found) == {"rounds": 1}


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=20))
def test_rounds_read_are_exactly_the_storable_ones(data: list[float]) -> None:
    found = benchmark_rounds({"benchmark": fake_fixture(stats=metadata(data))})
    storable = all(math.isfinite(x) and x >= 0 for x in data)
    assert (found is not None) == storable
    if found is not None:
        assert found.rounds == data and benchmark_params(found)["rounds"] == len(data)


class FakeRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def record(self, name: str, /, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))


def report(outcome: str, when: str = "call") -> SimpleNamespace:
    return SimpleNamespace(nodeid="t.py::test_x", when=when, outcome=outcome, duration=1.1)


def test_the_call_report_takes_the_rounds_taken_when_it_was_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = FakeRecorder()
    monkeypatch.setattr(pytest_plugin, "_CURRENT", [recorder])
    monkeypatch.setattr(pytest_plugin, "_BENCHMARKS", {})
    item = SimpleNamespace(
        nodeid="t.py::test_x",
        funcargs={"benchmark": fake_fixture(stats=metadata([0.25, 0.5], iterations=4))},
    )
    pytest_plugin.pytest_runtest_makereport(item, SimpleNamespace(when="setup"))
    assert pytest_plugin._BENCHMARKS == {}  # only the call measured anything
    pytest_plugin.pytest_runtest_makereport(item, SimpleNamespace(when="call"))
    pytest_plugin.pytest_runtest_logreport(report("passed"))
    pytest_plugin.pytest_runtest_logreport(report("passed"))  # taken once: then a plain test
    (name, first), (_, second) = recorder.calls
    assert name == "t.py::test_x"
    assert first == {
        "wall_s": [0.25, 0.5],
        "params": {"outcome": "passed", "rounds": 2, "iterations": 4, "warmup": False},
        "origin": "pytest-benchmark",
        "failed": False,
    }
    assert second["origin"] == "pytest" and second["wall_s"] == [1.1]


def test_without_envstamp_nothing_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytest_plugin, "_CURRENT", [])
    monkeypatch.setattr(pytest_plugin, "_BENCHMARKS", {})
    item = SimpleNamespace(nodeid="t.py::test_x", funcargs={"benchmark": object()})
    pytest_plugin.pytest_runtest_makereport(item, SimpleNamespace(when="call"))
    assert pytest_plugin._BENCHMARKS == {}
