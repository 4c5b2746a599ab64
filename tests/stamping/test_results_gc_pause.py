"""Loading a log pauses Python's cyclic garbage collector while its results are built
(issue 14; docs/decisions.md): the collector comes back as the caller had it, also when
loading raises, and what loading builds leaves no reference cycle for it to catch up on."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envstamp.errors import InputError
from envstamp.manifest import serialize
from envstamp.stamping.results import Result, gc_paused, load_results, load_results_document
from tests.timing_support import lines_of, open_recorder, write_lines


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "r.jsonl"
    with open_recorder(path) as rec:
        for index in range(20):
            rec.record(f"pp{index}", params={"model": "m.gguf", "n": index, "list": [1, "a"]},
                       metrics={"tokens_per_s": 10.5}, wall_s=[0.1, 0.2])  # fmt: skip
        # A result the exact path declines (a signal's negative exit code): the converter's.
        rec.add(Result(manifest_digest=rec.manifest_digest, name="crash", exit_code=-4,
                       failed=True))
    return path


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def _spy_on_building(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the collector ran each time a result was built."""
    seen: list[bool] = []
    real = serialize.exact_structure

    def spy(data: Any, cls: Any) -> Any:
        seen.append(gc.isenabled())
        return real(data, cls)

    monkeypatch.setattr(serialize, "exact_structure", spy)
    return seen


@pytest.mark.usefixtures("collector_on")
def test_results_are_built_with_the_collector_paused_then_it_is_back(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy_on_building(monkeypatch)
    results = load_results(log, require_signed=False, include_failed=True)
    assert len(results) == 21 and results[-1].exit_code == -4
    assert seen and not any(seen)  # paused for every result
    assert gc.isenabled()
    seen.clear()
    document = load_results_document(log.read_text(), source="r.jsonl")
    assert document.results is not None and len(document.results) == 21
    assert seen and not any(seen) and gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_back_when_loading_raises(log: Path) -> None:
    lines = lines_of(log)
    write_lines(log, [line for line in lines if b'"kind":"manifest"' not in line])
    with pytest.raises(InputError, match="not in this file"):
        load_results(log, verify=False)  # the results' manifest line was removed
    assert gc.isenabled()


def test_a_caller_that_paused_the_collector_finds_it_paused(log: Path) -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        assert len(load_results(log, require_signed=False)) == 20
        assert not gc.isenabled()
        with pytest.raises(ValueError, match="inside"), gc_paused():
            raise ValueError("inside")
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_the_pause_ends_with_its_block_even_when_the_block_raises() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the inner one leaves the outer pause alone
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyboardInterrupt), gc_paused():
        raise KeyboardInterrupt
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_loading_leaves_no_reference_cycle_for_the_collector(log: Path) -> None:
    """Why the pause is safe: what loading builds and drops is freed by reference counting,
    so the collector, when back, finds nothing left over from the pause."""
    load_results(log, require_signed=False, include_failed=True)  # imports, plans: made once
    gc.collect()
    gc.disable()
    try:
        results = load_results(log, require_signed=False, include_failed=True)
    finally:
        gc.enable()
    assert gc.collect() == 0
    assert len(results) == 21
