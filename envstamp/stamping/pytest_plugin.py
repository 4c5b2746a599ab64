"""pytest plugin: ``pytest --envstamp results.jsonl`` records each test's duration, stamped
with this machine's signed manifest (captured once per session, before any test runs).

With pytest-benchmark installed, its ``machine_info`` also gains the manifest digests and a
short summary (through its ``pytest_benchmark_update_machine_info`` hook; pytest-benchmark
itself is never imported here).

Without ``--envstamp`` the plugin does nothing: it adds one option and imports nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest

# The session's recorder by config (id), and the current one: reports carry no config.
# (Kept here rather than in config.stash, which pytest < 7 does not have: the plugin loads
# in every pytest and must never break one.)
_RECORDERS: dict[int, Any] = {}
_CURRENT: list[Any] = []


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


def pytest_runtest_logreport(report: Any) -> None:
    if report.when != "call" or not _CURRENT:
        return
    # Only a passing call measured what the test is for: a failed (or skipped, or xfailed)
    # call is recorded as failed, so its duration is never read as a speed.
    _CURRENT[0].record(
        report.nodeid,
        wall_s=[float(report.duration)],
        params={"outcome": report.outcome},
        origin="pytest",
        failed=report.outcome != "passed",
    )


def pytest_unconfigure(config: Any) -> None:
    recorder = _RECORDERS.pop(id(config), None)
    if recorder is not None:
        if _CURRENT and _CURRENT[0] is recorder:
            _CURRENT.clear()
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
