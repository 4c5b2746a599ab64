"""End to end: ``envstamp bench`` against a real llama-server agrees with the server's own
timings, and the results log's manifest names the server's build and model.

Runs only when ``ENVSTAMP_LLAMA_CPP_BIN`` names a folder holding ``llama-server``
(``scripts/build-llamacpp`` makes one; docs/real-llamacpp.md says how) and the ``gguf``
package is there to make the model; CI does not build llama.cpp, so there it is skipped and
says why.  For example::

    ENVSTAMP_LLAMA_CPP_BIN=~/.cache/envstamp-llamacpp/0.3.36/bin \\
        python -m pytest -m llamacpp_real tests/e2e/test_bench_e2e.py

The truth is read without envstamp: the build from ``llama-server --version`` through a
plain regular expression, the model's sha256 through hashlib, and the speeds from the
``timings`` the server put in its own answers.  No assertion is on how long anything took:
the client's figures are held to what must hold between two clocks watching one stream (the
client cannot see the first token before the server finished the prompt) and to agreeing
with the server's speeds within a factor.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llama_server_support import LlamaServerError, llama_server

ROOT = Path(__file__).parents[2]
ENV = "ENVSTAMP_LLAMA_CPP_BIN"


def _server_binary() -> tuple[Path | None, str]:
    value = os.environ.get(ENV)
    if not value:
        return None, f"{ENV} is not set: no real llama-server to benchmark (scripts/build-llamacpp)"
    binary = Path(value).expanduser() / "llama-server"
    if not binary.is_file():
        return None, f"{ENV}={value} holds no llama-server"
    try:
        import gguf  # noqa: F401
    except ImportError:
        return None, "the gguf package is needed to make the model (pip install gguf)"
    return binary, ""


SERVER, WHY = _server_binary()
pytestmark = [pytest.mark.llamacpp_real, pytest.mark.slow,
              pytest.mark.skipif(SERVER is None, reason=WHY)]

# A model big enough that a token takes a measurable fraction of a millisecond on a CPU,
# small enough to be made and loaded in a second or two.
MODEL_ARGS = ["--n-embd", "256", "--n-layer", "4", "--n-head", "4", "--n-head-kv", "2",
              "--n-ff", "768", "--n-ctx", "1024"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    assert SERVER is not None
    folder = tmp_path_factory.mktemp("bench-e2e")
    model = folder / "bench.gguf"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make-tiny-gguf"), str(model),
                    *MODEL_ARGS], check=True, capture_output=True, timeout=120)
    with (folder / "server.log").open("wb") as log:
        try:
            with llama_server(SERVER, model, folder, log) as url:
                yield url, model
        except LlamaServerError as exc:
            pytest.fail(str(exc))


def printed_commit(binary: Path) -> str | None:
    """The commit the server's --version names; None where it prints "unknown" (a build
    made without git, as the older real build is)."""
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                          timeout=60, check=False)
    text = done.stdout + done.stderr
    match = re.search(r"commit (\w+)\)", text) or re.search(r"^version: \d+ \((\w+)\)", text,
                                                              re.M)
    assert match, text
    return None if match.group(1) == "unknown" else match.group(1)


def test_bench_agrees_with_the_servers_timings(served: tuple[str, Path], tmp_path: Path) -> None:
    import envstamp
    from envstamp.cli.main import main

    url, _ = served
    log = tmp_path / "bench.jsonl"
    code = main(["bench", url, "-p", "128", "-n", "32", "-r", "3", "-w", "1", "-c", "1,2",
                 "-o", str(log), "--no-state"])
    assert code == 0
    results = envstamp.load_results(log)
    assert [(r.name, r.params["concurrency"]) for r in results] == [
        ("pp128+tg32", 1), ("pp128+tg32", 2)]
    single = results[0]
    samples = single.metric_samples
    report = {k: round(v, 3) for k, v in single.metrics.items()}
    print("\nbench e2e, concurrency 1:", json.dumps(report, sort_keys=True))
    # The prompts were sized by the server's tokenizer; it generated every token asked.
    assert samples["prompt_tokens"] == [128.0] * 3
    assert samples["gen_tokens"] == [32.0] * 3
    for ttft, prompt_ms in zip(samples["ttft_ms"], samples["server_prompt_ms"], strict=True):
        assert ttft >= prompt_ms  # the first token comes after the server's prompt work
    client, server = single.metrics["tokens_per_s"], single.metrics["server_tokens_per_s"]
    assert 0.5 < client / server < 2.0, (client, server)
    prompt_client = single.metrics["prompt_tps"]
    assert prompt_client <= single.metrics["server_prompt_tps"] * 1.05
    assert single.metrics["ttft_p99_ms"] >= single.metrics["ttft_median_ms"]


def test_the_logs_manifest_names_the_servers_build_and_model(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    import envstamp
    from envstamp.cli.main import main

    url, model = served
    log = tmp_path / "bench.jsonl"
    assert main(["bench", url, "-p", "16", "-n", "4", "-r", "1", "-w", "0", "-o", str(log),
                 "--no-state"]) == 0
    (result,) = envstamp.load_results(log)
    manifest = result.manifest
    assert manifest is not None and SERVER is not None
    commit = printed_commit(SERVER)
    served_builds = [b for b in manifest.llamacpp if "/props" in (b.source or "")]
    # a server that does not know its build ("b0-unknown") gives none: never an invented one
    assert [b.commit for b in served_builds] == ([commit] if commit else [])
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert digest in [m.sha256 for m in manifest.models]
    record = next(p for p in manifest.probes if p.name == "bench_server")
    assert record.status == "ok" and record.source == url
