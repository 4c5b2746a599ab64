"""``envstamp compare`` as a reader meets it (issue 15): tables that fit 100 columns, only the
fields that may change speed by default (``--all`` shows every one), one name per row, and
the words ``show`` uses.

Before, two recorded machines and a plain VM made a 254-column table; L2 and L3 were two rows
both called "CPU cache"; a machine without a GPU read "absent" (earlier "unknown") where
``show`` says "none found".
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import attrs
import jsonschema
import pytest

from envstamp.cli.main import main
from envstamp.diffing.compare import compare
from envstamp.output import compare_render, formatting
from tests.diff_support import RENDER_NODE, WORKSTATION, base, edit, edit_gpu, write

SCHEMAS = Path(__file__).parents[2] / "schemas"

TWO_MACHINES = """\
envstamp compare: 2 inputs
10 components vary across these 2 runs: CPU governor, CPU microcode, GPU driver, GPU power limit,
ggml setting GGML_CUDA_NO_PINNED, kernel ...

  1  w.json: plain manifest (unsigned)
  2  r.json: plain manifest (unsigned)

  impact  field                             1                        2
  high    llama.cpp build                   b3447 (commit b5e95468)  b4589 (commit cfd74c86)
  high    GPU power limit                   450 W                    350 W
  high    ollama version                    0.5.7                    0.6.2
  high    ggml setting GGML_CUDA_NO_PINNED  1                        unset
  medium  GPU driver                        550.54.14                560.35.03
  medium  CUDA version of the driver        12.4                     12.6
  medium  CPU governor                      performance              powersave
  low     vBIOS                             95.02.3C.40.9C           95.02.3C.40.E8
  low     ollama client version             0.5.7                    0.6.2
  low     CPU microcode                     0xa601206                0xa601209
  low     kernel                            6.8.0-52-generic         6.11.0-19-generic

  4 fields vary without speed impact: GPU UUID, GPU serial, host name, machine id (--all shows them)
