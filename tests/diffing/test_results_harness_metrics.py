"""Results of other harnesses compare by their telling numbers: vLLM's output throughput is
its speed (not the peak ``max_output_tokens_per_s``), and pytest-benchmark's rounds and
iterations - chosen anew each session - never decide which test a result is."""

from __future__ import annotations

from pathlib import Path

from envstamp.diffing.results import params_same, result_view
from envstamp.output.results_render import _speed_metric
from envstamp.stamping.importing import import_files
from envstamp.stamping.results import Result, load_results
from tests.timing_support import open_recorder

VLLM = Path(__file__).parent.parent / "fixtures" / "vllm"
DIGEST = "sha256:" + "ef" * 32


def test_a_vllm_results_speed_is_its_output_throughput(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    with open_recorder(log) as rec:
        import_files([str(VLLM / "bench-serve-0.34.0.json")], rec)
    (result,) = load_results(log, require_signed=False)
    view = result_view(result)
    assert view is not None and view.metric == "output_throughput" and view.higher_is_better
    assert _speed_metric(result) == "output_throughput"


def test_pytest_benchmark_rounds_never_decide_the_test() -> None:
    def run(rounds: int, iterations: int, group: str = "fib") -> Result:
        params = {"rounds": rounds, "iterations": iterations, "group": group}
        return Result(manifest_digest=DIGEST, name="tests/test_x.py::test_fib",
                      origin="pytest-benchmark", wall_s=[0.001, 0.002], params=params)  # fmt: skip

    a, b, other = (result_view(r) for r in (run(526, 1), run(529, 2), run(526, 1, "sort")))
    assert a is not None and b is not None and other is not None
    assert params_same(a, b)
    assert not params_same(a, other)  # what the test is still decides
