"""The recording format as properties: file names of recorded answers are unique per question,
safe on every file system and stable; every answer of the shapes the live runner gives passes
the replay checks, and any one field made wrong is refused naming that field; a folder written
in the format loads back to the same answers, whatever their file names.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import InputError
from envstamp.runner.base import answer_file_name, answer_key, load_recording
from envstamp.runner.recorded import SHAPES, STATUSES, answer_problem

texts = st.text(max_size=20)
keys = st.one_of(
    st.builds(lambda argv: {"argv": argv}, st.lists(texts, min_size=1, max_size=4)),
    st.builds(lambda path: {"path": path}, texts),
    st.builds(lambda name: {"name": name}, texts),
    st.builds(lambda calls: {"calls": calls}, st.lists(st.dictionaries(texts, texts,
                                                                       max_size=2), max_size=3)),
    st.just({}),
)
ops = st.sampled_from(sorted(SHAPES))
SAFE_NAME = re.compile(r"[a-z0-9_]+-(?:[A-Za-z0-9._-]*-)?[0-9a-f]{10}\.json")


@settings(max_examples=100)
@given(op=ops, key=keys)
def test_file_names_are_safe_bounded_and_stable(op: str, key: dict[str, Any]) -> None:
    name = answer_file_name(op, key)
    assert SAFE_NAME.fullmatch(name), name
    assert name.startswith(op + "-")
    assert len(name) <= len(op) + 1 + 60 + 1 + 10 + len(".json")
    assert Path(name).name == name and "\\" not in name  # one component, no separators
    assert answer_file_name(op, dict(reversed(list(key.items())))) == name  # key order


@settings(max_examples=100)
@given(op=ops, first=keys, second=keys)
def test_different_questions_get_different_files(op: str, first: dict[str, Any],
                                                 second: dict[str, Any]) -> None:
    if answer_key(op, first) != answer_key(op, second):
        assert answer_file_name(op, first) != answer_file_name(op, second)


def test_names_read_like_the_question() -> None:
    assert answer_file_name("cmd", {"argv": ["/usr/bin/nvidia-smi", "-q", "-x"]}).startswith(
        "cmd-nvidia-smi--q--x-")
    assert answer_file_name("file", {"path": "/proc/cpuinfo"}).startswith("file-proc_cpuinfo-")
    assert answer_file_name("nvml", {"calls": [{}, {}]}).startswith("nvml-2-calls-")
    assert re.fullmatch(r"platform-[0-9a-f]{10}\.json", answer_file_name("platform", {}))


# ------------------------------------------------------------------------ answer shapes


def _good_value(name: str, op: str) -> st.SearchStrategy[Any]:
    """A value of the kind the live runner gives for one field (read off SHAPES' checks by
    the values they accept, so a new field needs an entry here)."""
    by_name: dict[str, st.SearchStrategy[Any]] = {
        "status": st.sampled_from(sorted(STATUSES)),
        "returncode": st.one_of(st.none(), st.integers(-64, 255)),
        "duration_ms": st.floats(0, 1e6),
        "truncated": st.booleans(),
        "exists": st.booleans(),
        "is_dir": st.booleans(),
        "cached": st.booleans(),
        "dirty": st.one_of(st.none(), st.booleans()),
        "ac_online": st.one_of(st.none(), st.booleans()),
        "battery_percent": st.one_of(st.none(), st.floats(0, 100)),
        "names": st.lists(texts, max_size=3),
        "versions": st.dictionaries(texts, st.one_of(st.none(), texts), max_size=3),
        "answers": st.lists(st.one_of(st.builds(lambda v: {"value": v}, st.integers()),
                                      st.builds(lambda e: {"error": e}, texts)), max_size=3),
        "info": st.dictionaries(texts, texts, max_size=2),
        "gpus": st.lists(st.dictionaries(texts, texts, max_size=2), max_size=2),
        "value": st.one_of(st.none(), texts) if op != "registry" else st.one_of(
            st.none(), texts, st.integers(), st.lists(texts, max_size=2)),
        "code": st.one_of(st.none(), st.integers(100, 599)),
        "cpu_count": st.one_of(st.none(), st.integers(1, 512)),
    }
    seconds = st.floats(0, 1e4)
    by_name.update({
        "headers": st.dictionaries(texts, texts, max_size=2),
        "wall_s": seconds,
        "started_s": st.lists(seconds, max_size=3),
        "lines": st.lists(st.tuples(seconds, texts), max_size=3).map(
            lambda pairs: [[t, line] for t, line in sorted(pairs, key=lambda p: p[0])]),
    })
    for timing in ("connect_s", "first_byte_s", "total_s"):
        by_name[timing] = st.one_of(st.none(), seconds)
    for integer in ("size", "mtime_ns", "mode", "total_bytes", "available_bytes"):
        by_name[integer] = st.one_of(st.none(), st.integers(0, 2**40))
    if name in by_name:
        return by_name[name]
    if name in ("stdout", "stderr", "hex", "body") or (name, op) == ("path", "realpath"):
        return texts  # always text
    return st.one_of(st.none(), texts)  # text or null: detail, paths, versions, commits...


@st.composite
def good_answers(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    op = draw(ops)
    required, optional = SHAPES[op]
    answer = {name: draw(_good_value(name, op)) for name in required}
    for name in optional:
        if draw(st.booleans()):
            answer[name] = draw(_good_value(name, op))
    return op, answer


@settings(max_examples=50)
@given(good_answers())
def test_answers_of_the_live_shapes_pass(case: tuple[str, dict[str, Any]]) -> None:
    op, answer = case
    assert answer_problem(op, answer) is None


WRONG = [["a", "list"], {"an": "object"}, 1.5, "text", True, float("nan")]


@settings(max_examples=60)
@given(case=good_answers(), data=st.data())
def test_one_wrong_field_is_refused_naming_it(case: tuple[str, dict[str, Any]],
                                              data: st.DataObject) -> None:
    op, answer = case
    if not answer:
        return
    name = data.draw(st.sampled_from(sorted(answer)))
    wrong = data.draw(st.sampled_from(WRONG))
    broken = {**answer, name: wrong}
    required, optional = SHAPES[op]
    check = {**required, **optional}[name]
    if check(wrong) is None:
        return  # this value is of the field's kind after all (a string for a text field)
    problem = answer_problem(op, broken)
    assert problem is not None and repr(name) in problem and op in problem
    assert "\n" not in problem


SIMPLE = {"status": "ok", "exists": True, "names": [], "versions": {}, "path": "/x",
          "wall_s": 0.5, "started_s": [0.0]}


@pytest.mark.parametrize("op", sorted(SHAPES))
def test_each_missing_required_field_is_named(op: str) -> None:
    required, _ = SHAPES[op]
    complete = {name: SIMPLE[name] for name in required}
    assert answer_problem(op, complete) is None
    for name in required:
        partial = {k: v for k, v in complete.items() if k != name}
        assert answer_problem(op, partial) == f"field {name!r} of a {op} answer is missing"


# Once a bug: 'value in STATUSES' on a frozenset raised TypeError (unhashable) for these.
@pytest.mark.parametrize("status", [["ok"], {"ok": True}])
def test_a_status_that_is_a_list_is_named(status: object) -> None:
    problem = answer_problem("cmd", {"status": status})
    assert problem is not None and "'status'" in problem


@pytest.mark.parametrize("wrong", [-0.001, float("inf"), True, "1.0", None])
def test_bench_seconds_are_non_negative_finite_numbers(wrong: object) -> None:
    good = {"wall_s": 1.0, "started_s": [0.0, 0.5]}
    assert answer_problem("bench_clock", good) is None
    for broken in ({**good, "wall_s": wrong}, {**good, "started_s": [0.0, wrong]}):
        problem = answer_problem("bench_clock", broken)
        assert problem is not None and "bench_clock" in problem, broken


@pytest.mark.parametrize("lines", [[[1.0, "b"], [0.5, "a"]], [[0.5]], [[0.5, "a", "b"]],
                                   [(0.5, "a")], [[-1, "a"]], [["0.5", "a"]], [[0.5, 7]]])
def test_stream_lines_are_timed_text_in_order(lines: object) -> None:
    assert answer_problem("http_stream", {"status": "ok", "lines": [[0, "a"], [0, "b"]]}) is None
    problem = answer_problem("http_stream", {"status": "ok", "lines": lines})
    assert problem is not None and problem.startswith("field 'lines' of a http_stream answer")


def test_an_operation_of_another_version_is_not_judged() -> None:
    assert answer_problem("quantum_state", {"anything": object()}) is None


# --------------------------------------------------------------------------- folders


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(good_answers(), keys), max_size=6))
def test_a_folder_in_the_format_loads_back_whatever_its_file_names(
    cases: list[tuple[tuple[str, dict[str, Any]], dict[str, Any]]],
) -> None:
    expected: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for number, ((op, answer), key) in enumerate(cases):
            if any(isinstance(v, float) and v != v for v in answer.values()):
                continue
            record = {"op": op, "key": key, "answer": answer}
            name = f"{number:03d}-renamed.json"  # names are for people; the key is inside
            (Path(folder) / name).write_text(json.dumps(record), encoding="utf-8")
            expected[answer_key(op, key)] = answer
        assert load_recording(Path(folder)) == expected


def test_a_folder_that_is_not_there_is_named() -> None:
    with pytest.raises(InputError, match="no recording at"):
        load_recording(Path(tempfile.gettempdir()) / "envstamp-no-such-recording-folder")