"""


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["compare", *argv]) == 0
    return capsys.readouterr().out


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # inputs named as a user in that folder names them


@pytest.fixture
def two(tmp_path: Path) -> list[str]:
    """The two recorded machines of the diff walk-through, under short names."""
    shutil.copy(WORKSTATION, tmp_path / "w.json")
    shutil.copy(RENDER_NODE, tmp_path / "r.json")
    return ["w.json", "r.json"]


def test_two_machines_exact_text(two: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(capsys, *two) == TWO_MACHINES


def test_all_shows_every_varying_row_under_its_heading_and_still_fits(
    two: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = _cli(capsys, *two, "--all")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "(--all shows them)" not in out
    assert ("  none    host name                         tensorbox                    "
            "render-node-2") in lines
    # a 64-digit machine id wraps inside its column instead of widening the table
    start = lines.index(next(x for x in lines if x.startswith("  none    machine id")))
    assert lines[start:start + 3] == [
        "  none    machine id                        sha256:7f1c0e5a9b2d4c6e8f0a  "
        "sha256:0c2e4a6b8d0f1e3a5c7b",
        "                                            1b3c5d7e9f1a2b4c6d8e0f1a3b5  "
        "9d1f3e5a7c9b1d3f5e7a9c1b3d5",
        "                                            c7d9e1f2a4b6c8d0e            "
        "f7e9a1c3b5d7f9e1a",
    ]
    state = lines.index("State at capture (readings of the moment):")
    assert lines[state + 2].split() == ["high", "GPU", "throttling", "none", "sw_power_cap,",
                                        "sw_thermal"]
    assert lines.index("  high    GPU power limit                   450 W"
                       "                        350 W") < state


def test_json_holds_every_row_whatever_the_text_shows(
    two: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(_cli(capsys, *two, "--json"))
    schema = json.loads((SCHEMAS / "compare.v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    paths = {row["path"] for row in data["rows"]}
    assert {"host.hostname", "host.machine_id", "volatile.gpus[0].temperature_c"} <= paths
    assert data == json.loads(_cli(capsys, *two, "--json", "--all"))


def test_markdown_keeps_rows_without_speed_impact(
    two: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    md = _cli(capsys, *two, "--markdown", "--no-redact")
    assert "| none | host name | tensorbox | render-node-2 |" in md
    assert "State at capture" not in md
    md_all = _cli(capsys, *two, "--markdown", "--no-redact", "--all")
    assert "#### State at capture (readings of the moment)" in md_all
    assert "| medium | GPU temperature | 41 C | 83 C |" in md_all


def test_three_inputs_wrap_their_cells_within_100_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_path = "/opt/a-rather-long-install-prefix/llama.cpp/build-cuda-release/bin/llama-bench"
    third = write(attrs.evolve(base(), llamacpp=[attrs.evolve(base().llamacpp[0],
                                                              path=long_path)]),
                  tmp_path / "moved.json")
    out = _cli(capsys, str(WORKSTATION), str(RENDER_NODE), str(third))
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    header = next(x for x in lines if x.startswith("  impact  field"))
    assert header.split() == ["impact", "field", "1", "2", "3"]
    start = lines.index(next(x for x in lines if x.startswith("  low     llama.cpp path")))
    column = header.index("3")
    # the long path reads whole, line after line, in its own column
    pieces = [line[column:].strip() for line in lines[start:start + 6]]
    assert "".join(pieces).startswith(long_path)


def test_many_inputs_list_distinct_values_and_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(write(edit_gpu(base(), power_limit_w=300.0 + 10 * i), tmp_path / f"{i}.json"))
             for i in range(10)]
    out = _cli(capsys, *files)
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "  impact  field            values (count)" in out
    assert "  high    GPU power limit  300 W (1); 310 W (1); 320 W (1);" in out


def test_a_table_too_wide_to_wrap_becomes_one_block_per_field() -> None:
    sides = [str(i) for i in range(1, 9)]
    body = [["high", "GPU", *["NVIDIA GeForce RTX 4090"] * 8]]
    lines = compare_render._fitted(["impact", "field", *sides], body, sides)
    assert lines[0] == "  high  GPU"
    assert lines[1:] == [f"      {side}  NVIDIA GeForce RTX 4090" for side in sides]
    assert formatting.wrapped_table(["impact", "field", *sides], body, fixed=2) is None


def test_a_machine_without_gpu_reads_none_found_as_show_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_gpu = write(base(), Path("gpu.json"))
    without = write(attrs.evolve(base(), gpus=[]), Path("cpu.json"))
    assert main(["show", str(without)]) == 0
    assert "  GPU             none found" in capsys.readouterr().out.splitlines()
    out = _cli(capsys, str(with_gpu), str(without))
    assert "  high    GPU    NVIDIA GeForce RTX 4090  none found" in out.splitlines()
    assert "absent" not in out and "unknown" not in out
    assert out.splitlines()[1] == ("the only difference between these runs is the GPU: "
                                   "NVIDIA GeForce RTX 4090 -> none found")
    data = json.loads(_cli(capsys, str(with_gpu), str(without), "--json"))
    row = next(r for r in data["rows"] if r["path"] == "gpus[0]")
    assert (row["label"], row["values"], row["absent"]) == (
        "GPU", ["NVIDIA GeForce RTX 4090", None], [1])


def test_l2_and_l3_are_two_named_rows(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    bigger = edit(base(), "cpu", cache_l2_kib=2048, cache_l3_kib=65536)
    files = [str(write(base(), Path("1.json"))), str(write(bigger, Path("2.json")))]
    out = _cli(capsys, *files)
    assert out.splitlines()[1] == "the only difference between these runs is the CPU cache: " \
                                  "1024 KiB -> 2048 KiB"
    table = out.splitlines()[6:]
    assert table == ["  impact  field         1          2",
                     "  low     CPU L2 cache  1024 KiB   2048 KiB",
                     "  low     CPU L3 cache  32768 KiB  65536 KiB"]
    data = json.loads(_cli(capsys, *files, "--json"))
    assert [(r["label"], r["component"]) for r in data["rows"]] == [
        ("CPU L2 cache", "CPU cache"), ("CPU L3 cache", "CPU cache")]


def test_rows_that_share_a_label_are_told_apart_by_their_field() -> None:
    debian = edit(base(), "os", distro_name="Debian GNU/Linux", distro_version="12")
    report = compare([base(), debian])
    rows = compare_render.select_rows(report, compare_render.RowChoice(), quiet=True)
    labels = [r.label for r in rows]
    assert len(labels) == len(set(labels))
    assert {"operating system (os.distro_name)", "operating system (os.distro_version)"} <= \
        set(labels)


def test_one_varying_field_without_speed_impact_is_said_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(write(base(), tmp_path / "1.json")),
             str(write(edit(base(), "host", hostname="other"), tmp_path / "2.json"))]
    out = _cli(capsys, *files)
    assert out.splitlines()[-3:] == [
        "No field that may change speed varies (--all shows every varying field).", "",
        "  1 field varies without speed impact: host name (--all shows them)"]


def test_help_states_the_width_the_default_rows_and_all(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["compare", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "fitted to 100 columns" in text
    assert "vary across the inputs and may change speed" in text
    assert "--all shows every varying field" in text


def test_a_speed_table_of_five_logs_wraps_within_100_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.diff_support import result_log

    ngl = {"n_gpu_layers": 99}
    logs = [str(result_log(Path(f"log{i}.jsonl"), edit_gpu(base(), power_limit_w=300.0 + 10 * i),
                           [("tg128", ngl, [98.0 + i, 98.4, 98.2])])) for i in range(5)]
    out = _cli(capsys, *logs)
    assert max(len(line) for line in out.splitlines()) <= 100
    speed = out.splitlines()[out.splitlines().index("Speed (mean ± stddev, n):"):]
    assert speed == [
        "Speed (mean ± stddev, n):",
        "  test   1                 2                 3                 4                 5",
        "  tg128  98.20 ± 0.20 t/s  98.53 ± 0.42 t/s  98.87 ± 0.99 t/s  99.20 ± 1.56 t/s  "
        "99.53 ± 2.14 t/s",
        "         (n=3)             (n=3)             (n=3)             (n=3)             (n=3)",
    ]
