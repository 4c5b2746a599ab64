"""``envstamp export``: rows of stamped results, in four formats, and llama.cpp's own table."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from envstamp.cli import main as cli
from envstamp.errors import CheckFailed, InputError
from envstamp.exporting import llama_bench
from envstamp.exporting.export import export
from tests.exporting.export_support import NEW, OLD, stamped_log

FIXTURES = Path(__file__).parent.parent / "fixtures" / "llamacpp-real"
# llama.cpp's comparison script lives in its sources (scripts/compare-llama-bench.py): the
# llama.cpp tree that scripts/build-llamacpp unpacks from the llama-cpp-python sdist.
LLAMA_CPP_SRC = os.environ.get("ENVSTAMP_LLAMA_CPP_SRC")


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    return [stamped_log(tmp_path, monkeypatch, build) for build in (NEW, OLD)]


def _sql_rows(path: Path, query: str) -> list[sqlite3.Row]:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


# ------------------------------------------------------------------------- the rows


def test_one_row_per_result_with_its_setup(logs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    done = export([str(p) for p in logs], str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert done.rows == len(rows) == 6  # pp16, tg8 and the wrapper's result, per build
    assert [(r["log"], r["name"], r["origin"]) for r in rows[:3]] == [
        (f"{NEW}.jsonl", "pp16", "run:llama-bench"),
        (f"{NEW}.jsonl", "tg8", "run:llama-bench"),
        (f"{NEW}.jsonl", Path(rows[2]["log"]).stem and rows[2]["name"], "run"),
    ]
    pp_new, pp_old = rows[0], rows[3]
    assert pp_new["llamacpp_commit"] == "0c1e57098" and pp_new["llamacpp_version"] == "0.5.0-dev"
    assert pp_old["llamacpp_commit"] is None  # built without git: unknown, not invented
    assert pp_new["llamacpp_backends"] == "CPU"
    assert pp_new["cpu_model"] == "AMD Ryzen 9 7950X 16-Core Processor"
    assert pp_new["gpu_names"] == "Radeon RX 7900 XTX" and pp_new["gpu_count"] == 1
    assert (pp_new["model_name"], pp_new["model_quantization"]) == ("tiny", "F16")
    assert pp_new["param.flash_attn"] == "auto" and pp_old["param.flash_attn"] is False
    assert pp_new["param.n_prompt"] == 16 and pp_new["repetitions"] == 3
    printed = json.loads((FIXTURES / NEW / "bench.json").read_text())[0]["avg_ts"]
    assert pp_new["metric.tokens_per_s"] == pytest.approx(printed)
    assert pp_new["manifest_digest"].startswith("sha256:")
    assert pp_new["signature"] in {"verified", "not checked"}
    assert all(r["failed"] is False for r in rows)


def test_the_formats_hold_the_same_rows(logs: list[Path], tmp_path: Path) -> None:
    paths = [str(p) for p in logs]
    export(paths, str(tmp_path / "a.jsonl"))
    export(paths, str(tmp_path / "a.csv"))
    export(paths, str(tmp_path / "a.sqlite"))
    from_jsonl = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    with (tmp_path / "a.csv").open(newline="") as handle:
        from_csv = list(csv.DictReader(handle))
    from_sql = [dict(r) for r in _sql_rows(tmp_path / "a.sqlite", "SELECT * FROM results")]
    assert list(from_csv[0]) == list(from_jsonl[0]) == list(from_sql[0])  # one column order
    for j, c, s in zip(from_jsonl, from_csv, from_sql, strict=True):
        assert c["name"] == s["name"] == j["name"]
        assert c["llamacpp_commit"] == (j["llamacpp_commit"] or "")  # empty cell: unknown
        assert s["llamacpp_commit"] == j["llamacpp_commit"]
        assert float(c["metric.tokens_per_s"] or "nan") == pytest.approx(
            j["metric.tokens_per_s"] if j["metric.tokens_per_s"] is not None else float("nan"),
            nan_ok=True,
        )
        assert s["failed"] == 0 and c["failed"] == "false"


def test_samples_give_one_row_per_repetition(logs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "samples.jsonl"
    export([str(logs[0])], str(out), samples=True)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    pp = [r for r in rows if r["name"] == "pp16"]
    assert [r["sample"] for r in pp] == [0, 1, 2]
    printed = json.loads((FIXTURES / NEW / "bench.json").read_text())[0]["samples_ts"]
    assert [r["sample.tokens_per_s"] for r in pp] == printed
    assert all(r["sample_wall_s"] > 0 for r in pp)


def test_failed_results_are_kept_and_marked_unless_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.stamping import timing
    from tests.cli.test_run_command import envstamp_run, make_tool
    from tests.timing_support import make_manifest

    monkeypatch.setattr(timing, "_capture", lambda options, runner: make_manifest())
    tool = make_tool(tmp_path / "bin", "crasher", code=3)
    log = tmp_path / "crash.jsonl"
    assert envstamp_run("-q", "-o", str(log), "--", str(tool)) == 3
    kept, left = tmp_path / "kept.jsonl", tmp_path / "left.jsonl"
    export([str(log)], str(kept))
    export([str(log)], str(left), include_failed=False)
    (row,) = [json.loads(x) for x in kept.read_text().splitlines()]
    assert row["failed"] is True and row["exit_code"] == 3
    assert left.read_text() == ""


def test_a_tampered_log_is_refused_naming_it(logs: list[Path], tmp_path: Path) -> None:
    text = logs[0].read_text()
    logs[0].write_text(text.replace('"tokens_per_s":', '"tokens_per_s": 1e9, "x":', 1))
    with pytest.raises((CheckFailed, InputError), match=NEW):
        export([str(logs[0])], str(tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()


def test_the_format_comes_from_the_extension_or_the_flag(logs: list[Path], tmp_path: Path) -> None:
    assert export([str(logs[0])], str(tmp_path / "x.db")).format == "sqlite"
    assert export([str(logs[0])], str(tmp_path / "x.ndjson")).format == "jsonl"
    assert export([str(logs[0])], str(tmp_path / "x.out"), fmt="csv").format == "csv"
    with pytest.raises(InputError, match=r"x\.txt: cannot tell the format.*--format"):
        export([str(logs[0])], str(tmp_path / "x.txt"))


def test_parquet_without_pyarrow_says_which_extra_to_install(
    logs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as on a machine without it
    with pytest.raises(InputError, match=r"envstamp\[parquet\]"):
        export([str(logs[0])], str(tmp_path / "x.parquet"))


def test_parquet_round_trip(logs: list[Path], tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow: pip install 'envstamp[parquet]'")
    out = tmp_path / "x.parquet"
    export([str(p) for p in logs], str(out))
    table = pq.read_table(out).to_pylist()
    assert [r["name"] for r in table][:2] == ["pp16", "tg8"]
    assert table[0]["llamacpp_commit"] == "0c1e57098"


def test_the_cli_says_what_it_wrote(
    logs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "all.sqlite"
    assert cli.main(["export", *map(str, logs), "-o", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"wrote {out} (sqlite): 6 rows (6 ")
    assert err.endswith("; llama_bench table: 4 llama-bench tests")


# ------------------------------------------------------------ llama.cpp's own table


def _llama_bench_own(build: str) -> list[sqlite3.Row]:
    """The rows llama-bench's own ``-o sql`` wrote for the same settings (bench.sql)."""
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    connection.executescript((FIXTURES / build / "bench.sql").read_text())
    table = "llama_bench" if build == NEW else "test"
    return connection.execute(f"SELECT * FROM {table}").fetchall()


