"""What ``envstamp check`` and the gates print (issue 15): a check is headed "envstamp
check" (it was headed "envstamp diff"), and counts read in the singular when there is one
("1 difference", "1 result"; they read "1 difference(s)", "1 results")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from envstamp.capturing.capture import capture
from envstamp.cli.main import main
from envstamp.manifest.model import Manifest
from tests.diff_support import RENDER_NODE, WORKSTATION, base, edit, speed, write, write_log

SCHEMAS = Path(__file__).parents[2] / "schemas"
DIGEST = r"sha256:[0-9a-f]{12}"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def host(hosts: Path) -> str:
    return str(hosts / "linux-debian12-vm")


def _drifted(host: str, tmp_path: Path) -> tuple[Path, Manifest]:
    """A baseline that had twice this machine's CPUs: one medium difference."""
    now = capture(replay=host)
    assert now.cpu.logical_cpus
    drifted = edit(now, "cpu", logical_cpus=now.cpu.logical_cpus * 2)
    return write(drifted, tmp_path / "baseline.json"), now


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_text_is_headed_envstamp_check(
    host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline, now = _drifted(host, tmp_path)
    cpus = now.cpu.logical_cpus or 0
    code, out, err = _run(capsys, "check", str(baseline), "--replay", host, "--fail-on", "medium")
    assert code == 1
    assert err == (f"envstamp check: error: 1 difference at or above medium: "
                   f"logical CPUs {cpus * 2} -> {cpus}\n")
    lines = out.splitlines()
    assert lines[0] == "envstamp check"
    assert re.fullmatch(rf"  A  {re.escape(str(baseline))}: plain manifest \(unsigned\); "
                        rf"captured {TIME}; identity digest {DIGEST}", lines[1])
    assert re.fullmatch(rf"  B  now \(captured by check\): plain manifest \(unsigned\); "
                        rf"captured {TIME}; identity digest {DIGEST}", lines[2])
    start = lines.index("Differences (1 medium):")
    assert lines[start:start + 4] == [
        "Differences (1 medium):",
        "  MEDIUM",
        f"    cpu  logical CPUs: {cpus * 2} -> {cpus}",
        "           default thread counts follow them  [cpu.logical_cpus]",
    ]
    assert "envstamp diff" not in out


def test_check_markdown_heading_and_footer_name_check(
    host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline, _ = _drifted(host, tmp_path)
    code, out, _ = _run(capsys, "check", str(baseline), "--replay", host, "--markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "### envstamp check"
    assert lines[-1] == "<sub>envstamp check · inputs: A unsigned, B unsigned</sub>"
    assert "envstamp diff" not in out


def test_check_json_is_a_diff_report(
    host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON carries no heading: a check's report is a diff report, by its schema."""
    baseline, _ = _drifted(host, tmp_path)
    code, out, _ = _run(capsys, "check", str(baseline), "--replay", host, "--json")
    assert code == 0
    data = json.loads(out)
    schema = json.loads((SCHEMAS / "diff.v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["schema"] == "envstamp.diff/1"
    assert data["counts"] == {"high": 0, "medium": 1, "low": 0, "none": 0}


def test_diff_text_and_markdown_stay_headed_envstamp_diff(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = _run(capsys, "diff", str(WORKSTATION), str(RENDER_NODE))
    assert out.splitlines()[0] == "envstamp diff"
    _, md, _ = _run(capsys, "diff", str(WORKSTATION), str(RENDER_NODE), "--markdown")
    assert md.startswith("### envstamp diff\n")
    assert md.splitlines()[-1] == "<sub>envstamp diff · inputs: A unsigned, B unsigned</sub>"


def test_gate_counts_several_in_the_plural(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "diff", str(WORKSTATION), str(RENDER_NODE), "--fail-on", "high")
    assert code == 1
    assert err.startswith("envstamp diff: error: 4 differences at or above high: ")


def test_a_log_of_one_result_says_one_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path / "one.jsonl", [(base(), [speed("tg16", [26100.0, 26900.0])])])
    _, out, _ = _run(capsys, "diff", str(log), str(log))
    assert re.fullmatch(rf"  A  {re.escape(str(log))}: results log, 1 result \(verified: .*",
                        out.splitlines()[1])
    _, shown, _ = _run(capsys, "show", str(log))
    assert ", results log, 1 result (verified: " in shown.splitlines()[0]


def test_more_results_than_a_table_shows_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.output.results_render import MAX_ROWS

    runs = [speed(f"t{i}", [10.0, 11.0]) for i in range(MAX_ROWS + 1)]
    log = write_log(tmp_path / "many.jsonl", [(base(), runs)])
    _, out, _ = _run(capsys, "show", str(log))
    assert out.splitlines()[-1] == "... and 1 more result"
