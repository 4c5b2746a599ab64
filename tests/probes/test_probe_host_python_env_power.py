"""host, python, env and power probes: hashed ids, models, the env allow-list and the
secret rule, power settings and supply readings."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.manifest.secrets import SECRET_WORDS, redact_value
from envstamp.manifest.secrets import is_secret_name as looks_secret
from envstamp.probes.system.env import ALLOWED_NAMES, ALLOWED_PREFIXES, is_allowed, select
from envstamp.probes.system.host import hash_machine_id, machine_model, parse_ioreg_uuid
from envstamp.probes.system.power import (
    parse_pmset_batt,
    parse_pmset_settings,
    parse_ppd_state,
    supply_state,
    windows_plan_name,
)
from envstamp.probes.system.python import RELEVANT_DISTRIBUTIONS, is_virtualenv
from envstamp.probes.system.state import parse_loadavg, policy_mhz_mean
from envstamp.runner import Answer, Runner

# ------------------------------------------------------------------------------------ host


def test_machine_id_is_hashed_never_raw() -> None:
    raw = "0123456789abcdef0123456789abcdef"
    hashed = hash_machine_id(raw + "\n")
    assert hashed == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (hashed or "")
    assert hash_machine_id("") is None
    assert hash_machine_id("uninitialized\n") is None


@pytest.mark.parametrize(
    ("vendor", "product", "version", "model"),
    [
        ("Dell Inc.", "Precision 5570", "", "Dell Inc. Precision 5570"),
        (
            "LENOVO",
            "21CBCTO1WW",
            "ThinkPad X1 Carbon Gen 10",
            "LENOVO ThinkPad X1 Carbon Gen 10 (21CBCTO1WW)",
        ),
        ("ASUS", "ASUS TUF Gaming A15", None, "ASUS TUF Gaming A15"),
        ("System manufacturer", "System Product Name", "System Version", None),
        ("To Be Filled By O.E.M.", "X570 Taichi", None, "X570 Taichi"),
        (None, None, None, None),
    ],
)
def test_machine_model_from_dmi(
    vendor: str | None, product: str | None, version: str | None, model: str | None
) -> None:
    assert machine_model(vendor, product, version) == model


def test_ioreg_uuid() -> None:
    text = '    {\n      "IOPlatformUUID" = "4C2A9E71-0B3D-5F86-A1C4-7E9D2B6F0A38"\n    }\n'
    assert parse_ioreg_uuid(text) == "4C2A9E71-0B3D-5F86-A1C4-7E9D2B6F0A38"
    with pytest.raises(ParseError):
        parse_ioreg_uuid("ioreg: no such class\n")


# ---------------------------------------------------------------------------------- python


@pytest.mark.parametrize(
    ("prefix", "base", "virtual_env", "expected"),
    [
        ("/home/u/venv", "/usr", None, True),
        ("/usr", "/usr", None, False),
        ("/usr", "/usr", "/home/u/venv", True),  # VIRTUAL_ENV set
        (None, None, None, None),
    ],
)
def test_virtualenv_rule(
    prefix: str | None, base: str | None, virtual_env: str | None, expected: bool | None
) -> None:
    platform: dict[str, Any] = {"prefix": prefix, "base_prefix": base}
    assert is_virtualenv(platform, virtual_env) is expected


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


# ----------------------------------------------------------------------------------- power


def test_power_profiles_daemon_state() -> None:
    text = "[State]\nDriver=amd_pstate\nProfile=performance\n\n[Action]\nProfile=balanced\n"
    assert parse_ppd_state(text) == "performance"
    assert parse_ppd_state("[Action]\nProfile=balanced\n") is None
    assert parse_ppd_state("") is None


def test_pmset_settings_low_power_mode() -> None:
    assert parse_pmset_settings(" lowpowermode         1\n displaysleep 10\n") is True
    assert parse_pmset_settings(" lowpowermode         0\n") is False
    assert parse_pmset_settings(" powermode            1\n") is True  # newer Macs
    assert parse_pmset_settings(" powermode            2\n") is False  # High Power
    assert parse_pmset_settings("System-wide power settings:\n") is None


def test_pmset_battery() -> None:
    on_battery = (
        "Now drawing from 'Battery Power'\n"
        " -InternalBattery-0 (id=4587619)\t64%; discharging; 2:10 remaining present: true\n"
    )
    assert parse_pmset_batt(on_battery) == (False, 64.0)
    assert parse_pmset_batt("Now drawing from 'AC Power'\n") == (True, None)
    charging = "Now drawing from 'AC Power'\n -InternalBattery-0 (id=1)\t100%; charged; 0:00\n"
    assert parse_pmset_batt(charging) == (True, 100.0)
    with pytest.raises(ParseError):
        parse_pmset_batt("pmset: unknown option\n")


@pytest.mark.parametrize(
    ("guid", "friendly", "name"),
    [
        ("381b4222-f694-41f0-9685-ff5bb260df2e", None, "Balanced"),
        ("{8C5E7FDA-E8BF-4A96-9A85-A6E23A8C635C}", None, "High performance"),
        ("e9a42b02-d5df-448d-aa00-03f14749eb61", None, "Ultimate Performance"),
        ("11111111-2222-3333-4444-555555555555", "LLM bench plan", "LLM bench plan"),
        (
            "11111111-2222-3333-4444-555555555555",
            "@%SystemRoot%\\system32\\powrprof.dll,-14,Gaming",
            "Gaming",
        ),
        ("11111111-2222-3333-4444-555555555555", None, "11111111-2222-3333-4444-555555555555"),
        (None, None, None),
    ],
)
def test_windows_plan_names(guid: str | None, friendly: str | None, name: str | None) -> None:
    assert windows_plan_name(guid, friendly) == name


@pytest.mark.parametrize(
    ("supplies", "expected"),
    [
        ({}, (None, None)),  # a desktop without ACPI supplies: unknown, not "off"
        ({"AC": {"type": "Mains\n", "online": "1\n"}}, (True, None)),
        (
            {
                "AC": {"type": "Mains", "online": "0"},
                "BAT0": {"type": "Battery", "capacity": "41", "status": "Discharging"},
            },
            (False, 41.0),
        ),
        (
            {
                "ucsi-source-psy-USBC000:001": {"type": "USB", "online": "1"},
                "AC": {"type": "Mains", "online": "0"},
                "BAT0": {"type": "Battery", "capacity": "80", "status": "Charging"},
            },
            (True, 80.0),
        ),
        (
            {"BAT0": {"type": "Battery", "capacity": "97", "status": "Full"}},
            (True, 97.0),
        ),
        (
            {"hidpp_battery_0": {"type": "Battery", "capacity": "20", "scope": "Device"}},
            (None, None),  # a wireless mouse's battery says nothing about the machine
        ),
    ],
)
def test_supply_state(
    supplies: dict[str, dict[str, str]], expected: tuple[bool | None, float | None]
) -> None:
    assert supply_state(supplies) == expected


def test_loadavg() -> None:
    assert parse_loadavg("0.52 0.58 0.59 1/467 12345\n") == 0.52
    assert parse_loadavg("{ 1.85 2.01 2.10 }\n") == 1.85
    assert parse_loadavg("") is None


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


@given(st.text())
def test_power_parsers_raise_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_pmset_batt(text)
    parse_pmset_settings(text)
    parse_ppd_state(text)
    parse_loadavg(text)
    windows_plan_name(text, text)
    supply_state({"x": {"type": text, "online": text, "capacity": text, "status": text}})
