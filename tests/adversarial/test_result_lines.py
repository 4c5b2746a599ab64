"""Result lines of the wrong type or range: a hand-edited (or hostile) results log must not
load a string as a command, a dict as a list, or a negative time as a measurement, and every
refusal is one line naming the path (issue 12, item 3; review gap 14).

Each case edits one member of a real result line and recomputes the chain (what anyone can
do), so the loaders reach the line's contents instead of stopping at a broken chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envstamp.cli.main import main
from envstamp.errors import InputError
from envstamp.manifest.serialize import parse_json_strict, to_json
from envstamp.stamping import chainlog
from envstamp.stamping.results import Result, load_results
from tests.sign_support import sample_manifest
from tests.timing_support import lines_of, open_recorder, write_lines

DIGEST = "sha256:" + "ab" * 32


def _rechain(lines: list[bytes]) -> list[bytes]:
    prev, out = chainlog.GENESIS, []
    for line in lines:
        data = json.loads(line)
        del data["prev"]
        rebuilt = chainlog.chain_line(prev, chainlog.encode_body(data))
        out.append(rebuilt)
        prev = chainlog.line_hash(rebuilt)
    return out


def _log_with(tmp_path: Path, member: str, value: Any) -> Path:
    """A one-result log whose result line has ``member`` set to ``value``."""
    path = tmp_path / "r.jsonl"
    with open_recorder(path) as rec:
        rec.record(
            "pp512", metrics={"tokens_per_s": 41.5}, params={"model": "m.gguf"}, wall_s=[1.5]
        )
    lines = lines_of(path)
    index = next(i for i, line in enumerate(lines) if chainlog.line_kind(line) == b"result")
    data = json.loads(lines[index])
    node = data
    *parents, last = member.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    lines[index] = json.dumps(data, separators=(",", ":")).encode()
    write_lines(path, _rechain(lines))
    return path


WRONG = [
    ("command", "rm -rf", "$.command must be a list"),
    ("command", {"rm": "-rf"}, "$.command must be a list"),
    ("command", ["rm", 1], "$.command[1] must be a string"),
    ("wall_s", [-1.0], "wall time is -1.0"),
    ("metrics.tokens_per_s", -5, "metric 'tokens_per_s' is -5"),
    ("metrics.prompt_ms", -0.5, "metric 'prompt_ms' is -0.5"),
    ("metric_samples.tokens_per_s", [40.0, -2.0], "metric 'tokens_per_s' is -2.0"),
    ("params.model", {"path": "m.gguf"}, "parameter 'model' is a dict"),
    ("exit_code", "1", "$.exit_code must be a whole number"),
    ("name", 12, "$.name must be a string"),
]


@pytest.mark.parametrize(("member", "value", "named"), WRONG,
                         ids=[f"{m}={v!r}" for m, v, _ in WRONG])
def test_a_wrong_result_line_is_refused_in_one_line_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], member: str, value: Any, named: str
) -> None:
    path = _log_with(tmp_path, member, value)
    capsys.readouterr()  # the line that says a signing key was made
    with pytest.raises(InputError) as caught:
        load_results(path, verify=False)
    message = str(caught.value)
    assert named in message and "\n" not in message and "unknown error" not in message
    assert "line 4" in message  # the line it is on
    assert main(["show", str(path)]) == 2
    out, err = capsys.readouterr()
    assert named in err and err.count("\n") == 1 and "internal error" not in err and not out


def test_a_metric_that_is_not_a_time_or_speed_may_be_negative(tmp_path: Path) -> None:
    path = _log_with(tmp_path, "metrics.delta_loss", -0.25)
    (result,) = load_results(path, verify=False)
    assert result.metrics["delta_loss"] == -0.25


def test_a_recorder_refuses_a_negative_speed_before_writing_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'tokens_per_s' is -1"):
        Result(manifest_digest=DIGEST, name="x", metrics={"tokens_per_s": -1})
    with pytest.raises(InputError, match=r"wall time is -0\.1"):
        Result(manifest_digest=DIGEST, name="x", wall_s=[0.2, -0.1])
    assert Result(manifest_digest=DIGEST, name="x", metrics={"tokens_per_s": 0.0})


def test_a_huge_integer_is_one_line_without_pythons_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(to_json(sample_manifest()))
    data["cpu"]["logical_cpus"] = "__HUGE__"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data).replace('"__HUGE__"', "9" * 5000), encoding="utf-8")
    for argv in (["show", str(path)], ["sign", str(path)], ["diff", str(path), str(path)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and len(err) < 300, err
        assert "set_int_max_str_digits" not in err and "5000 digits" in err
    with pytest.raises(InputError, match="5000 digits") as caught:
        parse_json_strict("[" + "7" * 5000 + "]")
    assert "sys." not in str(caught.value)


def test_a_big_but_parseable_integer_is_named_briefly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(to_json(sample_manifest()))
    data["cpu"]["logical_cpus"] = "__BIG__"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data).replace('"__BIG__"', "8" * 4000), encoding="utf-8")
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert "$.cpu.logical_cpus" in err and err.count("\n") == 1 and len(err) < 300, err
