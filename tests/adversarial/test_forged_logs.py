"""Forged and truncated results logs: what an attacker (or a careless copy) does to a log.

The attacker here has the log but not the signing key.  A hash chain alone proves nothing
against them - plain sha256 can be recomputed after any edit - so each attack checks that
forged numbers never read as signed: not in ``verify``, not in ``load_results``, not in
``show``/``diff``, and not after an honest writer appends to the forged file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.diffing.differ import verification_of
from envstamp.documents import load_document
from envstamp.errors import CheckFailed, InputError
from envstamp.signing.keys import SigningKey
from envstamp.stamping import chainlog, results
from envstamp.stamping.results import load_results, verify_log
from tests.timing_support import kinds_of, lines_of, make_manifest, open_recorder, write_lines

FORGED_TPS = 9999.0


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A closed log by one writer: header, manifest, opening head, four results, final head."""
    path = tmp_path / "results.jsonl"
    with open_recorder(path) as rec:
        for name, tps in (("pp512", 1024.5), ("tg128", 58.1), ("pp2048", 980.0), ("tg512", 55.0)):
            rec.record(name, metrics={"tokens_per_s": tps})
    return path


# ------------------------------------------------------------------------------ forging


def _body(line: bytes) -> dict[str, object]:
    data = json.loads(line)
    del data["prev"]
    return data


def rechain(lines: list[bytes], start: int = 0) -> list[bytes]:
    """Recompute every ``prev`` from line ``start`` on with plain sha256 (what anyone can)."""
    prev = chainlog.GENESIS if start == 0 else chainlog.line_hash(lines[start - 1])
    out = lines[:start]
    for line in lines[start:]:
        rebuilt = chainlog.chain_line(prev, chainlog.encode_body(_body(line)))
        out.append(rebuilt)
        prev = chainlog.line_hash(rebuilt)
    return out


def edit_result(line: bytes, tps: float = FORGED_TPS) -> bytes:
    data = json.loads(line)
    data["metrics"]["tokens_per_s"] = tps
    return json.dumps(data, separators=(",", ":")).encode()


def is_kind(kind: str) -> Callable[[bytes], bool]:
    return lambda line: chainlog.line_kind(line) == kind.encode()


def cli(*argv: str) -> int:
    return main(list(argv))


def forge_without_heads(log: Path) -> bytes:
    """The attack of issue 12: delete every head, raise a result, recompute each prev."""
    lines = [line for line in lines_of(log) if not is_kind("head")(line)]
    index = next(i for i, line in enumerate(lines) if is_kind("result")(line))
    lines[index] = edit_result(lines[index])
    write_lines(log, rechain(lines))
    return log.read_bytes()


def forge_after_the_opening_head(log: Path) -> None:
    """A subtler forgery: keep the writer's opening head, drop the final head, edit results."""
    lines = lines_of(log)[:-1]
    first_result = kinds_of(log).index("result")
    lines[first_result] = edit_result(lines[first_result])
    write_lines(log, rechain(lines, first_result))


# ------------------------------------------------------------- heads deleted, chain recomputed


def test_a_log_whose_heads_were_deleted_fails_verification(log: Path) -> None:
    forge_without_heads(log)
    for allow_open in (False, True):
        report = verify_log(log, allow_open=allow_open)
        assert not report.ok and report.results_signed == 0
        assert any("not followed by its writer's signed head" in p for p in report.problems)


