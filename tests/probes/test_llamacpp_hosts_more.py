"""The hand-made llama.cpp hosts: written from descriptions, checked against stated findings.

tests/fixtures/llamacpp/make_hosts.py describes each host by the raw answers it holds and
writes its recording folder from that description alone; EXPECTED beside it states by hand
what the llamacpp and models probes must find there.  These tests hold the committed folders
to the descriptions (no probe involved), and the probes, replayed on the folders, to EXPECTED.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.llm import llamacpp, model_file
from envstamp.runner import ReplayRunner
from envstamp.runner.recorded import answer_problem

ROOT = Path(__file__).parents[2]
MAKE_HOSTS = ROOT / "tests" / "fixtures" / "llamacpp" / "make_hosts.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_llamacpp_hosts", MAKE_HOSTS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_hosts = _load()
NAMES = sorted(make_hosts.HOSTS)
PROBES = {"llamacpp": llamacpp.probe, "models": model_file.probe}


def _outcome(probe: Any, ctx: ProbeContext) -> tuple[str, str | None, list[Any]]:
    try:
        outcome: Outcome = probe(ctx)
    except ProbeFailure as failure:
        return failure.status, failure.detail, []
    entries = next(iter(outcome.sections.values()), []) if outcome.sections else []
    return outcome.status, outcome.detail, list(entries)


def _field(entry: Any, dotted: str) -> Any:
    value = entry
    for part in dotted.split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return value


def _matches(entry: Any, expected: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose value differs from the stated one: name -> (found, expected)."""
    wrong = {}
    for name, want in expected.items():
        if name == "devices":  # each device by the fields stated for the first one
            keys = list(want[0]) if want else []
            found: Any = [{k: getattr(d, k) for k in keys} for d in entry.devices]
        else:
            found = _field(entry, name)
        if found != want:
            wrong[name] = (found, want)
    return wrong


def test_every_host_states_what_must_be_found() -> None:
    assert sorted(make_hosts.EXPECTED) == NAMES
    for name, expected in make_hosts.EXPECTED.items():
        assert set(expected) - {"options"} <= set(PROBES), name
        assert "llamacpp" in expected, name


@pytest.mark.parametrize("name", NAMES)
def test_committed_folder_is_what_the_description_writes(name: str) -> None:
    assert make_hosts.stale(name, make_hosts.HOSTS_DIR / name) == []


@pytest.mark.parametrize("name", NAMES)
def test_written_answers_have_the_shapes_the_runner_gives(name: str) -> None:
    for op, key, answer in make_hosts.answers(make_hosts.HOSTS[name]):
        assert answer_problem(op, answer) is None, (op, key)


@pytest.mark.parametrize("name", NAMES)
def test_replayed_probes_find_what_the_host_states(name: str) -> None:
    expected = make_hosts.EXPECTED[name]
    options = CaptureOptions(**expected["options"])
    for probe_name, want in expected.items():
        if probe_name == "options":
            continue
        ctx = ProbeContext(runner=ReplayRunner(make_hosts.HOSTS_DIR / name), options=options)
        status, detail, entries = _outcome(PROBES[probe_name], ctx)
        assert status == want["status"], (probe_name, detail)
        if "detail" in want:
            assert detail is not None and want["detail"] in detail
        assert len(entries) == len(want["entries"]), probe_name
        for entry, fields in zip(entries, want["entries"], strict=True):
            assert _matches(entry, fields) == {}, probe_name


def test_writing_the_hosts_runs_no_probe(tmp_path: Path) -> None:
    # The recordings are written from the descriptions only: no probe module is imported.
    code = (
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        f"ns = runpy.run_path({str(MAKE_HOSTS)!r}, run_name='make_hosts')\n"
        f"ns['write']('linux-cuda-checkout', __import__('pathlib').Path({str(tmp_path)!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('envstamp.probes')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert len(list(tmp_path.glob("*.json"))) == len(make_hosts.recording(
        make_hosts.HOSTS["linux-cuda-checkout"]))


def test_a_description_with_two_answers_to_one_question_is_refused() -> None:
    host = {"env": {"X": "1"}, "absent": ["/a"], "files": {"/a": "text"}}
    with pytest.raises(ValueError, match="two different answers to stat"):
        make_hosts.recording(host)


def test_a_stale_folder_is_named_file_by_file(tmp_path: Path) -> None:
    make_hosts.write("linux-random-main", tmp_path)
    assert make_hosts.stale("linux-random-main", tmp_path) == []
    victim = sorted(tmp_path.glob("which-main-*.json"))[0]
    victim.write_text(victim.read_text().replace("/usr/bin/main", "/usr/bin/other"))
    (tmp_path / "extra-0000000000.json").write_text("{}")
    assert make_hosts.stale("linux-random-main", tmp_path) == [
        "extra-0000000000.json", victim.name
    ]


def test_absent_paths_answer_not_found_to_every_question() -> None:
    written = {
        (op, key.get("path")): answer
        for op, key, answer in make_hosts.answers({"absent": ["/opt/x"]})
    }
    assert written == {
        ("stat", "/opt/x"): {"exists": False},
        ("dir", "/opt/x"): {"status": "absent", "detail": "not found"},
        ("file", "/opt/x"): {"status": "absent", "detail": "not found"},
    }


def test_a_binary_file_is_written_as_its_bytes_from_start_to_end() -> None:
    written = make_hosts.answers({"files": {"/m.gguf": b"GGUF\x03"}})
    ops = {op: (key, answer) for op, key, answer in written}
    assert set(ops) == {"stat", "sha256", "bytes"}
    assert ops["bytes"] == ({"path": "/m.gguf", "offset": 0, "length": 5},
                            {"status": "ok", "hex": "4747554603"})
    assert ops["stat"][1]["size"] == 5
    assert ops["sha256"][1]["sha256"] == hashlib.sha256(b"GGUF\x03").hexdigest()
