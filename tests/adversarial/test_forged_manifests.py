"""Hand-edited and malformed manifests: what a careless or dishonest edit does to a file.

A plain manifest carries its own identity digest, which is only a claim: the loaders
recompute it from what the file holds, and an edit reads as an edit (issue 12, item 2).
Wrong types, out-of-range numbers and non-finite values are refused with one line naming the
path, and ``envstamp sign`` never signs such a file (item 3).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envstamp.cli.main import main
from envstamp.diffing.differ import diff, verification_of
from envstamp.documents import load_document
from envstamp.manifest.serialize import canonical_bytes, identity_data, sha256_digest, to_json
from envstamp.signing import dsse, sign
from tests.sign_support import sample_manifest


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def _manifest_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(to_json(sample_manifest()))
    return data


# ------------------------------------------------------------------ identity digest (item 2)


def test_a_hand_edited_manifest_reads_as_edited(tmp_path: Path) -> None:
    original = _write(tmp_path / "a.json", _manifest_data())
    data = _manifest_data()
    data["gpus"][0]["driver_version"] = "555.42"  # the stored digest is left as it was
    edited = _write(tmp_path / "b.json", data)
    doc = load_document(str(edited))
    assert doc.signature.startswith("invalid: edited after capture")
    assert verification_of(doc) == "failed" and "edited after capture" in doc.note
    assert doc.manifest.identity_digest != data["identity_digest"]  # the recomputed one
    assert load_document(str(original)).signature == "unsigned"


def test_diff_never_shows_equal_digests_beside_a_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = _write(tmp_path / "a.json", _manifest_data())
    data = _manifest_data()
    data["cpu"]["model_name"] = "AMD Ryzen 9 7950X"
    edited = _write(tmp_path / "b.json", data)
    report = diff(str(original), str(edited))
    assert report.differences and not report.same_digest
    assert report.a.identity_digest != report.b.identity_digest
    assert report.b.verification == "failed"
    assert main(["diff", "--json", str(original), str(edited)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["a"]["identity_digest"] != shown["b"]["identity_digest"]
    assert shown["b"]["signature"].startswith("invalid: edited after capture")


def test_editing_a_reading_of_the_moment_is_not_an_identity_edit(tmp_path: Path) -> None:
    data = _manifest_data()
    data["captured_at"] = "2030-01-01T00:00:00.000Z"
    data["volatile"]["cpu_mhz"] = 4200.0
    assert load_document(str(_write(tmp_path / "m.json", data))).signature == "unsigned"


@pytest.mark.parametrize("change", ["older", "newer"])
def test_manifests_of_other_releases_check_against_what_they_hold(
    tmp_path: Path, change: str
) -> None:
    # What another release wrote and hashed: one section fewer, or one this release lacks.
    data = _manifest_data()
    hashed = identity_data(sample_manifest())
    if change == "older":
        del data["frontends"], hashed["frontends"]
    else:
        data["npu"] = hashed["npu"] = {"name": "XDNA 2"}
    data["identity_digest"] = sha256_digest(canonical_bytes(hashed))
    assert load_document(str(_write(tmp_path / "m.json", data))).signature == "unsigned"
    data["cpu"]["logical_cpus"] = 8
    assert load_document(str(_write(tmp_path / "m.json", data))).signature.startswith(
        "invalid: edited after capture"
    )


def test_a_signed_manifest_whose_digest_does_not_match_its_contents(tmp_path: Path) -> None:
    data = _manifest_data()
    data["host"]["model"] = "Something Else"  # the digest still names the original
    statement = dsse.make_statement(
        [("manifest", data["identity_digest"])], dsse.MANIFEST_PREDICATE, data
    )
    path = tmp_path / "e.json"
    path.write_text(sign.envelope_json(sign.sign_statement(statement)), encoding="utf-8")
    doc = load_document(str(path))
    assert doc.signature.startswith("invalid: signed, but edited after capture")


# ------------------------------------------------------------------ types and ranges (item 3)

PLACEHOLDER = "__VALUE__"
# (where, raw JSON text of the value, what the error names)
WRONG = [
    ("gpus", '"abc"', "$.gpus must be a list"),
    ("cpu", "[1, 2]", "$.cpu must be an object"),
    ("cpu.max_mhz", "1e999", "1e999 is out of range"),
    ("gpus.0.power_limit_w", "1e999", "1e999 is out of range"),
    ("cpu.max_mhz", "NaN", "NaN is not allowed"),
    ("cpu.logical_cpus", "-3", "$.cpu.logical_cpus is -3"),
    ("gpus.0.memory_total_mib", str(2**60), "$.gpus[0].memory_total_mib is"),
    ("cpu.smt", "1", "$.cpu.smt must be true or false"),
    ("cpu.logical_cpus", "16.5", "$.cpu.logical_cpus must be a whole number"),
    ("env.CUDA_VISIBLE_DEVICES", "0", "$.env.CUDA_VISIBLE_DEVICES must be a string"),
    ("power.battery_percent", '"50"', "$.power.battery_percent must be a number"),
    ("probes", '[{"name": "cpu", "status": "fine"}]', "$.probes[0].status must be one of"),
]


def _with_value(where: str, raw: str) -> str:
    data: Any = _manifest_data()
    *parents, last = where.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = PLACEHOLDER
    return json.dumps(data, indent=2).replace(f'"{PLACEHOLDER}"', raw)


@pytest.mark.parametrize(("where", "raw", "named"), WRONG, ids=[f"{w}={r}" for w, r, _ in WRONG])
def test_a_wrong_type_or_range_is_refused_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, raw: str, named: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(_with_value(where, raw), encoding="utf-8")
    good = _write(tmp_path / "good.json", _manifest_data())
    for argv in (["show", str(bad)], ["show", "--json", str(bad)], ["diff", str(good), str(bad)],
                 ["compare", str(good), str(bad)]):
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert named in err and err.count("\n") == 1 and "internal error" not in err, err
        assert not out


@pytest.mark.parametrize(("where", "raw", "named"), WRONG, ids=[f"{w}={r}" for w, r, _ in WRONG])
def test_sign_never_signs_a_malformed_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, raw: str, named: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(_with_value(where, raw), encoding="utf-8")
    assert main(["sign", str(bad)]) == 2
    assert named in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]  # nothing signed
