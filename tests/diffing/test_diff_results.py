"""The results side: tests matched by name and parameters, ratios with spread, noise."""

from __future__ import annotations

from pathlib import Path

import pytest

from envstamp.diffing.differ import Spread, diff
from envstamp.diffing.results import (
    compare_results,
    compare_test,
    format_spread,
    pool,
    result_view,
    within_noise,
)
from envstamp.stamping import results
from tests.diff_support import RENDER_NODE, WORKSTATION, base, edit_gpu, load, result_log

NGL = {"n_gpu_layers": 99, "n_threads": 16}
DIGEST = "sha256:" + "ab" * 32


def record(name: str, samples: list[float], **params: object) -> results.Result:
    return results.Result(
        manifest_digest=DIGEST,
        name=name,
        params=dict(params),
        metrics={"tokens_per_s": sum(samples) / len(samples)},
        metric_samples={"tokens_per_s": samples},
        summary={"tokens_per_s": results.summarize(samples)},
    )


# ------------------------------------------------------------------------------ adapter


def test_adapter_reads_result_records() -> None:
    view = result_view(record("tg128", [98.0, 99.0, 100.0], n_gpu_layers=99))
    assert view is not None
    assert (view.name, view.metric, view.higher_is_better) == ("tg128", "tokens_per_s", True)
    assert view.spread == Spread(mean=99.0, stddev=1.0, n=3, unit="t/s")
    assert view.params == {"n_gpu_layers": 99}


def test_adapter_reads_mappings_and_llama_bench_fields() -> None:
    view = result_view({"name": "pp512", "params": {"n_reps": 5},
                        "metrics": {"avg_ts": 4512.3, "stddev_ts": 31.2}})
    assert view is not None and view.metric == "avg_ts"
    assert view.spread == Spread(mean=4512.3, stddev=31.2, n=5, unit="t/s")


def test_adapter_falls_back_to_wall_time() -> None:
    timed = results.Result(manifest_digest=DIGEST, name="load model", wall_s=[2.0, 2.2, 2.4])
    view = result_view(timed)
    assert view is not None
    assert (view.metric, view.higher_is_better) == ("wall_s", False)
    assert view.spread is not None and view.spread.mean == pytest.approx(2.2)


@pytest.mark.parametrize("junk", [None, 3, "tg128", {}, {"name": ""}, {"name": "x"}])
def test_adapter_ignores_what_it_cannot_read(junk: object) -> None:
    assert result_view(junk) is None


# ------------------------------------------------------------------------------- ratios


def test_b_faster_beyond_noise() -> None:
    t = compare_test([result_view(record("tg128", [97.9, 98.2, 98.5]))],  # type: ignore[list-item]
                     [result_view(record("tg128", [131.2, 131.6, 132.0]))])  # type: ignore[list-item]
    assert t.faster == "B" and t.within_noise is False
    assert t.ratio == pytest.approx(131.6 / 98.2, rel=1e-3)
    assert t.summary.startswith("B is 1.34x faster on tg128")


def test_a_faster_when_time_is_lower() -> None:
    fast = results.Result(manifest_digest=DIGEST, name="load", wall_s=[1.0, 1.1, 0.9])
    slow = results.Result(manifest_digest=DIGEST, name="load", wall_s=[2.0, 2.1, 1.9])
    t = compare_test([result_view(fast)], [result_view(slow)])  # type: ignore[list-item]
    assert t.faster == "A" and t.ratio == pytest.approx(0.5)
    assert t.summary.startswith("A is 2.00x faster on load")


def test_within_noise() -> None:
    a = Spread(mean=100.0, stddev=2.0, n=5)
    assert within_noise(a, Spread(mean=103.0, stddev=1.5, n=5)) is True
    assert within_noise(a, Spread(mean=104.0, stddev=1.5, n=5)) is False
    assert within_noise(a, Spread(mean=104.0, stddev=None, n=1)) is None
    t = compare_test([result_view(record("pp512", [100.0, 102.0, 98.0]))],  # type: ignore[list-item]
                     [result_view(record("pp512", [101.0, 103.0, 99.0]))])  # type: ignore[list-item]
    assert t.within_noise is True and t.faster is None
    assert "within noise" in t.summary


def test_single_samples_have_unknown_spread() -> None:
    t = compare_test([result_view(record("tg128", [98.0]))],  # type: ignore[list-item]
                     [result_view(record("tg128", [131.0]))])  # type: ignore[list-item]
    assert t.within_noise is None and t.faster == "B"
    assert "spread unknown" in t.summary


