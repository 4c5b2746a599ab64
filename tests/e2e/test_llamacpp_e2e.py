"""End to end with a real llama.cpp: what envstamp records about a real run is true.

Runs only when ``ENVSTAMP_LLAMA_CPP_BIN`` names a folder holding llama-cli, llama-bench and
llama-batched-bench (``scripts/build-llamacpp`` makes one; docs/real-llamacpp.md says how),
and the ``gguf`` package is there to make the model.  CI does not build llama.cpp, so there
these tests are skipped and say why.  Run them with, for example::

    ENVSTAMP_LLAMA_CPP_BIN=~/.cache/envstamp-llamacpp/0.3.36/bin \\
        python -m pytest -m llamacpp_real tests/e2e/test_llamacpp_e2e.py

"The truth" is read from the binaries themselves, independently of envstamp's parsers:
``llama-cli --version`` through two plain regular expressions (the old and the current
banner), the model's bytes through hashlib.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.llama_server_support import LlamaServerError, free_port, wait_healthy

ROOT = Path(__file__).parents[2]
ENV = "ENVSTAMP_LLAMA_CPP_BIN"
TOOLS = ("llama-cli", "llama-bench", "llama-batched-bench")


def _bin_dir() -> tuple[Path | None, str]:
    value = os.environ.get(ENV)
    if not value:
        return None, f"{ENV} is not set: no real llama.cpp to run (scripts/build-llamacpp)"
    folder = Path(value).expanduser()
    missing = [tool for tool in TOOLS if not (folder / tool).is_file()]
    if missing:
        return None, f"{ENV}={value} lacks {', '.join(missing)}"
    try:
        import gguf  # noqa: F401
    except ImportError:
        return None, "the gguf package is needed to make the model (pip install gguf)"
    return folder, ""


BIN, WHY = _bin_dir()
pytestmark = [pytest.mark.llamacpp_real, pytest.mark.skipif(BIN is None, reason=WHY)]


@attrs.frozen
class Printed:
    """What the build says of itself in ``llama-cli --version``, read without envstamp."""

    version: str | None
    build_number: int | None
    commit: str | None
    compiler: str
    target: str


def printed_identity(folder: Path) -> Printed:
    done = subprocess.run([str(folder / "llama-cli"), "--version"], capture_output=True,
                          text=True, timeout=60, check=False)
    text = done.stdout + done.stderr
    current = re.search(r"^version: (\S+) \(build (\d+), commit (\w+)\)$", text, re.M)
    old = re.search(r"^version: (\d+) \((\w+)\)$", text, re.M)
    toolchain = re.search(r"^built with (.+) for (.+)$", text, re.M)
    assert toolchain is not None and (current or old), text
    if current:
        version, number, commit = current.groups()
    else:
        assert old is not None
        version, (number, commit) = None, old.groups()
    return Printed(
        version=version,
        build_number=int(number) or None,  # 0: built without git
        commit=None if commit == "unknown" else commit,
        compiler=toolchain.group(1).strip(),
        target=toolchain.group(2).strip(),
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A scratch folder with the tiny model, its digest, an isolated key folder, the truth."""
    assert BIN is not None
    folder = tmp_path_factory.mktemp("llamacpp-e2e")
    made = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-tiny-gguf"), str(folder / "tiny.gguf")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert made.returncode == 0, made.stderr
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(folder / "config")  # the signing key made on first use
    env.pop("ENVSTAMP_PRIVATE_KEY", None)
    env.pop("ENVSTAMP_PRIVATE_KEY_FILE", None)
    return {
        "dir": folder,
        "model_sha256": hashlib.sha256((folder / "tiny.gguf").read_bytes()).hexdigest(),
        "env": env,
        "truth": printed_identity(BIN),
    }


def envstamp(
    work: dict[str, Any], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "envstamp", *args], cwd=work["dir"],
                          env=work["env"], capture_output=True, text=True, timeout=timeout,
                          check=False, errors="replace")  # a random model prints any bytes


