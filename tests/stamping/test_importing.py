"""``envstamp import``: vLLM's result files become stamped results of a results log."""

from __future__ import annotations

from pathlib import Path

import pytest

from envstamp.cli import main as cli
from envstamp.errors import InputError
from envstamp.stamping import timing
from envstamp.stamping.importing import VLLM_RESULT_NAME, import_files
from envstamp.stamping.results import load_results, verify_log
from tests.timing_support import make_manifest, open_recorder

VLLM = Path(__file__).parent.parent / "fixtures" / "vllm"


def test_each_run_becomes_one_stamped_result(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    with open_recorder(log) as rec:
        done = import_files(
            [
                str(VLLM / "bench-serve-0.34.0.json"),
                str(VLLM / "bench-serve-append-detailed.jsonl"),
            ],
            rec,
        )
    assert (done.results, done.failed) == (3, 1)
    results = load_results(log, require_signed=False, include_failed=True)
    assert [r.name for r in results] == [VLLM_RESULT_NAME] * 3
    assert {r.origin for r in results} == {"import:vllm-bench"}
    first = results[0]
    assert first.params["model_id"] == "Qwen/Qwen2.5-7B-Instruct"
    assert first.params["max_concurrency"] == 8 and first.params["date"] == "20261206-080512"
    assert first.metrics["output_throughput"] == 614.57021
    assert first.manifest is not None and first.manifest_digest.startswith("sha256:")
    assert [r.failed for r in results] == [False, False, True]
    # without failed results, a reader never meets the run where nothing completed
    assert len(load_results(log, require_signed=False)) == 2
    assert verify_log(log.read_bytes(), allow_open=False).problems == []


def test_a_file_that_is_not_a_result_is_refused_before_anything_is_appended(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}')
    log = tmp_path / "r.jsonl"
    with open_recorder(log) as rec, pytest.raises(InputError, match=r"notes\.json: "):
        import_files([str(VLLM / "bench-serve-0.34.0.json"), str(bad)], rec)
    assert load_results(log, require_signed=False) == []
    with open_recorder(log) as rec, pytest.raises(InputError, match=r"missing\.json: no such file"):
        import_files([str(tmp_path / "missing.json")], rec)


def test_the_cli_appends_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(timing, "_capture", lambda options, runner: make_manifest())
    log = tmp_path / "r.jsonl"
    code = cli.main(["import", str(VLLM / "bench-serve-append-detailed.jsonl"), "-o", str(log)])
    assert code == 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"envstamp import: 2 results appended to {log} (1 of them failed: no request "
        f"completed); check with 'envstamp verify {log}'"
    )


def test_two_imports_of_the_same_benchmark_pair_up_in_a_diff(tmp_path: Path) -> None:
    """vLLM's run date is a parameter that never decides which test a result is."""
    from envstamp.diffing.results import params_same, result_view

    logs = []
    for number, name in enumerate(("a.jsonl", "b.jsonl")):
        with open_recorder(tmp_path / name) as rec:
            import_files([str(VLLM / "bench-serve-0.34.0.json")], rec)
        text = (tmp_path / name).read_text().replace("20261206-080512", f"2026120{number}-0")
        (tmp_path / name).write_text(text)
        logs.append(load_results(tmp_path / name, verify=False))
    a, b = (result_view(log[0]) for log in logs)
    assert a is not None and b is not None
    assert a.params["date"] != b.params["date"] and params_same(a, b)
