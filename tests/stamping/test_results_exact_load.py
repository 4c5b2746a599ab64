"""Results load without the converter when they fit the model exactly, and build what the
converter builds; anything else (a negative exit code, a wrong type) takes the converter's
path, which accepts it or says why not.  (It halves loading a large log: docs/decisions.md.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.manifest.model import GpuState, Volatile
from envstamp.manifest.serialize import check_fields, exact_structure, structure
from envstamp.stamping.results import Advice, MemoryUse, Result, Summary, load_results
from tests.timing_support import open_recorder

DIGEST = "sha256:" + "cd" * 32


def _records(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") == "result":
            record.pop("prev")
            found.append(record)
    return found


def _by_converter(record: dict[str, Any]) -> Result:
    check_fields(record, Result)
    return structure(record, Result)


def test_every_kind_of_result_loads_exactly_as_the_converter_builds_it(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    with open_recorder(log) as rec:
        rec.record("plain", metrics={"tokens_per_s": 12.5}, params={"model": "m", "n": 3})
        rec.record("timed", wall_s=[0.1, 0.2, 0.3], metric_samples={"x": [1.0, 2.0, 3.0]},
                   params={"flag": True, "none": None, "list": [1, "a"]})  # fmt: skip
        with rec.timer("region", tag="t"):
            pass
    records = _records(log)
    assert len(records) == 3
    for record in records:
        exact = exact_structure(record, Result)
        assert exact is not None, record["name"]
        assert exact == _by_converter(record)
        assert exact.summary == _by_converter(record).summary
    assert [r.name for r in load_results(log, require_signed=False)] == ["plain", "timed", "region"]


def test_a_result_with_every_section_loads_the_same_both_ways() -> None:
    result = Result(
        manifest_digest=DIGEST,
        name="full",
        origin="run",
        params={"a": 1},
        metrics={"m": 2.0},
        wall_s=[1.0, 1.5],
        metric_samples={"m": [1.0, 3.0]},
        summary={"m": Summary(mean=2.0, median=2.0, stddev=1.4, min=1.0, max=3.0, n=2)},
        memory=MemoryUse(rss_peak_bytes=10, samples=2, source="procfs"),
        state_before=Volatile(load_1m=0.5, gpus=[GpuState(index=0, temperature_c=40.0)]),
        advice=[Advice(code="few_samples", message="only 2 samples")],
        command=["x", "--y"],
        exit_code=0,
        failed=False,
    )
    import attrs

    record = attrs.asdict(result, filter=lambda a, _v: not a.metadata.get("internal"))
    exact = exact_structure(record, Result)
    assert exact is not None and exact == _by_converter(record) == result


def test_what_does_not_fit_exactly_takes_the_converters_path() -> None:
    signal_exit = {"manifest_digest": DIGEST, "name": "crash", "exit_code": -4, "failed": True}
    assert exact_structure(signal_exit, Result) is None  # a signed number: the converter's
    assert _by_converter(signal_exit).exit_code == -4
    wrong = {"manifest_digest": DIGEST, "name": "x", "wall_s": "fast"}
    assert exact_structure(wrong, Result) is None
    with pytest.raises(InputError, match=r"\$\.wall_s must be a list"):
        _by_converter(wrong)
    negative = {"manifest_digest": DIGEST, "name": "x", "wall_s": [-1.0]}
    assert exact_structure(negative, Result) is None  # the class's own check refuses it
    with pytest.raises(InputError):
        _by_converter(negative)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**54) | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(["params", "metrics", "wall_s", "metric_samples", "summary", "memory",
                         "exit_code", "failed", "command", "origin", "at", "advice"]),
        json_values,
        max_size=4,
    )
)  # fmt: skip
def test_exact_loading_never_accepts_what_the_converter_refuses(fields: dict[str, Any]) -> None:
    record = {"manifest_digest": DIGEST, "name": "t", **fields}
    exact = exact_structure(record, Result)
    if exact is None:
        return  # declined: the converter decides, as before
    assert exact == _by_converter(record)  # accepted: the converter accepts it, the same