def assert_true_build(entry: Any, truth: Printed) -> None:
    """A manifest's llamacpp entry (object or JSON) says what the build says of itself."""
    get = entry.get if isinstance(entry, dict) else lambda key: getattr(entry, key)
    assert get("commit") == truth.commit
    assert get("build_number") is None and truth.build_number is None  # no git: unknown
    assert get("version") == truth.version
    assert (get("compiler"), get("target")) == (truth.compiler, truth.target)
    assert "CPU" in get("backends")
    assert get("devices") == []  # a CPU build lists no device


# ------------------------------------------------------------------------------- capture


def test_capture_records_the_build_as_it_is(work: dict[str, Any]) -> None:
    assert BIN is not None
    bench = str(BIN / "llama-bench")
    done = envstamp(work, "capture", "--no-sign", "--json", "--llama-cpp", bench,
                    "-o", "manifest.json")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((work["dir"] / "manifest.json").read_text())
    entries = [b for b in manifest["llamacpp"] if b["path"] == bench]
    assert len(entries) == 1, manifest["llamacpp"]
    assert_true_build(entries[0], work["truth"])
    record = next(p for p in manifest["probes"] if p["name"] == "llamacpp")
    assert record["status"] == "ok", record


# ----------------------------------------------------------------------- envstamp run


@pytest.fixture(scope="module")
def bench_run(work: dict[str, Any]) -> dict[str, Any]:
    assert BIN is not None
    log = "bench.jsonl"
    done = envstamp(work, "run", "-q", "-o", log, "--", str(BIN / "llama-bench"),
                    "-m", "tiny.gguf", "-r", "3", "-p", "16", "-n", "8")
    return {"done": done, "log": work["dir"] / log}


def test_run_exits_with_the_benchmark_status(bench_run: dict[str, Any]) -> None:
    assert bench_run["done"].returncode == 0, bench_run["done"].stderr


