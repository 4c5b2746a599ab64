"""pytest plugin: ``pytest --envstamp results.jsonl`` records each test's duration, stamped
with this machine's signed manifest (captured once per session, before any test runs).

With pytest-benchmark installed, a test that uses its ``benchmark`` fixture is recorded with
the benchmark's own rounds instead (``origin="pytest-benchmark"``: each round's time per
iteration, as pytest-benchmark counts them, so the summary is its min/max/mean/median/stddev),
read from the fixture the test was given once its call is over.  Its ``machine_info`` also
gains the manifest digests and a short summary (through its
``pytest_benchmark_update_machine_info`` hook).  pytest-benchmark itself is never imported
here: its fixture is recognised by its class and read by the attributes it has.

Without ``--envstamp`` the plugin does nothing: it adds one option and imports nothing else.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest

# The session's recorder by config (id), and the current one: reports carry no config.
# (Kept here rather than in config.stash, which pytest < 7 does not have: the plugin loads
# in every pytest and must never break one.)
_RECORDERS: dict[int, Any] = {}
_CURRENT: list[Any] = []
# What pytest-benchmark measured in a test's call, by node id: read when the call's report is
# made (the fixture is still alive then), recorded when that report is logged.
_BENCHMARKS: dict[str, BenchmarkRounds] = {}
# pytest-benchmark's fixture: its name, and the class and module that make it.
_FIXTURE_NAME = "benchmark"
_FIXTURE_CLASS = "BenchmarkFixture"
_FIXTURE_MODULE = "pytest_benchmark"
BENCHMARK_ORIGIN = "pytest-benchmark"


@attrs.frozen
class BenchmarkRounds:
    """What pytest-benchmark's fixture measured in one test: plain data, no object of its."""

    rounds: list[float]  # seconds per iteration of each round (pytest-benchmark's "data")
    iterations: int | None
    warmup: int | bool | None  # its "warmup" option: False, or the warm-up iterations
    group: str | None
    param: str | None


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("envstamp")
    group.addoption(
        "--envstamp",
        metavar="RESULTS",
        default=None,
        help="record each test's duration, stamped with this machine's manifest, into RESULTS",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: Any) -> None:
    path = config.getoption("envstamp", default=None)
    if not path or hasattr(config, "workerinput"):
        return  # pytest-xdist workers: the controller records the reports they send
    from envstamp.errors import EnvstampError
    from envstamp.stamping.timing import Recorder

    try:
        # Per-test state readings would cost more than many tests: durations only.
        recorder = Recorder(path, state=False, memory=False, advice=False)
    except EnvstampError as exc:
        raise pytest.UsageError(f"--envstamp {path}: {exc}") from None
    _RECORDERS[id(config)] = recorder
    _CURRENT[:] = [recorder]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: Any, call: Any) -> None:
    """Take what pytest-benchmark measured in the call, while its fixture is alive (its
    teardown comes later); the report itself is left to pytest (this returns nothing)."""
    if call.when != "call" or not _CURRENT:
        return
    measured = benchmark_rounds(getattr(item, "funcargs", None))
    if measured is not None:
        _BENCHMARKS[item.nodeid] = measured


def pytest_runtest_logreport(report: Any) -> None:
    if report.when != "call" or not _CURRENT:
        return
    measured = _BENCHMARKS.pop(report.nodeid, None)
    # Only a passing call measured what the test is for: a failed (or skipped, or xfailed)
    # call is recorded as failed, so its duration is never read as a speed.
    failed = report.outcome != "passed"
    if measured is not None and (measured.rounds or failed):
        _CURRENT[0].record(
            report.nodeid,
            wall_s=measured.rounds or None,
            params={"outcome": report.outcome, **benchmark_params(measured)},
            origin=BENCHMARK_ORIGIN,
            failed=failed,
        )
        return
    _CURRENT[0].record(
        report.nodeid,
        wall_s=[float(report.duration)],
        params={"outcome": report.outcome},
        origin="pytest",
        failed=failed,
    )


def benchmark_rounds(funcargs: Any) -> BenchmarkRounds | None:
    """What pytest-benchmark's ``benchmark`` fixture among a test's fixture values measured:
    its rounds when it ran (none when the test failed before it did, or benchmarks are
    disabled).  None when the test has no such fixture (a fixture of that name from
    elsewhere is not pytest-benchmark's) or it holds what this version does not know."""
    fixture = funcargs.get(_FIXTURE_NAME) if isinstance(funcargs, dict) else None
    kind = type(fixture)
    module = kind.__module__
    if kind.__name__ != _FIXTURE_CLASS or module.split(".")[0] != _FIXTURE_MODULE:
        return None
    if getattr(fixture, "disabled", False):
        return None  # --benchmark-disable: the function ran once, untimed
    metadata = getattr(fixture, "stats", None)  # set when the benchmark started its rounds
    rounds = _rounds(getattr(getattr(metadata, "stats", None), "data", None))
    if rounds is None:
        return None
    options = getattr(metadata, "options", None)
    warmup = options.get("warmup") if isinstance(options, dict) else None
    return BenchmarkRounds(
        rounds=rounds,
        iterations=_whole(getattr(metadata, "iterations", None)),
        warmup=warmup if isinstance(warmup, (bool, int)) else None,
        group=_text(getattr(fixture, "group", None)),
        param=_text(getattr(fixture, "param", None)),
    )


def _rounds(data: Any) -> list[float] | None:
    """pytest-benchmark's per-round times; [] before any round; None for anything that is
    not a list of finite, non-negative seconds (never a result that cannot be stored)."""
    if data is None:
        return []
    if not isinstance(data, list):
        return None
    rounds = []
    for value in data:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(value) or value < 0:
            return None
        rounds.append(float(value))
    return rounds


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def benchmark_params(measured: BenchmarkRounds) -> dict[str, Any]:
    """The benchmark's settings as parameters: rounds, iterations per round, warm-up, and
    its group and parametrization id where it has them."""
    params: dict[str, Any] = {"rounds": len(measured.rounds)}
    for key in ("iterations", "warmup", "group", "param"):
        value = getattr(measured, key)
        if value is not None:
            params[key] = value
    return params


def pytest_unconfigure(config: Any) -> None:
    recorder = _RECORDERS.pop(id(config), None)
    if recorder is not None:
        if _CURRENT and _CURRENT[0] is recorder:
            _CURRENT.clear()
            _BENCHMARKS.clear()
        recorder.close()


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    """pytest-benchmark's hook: its machine_info gains the manifest digests and a summary."""
    recorder = _RECORDERS.get(id(config))
    if recorder is not None:
        machine_info["envstamp"] = machine_summary(recorder)


def machine_summary(recorder: Any) -> dict[str, Any]:
    """Digests, results path and a one-line-per-part summary of the recorder's manifest."""
    manifest = recorder.manifest
    gpus = [g.name for g in manifest.gpus if g.name]
    builds = [
        f"b{b.build_number}" if b.build_number is not None else (b.commit or b.version or "?")
        for b in manifest.llamacpp
    ]
    return {
        "manifest_digest": recorder.manifest_digest,
        "identity_digest": manifest.identity_digest,
        "results": str(recorder.path),
        "os": manifest.os.distro_pretty or manifest.os.system,
        "cpu": manifest.cpu.model_name,
        "gpus": gpus,
        "driver": manifest.runtimes.nvidia_driver or manifest.runtimes.rocm,
        "llamacpp": builds,
        "governor": manifest.cpu.governor,
    }
