"""Properties of stamped results and the results log: round trips, tampering, coverage.

Logs here are written by :class:`ResultLog` itself with a fixed RFC 8032 key, so each test
knows exactly which results a signed head covers.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.errors import CheckFailed, InputError
from envstamp.manifest.document import Status
from envstamp.signing.sign import sign_manifest
from envstamp.stamping import chainlog, results
from envstamp.stamping.results import (
    Advice,
    MemoryUse,
    Result,
    ResultLog,
    Summary,
    load_results,
    results_verification,
    summarize,
    summarize_stats,
    verify_log,
)
from tests.sign_support import rfc_key, write_public
from tests.timing_support import lines_of, make_manifest, write_lines

KEY = rfc_key(0)
OTHER = rfc_key(1)
TRUSTED = [KEY.public_key]
ENVELOPE = sign_manifest(make_manifest(), KEY)
DIGEST = results.manifest_digest_of(results.envelope_predicate(ENVELOPE))
FEW = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])

# ------------------------------------------------------------------------- strategies

NAMES = st.text(min_size=1, max_size=16).filter(lambda s: s.strip() != "")
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
PARAMS = st.dictionaries(st.text(max_size=10), st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
                         max_size=3)
SPEEDS = st.floats(0, 1e9, allow_nan=False)
SERIES = st.lists(SPEEDS, min_size=1, max_size=5)
METRIC_NAMES = st.sampled_from(["tokens_per_s", "prompt_ms", "avg_ts", "load_s"])


@st.composite
def result_strategy(draw: st.DrawFn) -> Result:
    wall = draw(st.lists(SPEEDS, max_size=4))
    samples = draw(st.dictionaries(METRIC_NAMES, SERIES, max_size=2))
    summary = {name: summarize(values) for name, values in samples.items()}
    if wall:
        summary["wall_s"] = summarize(wall)
    memory = draw(st.one_of(st.none(), st.builds(
        MemoryUse, rss_peak_bytes=st.integers(0, 2**40), samples=st.integers(0, 100),
        source=st.sampled_from(["proc", "rusage", None]))))
    return Result(
        manifest_digest=DIGEST,
        name=draw(NAMES),
        at=draw(st.one_of(st.none(), st.just("2025-03-01T09:00:01.250Z"))),
        origin=draw(st.sampled_from([None, "timer", "record", "run", "bench"])),
        params=draw(PARAMS),
        metrics=draw(st.dictionaries(METRIC_NAMES, SPEEDS, max_size=2)),
        wall_s=wall,
        metric_samples=samples,
        summary=summary,
        memory=memory,
        advice=draw(st.lists(st.builds(Advice, code=st.sampled_from(["spread", "battery"]),
                                       message=st.text(max_size=20)), max_size=2)),
        command=draw(st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=3))),
        exit_code=draw(st.one_of(st.none(), st.integers(-64, 255))),
        failed=draw(st.booleans()),
        exit_signal=draw(st.one_of(st.none(), st.sampled_from(["SIGILL", "SIGKILL"]))),
        param_tolerance=draw(st.dictionaries(st.text(max_size=6), SPEEDS, max_size=2)),
    )


def _write(path: Path, batches: list[list[Result]], *, close: bool = True,
           head_every: int = 1000) -> ResultLog:
    log = ResultLog(path, envelope=ENVELOPE, key=KEY, head_every=head_every,
                    head_seconds=3600.0)
    for batch in batches:
        log.write(batch)
    if close:
        log.close()
    return log


def _abandon(log: ResultLog) -> None:
    """Stop a writer as a crash would: no final head (the file is only closed)."""
    log._appender.close()


def _named(*names: str) -> list[Result]:
    return [Result(manifest_digest=DIGEST, name=n, metrics={"tokens_per_s": 10.0 + i})
            for i, n in enumerate(names)]


@pytest.fixture
def closed(tmp_path: Path) -> Path:
    path = tmp_path / "closed.jsonl"
    _write(path, [_named("pp512", "tg128"), _named("load")])
    return path


# ------------------------------------------------------------------------- round trips


@FEW
@given(batches=st.lists(st.lists(result_strategy(), min_size=1, max_size=3), min_size=1,
                        max_size=3))
def test_any_results_come_back_equal_with_their_manifest_and_signer(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[Result]]
) -> None:
    path = tmp_path_factory.mktemp("log") / "r.jsonl"
    _write(path, batches)
    written = [r for batch in batches for r in batch]
    loaded = load_results(path, trusted=TRUSTED, include_failed=True)
    assert loaded == written
    assert [r.hash for r in loaded] == [r.hash for r in written]  # the hashes the writer set
    for result in loaded:
        assert result.manifest == make_manifest() and result.signed_by == (KEY.keyid,)
    assert load_results(path, trusted=TRUSTED) == [r for r in written if not r.failed]
    report = verify_log(path, trusted=TRUSTED)
    assert report.ok and report.results == report.results_signed == len(written)


@settings(max_examples=40, deadline=None)
@given(result_strategy())
def test_a_result_line_is_compact_ascii_and_leaves_out_what_is_empty(result: Result) -> None:
    body = results.result_body(result)
    assert body.isascii() and b"\n" not in body
    data = json.loads(body)
    assert list(data)[:3] == ["kind", "manifest_digest", "name"]
    assert None not in data.values()
    collections = ("params", "metrics", "wall_s", "metric_samples", "summary", "advice",
                   "param_tolerance")
    assert all(data[name] for name in collections if name in data)
    assert ("command" in data) == (result.command is not None)  # an empty command is one
    assert ("failed" in data) == result.failed


def test_the_writer_sets_each_results_chain_hashes(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    written = _named("a", "b", "c")
    _write(path, [written[:2], written[2:]])
    lines = lines_of(path)
    by_hash = {chainlog.line_hash(line): line for line in lines}
    for result in written:
        assert result.hash in by_hash
        line = json.loads(by_hash[result.hash])
        assert (line["name"], line["prev"]) == (result.name, result.prev)
    assert written[1].prev == written[0].hash


# ------------------------------------------------------------------------------ summaries


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=20))
def test_summaries_bound_the_samples(samples: list[float]) -> None:
    s = summarize(samples)
    assert s.n == len(samples)
    assert s.min == min(samples) and s.max == max(samples)
    assert s.min <= s.median <= s.max  # type: ignore[operator]
    assert s.min - 1e-6 <= s.mean <= s.max + 1e-6
    assert (s.stddev is None) == (len(samples) == 1)


@given(st.lists(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=6),
                min_size=1, max_size=4))
def test_pooled_statistics_equal_those_of_all_samples(groups: list[list[float]]) -> None:
    parts = [(statistics.fmean(g), statistics.stdev(g) if len(g) > 1 else None, len(g))
             for g in groups]
    pooled = summarize_stats(parts)
    whole = summarize([x for g in groups for x in g])
    assert pooled.n == whole.n
    assert pooled.mean == pytest.approx(whole.mean, rel=1e-9, abs=1e-9)
    assert (pooled.median, pooled.min, pooled.max) == (None, None, None)
    if whole.stddev is None:
        assert pooled.stddev is None
    else:
        assert pooled.stddev == pytest.approx(whole.stddev, rel=1e-6, abs=1e-6)


def test_pooled_statistics_without_a_spread_leave_the_stddev_unknown() -> None:
    assert summarize_stats([(10.0, None, 3), (12.0, 0.5, 3)]).stddev is None
    assert summarize_stats([(10.0, None, 1), (12.0, None, 1)]).stddev == pytest.approx(
        math.sqrt(2))
    with pytest.raises(InputError):
        summarize_stats([])


# ------------------------------------------------------------------------ what is refused


@pytest.mark.parametrize("name", ["tokens_per_s", "prompt_ms", "t/s", "elapsed", "decode_TPS"])
def test_a_negative_time_or_speed_is_refused(name: str) -> None:
    assert results.is_time_or_speed(name)
    with pytest.raises(InputError, match="cannot be negative"):
        Result(manifest_digest=DIGEST, name="x", metrics={name: -1.0})
    with pytest.raises(InputError, match="cannot be negative"):
        Result(manifest_digest=DIGEST, name="x", metric_samples={name: [1.0, -0.5]})


@pytest.mark.parametrize("name", ["delta_pct", "score", "temperature_c", "perplexity_diff"])
def test_a_negative_value_of_another_metric_is_a_measurement(name: str) -> None:
    assert not results.is_time_or_speed(name)
    assert Result(manifest_digest=DIGEST, name="x", metrics={name: -3.5}).metrics == {name: -3.5}


def test_a_negative_summary_or_wall_time_is_refused() -> None:
    with pytest.raises(InputError, match="wall time"):
        Result(manifest_digest=DIGEST, name="x", wall_s=[0.5, -0.1])
    bad = Summary(mean=-1.0, median=None, stddev=None, min=None, max=None, n=2)
    with pytest.raises(InputError, match="tokens_per_s"):
        Result(manifest_digest=DIGEST, name="x", summary={"tokens_per_s": bad})


@pytest.mark.parametrize(
    ("field", "value"),
    [("params", {"p": {"nested": 1}}), ("params", {"p": [1, [2]]}),
     ("params", {"p": math.nan}), ("metrics", {"m": True}), ("wall_s", [1.0, "2"]),
     ("param_tolerance", {"p": -0.5}), ("name", "   "), ("manifest_digest", "sha256:ABC")],
)
def test_values_a_result_cannot_hold(field: str, value: Any) -> None:
    given: dict[str, Any] = {"manifest_digest": DIGEST, "name": "x", field: value}
    with pytest.raises(InputError):
        Result(**given)


def test_params_are_cleaned_to_json_scalars_with_secrets_redacted() -> None:
    cleaned = results.clean_params({"shape": (1, 2), "path": Path("m.gguf"),
                                    "api_key": "sk-live-abcdef0123456789"})
    assert cleaned["shape"] == [1, 2] and cleaned["path"] == "m.gguf"
    assert "abcdef0123456789" not in json.dumps(cleaned)


# ----------------------------------------------------------------- tampering, any byte


def _final_keyid_span(lines: list[bytes]) -> range:
    last = lines[-1]
    keyid = KEY.keyid.encode()
    start = last.index(keyid)
    return range(start, start + len(keyid))


@FEW
@given(data=st.data())
def test_any_single_byte_change_is_detected(closed: Path, data: st.DataObject) -> None:
    lines = lines_of(closed)
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    line = lines[index]
    positions = [p for p in range(len(line))
                 if index < len(lines) - 1 or p not in _final_keyid_span(lines)]
    at = data.draw(st.sampled_from(positions), label="byte")
    mask = data.draw(st.integers(1, 255), label="mask")
    changed = bytearray(line)
    changed[at] ^= mask
    tampered = [*lines[:index], bytes(changed), *lines[index + 1 :]]
    data_bytes = b"\n".join(tampered) + b"\n"
    try:
        report = verify_log(data_bytes, trusted=TRUSTED)
    except InputError:
        return  # no longer reads as a results log at all: refused, not trusted
    assert not report.ok
    assert report.problems or report.results_signed < 3 or not report.closed
    with pytest.raises((CheckFailed, InputError)):
        load_results(data_bytes, trusted=TRUSTED)


def test_the_keyid_hint_of_the_final_head_is_not_what_signs_it(closed: Path) -> None:
    # DSSE keyids are unsigned hints: rewriting one changes no verdict and no signer
    lines = lines_of(closed)
    lines[-1] = lines[-1].replace(KEY.keyid.encode(), OTHER.keyid.encode())
    report = verify_log(b"\n".join(lines) + b"\n", trusted=TRUSTED)
    assert report.ok and report.head_signers == [KEY.keyid]
    assert report.covered == {KEY.keyid: 3}


@FEW
@given(data=st.data())
def test_moving_any_line_elsewhere_is_detected(closed: Path, data: st.DataObject) -> None:
    lines = lines_of(closed)
    source = data.draw(st.integers(0, len(lines) - 1), label="from")
    target = data.draw(st.integers(0, len(lines) - 1).filter(lambda t: t != source), label="to")
    moved = list(lines)
    moved.insert(target, moved.pop(source))
    try:
        report = verify_log(b"\n".join(moved) + b"\n", trusted=TRUSTED)
    except InputError:
        assert target == 0 or source == 0  # the header is no longer first
        return
    assert report.problems


@FEW
@given(data=st.data())
def test_deleting_any_run_of_lines_is_never_ok(closed: Path, data: st.DataObject) -> None:
    lines = lines_of(closed)
    start = data.draw(st.integers(1, len(lines) - 1), label="start")
    stop = data.draw(st.integers(start + 1, len(lines)), label="stop")
    report = verify_log(b"\n".join(lines[:start] + lines[stop:]) + b"\n", trusted=TRUSTED)
    assert not report.ok
    assert report.results_signed < 3 or report.problems


# -------------------------------------------------------------- coverage and statuses


def test_an_open_log_with_a_signed_part_is_partly_signed(tmp_path: Path) -> None:
    path = tmp_path / "open.jsonl"
    _abandon(_write(path, [_named("a"), _named("b"), _named("c")], close=False, head_every=2))
    report = verify_log(path, trusted=TRUSTED, allow_open=True)
    assert (report.results, report.results_signed, report.closed) == (3, 2, False)
    assert report.intact and report.ok and not verify_log(path, trusted=TRUSTED).ok
    assert [report.signed_by(i) for i in range(3)] == [(KEY.keyid,), (KEY.keyid,), ()]
    verification = results_verification(report)
    assert verification.status is Status.PARTLY_SIGNED
    assert (verification.results_signed, verification.results) == (2, 3)
    with pytest.raises(CheckFailed, match="1 of 3 results are not covered"):
        load_results(path, trusted=TRUSTED)
    loaded = load_results(path, trusted=TRUSTED, require_signed=False)
    assert [r.signed_by for r in loaded] == [(KEY.keyid,), (KEY.keyid,), ()]


def test_an_open_log_with_no_signed_result_is_unsigned(tmp_path: Path) -> None:
    path = tmp_path / "open.jsonl"
    _abandon(_write(path, [_named("a", "b")], close=False))
    report = verify_log(path, trusted=TRUSTED, allow_open=True)
    assert (report.results, report.results_signed, report.unsigned_lines) == (2, 0, 2)
    assert results_verification(report).status is Status.UNSIGNED


def test_a_closed_log_is_verified_and_an_open_one_says_so(tmp_path: Path, closed: Path) -> None:
    verification = results_verification(verify_log(closed, trusted=TRUSTED))
    assert verification.status is Status.VERIFIED
    assert verification.signers == (KEY.keyid,) and "not closed" not in verification.message
    path = tmp_path / "open.jsonl"
    log = _write(path, [_named("a", "b")], close=False, head_every=2)
    _abandon(log)
    still = results_verification(verify_log(path, trusted=TRUSTED, allow_open=True))
    assert still.status is Status.VERIFIED and still.message.endswith("the log is not closed")


def test_a_log_checked_with_another_key_is_invalid(closed: Path) -> None:
    report = verify_log(closed, trusted=[OTHER.public_key])
    assert report.problems and not report.ok
    verification = results_verification(report)
    assert verification.status is Status.INVALID and verification.signers == ()


def test_without_a_trusted_key_nothing_is_claimed(closed: Path) -> None:
    report = verify_log(closed)  # the isolated config folder holds no key
    assert not report.signatures_checked and not report.ok and report.intact
    assert results_verification(report).status is Status.NOT_CHECKED
    loaded = load_results(closed)
    assert [r.signed_by for r in loaded] == [None, None, None]
    with pytest.raises(CheckFailed, match="no trusted key checked it"):
        load_results(closed, require_signed=True)


def test_an_empty_trusted_list_never_makes_an_untouched_log_tampered(closed: Path) -> None:
    try:
        report = verify_log(closed, trusted=[])
    except InputError:
        return  # refusing to check without a key is as honest as not checking
    assert report.intact and not report.signatures_checked


def test_two_writers_each_vouch_only_for_their_own_results(tmp_path: Path) -> None:
    from envstamp.signing import keys

    # each writer signs over the other's lines only when it trusts the other's key
    keys.trusted_dir().mkdir(parents=True, mode=0o700)
    write_public(KEY, keys.trusted_dir() / "first.pub.pem")
    write_public(OTHER, keys.trusted_dir() / "second.pub.pem")
    path = tmp_path / "shared.jsonl"
    first = ResultLog(path, envelope=ENVELOPE, key=KEY, head_seconds=3600.0)
    other_env = sign_manifest(make_manifest(), OTHER)
    second = ResultLog(path, envelope=other_env, key=OTHER, head_seconds=3600.0)
    first.write(_named("a1"))
    second.write(_named("b1", "b2"))
    first.write(_named("a2"))
    second.close()
    first.close()
    both = [KEY.public_key, OTHER.public_key]
    report = verify_log(path, trusted=both)
    assert report.ok and report.covered == {KEY.keyid: 2, OTHER.keyid: 2}
    assert [report.signed_by(i) for i in range(4)] == [
        (KEY.keyid,), (OTHER.keyid,), (OTHER.keyid,), (KEY.keyid,)]
    # trusting one writer only: the other's heads are not trusted, so the log is not ok
    assert not verify_log(path, trusted=[KEY.public_key]).ok


def test_results_after_a_final_head_are_never_vouched_for(closed: Path) -> None:
    # a forger appends a result after the final head, chaining it correctly
    lines = lines_of(closed)
    body = results.result_body(_named("forged")[0])
    lines.append(chainlog.chain_line(chainlog.line_hash(lines[-1]), body))
    write_lines(closed, lines)
    report = verify_log(closed, trusted=TRUSTED, allow_open=True)
    assert report.results == 4 and report.results_signed == 3
    assert report.signed_by(3) == ()
    assert not report.ok
    with pytest.raises(CheckFailed):
        load_results(closed, trusted=TRUSTED)


def test_a_report_as_data_agrees_with_its_properties(closed: Path) -> None:
    data = verify_log(closed, trusted=TRUSTED).to_dict()
    assert "spans" not in data
    assert (data["ok"], data["intact"], data["results_unsigned"]) == (True, True, 0)
    assert data["covered"] == {KEY.keyid: 3} and data["heads"] == 2
    json.dumps(data)  # JSON-able as it is


# ------------------------------------------------- forgeries anyone can make without a key

FORGED = 123456.0


def _rechain(lines: list[bytes], start: int) -> list[bytes]:
    """Every ``prev`` from line ``start`` on recomputed with plain sha256."""
    prev = chainlog.line_hash(lines[start - 1])
    out = lines[:start]
    for line in lines[start:]:
        data = json.loads(line)
        data.pop("prev")
        rebuilt = chainlog.chain_line(prev, chainlog.encode_body(data))
        out.append(rebuilt)
        prev = chainlog.line_hash(rebuilt)
    return out


@pytest.fixture
def headed(tmp_path: Path) -> Path:
    """A closed log of five results with a signed head after every second one."""
    path = tmp_path / "headed.jsonl"
    _write(path, [_named(f"r{i}") for i in range(5)], head_every=2)
    return path


@FEW
@given(data=st.data())
def test_a_forged_number_never_reads_as_signed(headed: Path, data: st.DataObject) -> None:
    lines = lines_of(headed)
    kinds = [chainlog.line_kind(line) for line in lines]
    results_at = [i for i, k in enumerate(kinds) if k == b"result"]
    heads_at = [i for i, k in enumerate(kinds) if k == b"head"]
    target = data.draw(st.sampled_from(results_at), label="result")
    dropped = data.draw(st.sets(st.sampled_from(heads_at)), label="heads deleted")
    edited = json.loads(lines[target])
    edited["metrics"]["tokens_per_s"] = FORGED
    forged = list(lines)
    forged[target] = json.dumps(edited, separators=(",", ":")).encode()
    forged = [line for i, line in enumerate(forged) if i not in dropped]
    start = min([target, *dropped]) - sum(1 for i in dropped if i < target)
    start = min(start, len(forged) - 1)
    text = b"\n".join(_rechain(forged, max(start, 1))) + b"\n"
    report = verify_log(text, trusted=TRUSTED, allow_open=True)
    assert not report.ok or report.results_signed < report.results
    assert not verify_log(text, trusted=TRUSTED).ok
    try:
        loaded = load_results(text, trusted=TRUSTED, require_signed=False)
    except (CheckFailed, InputError):
        return  # refused outright
    for result in loaded:
        if result.metrics.get("tokens_per_s") == FORGED:
            assert result.signed_by == ()


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4),
                          st.sampled_from([("k1",), ("k2",), ("k1", "k2")])), max_size=5))
def test_signed_by_names_the_signers_of_the_run_a_position_falls_in(
    runs: list[tuple[int, int, tuple[str, ...]]],
) -> None:
    # runs as gaps and lengths: spans never overlap and come in file order, as the verifier
    # makes them
    spans, position = [], 0
    for gap, length, keyids in runs:
        position += gap
        spans.append((position, position + length, keyids))
        position += length
    report = results.LogReport(source="x", spans=spans)
    for at in range(position + 2):
        owners = [keyids for first, end, keyids in spans if first <= at < end]
        assert report.signed_by(at) == (owners[0] if owners else ())


def test_a_forged_last_result_without_its_final_head_is_returned_only_as_unsigned(
    headed: Path,
) -> None:
    # the case where load_results hands the number out at all: nothing vouches after it
    lines = lines_of(headed)[:-1]  # the final head removed: an open log, as after a crash
    last = max(i for i, line in enumerate(lines) if chainlog.line_kind(line) == b"result")
    edited = json.loads(lines[last])
    edited["metrics"]["tokens_per_s"] = FORGED
    lines[last] = json.dumps(edited, separators=(",", ":")).encode()
    text = b"\n".join(_rechain(lines, last)) + b"\n"
    loaded = load_results(text, trusted=TRUSTED, require_signed=False)
    forged = [r for r in loaded if r.metrics.get("tokens_per_s") == FORGED]
    assert len(forged) == 1 and forged[0].signed_by == ()
    assert all(r.signed_by == (KEY.keyid,) for r in loaded if r is not forged[0])
    with pytest.raises(CheckFailed, match="not covered by a signed head"):
        load_results(text, trusted=TRUSTED)
