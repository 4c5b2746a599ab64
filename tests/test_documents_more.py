"""The loader of record (``envstamp.documents``): which kind of document bytes are, how far
each is trusted, and what it refuses - always with an envstamp error, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp import documents
from envstamp.errors import EnvstampError, InputError
from envstamp.manifest.document import Status
from envstamp.manifest.serialize import to_json, unstructure, with_digest
from envstamp.signing.sign import envelope_json, sign_manifest
from tests.diff_support import NEWER_MAJOR, NOT_A_MANIFEST, TOOL_OUTPUT, WORKSTATION
from tests.sign_support import rfc_key, sample_manifest
from tests.timing_support import open_recorder

MANIFEST = sample_manifest()


def _load(data: bytes, *, verify: bool = True) -> object:
    return documents.document_from_bytes(data, source="input", verify=verify)


# ------------------------------------------------------------------------ each kind


def test_a_plain_manifest_round_trips_and_is_unsigned() -> None:
    doc = documents.document_from_bytes(to_json(MANIFEST).encode(), source="m.json")
    assert doc.kind == "manifest" and doc.manifest == MANIFEST
    assert doc.verification.status is Status.UNSIGNED and not doc.verification.failed
    assert doc.results == [] and doc.source == "m.json"


@pytest.mark.parametrize("indent", [None, 2, 8])
def test_any_layout_of_a_manifest_reads_the_same(indent: int | None) -> None:
    text = json.dumps(unstructure(MANIFEST), indent=indent)
    doc = documents.document_from_bytes(text.encode(), source="m.json")
    assert doc.kind == "manifest" and doc.manifest == MANIFEST


def test_a_manifest_edited_after_capture_is_edited() -> None:
    data = unstructure(MANIFEST)
    data["cpu"]["logical_cpus"] = 64  # the stored identity digest now lies
    doc = documents.document_from_bytes(json.dumps(data).encode(), source="m.json")
    assert doc.verification.status is Status.EDITED and doc.verification.failed
    assert doc.manifest.cpu.logical_cpus == 64
    assert doc.manifest.identity_digest == with_digest(doc.manifest).identity_digest


def test_a_manifest_without_a_digest_is_not_edited() -> None:
    data = unstructure(attrs.evolve(MANIFEST, identity_digest=None))
    doc = documents.document_from_bytes(json.dumps(data).encode(), source="m.json")
    assert doc.verification.status is Status.UNSIGNED and not doc.verification.failed
    assert attrs.evolve(doc.manifest, identity_digest=MANIFEST.identity_digest) == MANIFEST


def test_an_envelope_is_verified_or_not_checked_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from envstamp.signing import keys

    key = rfc_key(2)
    data = envelope_json(sign_manifest(MANIFEST, key)).encode()
    monkeypatch.setattr(keys, "trusted_keys", lambda: [key.public_key])
    doc = documents.document_from_bytes(data, source="e.json")
    assert doc.kind == "envelope" and doc.manifest == MANIFEST
    assert (doc.verification.status, doc.verification.signers) == (Status.VERIFIED,
                                                                   (key.keyid,))
    unchecked = documents.document_from_bytes(data, source="e.json", verify=False)
    assert unchecked.verification.status is Status.NOT_CHECKED
    assert unchecked.manifest == MANIFEST


def test_a_compact_envelope_on_one_line_is_an_envelope() -> None:
    data = json.dumps(sign_manifest(MANIFEST, rfc_key(0))).encode() + b"\n"
    doc = documents.document_from_bytes(data, source="e.json", verify=False)
    assert doc.kind == "envelope"


def test_a_results_log_is_recognised_by_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with open_recorder(path) as rec:
        rec.record("tg128", metrics={"tokens_per_s": 50.0})
        rec.record("pp512", metrics={"tokens_per_s": 900.0})
    doc = documents.load_document(str(path))
    assert doc.kind == "results"
    assert [r.name for r in doc.results] == ["tg128", "pp512"]
    assert doc.verification.status is Status.VERIFIED
    assert (doc.verification.results_signed, doc.verification.results) == (2, 2)
    assert all(r.manifest == doc.manifest for r in doc.results)


def test_a_results_log_whose_result_was_edited_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with open_recorder(path) as rec:
        rec.record("tg128", metrics={"tokens_per_s": 50.0})
    path.write_bytes(path.read_bytes().replace(b"50.0", b"90.0"))
    doc = documents.load_document(str(path))
    assert doc.verification.status is Status.INVALID and doc.verification.failed
    assert doc.results[0].metrics == {"tokens_per_s": 90.0}  # shown, never trusted


# -------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"", "is empty"), (b"  \n\t\n", "is empty"), (b"\xff\xfe{}", "not UTF-8"),
     (b"[1, 2, 3]", "not an envstamp"), (b'{"payloadType": "x"}', "not an envstamp"),
     (b"not json at all", "input"), (b'{"a": 1, "a": 2}', "input")],
)
def test_what_is_no_document_is_refused_in_one_line(data: bytes, words: str) -> None:
    with pytest.raises(InputError) as caught:
        _load(data)
    assert words in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("fixture", "words"),
    [(NEWER_MAJOR, "envstamp.manifest/2 is a newer major schema"),
     (NOT_A_MANIFEST, "is not an envstamp manifest"), (TOOL_OUTPUT, "is not valid JSON")],
)
def test_the_fixtures_that_are_no_manifest_are_refused(fixture: Path, words: str) -> None:
    with pytest.raises(InputError) as caught:
        documents.load_document(str(fixture))
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_log_header_alone_is_no_document(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with open_recorder(path) as rec:
        rec.record("x", metrics={"tokens_per_s": 1.0})
    header = path.read_bytes().split(b"\n")[0] + b"\n"
    with pytest.raises(InputError):
        _load(header)


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * (2 << 20) + b"{}")
    with pytest.raises(InputError, match="larger than 1 MiB"):
        documents.read_file(str(path), limit=1 << 20)
    assert documents.read_file(str(path), limit=4 << 20).endswith(b"{}")


def test_a_missing_file_or_a_folder_is_one_line(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.json", tmp_path):
        with pytest.raises(InputError) as caught:
            documents.load_document(str(path))
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_the_workstation_fixture_loads_as_a_plain_manifest() -> None:
    doc = documents.load_document(str(WORKSTATION))
    assert doc.kind == "manifest" and doc.verification.status is Status.UNSIGNED
    assert doc.manifest.host.hostname == "tensorbox"


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from([b"{", b"}", b'"schema"', b":", b'"envstamp.manifest/1"', b",",
                              b"\n", b'"payloadType"', b'"signatures"', b"[]", b'"prev"']),
             max_size=12).map(b"".join),
))
def test_any_bytes_give_a_document_or_an_envstamp_error(data: bytes) -> None:
    try:
        doc = _load(data, verify=False)
    except EnvstampError as exc:
        assert str(exc)
    else:
        assert doc.kind in ("manifest", "envelope", "results")  # type: ignore[attr-defined]
