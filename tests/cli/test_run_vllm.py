"""``envstamp run -- vllm bench serve ... --save-result``: the result file vLLM wrote becomes
the benchmark's own results (``run:vllm-bench``), ahead of the command's (``run``).

vLLM needs a server and a GPU model to write a result, so a fake ``vllm`` plays
``vllm bench serve``: it writes the hand-made 0.34.0 result file (tests/fixtures/vllm) where
vLLM's own writer would, from the same arguments (see FAKE_VLLM)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.cli import main as cli
from envstamp.parsers.vllm_bench import parse_vllm_bench_result
from envstamp.runner import LiveRunner
from envstamp.stamping.results import Result, load_results, verify_log
from envstamp.stamping.run_vllm import (
    ORIGIN,
    ResultArgs,
    bench_serve_args,
    result_args,
    watch,
)
from tests.timing_support import make_manifest

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the fake vllm is a shebang script (POSIX)"
)

VLLM = Path(__file__).parents[1] / "fixtures" / "vllm"
RESULT = VLLM / "bench-serve-0.34.0.json"
APPENDED = VLLM / "bench-serve-append-detailed.jsonl"

# What vLLM's serve.py does with its result options: --save-result or --append-result write
# the result to --result-filename (else "<label>-<rate>qps-<model>-<time>.json"), inside
# --result-dir when given (made if missing); --append-result adds a line to the file.
FAKE_VLLM = """#!{python}
import os, sys, time
def dashed(word):  # vLLM's parser takes --result_dir for --result-dir
    name, eq, rest = word.partition("=")
    return name.replace("_", "-") + eq + rest if name.startswith("--") else word
args = [dashed(word) for word in sys.argv[1:]]
assert args[:2] == ["bench", "serve"], args

