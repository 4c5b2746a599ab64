"""Properties of the rules table's functions: matching, equality, normalising, details.

Pattern matching is held to a plain regular-expression reading of its documented meaning
(``*`` within one segment, ``**`` anything); equality must be reflexive and symmetric under
every rule of the table; normalising twice changes nothing.
"""

from __future__ import annotations

import math
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.diffing import rules
from envstamp.diffing.rules import Tolerance

PATH_TEXT = st.text("ab.[]", max_size=8)
PATTERN_TEXT = st.text("ab.[]*", max_size=7)
RULES = st.sampled_from(rules.RULES)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from(["550.54.14", "v0.5.7", "0.5.7", "NVIDIA GeForce RTX 4090",
                     "GeForce RTX 4090", "b5e95468", "b5e9546", "GNU 12.2.0",
                     "x86_64-linux-gnu", "Linux x86_64", ""]),
    st.text(max_size=10),
)


def _reference_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*)", pattern)
    text = "".join(".*" if p == "**" else r"[^.\[\]]*" if p == "*" else re.escape(p)
                   for p in parts)
    return re.compile(text, re.DOTALL)


# ----------------------------------------------------------------------------- matching


@settings(max_examples=300)
@given(PATTERN_TEXT, PATH_TEXT)
def test_matching_is_what_the_patterns_mean(pattern: str, path: str) -> None:
    assert rules.matches(pattern, path) == bool(_reference_regex(pattern).fullmatch(path))


@given(st.sampled_from(rules.RULES), st.sampled_from(["0", "uuid=GPU-1", "1~2"]))
def test_a_rule_matches_its_generic_path_and_never_a_display_path(
    rule: rules.Rule, segment: str
) -> None:
    generic = rule.pattern.replace("**", "x").replace("*", "x")
    assert rules.matches(rule.pattern, generic)
    if "[]" in generic:
        # the walk asks with generic paths: an item's own segment is never in them
        assert not rules.matches(rule.pattern, generic.replace("[]", f"[{segment}]", 1))


@given(st.sampled_from(sorted(rules.SECTION_CATEGORY)), st.text("abcxyz_", min_size=1,
                                                               max_size=12))
def test_every_path_gets_a_rule_of_its_own_section(section: str, name: str) -> None:
    path = f"{section}.zz_{name}"
    rule = rules.rule_for(path)
    assert rule.category in rules.CATEGORIES
    if rule.pattern == path:  # the default rule of a field nobody named
        assert (rule.category, rule.impact) == (rules.SECTION_CATEGORY[section], "low")


def test_a_default_rule_takes_the_tolerance_of_its_unit() -> None:
    assert rules.rule_for("gpus[].zz_new_clock_mhz").tolerance == rules.CLOCKS
    assert rules.rule_for("gpus[].zz_new_clock_mhz").detail == "percent_change"
    assert rules.rule_for("cpu.zz_new_label").tolerance is None


# ----------------------------------------------------------------------------- equality


@settings(max_examples=200)
@given(RULES, SCALARS)
def test_every_value_equals_itself_under_every_rule(rule: rules.Rule, value: object) -> None:
    assert rules.equal(rule, value, value)


@settings(max_examples=300)
@given(RULES, SCALARS, SCALARS)
def test_equality_is_symmetric_under_every_rule(rule: rules.Rule, a: object, b: object) -> None:
    assert rules.equal(rule, a, b) == rules.equal(rule, b, a)


@given(RULES, st.integers(0, 1))
def test_a_flag_is_never_a_count(rule: rules.Rule, number: int) -> None:
    assert not rules.equal(rule, bool(number), number)
    assert not rules.equal(rule, number, bool(number))


