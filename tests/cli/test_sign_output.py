"""``envstamp sign`` names what it wrote as ``capture -o`` does (issue 15): one line on
stderr with the file written, what it holds, from what, and the key; stdout stays empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.manifest.serialize import to_json
from envstamp.signing import keys
from tests.sign_support import rfc_key, sample_manifest

KEY = rfc_key(0)
SIGNER = f"(key {KEY.keyid[:16]}, ed25519)"


@pytest.fixture(autouse=True)
def _fixed_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, KEY.private_pem().decode())


def _sign(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sign", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "box.json"
    plain.write_text(to_json(sample_manifest()))
    assert _sign(capsys, str(plain)) == (
        0, "", f"envstamp sign: wrote {tmp_path / 'box.signed.json'}: signed manifest of "
               f"{plain} {SIGNER}\n"
    )


def test_another_file_says_how_to_verify_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = tmp_path / "bench.txt"
    bench.write_text("pp512 1234.5\n")
    signed = tmp_path / "bench.txt.signed.json"
    assert _sign(capsys, str(bench)) == (
        0, "", f"envstamp sign: wrote {signed}: detached signature of {bench} {SIGNER}; "
               f"verify it with 'envstamp verify {signed} --artifact {bench}'\n"
    )


def test_a_cosigned_envelope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "box.json"
    plain.write_text(to_json(sample_manifest()))
    assert _sign(capsys, str(plain))[0] == 0
    second = rfc_key(1)
    monkeypatch.setenv(keys.ENV_PRIVATE_KEY, second.private_pem().decode())
    signed = tmp_path / "box.signed.json"
    assert _sign(capsys, str(signed)) == (
        0, "", f"envstamp sign: wrote {signed}: envelope co-signed "
               f"(key {second.keyid[:16]}, ed25519)\n"
    )


def test_to_stdout_says_nothing_else(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "box.json"
    plain.write_text(to_json(sample_manifest()))
    code, out, err = _sign(capsys, str(plain), "-o", "-")
    assert (code, err) == (0, "") and out.startswith("{\n")
