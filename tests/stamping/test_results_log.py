"""The results log: round trips, the hash chain, signed heads, tampering, torn lines, bad input."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import jsonschema
import pytest

from envstamp.documents import load_document
from envstamp.errors import CaptureError, CheckFailed, InputError
from envstamp.stamping import chainlog, results
from envstamp.stamping.results import Result, load_results, verify_log
from tests.timing_support import kinds_of, lines_of, make_manifest, open_recorder, write_lines


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A closed log: header, manifest and its head, four results, one final head."""
    path = tmp_path / "results.jsonl"
    with open_recorder(path) as rec:
        with rec.timer("pp512", model="qwen2-7b-q4_k_m.gguf") as t:
            t.metrics["tokens_per_s"] = 1024.5
        rec.record("tg128", metrics={"tokens_per_s": 58.1}, params={"n_gpu_layers": 99})
        rec.record("load", wall_s=[1.5, 1.4, 1.6])
        rec.record("embed", metrics={"tokens_per_s": 3000.0})
    return path


# --------------------------------------------------------------------------- round trip


def test_round_trip_keeps_every_field(log: Path) -> None:
    loaded = load_results(log)
    assert [r.name for r in loaded] == ["pp512", "tg128", "load", "embed"]
    pp = loaded[0]
    assert pp.params == {"model": "qwen2-7b-q4_k_m.gguf"}
    assert pp.metrics == {"tokens_per_s": 1024.5}
    assert len(pp.wall_s) == 1 and pp.summary["wall_s"].n == 1
    assert pp.origin == "timer"
    assert loaded[1].params == {"n_gpu_layers": 99}
    assert loaded[2].summary["wall_s"].median == 1.5
    assert loaded[2].summary["wall_s"].stddev == pytest.approx(0.1)


def test_each_result_carries_its_manifest_and_chain_hashes(log: Path) -> None:
    loaded = load_results(log)
    digests = {r.manifest_digest for r in loaded}
    assert len(digests) == 1
    for result in loaded:
        assert result.manifest is not None
        assert result.manifest.cpu.model_name == "AMD Ryzen 9 7950X 16-Core Processor"
        assert result.hash is not None and len(result.hash) == 64
    assert loaded[1].prev == loaded[0].hash


def test_layout_header_manifest_head_results_final_head(log: Path) -> None:
    kinds = ["log", "manifest", "head", "result", "result", "result", "result", "head"]
    assert kinds_of(log) == kinds
    first = json.loads(lines_of(log)[0])
    assert first["prev"] == chainlog.GENESIS and first["schema"] == results.LOG_SCHEMA
    assert json.loads(lines_of(log)[2])["final"] is False  # the writer's opening head
    assert json.loads(lines_of(log)[-1])["final"] is True


def test_closed_log_verifies(log: Path) -> None:
    report = verify_log(log)
    assert report.ok and report.intact and report.closed
    assert (report.results, report.manifests, report.heads) == (4, 1, 2)
    assert report.results_signed == 4 and report.results_unsigned == 0
    assert report.unsigned_lines == 0
    assert report.summary_lines()[0].startswith("OK:")


def test_a_second_recorder_appends_its_own_manifest(log: Path) -> None:
    other = make_manifest(cpu=make_manifest().cpu.__class__(model_name="Apple M3 Max"))
    with open_recorder(log, manifest=other) as rec:
        rec.record("tg128", metrics={"tokens_per_s": 70.0})
    loaded = load_results(log)
    assert loaded[-1].manifest is not None
    assert loaded[-1].manifest.cpu.model_name == "Apple M3 Max"
    assert loaded[0].manifest_digest != loaded[-1].manifest_digest
    report = verify_log(log)
    assert report.ok and report.manifests == 2 and report.heads == 4


def test_results_document_for_show_and_diff(log: Path) -> None:
    doc = load_document(str(log))
    assert doc.kind == "results"
    assert len(doc.results) == 4
    assert doc.signature.startswith("verified: 4 of 4 results signed")
    assert doc.manifest.cpu.model_name == "AMD Ryzen 9 7950X 16-Core Processor"
    assert "results log, 4 results" in doc.note


def test_result_line_matches_the_published_schema(log: Path) -> None:
    validator = jsonschema.Draft202012Validator(results.results_schema())
    for line in lines_of(log):
        data = json.loads(line)
        if data["kind"] == "result":
            validator.validate(data)
    assert not validator.is_valid({"prev": "0" * 64, "kind": "result", "name": "x"})


# ------------------------------------------------------------------------------ heads


