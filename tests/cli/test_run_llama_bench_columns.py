"""``envstamp run -- llama-bench``: a test's result keeps every setting llama-bench printed.

On the real outputs of both builds: the common settings under envstamp's names, the
backend, and each other column of the build's llama-bench (n_cpu_moe, load_mode,
fit_target...) as printed; a setting the build does not have is absent, never invented."""

from __future__ import annotations

from pathlib import Path

import pytest

from envstamp.stamping.results import load_results
from tests.cli.test_run_command import bin_dir, envstamp_run, make_tool, quick_capture

__all__ = ["bin_dir", "quick_capture"]  # fixtures used by name below

REAL = Path("..") / "llamacpp-real"


@pytest.mark.usefixtures("quick_capture")
@pytest.mark.parametrize("output", ["bench.json", "bench.csv", "bench.sql"])
def test_a_current_builds_results_keep_every_column(
    tmp_path: Path, bin_dir: Path, output: str
) -> None:
    make_tool(bin_dir, "llama-bench", stdout=str(REAL / "0.5.0-dev-0c1e57098" / output))
    log = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(log), "--", "llama-bench", "-m", "tiny.gguf") == 0
    pp = next(r for r in load_results(log, require_signed=False) if r.name == "pp16")
    assert pp.params["backend"] == "CPU"
    assert pp.params["flash_attn"] == "auto"
    expected = {"n_cpu_moe": 0, "load_mode": "auto", "lazy_mode": "auto", "fit_target": 0,
                "fit_min_ctx": 0, "devices": "auto", "tensor_buft_overrides": "none"}  # fmt: skip
    assert {k: pp.params[k] for k in expected} == expected
    assert pp.params["no_op_offload"] == 0 and pp.params["repack"] in (True, 1)


@pytest.mark.usefixtures("quick_capture")
def test_an_older_builds_results_have_no_setting_it_did_not_know(
    tmp_path: Path, bin_dir: Path
) -> None:
    make_tool(bin_dir, "llama-bench", stdout=str(REAL / "b5308-8733e0cf6" / "bench.json"))
    log = tmp_path / "r.jsonl"
    assert envstamp_run("-q", "-o", str(log), "--", "llama-bench", "-m", "tiny.gguf") == 0
    pp = next(r for r in load_results(log, require_signed=False) if r.name == "pp16")
    assert pp.params["flash_attn"] is False and pp.params["backend"] == "CPU"
    assert pp.params["tensor_buft_overrides"] == "none"
    assert not {"n_cpu_moe", "load_mode", "fit_target", "fit_min_ctx"} & set(pp.params)