def value(flag):
    for index, word in enumerate(args):
        if word == flag and index + 1 < len(args):
            return args[index + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None

print("============ Serving Benchmark Result ============")
append = "--append-result" in args
if {write!r} and ("--save-result" in args or append):
    generated = "openai-chat-infqps-concurrency8-Qwen2.5-7B-Instruct-%d.json" % time.time_ns()
    name = value("--result-filename") or generated
    folder = value("--result-dir")
    if folder:
        os.makedirs(folder, exist_ok=True)
        name = os.path.join(folder, name)
    content = open({source!r}, encoding="utf-8").read().strip()
    with open(name, "a+" if append else "w", encoding="utf-8") as out:
        if append and out.tell() != 0:
            out.write("\\n")
        out.write(content)
sys.exit({code})
"""


def make_vllm(
    bin_dir: Path, *, source: Path = RESULT, code: int = 0, write: bool = True
) -> Path:
    path = bin_dir / "vllm"
    path.write_text(
        FAKE_VLLM.format(python=sys.executable, source=str(source), code=code, write=write),
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:{Path(sys.executable).parent}:/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.fixture(autouse=True)
def quick_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """The capture is not what these tests are about: a fixed manifest."""
    from envstamp.stamping import timing

    monkeypatch.setattr(timing, "_capture", lambda options, runner: make_manifest())


def envstamp_run(*args: str) -> int:
    return cli.main(["run", "-q", "-o", "r.jsonl", *args])


def loaded(include_failed: bool = False) -> list[Result]:
    return load_results("r.jsonl", include_failed=include_failed)


def fixture_run() -> dict[str, object]:
    value = json.loads(RESULT.read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


# ------------------------------------------------------------------ recorded results


def test_the_named_result_file_becomes_the_benchmarks_result(
    bin_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    make_vllm(bin_dir)
    command = ["vllm", "bench", "serve", "--max-concurrency", "8", "--save-result",
               "--result-dir", "out", "--result-filename", "run.json"]
    assert envstamp_run("--", *command) == 0
    err = capfd.readouterr().err
    bench, wrapper = loaded()
    # The benchmark's own result leads; the wrapper's keeps origin "run".
    assert (bench.name, bench.origin) == ("vllm bench serve", "run:vllm-bench") == (
        bench.name, ORIGIN
    )
    assert (wrapper.name, wrapper.origin) == ("vllm", "run")
    own = fixture_run()
    for key in ("request_throughput", "output_throughput", "total_token_throughput",
                "mean_ttft_ms", "median_tpot_ms", "std_itl_ms", "p99_ttft_ms", "completed",
                "failed", "duration"):
        assert bench.metrics[key] == pytest.approx(float(own[key])), key  # type: ignore[arg-type]
    assert bench.params["max_concurrency"] == 8 and bench.params["request_rate"] == "inf"
    assert bench.params["model_id"] == "Qwen/Qwen2.5-7B-Instruct"
    assert "request_goodput" not in bench.metrics  # null: unknown, not 0
    # The command's fields, as llama-bench's results carry them.
    assert bench.command == command and bench.exit_code == 0 and not bench.failed
    assert bench.output_digest == wrapper.output_digest
    assert verify_log("r.jsonl").ok
    assert "envstamp run: read 1 vllm bench serve run from out/run.json" in err
    assert "output 614.6 tok/s" in err
    # vLLM repeated its own requests: one run of it is not "few samples".
    assert "only 1 sample" not in err
    assert not any(a.code == "few_samples" for a in wrapper.advice)


def test_a_generated_name_in_the_current_folder_is_found(
    tmp_path: Path, bin_dir: Path
) -> None:
    # Files that were there before are not this run's: an older result, another JSON file.
    (tmp_path / "old-result.json").write_text(RESULT.read_text(encoding="utf-8"))
    (tmp_path / "other.json").write_text('{"model_id": "x"}')
    make_vllm(bin_dir)
    assert envstamp_run("--", "vllm", "bench", "serve", "--save-result") == 0
    results = loaded()
    assert [r.origin for r in results] == ["run:vllm-bench", "run"]
    new = list(tmp_path.glob("openai-chat-*.json"))
    assert len(new) == 1 and results[0].metrics["completed"] == 198


def test_only_what_was_appended_is_recorded_and_warmups_are_left_out(bin_dir: Path) -> None:
    Path("runs.jsonl").write_text(APPENDED.read_text(encoding="utf-8"))  # two earlier runs
    make_vllm(bin_dir)
    code = envstamp_run("--warmup", "1", "--repeat", "2", "--", "vllm", "bench", "serve",
                        "--append-result", "--result-filename", "runs.jsonl")
    assert code == 0
    written = parse_vllm_bench_result(Path("runs.jsonl").read_text(encoding="utf-8"))
    assert len(written) == 5  # two before, the warm-up's and the two timed runs'
    results = loaded()
    assert [r.origin for r in results] == ["run:vllm-bench", "run:vllm-bench", "run"]
    # The earlier runs (metadata gpu=H100, one all failed) are not this command's.
    assert all("gpu" not in r.params for r in results)
    assert len(results[-1].wall_s) == 2


def test_a_results_folder_given_without_a_file_name(bin_dir: Path) -> None:
    make_vllm(bin_dir)
    assert envstamp_run("--", "vllm", "bench", "serve", "--save_result",
                        "--result_dir=results") == 0
    bench, _ = loaded()
    assert bench.origin == "run:vllm-bench"


def test_python_m_vllm_is_seen_through(
    tmp_path: Path, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vllm's CLI module, played by the fake's code, on the interpreter's path.
    package = tmp_path / "site" / "vllm" / "entrypoints" / "cli"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    fake = FAKE_VLLM.format(python=sys.executable, source=str(RESULT), code=0, write=True)
    (package / "main.py").write_text(fake.split("\n", 1)[1])
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    python = Path(sys.executable).name
    assert envstamp_run("--", python, "-m", "vllm.entrypoints.cli.main", "bench", "serve",
                        "--save-result", "--result-filename", "m.json") == 0
    bench, wrapper = loaded()
    assert bench.origin == "run:vllm-bench" and bench.metrics["completed"] == 198
    assert wrapper.origin == "run"


def test_a_failed_command_fails_its_results(bin_dir: Path) -> None:
    make_vllm(bin_dir, code=3)
    code = envstamp_run("--", "vllm", "bench", "serve", "--save-result",
                        "--result-filename", "r.json")
    assert code == 3
    bench, wrapper = loaded(include_failed=True)
    assert bench.failed and bench.exit_code == 3 and bench.origin == "run:vllm-bench"
    assert wrapper.failed
    assert loaded() == []


def test_a_run_in_which_no_request_completed_is_failed(tmp_path: Path, bin_dir: Path) -> None:
    last = APPENDED.read_text(encoding="utf-8").strip().splitlines()[-1]
    source = tmp_path / "none-completed.json"
    source.write_text(last)
    make_vllm(bin_dir, source=source)
    assert envstamp_run("--", "vllm", "bench", "serve", "--save-result",
                        "--result-filename", "r.json") == 0
    bench, wrapper = loaded(include_failed=True)
    assert bench.failed and bench.metrics["completed"] == 0
    assert not wrapper.failed  # the command did what it was asked


def test_no_result_written_is_said_and_the_command_still_recorded(
    bin_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    make_vllm(bin_dir, write=False)
    assert envstamp_run("--", "vllm", "bench", "serve", "--save-result",
                        "--result-filename", "r.json") == 0
    assert "vllm bench serve wrote no result to r.json" in capfd.readouterr().err
    (wrapper,) = loaded()
    assert wrapper.origin == "run"


def test_a_named_file_that_is_no_result_is_said_and_not_read(
    tmp_path: Path, bin_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "garbage.json"
    source.write_text('{"hello": "world"}')
    make_vllm(bin_dir, source=source)
    assert envstamp_run("--", "vllm", "bench", "serve", "--save-result",
                        "--result-filename", "r.json") == 0
    err = capfd.readouterr().err
    assert "r.json: not a vllm bench serve result" in err
    assert "Traceback" not in err
    assert [r.origin for r in loaded()] == ["run"]


def test_without_save_result_only_the_command_is_recorded(
    bin_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    make_vllm(bin_dir)
    assert envstamp_run("--", "vllm", "bench", "serve") == 0
    assert [r.origin for r in loaded()] == ["run"]
    assert "vllm bench serve" not in capfd.readouterr().err


# -------------------------------------------------------------------- the arguments


@pytest.mark.parametrize(
    ("argv", "args"),
    [
        (["vllm", "bench", "serve", "--save-result"], ["--save-result"]),
        (["/opt/venv/bin/vllm", "bench", "serve"], []),
        (["python3", "-m", "vllm.entrypoints.cli.main", "bench", "serve", "-x"], ["-x"]),
        (["python", "-u", "benchmarks/benchmark_serving.py", "--save-result"],
         ["--save-result"]),
        (["vllm", "serve", "Qwen/Qwen2.5-7B"], None),
        (["vllm", "bench", "latency"], None),
        (["python", "-m", "mlx_lm", "bench", "serve"], None),
        (["python", "-c", "benchmark_serving.py"], None),
        (["python", "bench.py", "bench", "serve"], None),
        (["llama-bench", "bench", "serve"], None),
    ],
)
def test_which_commands_are_vllm_bench_serve(argv: list[str], args: list[str] | None) -> None:
    assert bench_serve_args(argv) == args


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ResultArgs(None, None, append=False, save=False)),
        (["--save-result"], ResultArgs(None, None, append=False, save=True)),
        (["--append-result", "--result-dir", "d", "--result-filename", "f.json"],
         ResultArgs("d", "f.json", append=True, save=True)),
        (["--save_result", "--result_dir=d", "--result-filename=a", "--result-filename", "b"],
         ResultArgs("d", "b", append=False, save=True)),
        (["--result-dir"], ResultArgs(None, None, append=False, save=False)),
        (["--metadata", "--save-result=x"], ResultArgs(None, None, append=False, save=False)),
    ],
)
def test_result_options_are_read_by_structure(args: list[str], expected: ResultArgs) -> None:
    assert result_args(args) == expected


def test_the_named_path_is_joined_as_vllm_joins_it() -> None:
    assert ResultArgs("d", "f.json", append=False, save=True).path == "d/f.json"
    assert ResultArgs(None, "f.json", append=False, save=True).path == "f.json"
    assert ResultArgs("d", "/abs/f.json", append=False, save=True).path == "/abs/f.json"
    assert ResultArgs("d", None, append=False, save=True).path is None


@given(st.lists(st.sampled_from(
    ["--save-result", "--append-result", "--result-dir", "--result_filename", "x", "=", "--",
     "--result-dir=", "-m"]
), max_size=8))
def test_reading_the_options_never_fails(args: list[str]) -> None:
    found = result_args(args)
    assert found.save == ("--save-result" in args or "--append-result" in args)
    for value in (found.directory, found.filename):  # never an option taken as a value
        assert value is None or not value.startswith("-")
    assert bench_serve_args(["vllm", "bench", "serve", *args]) == args


def test_another_command_is_not_watched(tmp_path: Path) -> None:
    assert watch(["vllm", "serve", "m"], LiveRunner()) is None
    noted = watch(["vllm", "bench", "serve", "--result-dir", str(tmp_path)], LiveRunner())
    assert noted is not None and noted.before == {}
