"""``envstamp diff`` on the command line: formats, colour, gating, signatures, bad input."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import jsonschema
import pytest

from envstamp.cli.main import main
from tests.diff_support import (
    NEWER_MAJOR,
    NOT_A_MANIFEST,
    RENDER_NODE,
    TOOL_OUTPUT,
    WORKSTATION,
    base,
    edit,
    write,
)

SCHEMAS = Path(__file__).parents[2] / "schemas"
A, B = str(WORKSTATION), str(RENDER_NODE)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_is_ranked_and_grouped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, A, B)
    assert code == 0 and err == ""
    assert "\033[" not in out  # not a terminal: no colour
    lines = out.splitlines()
    assert lines[0] == "envstamp diff"
    assert lines[1].startswith(f"  A  {A}: plain manifest (unsigned)")
    assert lines[4].startswith("11 differences that may change speed (4 high, 3 medium, 4 low)")
    headers = [line.strip() for line in lines if line.strip() in ("HIGH", "MEDIUM", "LOW", "NONE")]
    assert headers[:4] == ["HIGH", "MEDIUM", "LOW", "NONE"]
    assert out.index("llama.cpp build: b3447 (commit b5e95468) -> b4589 (commit cfd74c86) "
                     "(1142 builds apart, B newer)") < out.index("GPU driver:")
    # build number, commit and checkout of one new build: one finding
    assert "llama.cpp build number" not in out and "llama.cpp commit" not in out
    # the driver version sits in gpus and in runtimes: said once, with both paths
    assert out.count("GPU driver: 550.54.14 -> 560.35.03") == 1
    assert "[gpus[0].driver_version, runtimes.nvidia_driver]" in out
    assert "State at capture" in out and "83 C" in out


def test_colour_only_on_a_terminal_and_never_with_no_color(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["diff", A, B]) == 0
    assert "\033[1;31mHIGH\033[0m" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _Terminal()
    monkeypatch.setattr(sys, "stdout", plain)
    assert main(["diff", A, B]) == 0
    assert "\033[" not in plain.getvalue()


def test_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, A, B, "--markdown")
    assert code == 0
    assert out.startswith("### envstamp diff\n\n**11 differences")
    assert "| A | `" in out and "| manifest | unsigned |" in out
    assert "| **high** | engine build | llama.cpp build | b3447 (commit b5e95468) -> b4589 " \
           "(commit cfd74c86) (1142 builds apart, B newer) | kernels and defaults change " \
           "between builds |" in out
    assert "#### State at capture" in out
    assert "inputs: A unsigned, B unsigned" in out
    assert "\033[" not in out


def test_json_matches_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, A, B, "--json")
    assert code == 0
    data = json.loads(out)
    schema = json.loads((SCHEMAS / "diff.v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["schema"] == "envstamp.diff/1"
    assert data["differences"][0]["path"] == "llamacpp[0].build"
    assert data["differences"][0]["a"] == "b3447 (commit b5e95468)"
    assert data["differences"][0]["b"] == "b4589 (commit cfd74c86)"
    assert data["counts"] == {"high": 4, "medium": 3, "low": 4, "none": 4}


def test_schema_file_is_fresh() -> None:
    from envstamp.cli import schema as published
    from envstamp.manifest import schema

    for name in ("diff.v1.schema.json", "compare.v1.schema.json"):
        assert (SCHEMAS / name).read_text(encoding="utf-8") == schema.dumps(published.build(name))


def test_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "diff.md"
    code, out, _ = run(capsys, A, B, "--markdown", "-o", str(target))
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith("### envstamp diff")


def test_all_lists_everything(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    older = str(Path(__file__).parents[1] / "fixtures" / "diff" / "older-envstamp-0.0.9.json")
    _, brief, _ = run(capsys, older, A)
    _, full, _ = run(capsys, older, A, "--all")
    assert "more (--all lists them)" in brief
    assert "more (--all lists them)" not in full and len(full) > len(brief)


# -------------------------------------------------------------------------------- gating


@pytest.mark.parametrize(("level", "code"), [("high", 1), ("medium", 1), ("low", 1)])
def test_fail_on(capsys: pytest.CaptureFixture[str], level: str, code: int) -> None:
    got, out, err = run(capsys, A, B, "--fail-on", level)
    assert got == code
    assert out.startswith("envstamp diff")  # the report is still printed
    assert err.count("\n") == 1 and f"at or above {level}" in err


def test_fail_on_respects_the_level(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    governor = write(edit(base(), "cpu", governor="powersave"), tmp_path / "b.json")
    assert run(capsys, A, str(governor), "--fail-on", "high")[0] == 0
    assert run(capsys, A, str(governor), "--fail-on", "medium")[0] == 1


def test_state_counts_only_when_asked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.diff_support import edit_volatile_gpu

    hot = write(edit_volatile_gpu(base(), throttle_reasons=["sw_thermal"]), tmp_path / "hot.json")
    assert run(capsys, A, str(hot), "--fail-on", "high")[0] == 0
    assert run(capsys, A, str(hot), "--fail-on", "high", "--include-state")[0] == 1


# ---------------------------------------------------------------------------- signatures


def test_signed_inputs_say_whether_they_verified(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from envstamp.signing import keys, sign

    key = keys.default_signing_key()  # made in the test's own config folder: trusted
    envelope = sign.sign_manifest(base(), key)
    good = tmp_path / "good.json"
    good.write_text(sign.envelope_json(envelope), encoding="utf-8")
    tampered = dict(envelope, signatures=[{"keyid": key.keyid, "sig": "AAAA" * 22}])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tampered), encoding="utf-8")
    code, out, _ = run(capsys, str(good), str(bad), "--markdown")
    assert code == 0
    assert "inputs: A verified, B failed" in out
    data = json.loads(run(capsys, str(good), A, "--json")[1])
    assert data["a"]["verification"] == "verified" and data["a"]["signers"] == [key.keyid]
    assert data["b"]["verification"] == "unsigned"


def test_signed_input_without_a_trusted_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from envstamp.signing import keys, sign

    stranger = keys.SigningKey.generate()
    envelope = tmp_path / "stranger.json"
    envelope.write_text(sign.envelope_json(sign.sign_manifest(base(), stranger)), "utf-8")
    data = json.loads(run(capsys, str(envelope), A, "--json")[1])
    assert data["a"]["verification"] == "not verified"
    assert data["same_identity"] is True


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.json", "no such file"),
        ("not-a-manifest", "is not an envstamp manifest"),
        ("newer-major", "newer major schema"),
        ("tool-output", "is not valid JSON"),
        ("folder", "is a folder"),
        ("empty", "is empty"),
        ("array", "is not an envstamp manifest"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, message: str
) -> None:
    paths = {
        "missing.json": str(tmp_path / "missing.json"),
        "not-a-manifest": str(NOT_A_MANIFEST),
        "newer-major": str(NEWER_MAJOR),
        "tool-output": str(TOOL_OUTPUT),
        "folder": str(tmp_path),
        "empty": str(write_text(tmp_path / "empty.json", "")),
        "array": str(write_text(tmp_path / "array.json", "[1, 2]")),
    }
    for argv in ([A, paths[name]], [paths[name], A]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and message in err, err
        assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv", [[A], [A, B, "--fail-on", "severe"], [A, B, "--json", "--markdown"]]
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["diff", *argv])
    assert exited.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_json_is_what_the_converter_would_write(tmp_path: Path) -> None:
    from envstamp.diffing.compare import compare
    from envstamp.diffing.differ import diff
    from envstamp.manifest.serialize import to_json as converter_json
    from envstamp.output.diff_render import to_json

    for report in (diff(A, B), compare([A, B, A])):
        assert to_json(report) == converter_json(report)
