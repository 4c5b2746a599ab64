"""Every form of llama.cpp's version banner, read by its parts (issue 11, item 2).

The forms are the ones llama.cpp's sources print (``common/build-info.cpp.in``,
``common/arg.cpp``, ``common/common.cpp``, ``tools/llama-bench``, the 2024 server's JSON log,
``llama_build_info()``).  Property tests render each form from random values and read them
back, so a new order of parts or a new key does not need a new sample to be read right.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.llamacpp_log import (
    BannerValue,
    banner_value,
    parse_llama_log,
    split_build_info,
)

Identity = tuple[str | None, int | None, str | None]  # version, build number, commit


def identity(text: str) -> Identity:
    build = parse_llama_log(text)
    return build.version, build.build_number, build.commit


# ------------------------------------------------------------------ the forms, one by one


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # current --version (build-info.cpp.in)
        ("version: 0.5.0-dev (build 7123, commit 0c1e57098)", ("0.5.0-dev", 7123, "0c1e57098")),
        # an sdist or tarball build: no git, so build 0 and commit "unknown" -> unknown
        ("version: 0.5.0-dev (build 0, commit unknown)", ("0.5.0-dev", None, None)),
        # the words of the parts are keys, never values (the bug of issue 11)
        ("version: 0.5.0-dev (build, commit)", ("0.5.0-dev", None, None)),
        # the parts in another order, with other separators
        ("version: 1.2.3 (commit: abc1234, build=42)", ("1.2.3", 42, "abc1234")),
        ("version: 1.2.3 (build_number 42, hash abc1234)", ("1.2.3", 42, "abc1234")),
        # the old --version and its no-git form
        ("version: 5760 (abc1234)", (None, 5760, "abc1234")),
        ("version: 0 (unknown)", (None, None, None)),
        ("version: b6123 (deadbeef)", (None, 6123, "deadbeef")),
        # a "b" and six digits is a git abbreviation, not a release tag (found by hypothesis)
        ("version: 5760 (b000000)", (None, 5760, "b000000")),
        # the start-up log line and the newer trace line (no colon, with a log prefix)
        ("build: 4338 (7b1ec53f) with cc (GCC) 14 for x86_64-linux-gnu", (None, 4338, "7b1ec53f")),
        (
            "cmn  common_param: build 7001 (0c1e57098) with GNU 12.2.0 for Linux x86_64",
            (None, 7001, "0c1e57098"),
        ),
        # the trace line as the log prints it: timestamp, level, module and two prefixes
        (
            "0.00.003.920 I cmn  common_param: common_params_print_info: build 0 (0c1e57098)"
            " with GNU 12.2.0 for Linux x86_64",
            (None, None, "0c1e57098"),
        ),
        # the chat-style llama-cli's banner prints llama_build_info()
        ("build      : b0-0c1e57098", (None, None, "0c1e57098")),
        ("build      : b7012-0c1e57098", (None, 7012, "0c1e57098")),
        # llama-bench's last line puts the commit first
        ("build: 8cf427ff (5163)", (None, 5163, "8cf427ff")),
        ("build: unknown (0)", (None, None, None)),
        # old main
        ("main: build = 2416 (16c31f6)", (None, 2416, "16c31f6")),
        # a dirty tree's commit is still the commit
        ("version: 0.5.0 (build 9, commit 0c1e570-dirty)", ("0.5.0", 9, "0c1e570")),
        # the 2024 server's JSON log
        ('{"msg":"build info","build":2405,"commit":"0e2fa8e"}', (None, 2405, "0e2fa8e")),
        ('{"msg":"build info","build":0,"commit":"unknown"}', (None, None, None)),
    ],
)
def test_each_banner_form(text: str, expected: Identity) -> None:
    assert identity(text) == expected


def test_compiler_and_target_of_the_current_and_the_old_toolchain_line() -> None:
    new = parse_llama_log(
        "version: 0.5.0-dev (build 0, commit 0c1e57098)\nbuilt with GNU 12.2.0 for Linux x86_64\n"
    )
    assert (new.compiler, new.target) == ("GNU 12.2.0", "Linux x86_64")
    old = parse_llama_log(
        "version: 0 (unknown)\n"
        "built with cc (Debian 12.2.0-14+deb12u1) 12.2.0 for x86_64-linux-gnu\n"
    )
    assert old.compiler == "cc (Debian 12.2.0-14+deb12u1) 12.2.0"
    assert old.target == "x86_64-linux-gnu"
    trace = parse_llama_log(
        "cmn  common_param: build 7 (0c1e57098) with GNU 12.2.0 for Linux x86_64 (debug)"
    )
    assert (trace.compiler, trace.target) == ("GNU 12.2.0", "Linux x86_64 (debug)")


def test_json_build_info_with_every_part() -> None:
    build = parse_llama_log(
        '{"msg":"build info","build":7123,"commit":"0c1e57098","version":"0.5.0",'
        '"compiler":"GNU 12.2.0","build_target":"Linux x86_64"}'
    )
    assert (build.version, build.build_number, build.commit) == ("0.5.0", 7123, "0c1e57098")
    assert (build.compiler, build.target) == ("GNU 12.2.0", "Linux x86_64")


def test_prose_that_mentions_a_build_is_no_banner() -> None:
    with pytest.raises(ParseError):
        parse_llama_log("we build 3 (three) tools\nversion control (git) is used\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "b7123-0c1e57098",
            [BannerValue("number", number=7123), BannerValue("commit", "0c1e57098")],
        ),
        ("b0-unknown", [BannerValue("unknown"), BannerValue("unknown")]),
        ("b12-word", []),
        ("hello", []),
    ],
)
def test_llama_build_info_string(text: str, expected: list[BannerValue]) -> None:
    assert split_build_info(text) == expected


# ------------------------------------------------------------------------ property tests

HEX = "0123456789abcdef"
commits = st.text(alphabet=HEX, min_size=7, max_size=40)
numbers = st.integers(min_value=1, max_value=999_999)
versions = st.builds(
    lambda a, b, c, dev: f"{a}.{b}.{c}{dev}",
    st.integers(0, 20), st.integers(0, 99), st.integers(0, 999),
    st.sampled_from(["", "-dev", "-rc1", "+cuda"]),
)
compilers = st.sampled_from([
    "GNU 12.2.0",
    "cc (GCC) 13.2.1 20230801",
    "cc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0",
    "Apple clang version 15.0.0 (clang-1500.3.9.4)",
    "MSVC 19.42.34436.0",
    "Clang 18.1.8",
])
targets = st.sampled_from(
    ["Linux x86_64", "x86_64-linux-gnu", "arm64-apple-darwin23.6.0", "x64", "Darwin arm64"]
)

Render = Callable[[str, int | None, str | None, str], str]  # version, number, commit, toolchain


def _n(number: int | None) -> str:
    return str(number) if number is not None else "0"


def _c(commit: str | None) -> str:
    return commit if commit is not None else "unknown"


def _built(toolchain: str) -> str:
    return f"\nbuilt with {toolchain}\n"


FORMS: dict[str, Render] = {
    "current": lambda v, n, c, t: f"version: {v} (build {_n(n)}, commit {_c(c)})" + _built(t),
    "current, parts swapped": lambda v, n, c, t: (
        f"version: {v} (commit {_c(c)}, build {_n(n)})" + _built(t)
    ),
    "old --version": lambda v, n, c, t: f"version: {_n(n)} ({_c(c)})" + _built(t),
    "start-up log": lambda v, n, c, t: f"build: {_n(n)} ({_c(c)}) with {t}",
    "trace line": lambda v, n, c, t: f"cmn  common_param: build {_n(n)} ({_c(c)}) with {t}",
    "llama-bench footer": lambda v, n, c, t: f"build: {_c(c)} ({_n(n)})" + _built(t),
    "old main": lambda v, n, c, t: f"main: build = {_n(n)} ({_c(c)})\nmain: built with {t}",
    "json": lambda v, n, c, t: (
        json.dumps({"msg": "build info", "build": n or 0, "commit": _c(c)}) + _built(t)
    ),
}
CARRIES_VERSION = {"current", "current, parts swapped"}


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(FORMS)),
    versions,
    st.none() | numbers,
    st.none() | commits,
    compilers,
    targets,
)
def test_every_form_reads_back_what_it_printed(
    form: str, version: str, number: int | None, commit: str | None, compiler: str, target: str
) -> None:
    text = FORMS[form](version, number, commit, f"{compiler} for {target}")
    build = parse_llama_log(text)
    expected_version = version if form in CARRIES_VERSION else None
    assert (build.version, build.build_number, build.commit) == (expected_version, number, commit)
    assert (build.compiler, build.target) == (compiler, target)


words = st.from_regex(r"[a-z]{1,12}", fullmatch=True).filter(
    lambda w: not set(w) <= set("abcdef") or len(w) < 7
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(FORMS)), versions, numbers, words)
def test_a_word_is_never_a_commit(form: str, version: str, number: int, word: str) -> None:
    """A word where the commit goes ("build", "unknown", "face") leaves the commit unknown."""
    try:
        build = parse_llama_log(FORMS[form](version, number, word, "GNU 12.2.0 for Linux x86_64"))
    except ParseError:
        return
    assert build.commit is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.text("0123456789abcdefABCDEFbg(). ", max_size=12))
@example("b4589")  # the branches below run on every run, not only when the draw finds them
@example("1a2b3c4")
def test_banner_value_is_total_and_a_commit_is_always_hex(raw: str) -> None:
    value = banner_value(raw)
    if value is not None and value.role == "commit":
        assert value.text is not None and all(ch in HEX + HEX.upper() for ch in value.text)
        assert len(value.text) >= 4
    if value is not None and value.role == "number":
        assert value.number is not None and value.number > 0


@settings(max_examples=100, deadline=None)
@given(numbers, commits)
def test_build_info_string_round_trip(number: int, commit: str) -> None:
    values = split_build_info(f"b{number}-{commit}")
    assert values == [BannerValue("number", number=number), BannerValue("commit", commit)]
