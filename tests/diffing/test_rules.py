"""The rules table: patterns, ranks, tolerances and name normalisation."""

from __future__ import annotations

import pytest

from envstamp.diffing import rules
from envstamp.diffing.rules import Rule, Tolerance


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("NVIDIA GeForce RTX 4090", "GeForce RTX 4090"),
        ("NVIDIA GeForce RTX 4090", "nvidia  geforce rtx 4090 "),
        ("Intel(R) Core(TM) i9-13900K", "Intel Core i9-13900K"),
        ("Intel® Xeon® Gold 6430", "Intel Xeon Gold 6430"),
        ("AMD Ryzen 9 7950X 16-Core Processor", "AMD  Ryzen 9 7950X 16-Core Processor"),
    ],
)
def test_names_normalise_to_the_same_key(a: str, b: str) -> None:
    assert rules.normalise_name(a) == rules.normalise_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4080"),
        ("NVIDIA", "AMD"),  # a bare vendor name is not stripped to nothing
        ("Apple M2 Max", "Apple M2 Pro"),
    ],
)
def test_different_names_stay_different(a: str, b: str) -> None:
    assert rules.normalise_name(a) != rules.normalise_name(b)


def test_versions_compare_without_v_prefix_and_case() -> None:
    rule = rules.rule_for("frontends.ollama.server_version")
    assert rules.equal(rule, "v0.5.7", "0.5.7")
    assert not rules.equal(rule, "0.5.7", "0.5.8")


def test_commits_short_equals_full() -> None:
    assert rules.same_commit("b5e95468", "B5E9546801D2C3A7F9E1B0C4D6A8E2F3B5C7D9E1")
    assert not rules.same_commit("b5e9", "b5e95468")  # too short to be sure
    assert not rules.same_commit("b5e95468", "cfd74c86a8b5d2e1")
    rule = rules.rule_for("llamacpp[].commit")
    assert rules.equal(rule, "b5e95468", "b5e9546801d2c3a7f9e1")


@pytest.mark.parametrize(
    ("path", "a", "b", "equal"),
    [
        ("gpus[].memory_total_mib", 24564, 24576, True),  # within a few percent
        ("gpus[].memory_total_mib", 24564, 16376, False),
        ("gpus[].clocks_max_graphics_mhz", 3105, 3120, True),
        ("gpus[].clocks_max_graphics_mhz", 3120, 2520, False),
        ("gpus[].power_limit_w", 450.0, 450.5, True),
        ("gpus[].power_limit_w", 450.0, 350.0, False),
        ("memory.total_bytes", 67108864000, 67429388288, True),
        ("cpu.physical_cores", 16, 17, False),  # counts compare exactly
        ("models[].size_bytes", 4920739232, 4920739233, False),  # file sizes exactly
        ("volatile.gpus[].temperature_c", 41.0, 44.0, True),
        ("volatile.gpus[].temperature_c", 41.0, 83.0, False),
    ],
)
def test_numeric_tolerances(path: str, a: float, b: float, equal: bool) -> None:
    assert rules.equal(rules.rule_for(path), a, b) is equal


def test_booleans_are_not_numbers() -> None:
    rule = rules.rule_for("cpu.boost")
    assert not rules.equal(rule, True, 1.0)
    assert not rules.equal(rule, True, False)


def test_nan_is_never_equal() -> None:
    assert not rules.equal(rules.rule_for("gpus[].power_limit_w"), float("nan"), float("nan"))


def test_tolerance_uses_the_larger_of_absolute_and_relative() -> None:
    tol = Tolerance(rel=0.1, abs=5.0)
    assert tol.equal(10.0, 14.0)  # abs allows 5
    assert tol.equal(1000.0, 1090.0)  # rel allows 100
    assert not tol.equal(1000.0, 1200.0)


@pytest.mark.parametrize(
    ("path", "category", "impact"),
    [
        ("llamacpp[].build_number", "engine build", "high"),
        ("llamacpp[].backends", "engine build", "high"),
        ("llamacpp[].build_flags.GGML_CUDA", "engine build", "high"),
        ("gpus[]", "gpu", "high"),
        ("gpus[].name", "gpu", "high"),
        ("gpus[].power_limit_w", "gpu", "high"),
        ("gpus[].driver_version", "driver", "medium"),
        ("runtimes.nvidia_driver", "driver", "medium"),
        ("runtimes.rocm", "runtime", "medium"),
        ("runtimes.cuda_toolkit", "runtime", "medium"),
        ("gpus[].pcie_width_max", "gpu", "medium"),
        ("frontends.ollama.server_version", "frontend", "high"),
        ("frontends.lmstudio.runtimes[].version", "frontend", "high"),
        ("frontends.torch.build_tag", "frontend", "high"),
        ("models[].sha256", "model", "high"),
        ("models[].quantization", "model", "high"),
        ("tests[].params.n_gpu_layers", "benchmark", "high"),
        ("tests[].params.n_threads", "benchmark", "high"),
        ("cpu.governor", "cpu", "medium"),
        ("cpu.boost", "cpu", "medium"),
        ("power.ac_online", "power", "medium"),
        ("power.platform_profile", "power", "medium"),
        ("os.kernel", "os", "low"),
        ("os.distro_version", "os", "low"),
        ("os.libc", "os", "low"),
        ("host.hostname", "host", "none"),
        ("gpus[].serial", "gpu", "none"),
        ("gpus[].uuid", "gpu", "none"),
        ("env.CUDA_VISIBLE_DEVICES", "env", "high"),
        ("env.GGML_CUDA_FORCE_MMQ", "env", "high"),
        ("env.OLLAMA_FLASH_ATTENTION", "env", "medium"),
        ("env.SOMETHING_ELSE", "env", "low"),
        ("volatile.gpus[].throttle_reasons", "volatile", "high"),
    ],
)
def test_rule_ranks(path: str, category: str, impact: str) -> None:
    rule = rules.rule_for(path)
    assert (rule.category, rule.impact) == (category, impact)


