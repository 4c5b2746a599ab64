"""What is not secret stays (issue 12 review, gap 8).

Over-redaction costs what a manifest or a results log is for: ``-m
/models/MetaLlama3x1x8BInstructQ4KM.gguf`` was stored as ``/models/<redacted>.gguf``, and
environment names such as ``KEY_LENGTH``, ``N_KEYS``, ``HOTKEY`` or ``MONKEY`` counted as
secret because KEY was found inside them.  Names are judged by their words (KEY as a word of
its own, or ending a word after what says which key: ``APIKEY``), and a file name with an
extension - and every folder of a model file's path - is a name, not a key.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.cli import main as cli
from envstamp.manifest.secrets import REDACTED, is_secret_name, redact_argv, redact_value
from envstamp.probes.system import env
from envstamp.stamping.results import load_results
from tests.timing_support import make_manifest

MODEL = "MetaLlama3x1x8BInstructQ4KM"  # a model named without separators: reads random
KEY = "aZ3kP9qLm2Xv8Rt5Wn1Yb7Hc4Jd6Fg0"  # a made-up key


@pytest.mark.parametrize(
    "value",
    [
        f"/tmp/rv/{MODEL}.gguf",
        f"{MODEL}.gguf",
        f"{MODEL}.Q4_K_M.gguf",
        f"-m /models/{MODEL}.gguf -p 512",
        f"/models/{MODEL}/ggml-model-q4_k_m.gguf",  # a folder of a model file's path
        f"/models/{MODEL}/{MODEL}-00001-of-00002.gguf",
        f"hf.co/SomeOrg/{MODEL}/resolve/main/model.safetensors",
        f"C:\\models\\{MODEL}.gguf",
        f"model={MODEL}.gguf",
        f"{MODEL}.safetensors",
        f"{MODEL}.bin",
    ],
)
def test_model_files_and_their_folders_stay(value: str) -> None:
    assert redact_value(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"key {KEY}.", f"key {REDACTED}."),  # a sentence ends, no extension
        (f"key {KEY}. next", f"key {REDACTED}. next"),
        (f"/run/{KEY}/socket", f"/run/{REDACTED}/socket"),  # a folder of no model's path
        (f"https://hooks.example.com/services/T000/B000/{KEY}",
         f"https://hooks.example.com/services/T000/B000/{REDACTED}"),
        (f"https://h.example/{KEY}/x.json", f"https://h.example/{REDACTED}/x.json"),
        (f"/m/{KEY}.gguf?sig={KEY}", f"/m/{KEY}.gguf?sig={REDACTED}"),
    ],
)  # fmt: skip
def test_keys_that_are_no_file_name_still_go(value: str, expected: str) -> None:
    assert redact_value(value) == expected


def test_the_command_line_keeps_the_model_path() -> None:
    argv = ["sh", "-c", "true", "-m", f"/tmp/rv/{MODEL}.gguf"]
    assert redact_argv(argv) == argv


def test_envstamp_run_stores_the_model_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envstamp.stamping import timing

    monkeypatch.setattr(timing, "_capture", lambda options, runner: make_manifest())
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")
    out = tmp_path / "x.jsonl"
    argv = ["sh", "-c", "true", "-m", f"/srv/rv/{MODEL}.gguf"]
    with contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["run", "-q", "-o", str(out), "--", *argv])
    assert code == 0
    (result,) = load_results(out)
    assert result.command == argv


MODEL_NAME = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                     min_size=20, max_size=40)  # fmt: skip


@settings(max_examples=200)
@given(MODEL_NAME, st.sampled_from(["gguf", "safetensors", "bin", "onnx", "pt", "ggml"]),
       st.lists(st.sampled_from(["models", "data", "hf", "cache", "ckpt"]), max_size=3))
def test_a_model_file_is_always_kept(name: str, ext: str, folders: list[str]) -> None:
    path = "/" + "/".join([*folders, name, f"{name}.{ext}"])
    assert redact_value(path) == path


# ------------------------------------------------------------------------------- names

NOT_SECRET = [
    "KEY_LENGTH", "N_KEYS", "NUM_KEYS", "MAX_KEYS", "KEY_SIZE", "KEY_COUNT", "GGML_KEY_LEN",
    "HOTKEY", "MONKEY", "TURKEY", "WHISKEY", "DONKEY_MODE", "KEYBOARD_LAYOUT", "KEYMAP",
    "XKB_KEYMAP", "KEYWORDS", "OLLAMA_HOTKEY", "nKeys", "keyLength",
]  # fmt: skip
SECRET = [
    "KEY", "API_KEY", "SECRET_KEY", "OPENAI_API_KEY", "MY_API_KEY_FILE", "OLLAMAAPIKEY",
    "MYAPIKEY", "ollamaApiKey", "apiKey", "AWS_ACCESS_KEY_ID", "ACCESSKEY", "SSL_KEYFILE",
    "GGML_KEYSTORE", "SIGNING_KEY", "LLAMA_ARG_API_KEY_FILE", "MLX_PRIVATE_KEY", "API_KEYS",
    "HOTKEY_TOKEN", "KEY_PASSPHRASE", "ENCRYPTION_KEY", "MASTERKEY", "api-key", "x-api-key",
]  # fmt: skip


@pytest.mark.parametrize("name", NOT_SECRET)
def test_key_inside_another_word_or_a_count_is_not_a_secret(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", SECRET)
def test_names_of_keys_are_secret(name: str) -> None:
    assert is_secret_name(name)


def test_the_env_probe_keeps_such_settings() -> None:
    environ = {"GGML_KEY_LENGTH": "64", "OLLAMA_HOTKEY": "F5", "LLAMA_N_KEYS": "8",
               "OLLAMA_API_KEY": "k3y"}  # fmt: skip
    assert env.select(environ) == {
        "GGML_KEY_LENGTH": "64", "OLLAMA_HOTKEY": "F5", "LLAMA_N_KEYS": "8"
    }  # fmt: skip
