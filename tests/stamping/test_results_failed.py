"""Result fields that say how far a number can be trusted: failed, exit_signal,
param_tolerance; and load_results leaving failed results out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.stamping import results
from envstamp.stamping.results import Result, load_results, result_body
from envstamp.stamping.timing import Recorder
from tests.timing_support import lines_of, open_recorder


def _result(rec: Recorder, **fields: Any) -> Result:
    return Result(manifest_digest=rec.manifest_digest, name="pp512", **fields)


def test_failed_signal_and_tolerance_round_trip_and_match_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with open_recorder(path) as rec:
        rec.add(
            _result(
                rec,
                exit_code=132,
                failed=True,
                exit_signal="SIGILL",
                params={"model_size": 104858},
                param_tolerance={"model_size": 5242.88},
            )
        )
        rec.add(_result(rec, params={"model_size": 100608}))
    crashed, fine = load_results(path, include_failed=True)
    assert (crashed.failed, crashed.exit_signal, crashed.exit_code) == (True, "SIGILL", 132)
    assert crashed.param_tolerance == {"model_size": 5242.88}
    assert (fine.failed, fine.exit_signal, fine.param_tolerance) == (False, None, {})
    validator = jsonschema.Draft202012Validator(results.results_schema())
    lines = [json.loads(line) for line in lines_of(path)]
    lines = [data for data in lines if data["kind"] == "result"]
    for data in lines:
        validator.validate(data)
    # Written only when they say something: an ordinary line is as it was.
    assert {"failed", "exit_signal", "param_tolerance"} <= set(lines[0])
    assert not {"failed", "exit_signal", "param_tolerance"} & set(lines[1])


def test_load_results_leaves_failed_results_out_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with open_recorder(path) as rec:
        rec.record("a", metrics={"tokens_per_s": 1.0})
        rec.record("b", metrics={"tokens_per_s": 2.0}, failed=True)
        rec.record("c", metrics={"tokens_per_s": 3.0})
    assert [r.name for r in load_results(path)] == ["a", "c"]
    assert [r.name for r in load_results(path, include_failed=True)] == ["a", "b", "c"]
    assert [r.name for r in load_results(path, verify=False)] == ["a", "c"]


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "5"])
def test_a_tolerance_must_be_a_finite_non_negative_number(tmp_path: Path, bad: object) -> None:
    with open_recorder(tmp_path / "r.jsonl") as rec, pytest.raises(InputError, match="tolerance"):
        _result(rec, param_tolerance={"model_size": bad})


@settings(max_examples=60, deadline=None)
@given(
    failed=st.booleans(),
    signal=st.none() | st.sampled_from(["SIGILL", "SIGKILL", "SIGSEGV"]),
    tolerance=st.dictionaries(
        st.sampled_from(["model_size", "n_params"]),
        st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
    ),
)
def test_the_line_body_round_trips(
    failed: bool, signal: str | None, tolerance: dict[str, float]
) -> None:
    from envstamp.manifest.serialize import structure

    digest = "sha256:" + "ab" * 32
    result = Result(
        manifest_digest=digest,
        name="x",
        failed=failed,
        exit_signal=signal,
        param_tolerance=tolerance,
    )
    data = json.loads(result_body(result))
    data.pop("kind")
    back = structure(data, Result, what="test")
    assert (back.failed, back.exit_signal, back.param_tolerance) == (failed, signal, tolerance)
    assert ("failed" in data) is failed