def test_heads_are_signed_every_n_records(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with open_recorder(path, head_every=3) as rec:
        for i in range(7):
            rec.record(f"r{i}", metrics={"tokens_per_s": float(i)})
    kinds = kinds_of(path)
    assert kinds.count("head") == 4  # at the start, after 3, after 6, and the final one
    assert verify_log(path).ok


def test_heads_are_signed_every_t_seconds(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    clock = [1000.0]
    with open_recorder(path, head_seconds=5.0) as rec:
        rec._log._clock = lambda: clock[0]
        rec._log._last_head = clock[0]
        rec.record("a", metrics={"x": 1.0})
        clock[0] += 6.0
        rec.record("b", metrics={"x": 2.0})
        rec.record("c", metrics={"x": 3.0})
    kinds = ["log", "manifest", "head", "result", "result", "head", "result", "head"]
    assert kinds_of(path) == kinds


def test_an_open_log_is_intact_but_not_closed(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = open_recorder(path, head_every=2)
    for i in range(3):
        rec.record(f"r{i}", metrics={"x": float(i)})
    report = verify_log(path)
    assert report.intact and not report.closed and not report.ok
    assert report.unsigned_lines == 1
    assert verify_log(path, allow_open=True).ok
    assert "not covered by a signature" in "\n".join(report.summary_lines())
    rec.close()
    assert verify_log(path).ok


# ---------------------------------------------------------------------------- tampering


def _tampered(log: Path, lines: list[bytes]) -> results.LogReport:
    write_lines(log, lines)
    return verify_log(log)


@pytest.mark.parametrize("index", range(8))
def test_deleting_any_line_is_detected(log: Path, index: int) -> None:
    lines = lines_of(log)
    del lines[index]
    report = _tampered(log, lines)
    assert not report.ok
    if index == 7:  # the final head: what is left is an unsigned tail, not a closed log
        assert not report.closed and report.unsigned_lines == 4
        assert report.results_unsigned == 4
    else:
        assert report.problems


@pytest.mark.parametrize("index", range(1, 7))
def test_swapping_neighbours_is_detected(log: Path, index: int) -> None:
    lines = lines_of(log)
    lines[index], lines[index + 1] = lines[index + 1], lines[index]
    report = _tampered(log, lines)
    assert report.problems and not report.ok


@pytest.mark.parametrize("index", range(8))
def test_editing_any_line_is_detected(log: Path, index: int) -> None:
    lines = lines_of(log)
    data = json.loads(lines[index])
    if data["kind"] == "result":
        data["metrics"] = {"tokens_per_s": 9999.0}
    elif data["kind"] == "head":
        data["final"] = not data["final"]
    elif data["kind"] == "manifest":
        data["identity_digest"] = "sha256:" + "1" * 64
    else:
        data["created_at"] = "1999-01-01T00:00:00.000Z"
    lines[index] = json.dumps(data, separators=(",", ":")).encode()
    report = _tampered(log, lines)
    assert report.problems, index


def test_editing_the_final_head_layout_is_detected(log: Path) -> None:
    lines = lines_of(log)
    lines[-1] = lines[-1][:-1] + b', "note": "fine"}'
    report = _tampered(log, lines)
    assert any("final head line was edited" in p for p in report.problems)


def test_duplicating_a_line_is_detected(log: Path) -> None:
    lines = lines_of(log)
    lines.insert(3, lines[2])
    assert _tampered(log, lines).problems


def test_rewriting_the_chain_without_the_key_fails_the_signature(log: Path) -> None:
    # Edit a result and re-chain everything after it: only the head signature can tell.
    lines = lines_of(log)
    data = json.loads(lines[3])
    data["metrics"]["tokens_per_s"] = 1.0
    del data["prev"]
    prev = chainlog.line_hash(lines[2])
    rebuilt = lines[:3]
    for body in [chainlog.encode_body(data), *(_body(x) for x in lines[4:])]:
        line = chainlog.chain_line(prev, body)
        rebuilt.append(line)
        prev = chainlog.line_hash(line)
    report = _tampered(log, rebuilt)
    assert any("signed head does not cover" in p for p in report.problems)


def _body(line: bytes) -> bytes:
    data = json.loads(line)
    del data["prev"]
    return chainlog.encode_body(data)


def test_load_results_refuses_a_tampered_log(log: Path) -> None:
    lines = lines_of(log)
    del lines[3]
    write_lines(log, lines)
    with pytest.raises(CheckFailed, match="line 4"):
        load_results(log)
    assert len(load_results(log, verify=False)) == 3
    assert load_document(str(log)).signature.startswith("invalid:")


def test_another_key_is_not_trusted(log: Path) -> None:
    from envstamp.signing.keys import SigningKey

    stranger = SigningKey.generate().public_key
    report = verify_log(log, trusted=[stranger])
    assert not report.ok and any("signature" in p for p in report.problems)


# ---------------------------------------------------------------------------- torn lines


def test_torn_last_line_is_reported_and_the_rest_stays_valid(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = open_recorder(path)
    for i in range(3):
        rec.record(f"r{i}", metrics={"x": float(i)})
    full = lines_of(path)
    rec._log._appender.close()  # the process "dies": no close(), no final head
    with path.open("ab") as handle:
        handle.write(full[-1][:40])  # a write cut short
    report = verify_log(path)
    assert report.torn_last_line and report.intact and not report.ok
    assert report.lines == len(full)
    assert "torn last line" in "\n".join(report.summary_lines())
    # r2 is after the last head: unsigned, returned only when asked for.
    assert [r.name for r in load_results(path, require_signed=False)] == ["r0", "r1", "r2"]


def _log_after_a_torn_fragment(tmp_path: Path) -> Path:
    """A log whose writer died mid-line ("before"), then appended to by a new one ("after")."""
    path = tmp_path / "r.jsonl"
    rec = open_recorder(path)
    rec.record("before", metrics={"x": 1.0})
    rec._log._appender.close()
    with path.open("ab") as handle:
        handle.write(b'{"prev":"' + b"a" * 30)
    with open_recorder(path) as again:
        again.record("after", metrics={"x": 2.0})
    return path


def test_next_writer_accounts_for_a_torn_fragment(tmp_path: Path) -> None:
    path = _log_after_a_torn_fragment(tmp_path)
    assert any(b'"kind":"torn"' in line for line in lines_of(path))
    report = verify_log(path)
    assert report.intact and report.closed, report.problems
    assert len(report.torn_lines) == 1 and not report.torn_last_line
    # The writer that died never signed "before": nobody vouches for it, so it stays unsigned
    # (plain verify says so), while the next writer's own result is signed.
    assert (report.results_signed, report.results_unsigned) == (1, 1) and not report.ok
    assert verify_log(path, allow_open=True).ok
    before, after = load_results(path, require_signed=False)
    assert (before.name, before.signed_by) == ("before", ())
    assert after.name == "after" and len(after.signed_by) == 1


def test_a_torn_marker_that_does_not_match_is_a_problem(tmp_path: Path) -> None:
    path = _log_after_a_torn_fragment(tmp_path)
    lines = lines_of(path)
    index = next(i for i, line in enumerate(lines) if b'"kind":"torn"' in line)
    lines[index - 1] = lines[index - 1] + b"b"  # the fragment no longer matches its marker
    write_lines(path, lines)
    assert verify_log(path).problems


# ----------------------------------------------------------------------------- bad input


def test_a_result_needs_its_manifest_digest() -> None:
    with pytest.raises(TypeError):
        Result(name="pp512")  # type: ignore[call-arg]
    with pytest.raises(InputError, match="digest of the manifest"):
        Result(manifest_digest="", name="pp512")
    with pytest.raises(InputError, match="non-empty name"):
        Result(manifest_digest="sha256:" + "a" * 64, name=" ")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_metrics_are_refused_clearly(tmp_path: Path, bad: float) -> None:
    with open_recorder(tmp_path / "r.jsonl") as rec:
        with pytest.raises(InputError, match="finite numbers"):
            rec.record("x", metrics={"tokens_per_s": bad})
        with pytest.raises(InputError, match="finite numbers"):
            rec.record("x", wall_s=[1.0, bad])
        with pytest.raises(InputError, match="finite numbers"), rec.timer("t") as t:
            t.metrics["tokens_per_s"] = bad
        with pytest.raises(InputError, match="NaN/inf"):
            rec.record("x", params={"temperature": bad})
        rec.record("fine", metrics={"tokens_per_s": 1.0})
    assert [r.name for r in load_results(tmp_path / "r.jsonl")] == ["fine"]


def test_non_scalar_params_are_stored_as_text_or_refused(tmp_path: Path) -> None:
    with open_recorder(tmp_path / "r.jsonl") as rec:
        result = rec.record("x", params={"path": Path("m.gguf"), "sizes": (1, 2)})
    assert result.params == {"path": "m.gguf", "sizes": [1, 2]}
    with pytest.raises(InputError, match="parameter"):
        Result(manifest_digest="sha256:" + "a" * 64, name="x", params={"d": {"a": 1}})


def test_unwritable_path_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder does not exist"):
        open_recorder(tmp_path / "missing" / "r.jsonl")
    with pytest.raises(InputError, match="is a folder"):
        open_recorder(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="cannot write results"):
        open_recorder(blocker / "r.jsonl")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX, not root")
def test_read_only_folder_fails_at_construction(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(InputError, match="permission denied"):
            open_recorder(folder / "r.jsonl")
    finally:
        folder.chmod(0o755)


def test_a_results_file_from_another_tool_is_never_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    original = b'{"benchmark": "pp512", "tps": 1000}\n{"benchmark": "tg128", "tps": 50}\n'
    path.write_bytes(original)
    with pytest.raises(InputError, match="another tool"):
        open_recorder(path)
    assert path.read_bytes() == original
    with pytest.raises(InputError, match="not an envstamp results log"):
        verify_log(path)
    with pytest.raises(InputError, match="not an envstamp results log"):
        load_results(path)


def test_lines_appended_by_another_tool_stop_the_next_writer(log: Path) -> None:
    with log.open("ab") as handle:
        handle.write(b'{"note": "added by hand"}\n')
    with pytest.raises(InputError, match="another tool"):
        with open_recorder(log) as rec:
            rec.record("x", metrics={"a": 1.0})
    assert verify_log(log).problems


def test_a_results_file_whose_manifest_was_removed(log: Path) -> None:
    lines = lines_of(log)
    write_lines(log, [line for line in lines if b'"kind":"manifest"' not in line])
    report = verify_log(log)
    assert any("not stored before it" in p for p in report.problems)
    with pytest.raises(CheckFailed):
        load_results(log)
    with pytest.raises(InputError, match="not in this file"):
        load_results(log, verify=False)


def test_durable_appends_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    with open_recorder(tmp_path / "r.jsonl", durable=True) as rec:
        before = len(calls)
        rec.record("x", metrics={"a": 1.0})
        assert len(calls) == before + 1
    with open_recorder(tmp_path / "q.jsonl") as rec:
        before = len(calls)
        rec.record("x", metrics={"a": 1.0})
        assert len(calls) == before


def test_recorder_fails_at_construction_when_signing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.signing import sign

    def refuse(*_args: object, **_kwargs: object) -> dict[str, object]:
        raise InputError("the key is locked")

    monkeypatch.setattr(sign, "sign_manifest", refuse)
    with pytest.raises(CaptureError, match="cannot sign the manifest: the key is locked"):
        open_recorder(tmp_path / "r.jsonl")
    assert not (tmp_path / "r.jsonl").exists()


def test_recorder_fails_at_construction_when_capture_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.capturing import capture as capture_module

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("probe machinery exploded")

    monkeypatch.setattr(capture_module, "capture", broken)
    with pytest.raises(CaptureError, match="cannot capture the manifest"):
        open_recorder(tmp_path / "r.jsonl", manifest=None)


def test_a_missing_key_file_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        open_recorder(tmp_path / "r.jsonl", key=tmp_path / "no-such-key.pem")


def test_a_signed_envelope_can_be_given_as_the_manifest(tmp_path: Path) -> None:
    from envstamp.signing import sign

    envelope = sign.sign_manifest(make_manifest())
    with open_recorder(tmp_path / "r.jsonl", manifest=envelope) as rec:
        rec.record("x", metrics={"a": 1.0})
    loaded = load_results(tmp_path / "r.jsonl")
    assert loaded[0].manifest is not None and loaded[0].manifest.gpus[0].vendor == "amd"


def test_a_closed_recorder_refuses_more_results(tmp_path: Path) -> None:
    rec = open_recorder(tmp_path / "r.jsonl")
    rec.close()
    rec.close()  # idempotent
    with pytest.raises(InputError, match="closed"):
        rec.record("late", metrics={"a": 1.0})


def test_non_ascii_names_and_params_round_trip(tmp_path: Path) -> None:
    with open_recorder(tmp_path / "r.jsonl") as rec:
        rec.record("génération 模型", params={"prompt": "¿qué tal?"}, metrics={"tps": 1.0})
    (result,) = load_results(tmp_path / "r.jsonl")
    assert result.name == "génération 模型" and result.params == {"prompt": "¿qué tal?"}
    assert (tmp_path / "r.jsonl").read_bytes().isascii()  # escaped: one spelling per line


def test_cli_verifies_a_log_larger_than_any_envelope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.cli.main import main
    from envstamp.signing import verify

    path = tmp_path / "big.jsonl"
    with open_recorder(path) as rec:
        for i in range(50):
            rec.record(f"t{i}", metrics={"tokens_per_s": float(i + 1)})
    # Shrink the envelope cap below the log's size: the log must still be verified whole.
    monkeypatch.setattr(verify, "MAX_ENVELOPE_BYTES", path.stat().st_size // 4)
    assert main(["verify", str(path)]) == 0
    assert "50 results" in capsys.readouterr().out