def test_run_log_verifies(work: dict[str, Any], bench_run: dict[str, Any]) -> None:
    done = envstamp(work, "verify", str(bench_run["log"]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("verified: ")


def test_run_results_are_the_benchmark_tests_with_three_repetitions(
    bench_run: dict[str, Any]
) -> None:
    from envstamp.stamping.results import load_results

    results = load_results(bench_run["log"], verify=False)
    own = [r for r in results if r.origin == "run:llama-bench"]
    assert sorted(r.name for r in own) == ["pp16", "tg8"]
    for result in own:
        assert not result.failed and result.exit_code == 0
        series = result.summary["tokens_per_s"]
        assert series.n == 3  # -r 3, read from the markdown's mean ± stddev
        assert series.mean > 0 and series.stddev is not None
    wrapper = [r for r in results if r.origin == "run"]
    assert len(wrapper) == 1 and wrapper[0].exit_code == 0
    # the benchmark's own results are written before the wrapper's
    assert results.index(wrapper[0]) > max(results.index(r) for r in own)


def test_run_manifest_holds_the_build_and_the_model(
    work: dict[str, Any], bench_run: dict[str, Any]
) -> None:
    from envstamp.stamping.results import load_results

    results = load_results(bench_run["log"], verify=False)
    manifest = results[0].manifest
    assert manifest is not None
    assert BIN is not None
    entries = [b for b in manifest.llamacpp if b.path == str(BIN / "llama-bench")]
    assert len(entries) == 1, [b.path for b in manifest.llamacpp]
    assert_true_build(entries[0], work["truth"])
    # -m tiny.gguf is fingerprinted without --model
    digests = [getattr(m, "sha256", None) for m in manifest.models]
    assert any(d and d.removeprefix("sha256:") == work["model_sha256"] for d in digests), digests


def test_run_of_json_output_keeps_every_sample(work: dict[str, Any]) -> None:
    from envstamp.stamping.results import load_results

    assert BIN is not None
    done = envstamp(work, "run", "-q", "-o", "bench-json.jsonl", "--", str(BIN / "llama-bench"),
                    "-m", "tiny.gguf", "-r", "3", "-p", "16", "-n", "8", "-o", "json")
    assert done.returncode == 0, done.stderr
    own = [r for r in load_results(work["dir"] / "bench-json.jsonl", verify=False)
           if r.origin == "run:llama-bench"]
    assert sorted(r.name for r in own) == ["pp16", "tg8"]
    for result in own:
        series = result.summary["tokens_per_s"]
        assert series.n == 3 and series.min is not None and series.max is not None
        assert series.min <= series.median <= series.max  # type: ignore[operator]


def test_run_of_batched_bench_gives_the_rows_it_printed(work: dict[str, Any]) -> None:
    """One result per printed row and phase: exactly what the tool printed.

    Newer llama.cpp builds leak their logger on purpose (ggml-org/llama.cpp#22142), so a
    tool that prints through it can lose its last lines at exit: llama-batched-bench
    0c1e57098 drops its last row in about one run in three, wrapped or not.  So the rows
    are compared with the ones the tool printed this time (envstamp echoes its stdout).
    """
    from envstamp.parsers.llama_batched_bench import parse_batched_bench
    from envstamp.stamping.results import load_results

    assert BIN is not None
    done = envstamp(work, "run", "-o", "batched.jsonl", "--",
                    str(BIN / "llama-batched-bench"), "-m", "tiny.gguf", "-c", "512",
                    "-b", "128", "-ub", "64", "-npp", "64", "-ntg", "16", "-npl", "1,2")
    assert done.returncode == 0, done.stderr
    printed = parse_batched_bench(done.stdout).rows
    assert printed and {row.pl for row in printed} <= {1, 2}
    own = [r for r in load_results(work["dir"] / "batched.jsonl", verify=False)
           if r.origin == "run:batched-bench"]
    # per printed B: prompt, generation and total
    assert sorted((r.params.get("pl"), r.params.get("phase")) for r in own) == sorted(
        (row.pl, phase) for row in printed for phase in ("prompt", "generation", "total")
    )
    assert all(not r.failed and r.params.get("pp") == 64 for r in own)


def test_run_of_llama_cli_records_the_rates_it_printed(work: dict[str, Any]) -> None:
    """The classic tool's ``llama_perf_context_print`` lines or the chat tool's ``[ Prompt:
    X t/s | Generation: Y t/s ]``, read here with plain regular expressions from what the
    tool printed in this run (a line lost at exit is then missing on both sides)."""
    from envstamp.stamping.results import load_results

    assert BIN is not None
    cli = str(BIN / "llama-cli")
    helped = subprocess.run([cli, "--help"], capture_output=True, text=True, timeout=60,
                            check=False)
    mode = ["-no-cnv"] if "-no-cnv" in helped.stdout + helped.stderr else [
        "--single-turn", "--simple-io"]
    done = envstamp(work, "run", "-o", "cli.jsonl", "--", cli, "-m", "tiny.gguf", "-p",
                    "hello world", "-n", "16", "--seed", "1", *mode)
    assert done.returncode == 0, done.stderr
    printed = done.stdout + done.stderr
    summary = re.search(r"\[ Prompt: ([\d.]+) t/s \| Generation: ([\d.]+) t/s \]", printed)
    prompt = re.search(r"prompt eval time =.*?([\d.]+) tokens per second", printed)
    generation = re.search(r"(?<!prompt )\beval time =.*?([\d.]+) tokens per second", printed)
    if mode == ["-no-cnv"]:
        expected = {"prompt_tps": float(prompt.group(1))} if prompt else {}
        if generation:
            expected["tokens_per_s"] = float(generation.group(1))
    else:
        expected = {"prompt_tps": float(summary.group(1)),
                    "tokens_per_s": float(summary.group(2))} if summary else {}
    (result,) = load_results(work["dir"] / "cli.jsonl", verify=False)
    assert result.origin == "run" and not result.failed
    rates = {k: v for k, v in result.metrics.items() if k in ("prompt_tps", "tokens_per_s")}
    assert rates == expected


def test_failed_benchmark_is_marked_failed_and_its_status_returned(
    work: dict[str, Any]
) -> None:
    from envstamp.stamping.results import load_results

    assert BIN is not None
    done = envstamp(work, "run", "-q", "-o", "failed.jsonl", "--", str(BIN / "llama-bench"),
                    "-m", "no-such-model.gguf", "-r", "3", "-p", "16", "-n", "8")
    assert done.returncode != 0
    results = load_results(work["dir"] / "failed.jsonl", verify=False, include_failed=True)
    assert results and all(r.failed for r in results)
    assert load_results(work["dir"] / "failed.jsonl", verify=False) == []


def test_stopped_server_keeps_the_requests_it_answered(work: dict[str, Any]) -> None:
    """``envstamp run -- llama-server``, two requests, then a terminal's Ctrl-C (SIGINT to
    the process group): the requests are ok results, the command's result is failed by
    SIGINT, envstamp exits 130 and the closed log verifies.  The truth is the ``timings``
    of each answer (JSON, read without envstamp): the log prints the same rate rounded."""
    import signal
    import time
    import urllib.request

    from envstamp.stamping.results import load_results

    assert BIN is not None
    if not (BIN / "llama-server").is_file():
        pytest.skip(f"{ENV} has no llama-server")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "envstamp", "run", "-q", "-o", "server.jsonl", "--",
         str(BIN / "llama-server"), "-m", "tiny.gguf", "--host", "127.0.0.1", "--port",
         str(port), "-c", "512", "-np", "1"],
        cwd=work["dir"], env=work["env"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, errors="replace", start_new_session=True,  # its own group, as a job's
    )
    try:
        try:
            wait_healthy(base, proc, seconds=120)
        except LlamaServerError as exc:
            pytest.fail(f"{exc}: {proc.communicate()[1] if proc.poll() is not None else ''}")
        rates = []
        for prompt, count in (("hello world", 8), ("a somewhat longer prompt", 16)):
            body = json.dumps({"prompt": prompt, "n_predict": count, "seed": 1}).encode()
            request = urllib.request.Request(f"{base}/completion", data=body)
            with urllib.request.urlopen(request, timeout=60) as answer:
                rates.append(json.load(answer)["timings"]["predicted_per_second"])
        # Newer builds log through a worker thread: the report may follow the answer.
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "stopped by SIGINT: 2 results completed before the stop" in err, err
    assert envstamp(work, "verify", "server.jsonl").returncode == 0
    *requests, wrapper = load_results(work["dir"] / "server.jsonl", include_failed=True)
    assert [(r.origin, r.failed) for r in requests] == [("run:server", False)] * 2
    for result, rate in zip(requests, rates, strict=True):
        assert result.metrics["tokens_per_s"] == pytest.approx(rate, abs=0.0051)
    assert (wrapper.origin, wrapper.failed, wrapper.exit_signal) == ("run", True, "SIGINT")


def test_run_through_a_shell_never_stores_the_shells_peak_as_the_trees(
    work: dict[str, Any]
) -> None:
    """``sh -c 'llama-bench ...; true'``: the shell (a MiB or two) is not what ran; the peak
    stored is the tree's (at least the loaded llama-bench's, several MiB) or null."""
    from envstamp.stamping.results import load_results

    assert BIN is not None
    bench = f"{BIN / 'llama-bench'} -m tiny.gguf -r 3 -o json; true"  # the review's command
    done = envstamp(work, "run", "-q", "-o", "shell.jsonl", "--", "sh", "-c", bench)
    assert done.returncode == 0, done.stderr
    results = load_results(work["dir"] / "shell.jsonl", verify=False)
    assert sorted(r.name for r in results if r.origin == "run:llama-bench") == [
        "pp512", "tg128"
    ]
    for result in results:
        assert result.memory is not None
        peak = result.memory.child_rss_peak_bytes
        assert peak is None or peak >= 4 << 20, (result.name, peak)
