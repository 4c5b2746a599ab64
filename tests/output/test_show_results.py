"""``envstamp show`` of a results log: a status column, failed runs shown as failed (never
with a speed), and every setup of a log listed with its own results."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.cli.main import main
from tests.diff_support import (
    BENCH,
    COMMAND,
    bench_results,
    cpu_build,
    speed,
    with_build,
    write_log,
)


@pytest.fixture
def manifest() -> Any:
    return with_build(cpu_build("0c1e570-cpu.json"))


def show(capsys: pytest.CaptureFixture[str], path: Path, *flags: str) -> str:
    assert main(["show", str(path), *flags]) == 0
    return capsys.readouterr().out


def table_row(out: str, start: str) -> str:
    (row,) = [line for line in out.splitlines() if line.startswith(start)]
    return row


@pytest.mark.parametrize("marked", [True, False], ids=["failed", "exit-code-only"])
def test_a_crashed_run_shows_as_failed(tmp_path: Path, manifest: Any, marked: bool,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    crash: dict[str, Any] = {"name": "llama-bench", "origin": "run", "command": COMMAND,
                             "exit_code": 132, "wall_s": [0.012],
                             "metrics": {"tokens_per_s": 812.5}}
    if marked:
        crash.update(failed=True, exit_signal="SIGILL")
    from envstamp.stamping.results import summarize

    crash["summary"] = {"wall_s": summarize([0.012])}
    log = write_log(tmp_path / "crash.jsonl", [(manifest, [crash])])
    out = show(capsys, log)
    header = table_row(out, "result ")
    assert header.split() == ["result", "status", "n", "wall", "(median)", "speed", "peak",
                              "memory", "advice"]
    row = table_row(out, "llama-bench ")
    status = "failed: exit 132 (SIGILL)" if marked else "failed: exit 132 (128+SIGILL)"
    assert f"{status} after 12.00 ms" in row
    assert "812" not in row and "tokens_per_s" not in row  # a crash has no speed


def test_ok_runs_show_their_exit_status(tmp_path: Path, manifest: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    results = bench_results((BENCH / "pp64-tg16-r3.md").read_text(), markdown=True)
    out = show(capsys, write_log(tmp_path / "md.jsonl", [(manifest, results)]))
    row = table_row(out, "pp64 ")
    assert "ok (exit 0)" in row
    assert "183573.05 ± 13472.10 t/s" in row  # the stddev llama-bench printed
    out = show(capsys, write_log(tmp_path / "md2.jsonl", [(manifest, results)]), "--markdown")
    assert "| result | status | n | wall (median) | speed | peak memory | advice |" in out
    assert "| ok (exit 0) |" in out


def test_every_setup_of_a_log_is_listed_with_its_results(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    log = write_log(tmp_path / "two.jsonl", [
        (manifest, [speed("tg16", [26400.0, 25700.0, 27100.0])]),
        (threads, [speed("tg16", [9100.0, 9350.0, 8900.0]), speed("pp64", [61000.0])]),
    ])
    out = show(capsys, log)
    assert "This log holds runs under 2 setups; each is listed with its results (the " \
           "manifest above is setup 1's)." in out
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Setup 1 ("))
    second = next(i for i, line in enumerate(lines) if line.startswith("Setup 2 ("))
    assert lines[first].endswith(": 1 result; the first setup")
    assert lines[second].endswith(": 2 results; differs from setup 1 in "
                                  "env.OMP_NUM_THREADS: unset -> 3")
    def rows(part: list[str]) -> list[str]:
        return [line.split()[0] for line in part if line.strip()]

    assert rows(lines[first + 1:second]) == ["result", "tg16"]
    assert rows(lines[second + 1:]) == ["result", "tg16", "pp64"]
    md = show(capsys, log, "--markdown")
    assert "#### Setup 2 (" in md and "differs from setup 1 in env.OMP_NUM_THREADS" in md


# ---------------------------------------------------- show --json of a results log (gap 8)


def _validator() -> Any:
    """A validator of show --json output against the committed schemas, its references to
    the manifest and result-line schemas resolved from the same folder."""
    import json

    import jsonschema
    from referencing import Registry, Resource

    folder = Path(__file__).parents[2] / "schemas"
    schemas = {name: json.loads((folder / name).read_text(encoding="utf-8"))
               for name in ("show.v1.schema.json", "manifest.v1.schema.json",
                            "results.v1.schema.json")}
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return jsonschema.Draft202012Validator(schemas["show.v1.schema.json"], registry=registry)


def test_show_json_of_a_log_gives_every_setup_with_its_results(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The review's two.jsonl: a run, then one with OMP_NUM_THREADS=3 (one of its results
    a crash).  Before, show --json printed setup 1's manifest alone, without results."""
    import json

    from envstamp.stamping.results import LOG_SCHEMA

    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    md = bench_results((BENCH / "pp64-tg16-r3.md").read_text(), markdown=True)
    crash = {"name": "llama-bench", "origin": "run", "command": COMMAND, "exit_code": 132,
             "failed": True, "exit_signal": "SIGILL", "wall_s": [0.012]}
    log = write_log(tmp_path / "two.jsonl", [(manifest, md), (threads, [md[0], crash])])
    data = json.loads(show(capsys, log, "--json"))
    _validator().validate(data)
    assert data["schema"] == "envstamp.show/1"
    assert (data["kind"], data["source"], data["log_schema"]) == ("results", str(log),
                                                                    LOG_SCHEMA)
    assert data["signature"].startswith("verified")
    assert data["results"] == 5
    one, two = data["setups"]
    assert (one["index"], two["index"]) == (1, 2)
    assert (one["changes"], two["changes"]) == ([], ["env.OMP_NUM_THREADS: unset -> 3"])
    # each setup: its identity digest first, the manifest digests its results name, its
    # manifest, and its results as the log stores them (failed ones marked)
    assert list(two)[:3] == ["index", "identity_digest", "manifest_digests"]
    assert two["manifest"]["env"]["OMP_NUM_THREADS"] == "3"
    assert two["identity_digest"] == two["manifest"]["identity_digest"]
    assert one["identity_digest"] != two["identity_digest"]
    assert [r["name"] for r in one["results"]] == ["pp64", "tg16", "llama-bench"]
    assert [r["name"] for r in two["results"]] == ["pp64", "llama-bench"]
    assert two["results"][1]["failed"] is True and two["results"][1]["exit_signal"] == "SIGILL"
    for setup in (one, two):
        assert {r["manifest_digest"] for r in setup["results"]} == set(
            setup["manifest_digests"])
    assert one["results"][0]["metrics"] == {"tokens_per_s": 183573.05, "stddev_ts": 13472.1}