def test_unknown_paths_get_their_sections_category_and_low() -> None:
    rule = rules.rule_for("gpus[].some_field_added_later_mhz")
    assert (rule.category, rule.impact) == ("gpu", "low")
    assert rule.tolerance is rules.CLOCKS  # unit suffix still gives a tolerance
    assert rules.rule_for("brand_new_section.x").category == "other"


def test_patterns_match_whole_segments() -> None:
    # "frontends.*" is the presence rule of a frontend, not of its fields' fields
    assert rules.rule_for("frontends.ollama").presence
    assert rules.rule_for("frontends.ollama.host").impact == "none"
    # "*" does not cross a dot
    assert rules.rule_for("env.A.B").impact == "low"


def test_ignored_paths() -> None:
    assert rules.is_ignored("captured_at")
    assert rules.is_ignored("probes[].duration_ms")
    assert not rules.is_ignored("probes[].status")
    assert not rules.is_ignored("gpus[].name")


def test_list_matching_keys() -> None:
    assert rules.list_match("gpus").keys == ("uuid", "pci_bus_id", "index")
    assert rules.list_match("llamacpp").keys == ("path",)
    assert not rules.list_match("frontends.lmstudio.models").by_order
    assert rules.list_match("something.new") == rules.DEFAULT_LIST_MATCH


def test_every_rule_is_well_formed() -> None:
    for rule in rules.RULES:
        assert rule.category in rules.CATEGORIES, rule
        assert rule.impact in rules.IMPACTS, rule
        assert rule.compare in (
            "text", "name", "version", "commit", "compiler", "target", "remote"), rule
        assert rule.detail is None or rule.detail in rules.DETAILS, rule
        text = rule.reason.format(label=rule.label, change="x -> y", detail="")
        assert text.startswith(f"{rule.label} x -> y: ") and len(text) < 200, rule


def test_specific_rules_come_before_general_ones() -> None:
    # every rule must be reachable: no earlier pattern swallows its own pattern text
    for i, rule in enumerate(rules.RULES):
        probe = rule.pattern.replace("**", "x").replace("*", "x")
        assert rules.rule_for(probe) == rule, (i, rule.pattern, rules.rule_for(probe).pattern)


def test_build_distance_and_percent_details() -> None:
    assert rules.build_distance(3447, 4589) == " (1142 builds apart, B newer)"
    assert rules.build_distance(4590, 4589) == " (1 build apart, A newer)"
    assert rules.build_distance("b1", 2) == ""
    assert rules.percent_change(450.0, 350.0) == " (-22%)"
    assert rules.percent_change(0, 5) == ""
    by_rule = Rule("x", "gpu", "high", "x", "{label} {change}{detail}: y", detail="build_distance")
    assert rules.detail_for(by_rule, 1, 3) == " (2 builds apart, B newer)"


def test_units_from_field_names() -> None:
    assert rules.with_unit("450", "gpus[].power_limit_w") == "450 W"
    assert rules.with_unit("97", "volatile.gpus[].utilization_gpu_pct") == "97%"
    assert rules.with_unit("3", "cpu.sockets") == "3"
    assert rules.human_bytes(68719476736) == "64.0 GiB"


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("gpus[].name", "gpus[].name", True),
        ("gpus[].name", "gpus[].names", False),
        ("env.*", "env.GGML_X", True),
        ("env.*", "env.A.B", False),
        ("env.GGML_*", "env.GGML_CUDA_NO_VMM", True),
        ("env.GGML_*", "env.LLAMA_X", False),
        ("env.*_VISIBLE_DEVICES", "env.CUDA_VISIBLE_DEVICES", True),
        ("frontends.*.version", "frontends.vllm.version", True),
        ("frontends.*.version", "frontends.lmstudio.runtimes[].version", False),
        ("frontends.*", "frontends.ollama", True),
        ("frontends.*", "frontends.ollama.host", False),
        ("gpus[].pcie_*_current", "gpus[].pcie_gen_current", True),
        ("tests[].params.*offload*", "tests[].params.no_kv_offload", True),
        ("**", "anything[].at.all", True),
        ("a.**.z", "a.b[].c.z", True),
        ("a.**.z", "a.b.c.y", False),
        ("*", "", True),
    ],
)
def test_pattern_matching(pattern: str, path: str, expected: bool) -> None:
    assert rules.matches(pattern, path) is expected
