"""Exit codes and messages (issue 12, item 15): a named input that does not exist, a bad key,
oversized or malformed tool output and recordings are one-line errors - never exit 0 with a
hole in the manifest, never an internal error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from envstamp.cli.main import main
from envstamp.cli.shared import check_named_inputs
from envstamp.errors import InputError
from envstamp.manifest.serialize import to_json, unstructure
from envstamp.parsers.llama_bench import parse_llama_bench
from envstamp.signing import dsse, keys, sign
from envstamp.signing.keys import SigningKey
from tests.sign_support import sample_manifest

HOST = Path(__file__).parent.parent / "fixtures" / "hosts" / "linux-debian12-vm"
HUGE = "x" * (200 << 10)  # beyond csv's 128 KiB field limit


def _one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err, err
    for word in words:
        assert word in err, err
    return err


# ---------------------------------------------------------------------- named inputs


@pytest.mark.parametrize(
    "argv",
    [
        ["capture", "--model", "nonexistent.gguf"],
        ["capture", "--llama-cpp", "nonexistent"],
        ["capture", "--json", "--model", "~/nonexistent/q4.gguf"],
        ["run", "--model", "nonexistent.gguf", "--", "true"],
        ["run", "--llama-cpp", "nonexistent", "--", "true"],
    ],
)
def test_a_named_input_that_does_not_exist_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    argv: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    _one_line_error(capsys, "nonexistent", "no such file or folder")
    assert list(tmp_path.iterdir()) == []  # nothing captured, run or written


def test_check_refuses_a_named_input_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "base.json"
    baseline.write_text(to_json(sample_manifest()), encoding="utf-8")
    assert main(["check", str(baseline), "--llama-cpp", str(tmp_path / "nonexistent")]) == 2
    _one_line_error(capsys, "--llama-cpp")


def test_ollama_names_and_existing_paths_pass_and_replay_paths_are_not_checked(
    tmp_path: Path,
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    check_named_inputs([str(tmp_path)], ["llama3.2:3b", "qwen2.5-coder", str(model)])
    check_named_inputs(["/opt/llama.cpp/build"], ["/models/x.gguf"], replay=[str(HOST)])
    with pytest.raises(InputError, match=r"--model x\.gguf"):
        check_named_inputs([], ["x.gguf"])


# ---------------------------------------------------------------------- a bad signing key


def _bad_key(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.pem"
    if kind == "missing":
        return path
    if kind == "not-a-key":
        path.write_text("hello\n")
    elif kind == "shared":
        path.write_bytes(SigningKey.generate().private_pem())
    elif kind == "encrypted":
        path.write_bytes(SigningKey.generate().private_pem(b"correct horse"))
    path.chmod(0o644 if kind == "shared" else 0o600)
    return path


@pytest.mark.parametrize("kind", ["missing", "not-a-key", "shared", "encrypted"])
def test_a_bad_key_fails_before_the_raw_recording_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    kind: str
) -> None:
    monkeypatch.delenv(keys.ENV_PASSPHRASE, raising=False)
    if kind == "encrypted":
        monkeypatch.setenv(keys.ENV_PASSPHRASE, "wrong")
    key = _bad_key(tmp_path, kind)
    raw = tmp_path / "recording"
    argv = ["capture", "--raw", str(raw), "-o", str(tmp_path / "m.json"), "--key", str(key)]
    assert main(argv) == 2
    _one_line_error(capsys, kind if kind != "not-a-key" else "not a PEM private key")
    assert not raw.exists() and not (tmp_path / "m.json").exists()


def test_an_encrypted_key_is_unlocked_once_before_the_capture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = SigningKey.generate()
    path = tmp_path / "ci.pem"
    path.write_bytes(key.private_pem(b"correct horse"))
    path.chmod(0o600)
    monkeypatch.setenv(keys.ENV_PASSPHRASE, "correct horse")
    out = tmp_path / "m.json"
    assert main(["capture", "--replay", str(HOST), "-o", str(out), "--key", str(path)]) == 0
    envelope = json.loads(out.read_text())
    assert [s["keyid"] for s in envelope["signatures"]] == [key.keyid]


# ------------------------------------------------------------------ oversized tool output


def test_a_csv_field_over_128_kib_is_data_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real llama-bench csv header, then one row whose model field is huge.
    header = "build_commit,build_number,model_type,model_size,n_prompt,n_gen,avg_ts,stddev_ts"
    good = '"b5e95468",4589,"qwen2 7B Q4_K - Medium",4677120000,512,0,1234.5,3.2'
    text = "\n".join([header, f'"{HUGE}",1,"x",1,512,0,1.0,0.1', good]) + "\n"
    rows, _ = parse_llama_bench(text)
    assert [r.avg_ts for r in rows] == [1234.5]  # the unreadable row is left out
    bad = tmp_path / "bench.csv"
    bad.write_text(f'{header}\n"{HUGE}",1,"x",1,512,0,1.0,0.1\n', encoding="utf-8")
    assert main(["parse", "llama-bench", str(bad)]) == 2
    _one_line_error(capsys, "no llama-bench results")
    smi = tmp_path / "smi.csv"
    smi.write_text(f'name, memory.total [MiB]\n"{HUGE}", 24564 MiB\n', encoding="utf-8")
    assert main(["parse", "nvidia-smi-csv", str(smi)]) in (0, 2)
    assert "internal error" not in capsys.readouterr().err


# ------------------------------------------------------------------ malformed recordings


def _recording(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "rec"
    shutil.copytree(HOST, folder)
    return folder, sorted(folder.glob("*.json"))[0]


def test_a_deeply_nested_recorded_answer_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, victim = _recording(tmp_path)
    victim.write_text('{"op": "x", "key": {}, "answer": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(["capture", "--replay", str(folder), "--json", "--no-sign"]) == 2
    _one_line_error(capsys, victim.name, "nested too deeply")


@pytest.mark.parametrize("answer", ['"oops"', "[1, 2]", "7", "null"])
def test_a_recorded_answer_of_the_wrong_type_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], answer: str
) -> None:
    folder, victim = _recording(tmp_path)
    record = json.loads(victim.read_text())
    victim.write_text(json.dumps({"op": record["op"], "key": record["key"]})[:-1]
                      + f', "answer": {answer}}}')
    assert main(["capture", "--replay", str(folder), "--json", "--no-sign"]) == 2
    _one_line_error(capsys, victim.name, "must be a string and two objects")


# ------------------------------------------------------------------------ messages


def test_keygen_into_a_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keygen", "-o", str(tmp_path)]) == 2
    err = _one_line_error(capsys, "is a folder")
    assert "already exists" not in err and list(tmp_path.iterdir()) == []


def test_an_envelope_with_two_manifest_subjects_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = sample_manifest()
    assert manifest.identity_digest is not None
    digest = manifest.identity_digest.removeprefix("sha256:")
    statement = dsse.make_statement(
        [("manifest", digest), ("manifest", "e" * 64)], dsse.MANIFEST_PREDICATE,
        unstructure(manifest),
    )
    path = tmp_path / "two.json"
    path.write_text(sign.envelope_json(sign.sign_statement(statement)), encoding="utf-8")
    capsys.readouterr()  # the line that announced the new default key
    assert main(["verify", str(path)]) == 1
    _one_line_error(capsys, "2 manifest subjects")