def test_show_json_of_a_manifest_is_the_manifest(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from tests.diff_support import write

    data = json.loads(show(capsys, write(manifest, tmp_path / "m.json"), "--json"))
    assert data["schema"] == "envstamp.manifest/1"
    assert data["llamacpp"][0]["commit"] == "0c1e57098"


def test_a_setup_heading_names_setups_not_diff_sides(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review item 10d: a single-file view said "only on A: ./crashbin/llama-bench"; there
    is no A there.  What differs from setup 1 names setup 1 and this setup."""
    from envstamp.diffing.differ import diff

    shell = attrs.evolve(manifest, llamacpp=[])
    newer = attrs.evolve(manifest, llamacpp=[attrs.evolve(
        manifest.llamacpp[0], commit="1a2b3c4d5", build_number=None)])
    log = write_log(tmp_path / "crash.jsonl", [
        (manifest, [speed("tg16", [26400.0, 25700.0])]),
        (shell, [speed("sh", [1.0, 1.1])]),
        (newer, [speed("tg16", [26100.0, 25900.0])]),
    ])
    out = show(capsys, log)
    built = manifest.llamacpp[0].path
    assert f"differs from setup 1 in llamacpp[0]: only in setup 1: {built}" in out
    assert "only on A" not in out and "only on B" not in out
    report = diff(log, log)
    changes = [c for s in report.setups for c in s.changes]
    assert f"llamacpp[0]: only in setup 1: {built}" in changes
    assert not [c for c in changes if " on A" in c or " on B" in c]
    data = __import__("json").loads(show(capsys, log, "--json"))
    assert data["setups"][1]["changes"] == [f"llamacpp[0]: only in setup 1: {built}"]


@pytest.mark.parametrize(("text", "named"), [
    ("only on A: ./crashbin/llama-bench", "only in setup 1: ./crashbin/llama-bench"),
    ("only on A: CUDA; only on B: Vulkan", "only in setup 1: CUDA; only in setup 3: Vulkan"),
    ("b5308 -> b5311 (3 builds apart, B newer)", "b5308 -> b5311 (3 builds apart, setup 3 newer)"),
    ("52 options: 3 only in A's version; 24 only in B's version",
     "52 options: 3 only in setup 1's version; 24 only in setup 3's version"),
    ("on B (gen 3 x8 of gen 4 x16)", "in setup 3 (gen 3 x8 of gen 4 x16)"),
    ("AVX on BAR unset -> 3", "AVX on BAR unset -> 3"),  # no side named: unchanged
])
def test_setup_changes_name_the_setups(text: str, named: str) -> None:
    from envstamp.diffing.setups import name_sides

    assert name_sides(text, ("setup 1", "setup 3")) == named


def test_every_batched_bench_row_shows_its_speed(
    tmp_path: Path, manifest: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review item 10e: the "total" rows of llama-batched-bench store total_tps, and show
    printed "-" for them.  Rows of the real recording of the current build."""
    from tests.e2e.test_diff_real_runs import batched_results

    results = batched_results("0.5.0-dev-0c1e57098")
    out = show(capsys, write_log(tmp_path / "bb.jsonl", [(manifest, results)]))
    totals = [line for line in out.splitlines() if " total (" in line]
    assert len(totals) == 4
    first_total = next(r for r in results if r["name"].endswith(" total"))
    value = first_total["metrics"]["total_tps"]
    assert f"{value:.2f} total_tps" in totals[0]
    rows = [line for line in out.splitlines() if line.startswith("pp")]
    assert len(rows) == 12
    assert all(re.search(r"\d\.\d\d (prompt_tps|t/s|total_tps) ", row) for row in rows)
