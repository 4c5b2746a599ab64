"""python, env and state probes: the distributions named, the env allow-list and the secret
rule, the cpufreq clock mean (the host and power parsers' tests: tests/parsers/)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.manifest.secrets import SECRET_WORDS, redact_value
from envstamp.manifest.secrets import is_secret_name as looks_secret
from envstamp.probes.system.env import ALLOWED_NAMES, ALLOWED_PREFIXES, is_allowed, select
from envstamp.probes.system.python import RELEVANT_DISTRIBUTIONS
from envstamp.probes.system.state import policy_mhz_mean
from envstamp.runner import Answer, Runner

# ---------------------------------------------------------------------------------- python


def test_relevant_distributions_are_named_as_on_pypi() -> None:
    assert {"torch", "llama-cpp-python", "vllm", "mlx-lm", "envstamp"} <= set(
        RELEVANT_DISTRIBUTIONS
    )
    assert list(RELEVANT_DISTRIBUTIONS) == sorted(set(RELEVANT_DISTRIBUTIONS))


# ------------------------------------------------------------------------------------- env


def test_allow_list_keeps_settings_and_drops_secrets() -> None:
    environ = {
        "CUDA_VISIBLE_DEVICES": "0,1",
        "OLLAMA_NUM_PARALLEL": "4",
        "OLLAMA_API_KEY": "sk-should-never-appear",
        "HF_TOKEN": "hf_should-never-appear",
        "LLAMA_ARG_API_KEY_FILE": "/secret/path",
        "GGML_VK_VISIBLE_DEVICES": "1",
        "OMP_NUM_THREADS": "16",
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "AWS_SECRET_ACCESS_KEY": "nope",
        "ollama_host": "lower case is not what Ollama reads",
        "OLLAMA_HOST": "http://me:pw@127.0.0.1:11434",
    }
    assert select(environ) == {
        "CUDA_VISIBLE_DEVICES": "0,1",
        "GGML_VK_VISIBLE_DEVICES": "1",
        "OLLAMA_HOST": "http://127.0.0.1:11434",
        "OLLAMA_NUM_PARALLEL": "4",
        "OMP_NUM_THREADS": "16",
    }


def test_design_names_are_allowed() -> None:
    for name in (
        "HIP_VISIBLE_DEVICES",
        "ROCR_VISIBLE_DEVICES",
        "HSA_OVERRIDE_GFX_VERSION",
        "GPU_DEVICE_ORDINAL",
        "CUDA_DEVICE_ORDER",
        "HF_HUB_OFFLINE",
        "TOKENIZERS_PARALLELISM",  # "TOKEN" inside, yet a plain setting (KNOWN_SETTINGS)
        "ONEAPI_DEVICE_SELECTOR",
        "SYCL_CACHE_PERSISTENT",
        "ZES_ENABLE_SYSMAN",
        "MTL_HUD_ENABLED",
        "METAL_DEVICE_WRAPPER_TYPE",
        "KMP_AFFINITY",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "PYTORCH_CUDA_ALLOC_CONF",
        "VLLM_ATTENTION_BACKEND",
        "LLAMA_CACHE",
    ):
        assert is_allowed(name), name


def test_tokenizer_settings_are_not_secrets_but_a_token_is() -> None:
    assert is_allowed("TOKENIZERS_PARALLELISM")
    assert is_allowed("OLLAMA_TOKENIZERS_PARALLELISM")  # a tokenizer word, not a token
    assert looks_secret("TOKENIZERS_PARALLELISM_TOKEN")


@pytest.mark.parametrize(
    ("value", "clean"),
    [
        ("http://user:pass@host:11434/x", "http://host:11434/x"),
        ("https://token@hf.co", "https://hf.co"),
        ("a=ftp://u:p@h/x b=http://h2", "a=ftp://h/x b=http://h2"),
        ("0,1", "0,1"),
        ("user@host", "user@host"),  # not a URL: left alone
    ],
)
def test_url_credentials_are_stripped(value: str, clean: str) -> None:
    assert redact_value(value) == clean


NAME_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")
# The secret word stands as a word of its own after a neutral one ("_Z_"): after MAX or NUM
# a TOKEN is a count, and glued to other letters a word may become an innocent one (BYPASS).
NAMES = st.builds(
    lambda prefix, middle, word, tail: prefix + middle + "_Z_" + word + "_" + tail,
    st.sampled_from([*ALLOWED_PREFIXES, ""]),
    st.text(NAME_CHARS, max_size=8),
    st.sampled_from([*SECRET_WORDS, *(w.lower() for w in SECRET_WORDS)]),
    st.text(NAME_CHARS, max_size=8),
)


@given(NAMES, st.text())
def test_secret_looking_names_never_pass(name: str, value: str) -> None:
    assert not is_allowed(name)
    assert name not in select({name: value})


@given(st.text(NAME_CHARS, min_size=1, max_size=30), st.text(max_size=200))
def test_selected_values_never_carry_url_credentials(suffix: str, value: str) -> None:
    name = "OLLAMA_" + suffix
    url = f"http://admin:hunter2@example:1/{value}"
    kept = select({name: url})
    for kept_value in kept.values():
        assert "hunter2" not in kept_value.split("/", 3)[2]
    assert set(kept) <= {name}
    if name not in kept:
        assert looks_secret(name)


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=10))
def test_selection_is_a_subset_of_allowed_names(environ: dict[str, str]) -> None:
    kept = select(environ)
    assert set(kept) <= set(environ)
    for name in kept:
        assert name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)
        assert not looks_secret(name)


# ----------------------------------------------------------------------------------- state


class PolicyRunner(Runner):
    """cpufreq policies of a big.LITTLE board."""

    FILES: ClassVar[dict[str, str]] = {
        "policy0/scaling_cur_freq": "1800000\n",
        "policy0/affected_cpus": "0 1 2\n",
        "policy4/scaling_cur_freq": "2400000\n",
        "policy4/affected_cpus": "4-7\n",
    }

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        path = str(key.get("path", ""))
        if op == "dir" and path.endswith("/cpufreq"):
            return {"status": "ok", "names": ["policy0", "policy4"]}
        tail = "/".join(path.split("/")[-2:])
        if op == "file" and tail in self.FILES:
            return {"status": "ok", "text": self.FILES[tail]}
        return {"status": "absent"}


def test_policy_mhz_mean_weights_by_cpus() -> None:
    # affected_cpus lists CPUs with spaces ("0 1 2 3"); ranges ("4-7") count the same
    assert policy_mhz_mean(PolicyRunner()) == round((1800 * 3 + 2400 * 4) / 7, 1)


