"""envstamp.manifest.secrets, the one module that decides what is secret (issue 12, item 6).

Names and values: secret-looking names of every shape, URL userinfo (malformed and
scheme-less too), secret-named query parameters and key=value pairs, Authorization headers,
well-known token shapes and long random strings; and what must stay: paths, versions, model
names, host:port, digests.  The token bodies below are made up for these tests.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.manifest.secrets import (
    REDACTED,
    is_secret_name,
    looks_random,
    redact_answer,
    redact_argv,
    redact_key,
    redact_value,
)
from envstamp.parsers import frontend_text
from envstamp.parsers import ollama as ollama_parsers
from envstamp.probes.context import ProbeContext, ProbeFailure
from envstamp.probes.llm import ollama
from envstamp.probes.llm.llamacpp_build import strip_credentials as strip_git_remote
from envstamp.probes.system import env
from envstamp.runner import Runner

# ------------------------------------------------------------------------------------ names

SECRET_NAMES = [
    # the issue's own examples
    "MLX_PASSPHRASE", "OLLAMA_PASS", "VLLM_PWD", "ZES_PW", "PYTORCH_BEARER",
    # one of each word, and words inside a name
    "OLLAMA_PASSWORD", "GGML_PASSWD", "HF_TOKEN", "LLAMA_ARG_HF_TOKEN", "OLLAMA_SECRET",
    "OLLAMA_API_KEY", "LLAMA_ARG_API_KEY_FILE", "VLLM_AUTH", "MKL_OAUTH_CLIENT",
    "NCCL_CREDENTIAL", "OLLAMA_COOKIE", "VLLM_SESSION_ID", "MLX_PRIVATE_KEY", "MKL_DSN",
    "GITHUB_PAT", "OLLAMA_X_API_KEY_FOO", "ollamaApiKey", "OLLAMAAPIKEY", "PGPASSFILE",
    "X_AUTHORIZATION", "SSL_CERT_FILE", "API_TOKENS", "api-key", "hf-token", "password",
]  # fmt: skip
PLAIN_NAMES = [
    "PWD", "OLDPWD",  # the shell's current and previous folder, not passwords
    "TOKENIZERS_PARALLELISM", "OLLAMA_TOKENIZERS_PARALLELISM", "MAX_TOKENS",
    "VLLM_MAX_NUM_BATCHED_TOKENS", "tokenizer.ggml.add_bos_token", "max-tokens",
    "CUDA_VISIBLE_DEVICES", "OLLAMA_KEEP_ALIVE", "OLLAMA_KV_CACHE_TYPE", "OLLAMA_ORIGINS",
    "OLLAMA_HOST", "GGML_CUDA_BYPASS", "hw.optional.arm.FEAT_PAuth", "trust-remote-code",
    "NCCL_IB_HCA", "OMP_NUM_THREADS", "model", "n-gpu-layers",
]  # fmt: skip


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_plain_names(name: str) -> None:
    assert not is_secret_name(name)


def test_env_probe_drops_the_issue_names_even_when_allow_listed() -> None:
    environ = {name: "value-of-" + name for name in SECRET_NAMES}
    environ["OLLAMA_NUM_PARALLEL"] = "4"
    assert env.select(environ) == {"OLLAMA_NUM_PARALLEL": "4"}


def test_ollama_settings_share_the_rule() -> None:
    values: dict[str, str | None] = {"OLLAMA_PASS": "x", "OLLAMA_PW": "y", "OLLAMA_DEBUG": "1"}
    assert ollama_parsers.settings_from(values, ollama_parsers.secret_name_rule()) == {
        "OLLAMA_DEBUG": "1"
    }
    assert ollama_parsers.secret_name_rule() is is_secret_name


# ----------------------------------------------------------------------------------- values

GHP = "ghp_" + "Xq7" * 12

REDACTED_VALUES = [
    # URL userinfo, proper and malformed, with and without a scheme
    ("http://user:pw@host:11434/x", "http://host:11434/x", "pw"),
    ("http://user:p/SECRET@host", "http://host", "SECRET"),
    ("http://user:p@SECRET@host:1/v1", "http://host:1/v1", "SECRET"),
    ("user:pw0rd@host:11434", "host:11434", "pw0rd"),
    ("user:pw0rd@[::1]:11434", "[::1]:11434", "pw0rd"),
    ("https://" + GHP + "@github.com/o/r.git", "https://github.com/o/r.git", GHP),
    ("a=ftp://u:hunter2@h/x b=http://h2", "a=ftp://h/x b=http://h2", "hunter2"),
    # secret-named query parameters and key=value pairs
    ("http://h/x?api_key=K3y&n=1", f"http://h/x?api_key={REDACTED}&n=1", "K3y"),
    ("https://h/b?sig=AbC%2Fd&se=2030", f"https://h/b?sig={REDACTED}&se=2030", "AbC"),
    ("http://h/?token=tok3n", f"http://h/?token={REDACTED}", "tok3n"),
    ("host=db user=me password=hunter2", f"host=db user=me password={REDACTED}", "hunter2"),
    ('{"api_key": "abc123", "n": 1}', f'{{"api_key": "{REDACTED}", "n": 1}}', "abc123"),
    ("api_key: abc123\nn: 1", f"api_key: {REDACTED}\nn: 1", "abc123"),
    ("run --api-key s3cr3t -n 5", f"run --api-key {REDACTED} -n 5", "s3cr3t"),
    # headers
    # an Authorization value goes whole, scheme and all (gap 5 of the issue 12 review)
    ("Authorization: Bearer abc.def-123", f"Authorization: {REDACTED}", "abc.def-123"),
    ("authorization=Basic dXNlcjpwYXNz", f"authorization={REDACTED}", "dXNlcjpwYXNz"),
    ("-H 'Basic dXNlcjpwYXNz'", f"-H 'Basic {REDACTED}'", "dXNlcjpwYXNz"),
    ("curl -H 'X-Api-Key: k3yk3y'", f"curl -H 'X-Api-Key: {REDACTED}'", "k3yk3y"),
    ("bearer zzzzzzzzzzzz", f"bearer {REDACTED}", "zzzzzzzzzzzz"),
    # token shapes and random strings
    (GHP, REDACTED, GHP),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", REDACTED, "bPxRfiCY"),
    ("key is aZ3kP9qLm2Xv8Rt5Wn1Yb7Hc4Jd6Fg0", f"key is {REDACTED}", "aZ3kP9qLm2"),
    ("-----BEGIN PRIVATE KEY-----\nMC4CAQ\n-----END PRIVATE KEY-----", REDACTED, "MC4CAQ"),
]


@pytest.mark.parametrize(("value", "expected", "secret"), REDACTED_VALUES)
def test_secrets_in_values_are_redacted(value: str, expected: str, secret: str) -> None:
    out = redact_value(value)
    assert out == expected
    assert secret not in out


KEPT_VALUES = [
    "/mnt/data/home/models/x.gguf",
    "/home/alice/llama.cpp/build/bin/llama-cli",
    "localhost:11434",
    "http://127.0.0.1:11434",
    "[::1]:11434",
    "0.0.0.0",
    "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
    "DeepSeek-R1-Distill-Qwen-32B-Q4_K_M",
    "Qwen2VLForConditionalGeneration",
    "NVIDIAGeForceRTX4090Laptop",
    "CUDAExecutionProvider",
    "llama3.1:8b-instruct-q4_K_M",
    "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M",
    "GPU-513536b6-7d19-9063-b049-1e69664bb298",
    "sha256:" + "3f" * 32,
    "b4120-8f0e4c5a",
    "git@github.com:ggml-org/llama.cpp.git",
    "https://github.com/ggml-org/llama.cpp.git",
    "https://registry.npmjs.org/@scope/pkg",
    "ubuntu:22.04@sha256:abcd",
    "expandable_segments:True,max_split_size_mb:128",
    "granularity=fine,compact,1,0",
    "2.5.1+cu121",
    "tokenizer.ggml.add_bos_token=bool:false",
    "hw.optional.arm.FEAT_PAuth: 1",
    "alice@example.org",
    "Basic setup information",
]


@pytest.mark.parametrize("value", KEPT_VALUES)
def test_ordinary_values_are_kept(value: str) -> None:
    assert redact_value(value) == value


# ------------------------------------------------------------------ known token shapes


def _body(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
UPPER_DIGITS = string.ascii_uppercase + string.digits

SHAPES = st.one_of(
    st.builds(lambda p, b: p + b, st.sampled_from(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]),
              _body(ALNUM, 36)),
    st.builds(lambda b: "github_pat_" + b, _body(ALNUM + "_", 82)),
    st.builds(lambda b: "hf_" + b, _body(ALNUM, 34)),
    st.builds(lambda b: "sk-" + b, _body(URLSAFE, 48)),
    st.builds(lambda b: "sk-proj-" + b, _body(URLSAFE, 64)),
    st.builds(lambda b: "sk-ant-api03-" + b, _body(URLSAFE, 80)),
    st.builds(lambda p, b: p + b, st.sampled_from(["xoxb-", "xoxp-", "xoxa-"]),
              _body(string.digits + string.ascii_lowercase + "-", 40)),
    st.builds(lambda p, b: p + b, st.sampled_from(["AKIA", "ASIA"]), _body(UPPER_DIGITS, 16)),
    st.builds(lambda b: "glpat-" + b, _body(URLSAFE, 20)),
    st.builds(lambda b: "AIza" + b, _body(URLSAFE, 35)),
    st.builds(lambda b: "nvapi-" + b, _body(URLSAFE, 64)),
    st.builds(lambda h, p, s: f"eyJ{h}.eyJ{p}.{s}", _body(URLSAFE, 20), _body(URLSAFE, 40),
              _body(URLSAFE, 43)),
)  # fmt: skip
CONTEXTS = st.sampled_from(
    ["{}", "value={}", "x {} y", '"{}"', "https://h/{}", "--flag={}", "({})", "a,{},b", "k: {}"]
)


@settings(max_examples=300)
@given(SHAPES, CONTEXTS)
def test_known_token_shapes_are_always_redacted(token: str, context: str) -> None:
    out = redact_value(context.format(token))
    assert token not in out
    assert REDACTED in out


WORD = st.text(string.ascii_lowercase + string.digits + "_-.", min_size=1, max_size=12)
PATHS = st.builds(lambda parts: "/" + "/".join(parts), st.lists(WORD, min_size=1, max_size=8))
VERSIONS = st.builds(
    lambda nums, tail: ".".join(map(str, nums)) + tail,
    st.lists(st.integers(0, 9999), min_size=1, max_size=4),
    st.sampled_from(["", "+cu121", "-rc1", "+rocm6.2", ".post1", "-dev"]),
)
MODELS = st.builds(
    lambda family, size, quant: f"{family}-{size}B-Instruct-{quant}.gguf",
    st.sampled_from(["Llama-3.1", "Qwen2.5", "Mistral-Nemo", "gemma-2", "Phi-3.5-mini"]),
    st.integers(1, 405),
    st.sampled_from(["Q4_K_M", "Q8_0", "IQ2_XXS", "F16", "BF16", "Q5_K_S"]),
)
HOSTS = st.builds(
    lambda host, port: f"{host}:{port}",
    st.sampled_from(["localhost", "127.0.0.1", "[::1]", "0.0.0.0", "gpu-box.lan", "node-7"]),
    st.integers(1, 65535),
)


@settings(max_examples=300)
@given(st.one_of(PATHS, VERSIONS, MODELS, HOSTS))
def test_ordinary_values_are_always_kept(value: str) -> None:
    assert redact_value(value) == value


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_redaction_is_total_and_idempotent(text: str) -> None:
    once = redact_value(text)
    assert redact_value(once) == once


def test_random_strings_but_not_hex_or_words() -> None:
    assert looks_random("aZ3kP9qLm2Xv8Rt5Wn1Yb7Hc4Jd6Fg0")
    assert not looks_random("3f" * 32)  # a digest
    assert not looks_random("Qwen2VLForConditionalGeneration")


# ------------------------------------------------------------------------- command lines


def test_argv_values_after_secret_flags_are_redacted() -> None:
    argv = [
        "llama-server", "-m", "/m/x.gguf", "--api-key", "s3cr3t-k3y", "--hf-token=hf_tok",
        "-H", "Authorization: Bearer b34r3r", "--max-tokens", "128", "--tokenizer", "tok",
        "HF_TOKEN=plain", "--url", "http://u:pw@127.0.0.1:8080", "--password", "--verbose",
    ]  # fmt: skip
    assert redact_argv(argv) == [
        "llama-server", "-m", "/m/x.gguf", "--api-key", REDACTED, f"--hf-token={REDACTED}",
        "-H", f"Authorization: {REDACTED}", "--max-tokens", "128", "--tokenizer", "tok",
        f"HF_TOKEN={REDACTED}", "--url", "http://127.0.0.1:8080", "--password", "--verbose",
    ]  # fmt: skip


# ------------------------------------------------------------------- the other call sites


def test_frontend_and_git_helpers_call_the_module() -> None:
    assert frontend_text.strip_credentials("user:pw@host:11434") == "host:11434"
    remote = "https://user:p/SECRET@github.com/ggml-org/llama.cpp.git"
    assert strip_git_remote(remote) == "https://github.com/ggml-org/llama.cpp.git"


class _EnvRunner(Runner):
    """Answers environment questions from a dict; no program is on PATH."""

    def __init__(self, environ: dict[str, str]) -> None:
        super().__init__()
        self.environ = environ

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> dict[str, Any]:
        if op == "env":
            return {"value": self.environ.get(key["name"])}
        if op == "env_names":
            return {"names": sorted(self.environ)}
        if op == "which":
            return {"path": None}
        return {"status": "absent", "detail": "not here"}


@pytest.mark.parametrize(
    "host", ["user:pw0rd@gpu-box:11434", "http://user:p/pw0rd@gpu-box:11434", "u:x@pw0rd@gpu-box"]
)
def test_ollama_probe_detail_never_carries_the_host_credentials(host: str) -> None:
    from envstamp.probes.context import CaptureOptions

    ctx = ProbeContext(runner=_EnvRunner({"OLLAMA_HOST": host}), options=CaptureOptions())
    with pytest.raises(ProbeFailure) as failure:
        ollama.probe(ctx)
    assert "gpu-box" in (failure.value.detail or "")
    assert "pw0rd" not in (failure.value.detail or "")


# --------------------------------------------------------------------------- recordings


def test_recorded_questions_and_answers_are_redacted() -> None:
    key = redact_key("cmd", {"argv": ["tool", "--token", "t0k3n"], "env": {"OLLAMA_HOST": "9"}})
    assert key == {"argv": ["tool", "--token", REDACTED], "env": {"OLLAMA_HOST": "9"}}
    assert redact_answer("env", {"name": "MKL_DSN"}, {"value": "pg://a:b@h/db"}) == {
        "value": REDACTED
    }
    assert redact_answer("env", {"name": "OLLAMA_HOST"}, {"value": "a:pw0rd@h:1"}) == {
        "value": "h:1"
    }
    names = redact_answer("env_names", {}, {"names": ["HF_TOKEN", "PATH", GHP]})
    assert names == {"names": ["PATH"]}
    output = {"status": "ok", "stdout": "origin https://u:pw0rd@h/r.git (fetch)", "hex": GHP}
    assert redact_answer("cmd", {}, output) == {
        "status": "ok", "stdout": "origin https://h/r.git (fetch)", "hex": GHP
    }


# ------------------------------------------------------------------------- probe details


def probe_quoting_a_failure(ctx: ProbeContext) -> Any:
    raise ProbeFailure("error", "tool exited 1: cannot reach https://u:pw0rd@mirror.example/x")


def test_every_probe_detail_passes_through_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from envstamp.capturing import capture as capture_module
    from envstamp.probes.registry import ProbeSpec

    spec = ProbeSpec("quoting", f"{__name__}:probe_quoting_a_failure")
    monkeypatch.setattr(capture_module, "PROBES", (spec,))
    (record,) = capture_module.capture(runner=_EnvRunner({})).probes
    assert record.detail == "tool exited 1: cannot reach https://mirror.example/x"
