"""Unsigned results in the views (review gap 1): ``show``, ``diff`` and ``compare`` never
pool a number that no signed head vouches for with signed ones into one speed.

The log here is one a forger can make without any key: a writer signed and closed its
results, a second writer of the same setup opened and was stopped before its next head -
its results are unsigned, and anyone may have edited them (they are after every head, so
the chain is recomputed freely).  Such a log is intact (``verify --allow-open`` accepts it
as a writer still running); only its unsigned rows are suspect.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.diffing.compare import compare
from envstamp.diffing.differ import diff
from envstamp.documents import load_document
from envstamp.stamping.results import verify_log
from tests.timing_support import open_recorder

SIGNED_TPS, FORGED_TPS = 40.0, 999.0


def _partly_signed(path: Path) -> Path:
    with open_recorder(path) as rec:
        rec.record("pp512", metrics={"tokens_per_s": SIGNED_TPS})
    rec = open_recorder(path)
    rec.record("pp512", metrics={"tokens_per_s": FORGED_TPS})
    rec._log._appender.close()  # stopped before its next head: this result is unsigned
    report = verify_log(path, allow_open=True)
    assert report.ok and (report.results_signed, report.results_unsigned) == (1, 1)
    return path


def _signed(path: Path, tps: float = SIGNED_TPS) -> Path:
    with open_recorder(path) as rec:
        rec.record("pp512", metrics={"tokens_per_s": tps})
    return path


def test_show_marks_the_unsigned_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _partly_signed(tmp_path / "a.jsonl")
    capsys.readouterr()
    assert main(["show", str(log)]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("pp512")]
    assert len(rows) == 2
    assert "unsigned" not in rows[0] and f"{SIGNED_TPS:.2f}" in rows[0]
    assert "unsigned" in rows[1] and f"{FORGED_TPS:.2f}" in rows[1]
    assert main(["show", "--markdown", str(log)]) == 0
    assert "| ok, unsigned |" in capsys.readouterr().out


def test_diff_never_pools_an_unsigned_result_with_signed_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _partly_signed(tmp_path / "a.jsonl")
    b = _signed(tmp_path / "b.jsonl")
    report = diff(str(a), str(b))
    signed = [t for t in report.tests if not t.unsigned]
    unsigned = [t for t in report.tests if t.unsigned]
    assert len(signed) == 1 and signed[0].a is not None and signed[0].a.mean == SIGNED_TPS
    assert signed[0].a.n == 1 and signed[0].ratio == 1.0
    assert len(unsigned) == 1 and unsigned[0].a is not None and unsigned[0].b is None
    assert unsigned[0].a.mean == FORGED_TPS and "[unsigned]" in unsigned[0].summary
    assert "faster" not in report.headline
    capsys.readouterr()
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "519.5" not in out and "pp512 [unsigned]" in out
    assert main(["diff", "--json", str(a), str(b)]) == 0
    tests = json.loads(capsys.readouterr().out)["tests"]
    assert sorted(t["unsigned"] for t in tests) == [False, True]


def test_unsigned_results_are_compared_only_with_unsigned_ones_and_say_so(
    tmp_path: Path,
) -> None:
    a = _partly_signed(tmp_path / "a.jsonl")
    b = _partly_signed(tmp_path / "b.jsonl")
    report = diff(str(a), str(b))
    assert [(t.unsigned, t.ratio) for t in report.tests] == [(False, 1.0), (True, 1.0)]
    assert "pp512 [unsigned]" in report.tests[1].summary


def test_the_headline_prefers_signed_results(tmp_path: Path) -> None:
    a = _partly_signed(tmp_path / "a.jsonl")
    b = _partly_signed(tmp_path / "b.jsonl")
    lines = b.read_bytes().split(b"\n")
    # B's unsigned result is far slower: it must not make the headline over signed ones.
    edited = json.loads(lines[-2])
    edited["metrics"]["tokens_per_s"] = 1.0
    prev = edited.pop("prev")
    from envstamp.stamping import chainlog

    lines[-2] = chainlog.chain_line(prev, chainlog.encode_body(edited))
    b.write_bytes(b"\n".join(lines))
    assert verify_log(b, allow_open=True).ok
    report = diff(str(a), str(b))
    assert "faster" not in report.headline and "unsigned" not in report.headline


def test_compare_keeps_unsigned_rows_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _partly_signed(tmp_path / "a.jsonl")
    b = _signed(tmp_path / "b.jsonl")
    c = _partly_signed(tmp_path / "c.jsonl")
    report = compare([str(a), str(b), str(c)])
    by_flag = {t.unsigned: t for t in report.tests}
    assert [v.mean if v else None for v in by_flag[False].values] == [SIGNED_TPS] * 3
    assert [v.mean if v else None for v in by_flag[True].values] == [FORGED_TPS, None, FORGED_TPS]
    capsys.readouterr()
    assert main(["compare", str(a), str(b), str(c)]) == 0
    assert "pp512 [unsigned]" in capsys.readouterr().out


def test_a_log_nothing_could_check_is_not_marked_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _partly_signed(tmp_path / "a.jsonl")
    monkeypatch.setenv("ENVSTAMP_CONFIG_DIR", str(tmp_path / "no-keys"))
    doc = load_document(str(a))
    assert doc.signature.startswith("not verified")
    assert all(r.signed_by is None for r in doc.results)  # unknown, said once for the log
