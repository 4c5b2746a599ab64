"""The CLI shell: help, exit codes, one-line errors, atomic output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envstamp.cli.main import VERBS, main
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import manifest_from_json, to_json, unstructure, with_digest


def _manifest_file(tmp_path: Path, **changes: object) -> Path:
    manifest = with_digest(Manifest(envstamp_version="0.1.0", captured_at="2026-11-27T10:00:00Z"))
    data = unstructure(manifest)
    data.update(changes)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    return path


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_top_help_lists_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for verb in VERBS:
        assert verb in out


def test_no_arguments_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from envstamp import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


@pytest.mark.parametrize("verb", ["capture", "show", "parse", "schema"])
def test_verb_help(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([verb, "--help"])
    assert info.value.code == 0
    assert f"envstamp {verb}" in capsys.readouterr().out


def test_unknown_verb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "unknown command" in _one_line_error(capsys)


def test_bad_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["show", "--no-such-flag"])
    assert info.value.code == 2
    _one_line_error(capsys)


def test_parse_unknown_kind_lists_kinds(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["parse", "no-such-kind", str(tmp_path / "x")]) == 2
    err = _one_line_error(capsys)
    assert "nvidia-smi-xml" in err and "os-release" in err


def test_parse_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["parse", "os-release", str(tmp_path / "missing")]) == 2
    assert "no such file" in _one_line_error(capsys)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"name": "package.json", "version": "1"}', "not an envstamp"),
        (b"\xff\xfe\x00garbage", "UTF-8"),
        (b"[1, 2, 3]", "not an envstamp"),
    ],
)
def test_show_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    assert main(["show", str(path)]) == 2
    assert message in _one_line_error(capsys)


def test_show_missing_and_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["show", str(tmp_path / "nope.json")]) == 2
    _one_line_error(capsys)
    assert main(["show", str(tmp_path)]) == 2
    _one_line_error(capsys)


def test_show_newer_major_schema(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _manifest_file(tmp_path, schema="envstamp.manifest/7")
    assert main(["show", str(path)]) == 2
    assert "envstamp.manifest/7" in _one_line_error(capsys)


def test_show_text_json_markdown(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _manifest_file(tmp_path)
    assert main(["show", str(path)]) == 0
    assert "plain manifest" in capsys.readouterr().out
    assert main(["show", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema"] == "envstamp.manifest/1"
    assert main(["show", str(path), "--markdown"]) == 0
    assert "|---|---|" in capsys.readouterr().out


def test_capture_into_a_missing_folder_fails_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "m.json"
    assert main(["capture", "-o", str(target)]) == 2
    assert "does not exist" in _one_line_error(capsys)
    assert not target.parent.exists()


def test_capture_rejects_bad_timeouts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capture", "--timeout", "0"]) == 2
    _one_line_error(capsys)


def test_python_dash_m_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "envstamp", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("envstamp ")


def test_internal_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from envstamp.cli import show

    def boom(args: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(show, "run", boom)
    monkeypatch.delenv("ENVSTAMP_DEBUG", raising=False)
    assert main(["show", "x"]) == 2
    assert "internal error: RuntimeError: kaboom" in _one_line_error(capsys)


def test_to_json_is_stable_text() -> None:
    manifest = with_digest(Manifest(envstamp_version="0.1.0", captured_at="2026-11-27T10:00:00Z"))
    # the same manifest read back from its text writes the same text again
    assert to_json(manifest_from_json(to_json(manifest))) == to_json(manifest)
    assert to_json(manifest).endswith("}\n")


@pytest.mark.parametrize(
    ("extra", "signs"), [([], True), (["--no-sign"], False), (["--markdown"], False)]
)
def test_capture_signs_after_the_capture_only_when_it_signs(
    extra: list[str], signs: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import envstamp.capturing.capture

    key_folder_during_capture: list[bool] = []

    def fake_capture(*args: object, **kwargs: object) -> Manifest:
        assert set(kwargs) == {"record", "replay"}  # no caller's work handed to the capture
        key_folder_during_capture.append((tmp_path / "config").exists())
        return with_digest(Manifest(envstamp_version="0", captured_at="2026-11-27T00:00:00Z"))

    monkeypatch.setenv("ENVSTAMP_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(envstamp.capturing.capture, "capture", fake_capture)
    assert main(["capture", "-o", str(tmp_path / "m.json"), *extra]) == 0
    assert key_folder_during_capture == [False]  # no key is made or read before it
    assert ('"payloadType"' in (tmp_path / "m.json").read_text()) is signs
    assert (tmp_path / "config").exists() is signs  # the default key, made to sign only