def test_verify_allow_open_does_not_pass_a_log_whose_heads_were_deleted(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forge_without_heads(log)
    assert cli("verify", "--allow-open", str(log)) == 1
    assert cli("verify", str(log)) == 1
    assert capsys.readouterr().out.startswith("invalid: ")


def test_load_results_never_hands_out_the_forged_number(log: Path) -> None:
    forge_without_heads(log)
    with pytest.raises(CheckFailed, match="signed head"):
        load_results(log)
    with pytest.raises(CheckFailed):
        load_results(log, require_signed=True)
    # Without verification the number loads, but nothing marks it as signed.
    assert all(r.signed_by is None for r in load_results(log, verify=False))


def test_show_and_diff_call_the_forgery_invalid(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    honest = tmp_path / "honest.jsonl"
    with open_recorder(honest) as rec:
        rec.record("pp512", metrics={"tokens_per_s": 1000.0})
    forge_without_heads(log)
    doc = load_document(str(log))
    assert doc.signature.startswith("invalid:") and verification_of(doc) == "failed"
    assert cli("show", str(log)) == 0
    assert "verified" not in capsys.readouterr().out.replace("not verified", "")
    assert cli("diff", "--json", str(honest), str(log)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["b"]["verification"] == "failed"


def test_a_writer_refuses_to_sign_over_a_log_whose_heads_vanished(log: Path) -> None:
    forged = forge_without_heads(log)
    with pytest.raises(CheckFailed, match="refusing to sign over"):
        open_recorder(log)
    assert log.read_bytes() == forged  # nothing appended, nothing signed


def test_envstamp_run_refuses_to_extend_the_forgery(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = forge_without_heads(log)
    assert cli("run", "-q", "--no-state", "-o", str(log), "--", "true") == 1
    err = capsys.readouterr().err
    assert "refusing to sign over" in err and err.count("\n") == 1
    assert log.read_bytes() == forged


# ----------------------------------------------------- forged results after a remaining head


def test_results_after_the_last_head_read_unsigned_never_verified(log: Path) -> None:
    forge_after_the_opening_head(log)
    report = verify_log(log, allow_open=True)
    assert report.intact and report.ok  # indistinguishable from a writer still running...
    assert (report.results_signed, report.results_unsigned) == (0, 4)  # ...but nothing vouches
    assert not verify_log(log).ok
    loaded = load_results(log, require_signed=False)
    assert loaded[0].metrics["tokens_per_s"] == FORGED_TPS and loaded[0].signed_by == ()
    assert all(r.signed_by == () for r in loaded)
    with pytest.raises(CheckFailed, match="4 of 4 results are not covered"):
        load_results(log)  # by default: a library user never gets them without asking
    doc = load_document(str(log))
    assert doc.signature.startswith("unsigned: 0 of 4 results signed")
    assert verification_of(doc) != "verified"


def test_a_writer_appending_after_a_forgery_does_not_launder_it(log: Path) -> None:
    forge_after_the_opening_head(log)
    with open_recorder(log) as rec:  # an honest writer shares the file
        rec.record("honest", metrics={"tokens_per_s": 60.0})
    report = verify_log(log)
    assert report.intact and report.closed
    assert (report.results_signed, report.results_unsigned) == (1, 4)
    assert not report.ok  # plain verify: the forged results are still vouched for by nobody
    by_name = {r.name: r for r in load_results(log, require_signed=False)}
    assert by_name["pp512"].metrics["tokens_per_s"] == FORGED_TPS
    assert by_name["pp512"].signed_by == () and by_name["honest"].signed_by
    doc = load_document(str(log))
    assert doc.signature.startswith("partly signed: 1 of 5 results signed")


def append_forged(log: Path, count: int = 1, tps: float = 123.0) -> None:
    """Copies of the log's first result, raised to ``tps``, chained after its last line."""
    lines = lines_of(log)
    first = kinds_of(log).index("result")
    for _ in range(count):
        extra = edit_result(lines[first], tps=tps)
        lines.append(
            chainlog.chain_line(chainlog.line_hash(lines[-1]), chainlog.encode_body(_body(extra)))
        )
    write_lines(log, lines)


def test_lines_forged_after_a_closed_log_are_tampering(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Review gap 1: results after their writer's final head (no new writer opened since)
    # cannot be that writer's: they were added after it closed the log.
    append_forged(log, count=3)
    for allow_open in (False, True):
        report = verify_log(log, allow_open=allow_open)
        assert not report.ok and report.problems
        assert "after its writer's final head (line 8)" in report.problems[0]
    assert cli("verify", "--allow-open", str(log)) == 1
    out = capsys.readouterr().out
    assert out.startswith("invalid: ") and "still running" not in out
    with pytest.raises(CheckFailed, match="final head"):
        load_results(log)
    assert load_document(str(log)).signature.startswith("invalid: line 9")
    forged = log.read_bytes()
    with pytest.raises(CheckFailed, match=r"refusing to sign over.*final head"):
        open_recorder(log)  # an honest writer never signs over them
    assert log.read_bytes() == forged


def test_a_result_after_one_writers_final_head_while_another_writer_is_open(
    log: Path,
) -> None:
    # A second writer (another setup) opens, then the first one's results are forged after
    # its final head: the open writer did not write them - it runs under another manifest.
    other = make_manifest(cpu=make_manifest().cpu.__class__(model_name="Apple M3 Max"))
    rec = open_recorder(log, manifest=other)
    rec.record("tg128", metrics={"tokens_per_s": 70.0})
    rec._log._appender.close()  # still running (or crashed): its result stays unsigned
    assert verify_log(log, allow_open=True).ok  # that much is a log still being written
    append_forged(log)  # a copy of the *first* writer's result, after its final head
    problems = verify_log(log, allow_open=True).problems
    assert problems and "after its writer's final head (line 8)" in problems[0]


def test_remaining_heads_bound_what_their_writer_left_unsigned(tmp_path: Path) -> None:
    # A writer signs a head at least every head_every results and says so in its heads: a
    # log cut after one of them and extended with more unsigned results than that lost
    # signed heads.
    path = tmp_path / "r.jsonl"
    with open_recorder(path, head_every=2) as rec:
        for i in range(6):
            rec.record(f"r{i}", metrics={"tokens_per_s": 40.0 + i})
    kinds = kinds_of(path)
    first_periodic = [i for i, kind in enumerate(kinds) if kind == "head"][1]
    lines = [
        line for i, line in enumerate(lines_of(path))
        if i <= first_periodic or kinds[i] == "result"
    ]
    write_lines(path, rechain(lines, first_periodic + 1))  # 4 results after that head
    report = verify_log(path, allow_open=True)
    assert not report.ok
    assert any("signs a head at least every 2 results" in p for p in report.problems)
    # One unsigned result is what a writer still running (or crashed) may leave.
    write_lines(path, lines_of(path)[: first_periodic + 2])
    report = verify_log(path, allow_open=True)
    assert report.ok and (report.results_signed, report.results_unsigned) == (2, 1)


def test_heads_name_their_writer_and_how_often_it_signs(log: Path) -> None:
    heads = [
        results.envelope_predicate(json.loads(line)["envelope"])
        for line in lines_of(log) if is_kind("head")(line)
    ]
    assert len({h["writer"] for h in heads}) == 1 and all(h["head_every"] == 1000 for h in heads)


def test_logs_written_before_heads_named_their_writer_are_still_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Heads as envstamp signed them before they named their writer and its head_every.
    plain = results.head_statement

    def old_format(prev: str, **fields: object) -> dict[str, object]:
        fields.pop("writer", None)
        fields.pop("head_every", None)
        return plain(prev, **fields)  # type: ignore[arg-type]

    log = tmp_path / "old.jsonl"
    with monkeypatch.context() as patched:
        patched.setattr(results, "head_statement", old_format)
        with open_recorder(log) as rec:
            rec.record("pp512", metrics={"tokens_per_s": 1024.5})
    assert "writer" not in results.envelope_predicate(json.loads(lines_of(log)[-1])["envelope"])
    assert verify_log(log).ok  # an honest log of that format verifies
    append_forged(log)
    problems = verify_log(log, allow_open=True).problems
    assert problems and "after every writer of the log signed its final head" in problems[0]
    assert "(the last at line 5)" in problems[0]


def test_heads_signed_by_the_attackers_key_are_not_valid(log: Path) -> None:
    attacker = SigningKey.generate()
    lines = lines_of(log)
    index = kinds_of(log).index("result")
    lines[index] = edit_result(lines[index])
    lines = rechain(lines, index)
    for i, line in enumerate(lines):  # re-sign every head with the attacker's key
        data = json.loads(line)
        if data["kind"] != "head":
            continue
        prev = data["prev"]
        statement = results.head_statement(prev, final=data["final"], results=0)
        from envstamp.signing.sign import sign_statement

        body = results.head_body(sign_statement(statement, attacker), final=data["final"])
        lines[i] = chainlog.chain_line(prev, body)
        lines = rechain(lines, i + 1) if i + 1 < len(lines) else lines
    write_lines(log, lines)
    report = verify_log(log, allow_open=True)
    assert not report.ok and any("no signature verifies" in p for p in report.problems)
    with pytest.raises(CheckFailed):
        load_results(log)


def test_a_head_that_claims_lines_that_are_not_there_is_a_problem(tmp_path: Path) -> None:
    # Even a trusted key's head only counts for whole lines before it.
    path = tmp_path / "r.jsonl"
    with open_recorder(path) as rec:
        rec.record("a", metrics={"x": 1.0})
    lines = lines_of(path)
    from envstamp.signing.keys import load_signing_key
    from envstamp.signing.sign import sign_statement

    prev = json.loads(lines[-1])["prev"]
    statement = results.head_statement(prev, final=True, results=1, own_lines=[(3, 10_000)])
    body = results.head_body(sign_statement(statement, load_signing_key()), final=True)
    lines[-1] = chainlog.chain_line(prev, body)
    write_lines(path, lines)
    assert any("claims lines that are not there" in p for p in verify_log(path).problems)


# ------------------------------------------------------------------------------ truncated


def test_a_log_cut_at_an_intermediate_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.jsonl"
    with open_recorder(path, head_every=2) as rec:
        for i in range(5):
            rec.record(f"r{i}", metrics={"x": float(i)})
    kinds = kinds_of(path)
    second_head = [i for i, kind in enumerate(kinds) if kind == "head"][1]
    write_lines(path, lines_of(path)[: second_head + 1])
    report = verify_log(path)
    assert report.intact and not report.closed and not report.ok
    assert (report.results_signed, report.results_unsigned) == (2, 0)
    assert cli("verify", str(path)) == 1
    err = capsys.readouterr().err
    assert "0 lines" not in err and "ends at a signed head" in err and "not its final" in err
    assert cli("verify", "--allow-open", str(path)) == 0
    assert load_document(str(path)).signature == (
        f"verified: 2 of 2 results signed by {report.signers[0][:16]}; the log is not closed"
    )


def test_a_log_whose_header_was_removed(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_lines(log, lines_of(log)[1:])
    assert cli("verify", str(log)) == 1
    out, err = capsys.readouterr()
    assert "header" in err and "Extra data" not in err + out
    with pytest.raises(CheckFailed, match="header"):
        load_results(log)
    with pytest.raises(InputError, match="header"):
        load_results(log, verify=False)
    assert cli("show", str(log)) == 2
    assert "header" in capsys.readouterr().err


def test_a_torn_write_keeps_what_was_signed_before_it(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = open_recorder(path, head_every=2)
    for i in range(3):
        rec.record(f"r{i}", metrics={"x": float(i)})
    rec._log._appender.close()  # the writer dies
    with path.open("ab") as handle:
        handle.write(lines_of(path)[-1][:50])
    report = verify_log(path, allow_open=True)
    assert report.ok and report.torn_last_line
    assert (report.results_signed, report.results_unsigned) == (2, 1)
    assert [bool(r.signed_by) for r in load_results(path, require_signed=False)] == [
        True, True, False
    ]


@pytest.mark.parametrize("kind", ["manifest", "head"])
def test_deleting_a_writers_manifest_or_opening_head_is_detected(log: Path, kind: str) -> None:
    lines = lines_of(log)
    index = kinds_of(log).index(kind)
    del lines[index]
    write_lines(log, rechain(lines, index))
    report = verify_log(log, allow_open=True)
    assert report.problems and not report.ok


def test_a_second_writers_manifest_without_its_head(log: Path) -> None:
    other = make_manifest(cpu=make_manifest().cpu.__class__(model_name="Apple M3 Max"))
    with open_recorder(log, manifest=other) as rec:
        rec.record("tg128", metrics={"tokens_per_s": 70.0})
    lines = lines_of(log)
    heads = [i for i, kind in enumerate(kinds_of(log)) if kind == "head"]
    second_opening = heads[2]
    del lines[second_opening]
    write_lines(log, rechain(lines, second_opening))
    assert any(
        "not followed by its writer's signed head" in p
        for p in verify_log(log, allow_open=True).problems
    )


# ----------------------------------------------------------- what verify says (review gap 2)


def test_a_log_without_heads_names_no_head_signer(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forge_without_heads(log)
    assert cli("verify", str(log)) == 1
    out = capsys.readouterr().out
    assert "0 signed heads" in out
    assert "\n  signed by:" not in out and "heads signed by" not in out
    assert "manifests signed by: " in out  # that key signed the manifest, and only that
    report = verify_log(log)
    assert report.head_signers == [] and report.signers


def test_a_closed_log_with_unsigned_results_never_reads_all_signed(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forge_after_the_opening_head(log)
    with open_recorder(log) as rec:  # an honest writer appends and closes the log
        rec.record("honest", metrics={"tokens_per_s": 60.0})
    assert cli("verify", str(log)) == 1
    out = capsys.readouterr().out
    assert "all" not in out.replace("allow", "") and "lines signed" not in out
    assert "ends with a final signed head" in out and "4 unsigned" in out


def test_counts_of_one_are_singular(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_lines(log, lines_of(log)[:-1])  # the final head cut: 4 results unsigned
    assert cli("verify", str(log)) == 1
    err = capsys.readouterr().err
    assert "4 lines after line 3 are not covered" in err
    write_lines(log, lines_of(log)[:4])
    assert cli("verify", str(log)) == 1
    err = capsys.readouterr().err
    assert "1 line after line 3 is not covered" in err and "1 lines" not in err


def test_allow_open_says_the_log_is_open_not_plain_ok(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_lines(log, lines_of(log)[:-1])  # the final head cut: 4 results unsigned
    assert cli("verify", "--allow-open", str(log)) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith(f"unsigned: {log}: 4 results, ")  # none of the 4 is signed
    assert first.endswith("(still open, accepted with --allow-open)")


def test_load_results_without_a_trusted_key_says_nothing_was_checked(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forge_after_the_opening_head(log)
    monkeypatch.setenv("ENVSTAMP_CONFIG_DIR", str(tmp_path / "no-keys-here"))
    loaded = load_results(log)  # nothing to check with: loaded, and marked so
    assert loaded and all(r.signed_by is None for r in loaded)
    with pytest.raises(CheckFailed, match="no trusted key checked it"):
        load_results(log, require_signed=True)
