"""What another interpreter says of itself: the parser of the python probe's ``-c`` answer,
and the virtualenv rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envstamp.errors import ParseError
from envstamp.parsers.python_interpreter import is_virtualenv, parse_interpreter_answer


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


@pytest.mark.parametrize(
    "text",
    ["", "Python 2.7.18", "[1, 2]", '{"version": 3}', "Traceback (most recent call last):"],
)
def test_the_parser_refuses_what_is_not_an_answer(text: str) -> None:
    with pytest.raises(ParseError):
        parse_interpreter_answer(text)


def test_the_parser_keeps_installed_versions_only_and_skips_noise_before() -> None:
    answer = {
        "version": "3.12.3",
        "implementation": "pypy",
        "executable": "/opt/pypy/bin/pypy3",
        "prefix": "/opt/pypy",
        "base_prefix": "/opt/pypy",
        "packages": {"torch": None, "numpy": "1.26.4", "vllm": ""},
    }
    info = parse_interpreter_answer("sitecustomize says hello\n" + json.dumps(answer) + "\n")
    assert info.implementation == "PyPy" and info.virtualenv is False
    assert info.packages == {"numpy": "1.26.4"}