def test_the_table_has_llama_benchs_own_columns_and_types() -> None:
    connection = sqlite3.connect(":memory:")
    connection.executescript((FIXTURES / NEW / "bench.sql").read_text())
    declared = connection.execute("PRAGMA table_info(llama_bench)").fetchall()
    assert tuple((name, kind) for _, name, kind, *_ in declared) == llama_bench.COLUMNS


def test_a_tests_settings_are_those_llama_bench_wrote(logs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "x.sqlite"
    export([str(logs[0])], str(out))
    ours = _sql_rows(out, "SELECT * FROM llama_bench ORDER BY n_gen")
    own = sorted(_llama_bench_own(NEW), key=lambda r: r["n_gen"])
    # Timings differ (bench.json and bench.sql are two runs of the same settings); cpu_info
    # and the build number come from the manifest, not from what this llama-bench guessed.
    from_manifest = {"cpu_info", "build_number", "test_time", "avg_ns", "stddev_ns",
                     "avg_ts", "stddev_ts"}  # fmt: skip
    for mine, theirs in zip(ours, own, strict=True):
        for column, _ in llama_bench.COLUMNS:
            if column not in from_manifest:
                assert mine[column] == _as_stored(theirs[column]), column
    assert [r["cpu_info"] for r in ours] == ["AMD Ryzen 9 7950X 16-Core Processor"] * 2


def _as_stored(value: object) -> object:
    """llama-bench's INSERT quotes every value ('2048'): compare as SQLite stores ours."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def test_a_build_without_its_commit_gets_a_marked_stand_in(
    logs: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "x.sqlite"
    export([str(p) for p in logs], str(out))
    commits = [r[0] for r in _sql_rows(out, "SELECT DISTINCT build_commit FROM llama_bench")]
    assert commits[0] == "0c1e57098"
    assert commits[1].startswith("?") and len(commits[1]) == 9  # never a real commit
    assert len(set(commits)) == 2


@pytest.mark.skipif(
    LLAMA_CPP_SRC is None,
    reason="ENVSTAMP_LLAMA_CPP_SRC is not set: no llama.cpp source tree with "
    "scripts/compare-llama-bench.py (scripts/build-llamacpp unpacks one)",
)
def test_compare_llama_bench_reads_the_export_of_two_real_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tabulate", reason="compare-llama-bench.py needs tabulate")
    script = Path(str(LLAMA_CPP_SRC)) / "scripts" / "compare-llama-bench.py"
    if "llama_bench" not in script.read_text(encoding="utf-8"):
        pytest.skip(
            "this llama.cpp's compare-llama-bench.py reads the older 'test' table; "
            "the export writes llama-bench's current layout (docs/export.md)"
        )
    logs = [stamped_log(tmp_path, monkeypatch, b, "bench-ngl0-fa0.json") for b in (NEW, OLD)]
    out = tmp_path / "builds.sqlite"
    export([str(p) for p in logs], str(out))
    old = _sql_rows(out, "SELECT DISTINCT build_commit FROM llama_bench")[1][0]
    done = subprocess.run(
        [sys.executable, str(script), "-i", str(out), "-b", old, "-c", "0c1e57098"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    tests = {cell.strip() for line in table for cell in line.split("|") if cell.strip() in
             {"pp16", "tg8"}}  # fmt: skip
    assert tests == {"pp16", "tg8"}, done.stdout
    assert "Speedup" in done.stdout and "tiny.gguf" not in done.stdout  # file names hidden
