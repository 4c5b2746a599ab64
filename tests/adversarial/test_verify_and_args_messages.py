"""Messages and exit codes a script relies on (issue 12, item 15; review gap 15, the parts
about verify, the check documentation and options between file arguments)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.manifest.serialize import to_json
from envstamp.signing import keys, sign
from tests.sign_support import sample_manifest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("content", [b"", b"\n", b"  \n\n"], ids=["empty", "newline", "blank"])
def test_verify_of_an_empty_file_says_it_is_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    assert main(["verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path} is empty" in err and "JSON" not in err and err.count("\n") == 1


def _envelopes(tmp_path: Path) -> tuple[Path, Path, Path]:
    first, second = tmp_path / "a.signed.json", tmp_path / "b.signed.json"
    for path in (first, second):
        path.write_text(sign.envelope_json(sign.sign_manifest(sample_manifest())))
    plain = tmp_path / "plain.json"
    plain.write_text(to_json(sample_manifest()))
    return first, second, plain


def test_options_may_stand_between_file_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, plain = _envelopes(tmp_path)
    assert main(["compare", str(first), "--require-valid", str(second)]) == 0
    assert main(["compare", str(first), "--require-valid", str(plain)]) == 1
    err = capsys.readouterr().err
    assert "unrecognized" not in err and "plain.json is not verified" in err
    assert main(["compare", str(first), "--json", str(second), "--state"]) == 0
    assert capsys.readouterr().out.lstrip().startswith("{")
    other = tmp_path / "other.json"
    other.write_text(to_json(sample_manifest()))
    key = keys.default_private_path()  # made when the envelopes were signed
    assert main(["sign", str(plain), "--key", str(key), str(other)]) == 0
    assert (tmp_path / "plain.signed.json").is_file() and (tmp_path / "other.signed.json").is_file()


def test_run_still_passes_everything_after_the_double_dash_to_the_command(
    tmp_path: Path,
) -> None:
    # run's command takes everything after "--": options there belong to the command.
    log = tmp_path / "r.jsonl"
    assert main(["run", "-q", "--no-state", "-o", str(log), "--", "true", "--json", "x"]) == 0
    assert b'"command":["true","--json","x"]' in log.read_bytes()


def test_security_doc_says_what_check_does_on_unsigned_and_untrusted_baselines() -> None:
    text = re.sub(r"\s+", " ", (DOCS / "security.md").read_text(encoding="utf-8"))
    assert "`check` exits non-zero on a tampered, unsigned or untrusted input" not in text
    assert "`check` always exits 1 on a tampered or edited baseline" in text
    assert "with `--require-valid` it also refuses a baseline that is unsigned" in text


def test_check_exits_as_documented_on_a_plain_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hosts: Path
) -> None:
    _, _, plain = _envelopes(tmp_path)
    replay = next(p for p in sorted(hosts.iterdir()) if p.is_dir())
    assert main(["check", str(plain), "--replay", str(replay), "--json"]) == 0
    capsys.readouterr()
    assert main(["check", str(plain), "--replay", str(replay), "--require-valid"]) == 1
    assert "plain.json is not verified" in capsys.readouterr().err