def test_repeated_records_pool() -> None:
    views = [result_view(record("tg128", [s])) for s in (97.0, 99.0, 101.0)]
    spread = pool(views)  # type: ignore[arg-type]
    assert spread == Spread(mean=99.0, stddev=2.0, n=3, unit="t/s")
    # summaries without their samples pool by weight
    summaries = [result_view({"name": "x", "metrics": {"avg_ts": m, "stddev_ts": 1.0},
                              "params": {"n_reps": 4}}) for m in (10.0, 12.0)]
    pooled = pool(summaries)  # type: ignore[arg-type]
    assert pooled is not None and pooled.n == 8 and pooled.mean == pytest.approx(11.0)
    assert pooled.stddev is not None and pooled.stddev > 1.0


def test_format_spread() -> None:
    assert format_spread(Spread(mean=131.62, stddev=0.61, n=5, unit="t/s")) == \
        "131.6 ± 0.6 t/s (n=5)"
    assert format_spread(Spread(mean=4512.3, stddev=None, n=None, unit="t/s")) == "4512 t/s"
    assert format_spread(None) == "-"


# ----------------------------------------------------------------------------- matching


def test_tests_matched_by_name_and_params() -> None:
    a = [record("tg128", [98.0, 98.4], **NGL), record("pp512", [4500.0, 4520.0], **NGL)]
    b = [record("pp512", [4510.0, 4530.0], **NGL), record("tg128", [131.0, 132.0], **NGL),
         record("tg256", [120.0, 121.0], **NGL)]
    found = compare_results(a, b)
    tests = found.tests
    assert [(t.name, t.a is not None, t.b is not None) for t in tests] == [
        ("tg128", True, True), ("pp512", True, True), ("tg256", False, True)]
    assert found.differences == found.unknown == found.failed == []
    assert tests[2].summary == "tg256: only on B (no matching test on A)"


def test_params_that_differ_are_reported_once_and_high() -> None:
    a = [record("tg128", [98.0, 98.4], **NGL), record("pp512", [4500.0, 4520.0], **NGL)]
    low_offload = {**NGL, "n_gpu_layers": 20}
    b = [record("tg128", [41.0, 42.0], **low_offload),
         record("pp512", [900.0, 910.0], **low_offload)]
    found = compare_results(a, b)
    tests = found.tests
    assert [t.faster for t in tests] == ["A", "A"]
    assert [(d.path, d.impact, d.change) for d in found.differences] == [
        ("tests[tg128].params.n_gpu_layers", "high", "99 -> 20")]
    assert tests[0].params == {"n_threads": 16}  # only what both share


# ----------------------------------------------------------- whole logs, through diff()


def test_two_results_logs(tmp_path: Path) -> None:
    log_a = result_log(tmp_path / "a.jsonl", load(WORKSTATION), [
        ("tg128", NGL, [97.9, 98.2, 98.5, 98.0, 98.4]),
        ("pp512", NGL, [4498.0, 4512.0, 4530.0, 4505.0, 4521.0])])
    log_b = result_log(tmp_path / "b.jsonl", load(RENDER_NODE), [
        ("tg128", NGL, [131.1, 131.6, 132.0, 131.4, 131.9]),
        ("pp512", NGL, [4510.0, 4525.0, 4500.0, 4533.0, 4519.0])])
    report = diff(str(log_a), str(log_b))
    assert report.a is not None and report.a.kind == "results" and report.a.results == 2
    assert report.a.verification == "verified"
    tg, pp = report.tests
    assert tg.faster == "B" and pp.within_noise is True
    assert report.headline.startswith("B is 1.34x faster on tg128; likely causes: "
                                      "llama.cpp build b3447 (commit b5e95468) -> b4589 "
                                      "(commit cfd74c86) (1142 builds apart, B newer); ")
    assert "GPU power limit 450 W -> 350 W (-22%)" in report.headline


def test_manifest_and_results_mixed(tmp_path: Path) -> None:
    log = result_log(tmp_path / "r.jsonl", edit_gpu(base(), power_limit_w=300.0),
                     [("tg128", NGL, [88.0, 88.5, 88.2])])
    report = diff(str(WORKSTATION), str(log))
    assert report.a is not None and report.a.kind == "manifest"
    assert report.b is not None and report.b.kind == "results"
    assert [(t.name, t.a, t.b is not None) for t in report.tests] == [("tg128", None, True)]
    assert [d.path for d in report.differences] == ["gpus[0].power_limit_w"]
    assert report.headline.startswith("no test ran on both sides (0 only on A, 1 only on B); ")
