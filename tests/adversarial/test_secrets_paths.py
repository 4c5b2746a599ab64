"""Paths against random-looking runs (envstamp.manifest.secrets, issue 12 items 6 and 8).

A path's segments are separate values: ``/.056789abcdg/000112234`` is two short names, not one
random key of 20 characters (hypothesis found it mangled into ``/.<redacted>``).  Base64 keys
hold ``/`` too: those are told apart by their make-up (both cases, as 64 symbols give), and a
random key that is one segment of a path is still caught, without the names around it.  The
keys below are made up for these tests (the AWS one is AWS's documented example).
"""

from __future__ import annotations

import base64
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.manifest.secrets import REDACTED, looks_random, redact_value

KEY = "aZ3kP9qLm2Xv8Rt5Wn1Yb7Hc4Jd6Fg0"  # letters of both cases and digits, no word


@pytest.mark.parametrize(
    "path",
    [
        "/.056789abcdg/000112234",  # hypothesis' example
        "cache/.056789abcdg/000112234/x",
        "/srv/ckpt/run42x7k9m2p4q8z1/step9000",
        "ckpt/r8x2k9m4p7q1z3w6/e5",
        "/data/7b/qwen25coder32binstruct/q4km",
    ],
)
def test_paths_of_short_names_are_kept(path: str) -> None:
    assert redact_value(path) == path


def test_a_slash_between_lower_case_names_is_a_path() -> None:
    assert not looks_random("056789abcdg/000112234")
    # The same run with "+" (base64's other symbol, no path separator) is one value.
    assert looks_random("056789abcdg+000112234")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # a key that is one segment of a URL's path: the names around it stay
        (f"https://hooks.example.com/services/T000/B000/{KEY}",
         f"https://hooks.example.com/services/T000/B000/{REDACTED}"),
        (f"/run/{KEY}/socket", f"/run/{REDACTED}/socket"),
        # a base64 key with slashes is one value
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", REDACTED),
        ("aws_secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", f"aws_secret {REDACTED}"),
    ],
)  # fmt: skip
def test_keys_inside_paths_and_base64_keys_with_slashes_go(value: str, expected: str) -> None:
    assert redact_value(value) == expected


def test_base64_keys_with_a_slash_are_judged_whole() -> None:
    """Random 30-byte keys in standard base64 that hold a "/": every one that reads as random
    with its slashes as "+" (the same symbols, no path separator among them) is redacted
    whole; reading "/" as a path separator keeps none and cuts none into visible pieces."""
    rng = random.Random(12)  # deterministic: the same keys every run
    keys = [base64.b64encode(rng.randbytes(30)).decode() for _ in range(3000)]
    with_slash = [k for k in keys if "/" in k]
    assert len(with_slash) > 1000
    judged = [key for key in with_slash if looks_random(key.replace("/", "+"))]
    # most of them read as random (994 of 1392 with this seed): the loop below checks keys
    assert len(judged) > 900
    for key in judged:
        assert redact_value(key) == REDACTED, key


SEGMENT = st.text(string.ascii_lowercase + string.digits + "_-.", min_size=1, max_size=19)


@settings(max_examples=500)
@given(st.lists(SEGMENT, min_size=1, max_size=8), st.booleans())
def test_paths_of_lower_case_names_are_always_kept(parts: list[str], absolute: bool) -> None:
    path = ("/" if absolute else "") + "/".join(parts)
    assert redact_value(path) == path
