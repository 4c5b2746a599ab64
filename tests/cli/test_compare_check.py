"""``envstamp compare`` over many inputs and ``envstamp check`` against a baseline."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from envstamp.capturing.capture import capture
from envstamp.cli.main import main
from envstamp.diffing.compare import compare, only_difference
from tests.diff_support import (
    NOT_A_MANIFEST,
    RENDER_NODE,
    WORKSTATION,
    base,
    edit,
    edit_gpu,
    edit_volatile_gpu,
    result_log,
    write,
)

SCHEMAS = Path(__file__).parents[2] / "schemas"
HOSTS = Path(__file__).parents[1] / "fixtures" / "hosts"


def driver_update(version: str, cuda: str) -> object:
    m = edit_gpu(base(), driver_version=version, cuda_version=cuda)
    return edit(m, "runtimes", nvidia_driver=version, cuda_driver=cuda)


# ------------------------------------------------------------------------------ compare


def test_the_only_difference_is_named() -> None:
    report = compare([base(), driver_update("560.35.03", "12.6")])
    assert report.summary == (
        "the only difference between these runs is the GPU driver: 550.54.14 -> 560.35.03"
    )
    assert {r.path for r in report.rows} == {
        "gpus[0].driver_version", "gpus[0].cuda_version",
        "runtimes.nvidia_driver", "runtimes.cuda_driver"}


def test_only_difference_over_several_runs_ignores_state_and_no_impact() -> None:
    runs = [base(), driver_update("560.35.03", "12.6"), driver_update("565.57.01", "12.7")]
    runs[1] = edit_volatile_gpu(edit(runs[1], "host", hostname="renamed"), temperature_c=80.0)
    report = compare(runs)
    assert report.only_difference == "GPU driver: 550.54.14 -> 560.35.03 -> 565.57.01"
    hostname = next(r for r in report.rows if r.path == "host.hostname")
    assert hostname.values == ["tensorbox", "renamed", "tensorbox"]
    assert any(r.state for r in report.rows)


def test_several_components_vary() -> None:
    report = compare([str(WORKSTATION), str(RENDER_NODE)])
    assert report.only_difference is None
    assert report.summary.startswith("10 components vary across these 2 runs: ")
    assert report.rows[0].impact == "high"


def test_nothing_varies() -> None:
    report = compare([base(), base(), base()])
    assert report.rows == [] and report.summary == "no identity difference across these 3 runs"
    assert only_difference([]) is None


def test_compare_text_markdown_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    files = [write(base(), tmp_path / "1.json"),
             write(driver_update("560.35.03", "12.6"), tmp_path / "2.json")]
    argv = ["compare", *map(str, files)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "the only difference between these runs is the GPU driver" in text
    assert "  impact  field" in text and "550.54.14  560.35.03" in text
    # found in gpus and in runtimes with the same values: one row on screen, both in JSON
    assert text.count("GPU driver  ") == 1
    assert main([*argv, "--markdown"]) == 0
    md = capsys.readouterr().out
    assert "| impact | field | `1.json` | `2.json` |" in md
    assert "| medium | GPU driver | 550.54.14 | 560.35.03 |" in md
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    schema = json.loads((SCHEMAS / "compare.v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["only_difference"] == "GPU driver: 550.54.14 -> 560.35.03"


def test_compare_many_inputs_lists_distinct_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    files = []
    for i in range(12):
        m = edit_gpu(base(), power_limit_w=450.0 if i % 3 else 350.0)
        files.append(str(write(m, tmp_path / f"run{i}.json")))
    assert main(["compare", *files]) == 0
    out = capsys.readouterr().out
    assert "GPU power limit  350 W (4); 450 W (8)" in out


def test_compare_results_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ngl = {"n_gpu_layers": 99}
    a = result_log(tmp_path / "a.jsonl", base(), [("tg128", ngl, [98.0, 98.4, 98.2])])
    b = result_log(tmp_path / "b.jsonl", edit_gpu(base(), power_limit_w=350.0),
                   [("tg128", ngl, [90.0, 90.4, 90.2])])
    report = compare([str(a), str(b), str(WORKSTATION)])
    assert report.only_difference == "GPU power limit: 450 W -> 350 W -> 450 W"
    assert [t.name for t in report.tests] == ["tg128"]
    assert report.tests[0].values[2] is None
    assert main(["compare", str(a), str(b)]) == 0
    assert "98.20 ± 0.20 t/s (n=3)" in capsys.readouterr().out


def test_compare_needs_two_good_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(WORKSTATION)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["compare", str(WORKSTATION), str(NOT_A_MANIFEST)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an envstamp manifest" in err


# -------------------------------------------------------------------------------- check


def _host() -> Path:
    """A recorded Linux host that knows its hostname and CPU count."""
    hosts = sorted(HOSTS.glob("linux-*"))
    assert hosts, "no recorded Linux host to replay"
    return hosts[0]


def test_check_passes_against_its_own_capture(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    host = _host()
    baseline = write(capture(replay=str(host)), tmp_path / "baseline.json")
    code = main(["check", str(baseline), "--replay", str(host), "--fail-on", "low"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "no identity difference" in out
    assert "now (captured by check)" in out


@pytest.mark.parametrize(
    ("level", "code"), [("high", 0), ("medium", 1), ("low", 1)]
)
def test_check_gates_on_drift(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, level: str, code: int
) -> None:
    host = _host()
    captured = capture(replay=str(host))
    assert captured.cpu.logical_cpus, "the host must know its CPU count"
    # the baseline had twice the CPUs: a medium difference, below high
    drifted = edit(captured, "cpu", logical_cpus=captured.cpu.logical_cpus * 2)
    baseline = write(drifted, tmp_path / "baseline.json")
    got = main(["check", str(baseline), "--replay", str(host), "--fail-on", level])
    out, err = capsys.readouterr()
    assert got == code
    if code:
        assert err.count("\n") == 1 and f"at or above {level}" in err
    assert "logical CPUs" in out


def test_check_without_fail_on_only_reports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    host = _host()
    captured = capture(replay=str(host))
    assert captured.host.hostname
    baseline = write(edit(captured, "host", hostname="elsewhere"), tmp_path / "b.json")
    assert main(["check", str(baseline), "--replay", str(host), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["path"] for d in data["differences"]] == ["host.hostname"]
    assert data["b"]["source"] == "now (captured by check)"


def test_check_bad_baseline_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for bad in (str(NOT_A_MANIFEST), str(tmp_path / "absent.json")):
        assert main(["check", bad, "--replay", str(_host())]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert main(["check", str(WORKSTATION), "--timeout", "0"]) == 2