@given(st.floats(0, 1), st.floats(0, 100), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_tolerance_is_symmetric_and_grows_with_its_bounds(
    rel: float, absolute: float, a: float, b: float
) -> None:
    tight = Tolerance(rel=rel, abs=absolute)
    loose = Tolerance(rel=rel * 2, abs=absolute * 2)
    assert tight.equal(a, b) == tight.equal(b, a)
    if tight.equal(a, b):
        assert loose.equal(a, b)


@pytest.mark.parametrize("bad", [math.inf, -math.inf])
def test_infinities_are_equal_to_nothing_numeric(bad: float) -> None:
    rule = rules.rule_for("gpus[].power_limit_w")
    assert not rules.equal(rule, bad, 450.0)
    assert not rules.equal(rule, bad, -bad)


# ---------------------------------------------------------------------------- normalising


@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing(text: str) -> None:
    for normalise in (rules.normalise_name, rules.normalise_version, rules.normalise_compiler,
                      rules.normalise_target):
        once = normalise(text)
        assert normalise(once) == once, normalise.__name__


NAME_PART = st.text(string.ascii_lowercase + string.digits + "._-", min_size=1, max_size=10
                    ).filter(lambda s: not s.endswith(".git") and s not in (".", ".."))


@given(st.sampled_from(["github.com", "gitlab.com", "example.org"]), NAME_PART, NAME_PART,
       st.booleans(), st.booleans())
def test_every_spelling_of_a_remote_names_one_repository(
    host: str, owner: str, repo: str, dot_git: bool, upper: bool
) -> None:
    tail = f"{owner}/{repo}{'.git' if dot_git else ''}"
    spellings = [f"https://{host}/{tail}", f"git@{host}:{tail}", f"ssh://git@{host}/{tail}",
                 f"https://{host}/{owner}/{repo}/", f"http://{host}/{tail}"]
    if upper:
        spellings = [s.upper() for s in spellings]
    assert {rules.normalise_remote(s) for s in spellings} == {f"{host}/{owner}/{repo}"}


@given(st.sampled_from(["GeForce RTX 4090", "Core i9-13900K", "Radeon RX 7900 XTX"]),
       st.sampled_from(["", "NVIDIA ", "nvidia  "]), st.sampled_from(["", "(R)", "™", "(TM)"]),
       st.booleans())
def test_names_compare_without_marks_prefix_case_or_spacing(
    name: str, prefix: str, mark: str, upper: bool
) -> None:
    words = name.split(" ")
    marked = " ".join([words[0] + mark, *words[1:]])
    spelled = prefix + (marked.upper() if upper else marked)
    assert rules.normalise_name(spelled) == rules.normalise_name(name)


@pytest.mark.parametrize(
    "spelling",
    ["https://github.com/ggml-org/llama.cpp", "https://github.com/ggml-org/llama.cpp.git",
     "git@github.com:ggml-org/llama.cpp.git", "ssh://git@github.com/ggml-org/llama.cpp",
     "https://github.com/ggerganov/llama.cpp", "HTTPS://GitHub.com/GGerganov/llama.cpp/",
     "git@github.com:ggerganov/llama.cpp"],
)
def test_every_spelling_of_the_llama_cpp_remote_is_one_repository(spelling: str) -> None:
    assert rules.normalise_remote(spelling) == "github.com/ggml-org/llama.cpp"


def test_a_fork_is_another_repository() -> None:
    assert rules.normalise_remote("https://github.com/someone/llama.cpp") != (
        rules.normalise_remote("https://github.com/ggml-org/llama.cpp"))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("cc (Debian 12.2.0-14+deb12u1) 12.2.0", "GNU 12.2.0", True),
     ("Apple clang version 15.0.0", "clang version 15.0.0", False),
     ("MSVC 19.39.33523.0", "msvc 19.39.33523.0", True),
     ("something odd", "Something  Odd", True)],
)
def test_compilers_compare_by_family_and_version(a: str, b: str, same: bool) -> None:
    assert (rules.normalise_compiler(a) == rules.normalise_compiler(b)) is same


def test_apple_clang_printed_both_ways_is_one_compiler() -> None:
    assert rules.normalise_compiler("Apple clang version 15.0.0 (clang-1500.3.9.4)") == (
        rules.normalise_compiler("AppleClang 15.0.0.15000309")) == "apple clang 15.0.0"
    # another Apple release is another compiler
    assert rules.normalise_compiler("AppleClang 16.0.0.16000026") == "apple clang 16.0.0"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("arm64-apple-darwin23.4.0", "Darwin arm64", True),
     ("x86_64-pc-windows-msvc", "Windows AMD64", True),
     ("aarch64-linux-gnu", "Linux aarch64", True),
     ("aarch64-linux-gnu", "Darwin arm64", False)],
)
def test_targets_compare_by_arch_and_system(a: str, b: str, same: bool) -> None:
    assert (rules.normalise_target(a) == rules.normalise_target(b)) is same


@given(st.text("0123456789abcdef", min_size=7, max_size=40), st.integers(0, 40))
def test_a_commit_equals_any_prefix_of_seven_or_more(full: str, cut: int) -> None:
    short = full[: max(7, len(full) - cut)]
    assert rules.same_commit(short, full) and rules.same_commit(full.upper(), short)
    assert rules.same_commit(short, full[:6]) is (len(short) == 6)


# -------------------------------------------------------------------------------- details


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_build_distance_reads_the_same_from_either_side(a: int, b: int) -> None:
    forward, backward = rules.build_distance(a, b), rules.build_distance(b, a)
    if a == b:
        assert forward == backward
        return
    gap = abs(a - b)
    assert f"({gap} build{'' if gap == 1 else 's'} apart, " in forward
    newer, older = ("B", "A") if b > a else ("A", "B")
    assert forward.endswith(f"{newer} newer)") and backward.endswith(f"{older} newer)")


@given(st.floats(1e-3, 1e6), st.floats(0, 1e6))
def test_percent_change_has_the_sign_of_the_change(a: float, b: float) -> None:
    text = rules.percent_change(a, b)
    number = int(text.strip(" ()%"))
    assert number == round((b - a) / a * 100)
    assert (number > 0) <= (b > a) and (number < 0) <= (b < a)


def test_percent_change_of_nothing_says_nothing() -> None:
    assert rules.percent_change(0, 5) == rules.percent_change("a", 1) == ""
    assert rules.percent_change(1.0, math.inf) == ""


@given(st.floats(0, 1e15))
def test_bytes_read_in_the_largest_unit_below_1024(value: float) -> None:
    text = rules.human_bytes(value)
    number, unit = text.split(" ")
    assert unit in ("B", "KiB", "MiB", "GiB", "TiB")
    scale = 1024.0 ** (["B", "KiB", "MiB", "GiB", "TiB"].index(unit))
    assert float(number) == pytest.approx(value / scale, abs=0.05 if unit != "B" else 0.5)
    assert unit == "TiB" or float(number) <= 1024  # 1023.97 KiB is printed "1024.0 KiB"
