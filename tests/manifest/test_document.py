"""A loaded input's verification is data (a status, signers, counts, a message); the one line
views print is made from it, and reads as it did when it was the only form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envstamp.documents import load_document
from envstamp.manifest.document import Document, Status, Verification
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import manifest_from_json
from envstamp.stamping.results import LogReport, results_verification
from tests.diff_support import WORKSTATION

KEY = "a" * 64


@pytest.mark.parametrize(
    ("verification", "text"),
    [
        (Verification(), "unsigned"),
        (Verification(Status.VERIFIED, (KEY,)), "verified"),
        (Verification(Status.NOT_CHECKED), "not verified"),
        (Verification(Status.NOT_CHECKED, message="no trusted key"),
         "not verified (no trusted key)"),
        (Verification(Status.INVALID, message="line 9: hash mismatch"),
         "invalid: line 9: hash mismatch"),
        (Verification(Status.EDITED, message="edited after capture: ..."),
         "invalid: edited after capture: ..."),
        (Verification(Status.PARTLY_SIGNED, results_signed=1, results=5,
                      message="1 of 5 results signed; 4 unsigned"),
         "partly signed: 1 of 5 results signed; 4 unsigned"),
        (Verification(Status.UNSIGNED, results_signed=0, results=4,
                      message="0 of 4 results signed; 4 unsigned"),
         "unsigned: 0 of 4 results signed; 4 unsigned"),
    ],
)
def test_the_line_views_print(verification: Verification, text: str) -> None:
    assert verification.text == str(verification) == text
    doc = Document("envelope", _manifest(), "x", verification=verification)
    assert doc.signature == text


@pytest.mark.parametrize("status", list(Status))
def test_only_invalid_and_edited_fail_and_only_verified_verifies(status: Status) -> None:
    found = Verification(status)
    assert found.failed is (status in (Status.INVALID, Status.EDITED))
    assert found.verified is (status is Status.VERIFIED)


def test_a_plain_manifest_is_unsigned_and_an_edited_one_edited(tmp_path: Path) -> None:
    doc = load_document(str(WORKSTATION))
    assert doc.verification == Verification(Status.UNSIGNED)
    assert doc.note == "plain manifest (unsigned)"
    data = json.loads(WORKSTATION.read_text())
    data["cpu"]["model"] = "Something Else"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    found = load_document(str(edited)).verification
    assert found.status is Status.EDITED and found.failed
    assert found.message.startswith("edited after capture")
    assert load_document(str(edited)).note.startswith("plain manifest (unsigned; invalid: ")


def _report(**fields: object) -> LogReport:
    return LogReport(source="log", **fields)  # type: ignore[arg-type]


def test_a_logs_verification_carries_its_counts_and_signers() -> None:
    whole = results_verification(_report(results=4, results_signed=4, covered={KEY: 4},
                                         closed=True))
    assert whole == Verification(Status.VERIFIED, (KEY,), 4, 4, f"4 of 4 results signed by "
                                 f"{KEY[:16]}")
    still_open = results_verification(_report(results=2, results_signed=2, covered={KEY: 2}))
    assert still_open.verified and still_open.text.endswith("; the log is not closed")
    part = results_verification(_report(results=5, results_signed=1, covered={KEY: 1}))
    assert (part.status, part.results_signed, part.results) == (Status.PARTLY_SIGNED, 1, 5)
    assert part.text.startswith("partly signed: 1 of 5 results signed")
    none = results_verification(_report(results=4))
    assert (none.status, none.results_signed, none.signers) == (Status.UNSIGNED, 0, ())


def test_a_broken_or_unchecked_log() -> None:
    broken = results_verification(_report(results=3, problems=["line 9: hash mismatch"],
                                          covered={KEY: 3}))
    assert broken == Verification(Status.INVALID, message="line 9: hash mismatch")
    unchecked = results_verification(_report(results=3, signatures_checked=False))
    assert unchecked.status is Status.NOT_CHECKED
    assert unchecked.text == "not verified (no trusted key)"


def _manifest() -> Manifest:
    return manifest_from_json(WORKSTATION.read_bytes())
