"""Jan's parsers: settings, extensions and engine folder names (the probe:
tests/probes/test_jan.py)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers import jan


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"data_folder": "/home/u/jan", "quick_ask": False}, ("/home/u/jan", None)),
        ({"version": "v0.6.2"}, (None, "0.6.2")),
        ({"dataFolder": "D:\\jan", "appVersion": "0.5.4"}, ("D:\\jan", "0.5.4")),
        ({"data_folder": 3}, (None, None)),
        ([1, 2], (None, None)),
        (None, (None, None)),
    ],
)
def test_settings_values(data: Any, expected: tuple[str | None, str | None]) -> None:
    assert jan.settings_values(data) == expected


def test_extensions_keep_inference_engines() -> None:
    cortex, openai, chat = (
        "@janhq/inference-cortex-extension",
        "@janhq/inference-openai-extension",
        "@janhq/conversational-extension",
    )
    text = json.dumps(
        {
            cortex: {"name": cortex, "version": "1.0.21"},
            openai: {"name": openai},
            chat: {"name": chat, "version": "1.0.0"},
        }
    )
    found = [(e.name, e.version) for e in jan.parse_extensions(text)]
    assert found == [
        ("@janhq/inference-cortex-extension", "1.0.21"),
        ("@janhq/inference-openai-extension", None),
    ]


@pytest.mark.parametrize("text", ["", "{", "42", '"x"'])
def test_extensions_reject_other_documents(text: str) -> None:
    with pytest.raises(ParseError):
        jan.parse_extensions(text)


@pytest.mark.parametrize(
    ("folder", "version"),
    [("b6324", "b6324"), ("v0.1.49", "0.1.49"), ("0.1.34-rc1", "0.1.34-rc1"), ("latest", None)],
)
def test_engine_version(folder: str, version: str | None) -> None:
    assert jan.engine_version(folder) == version


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_extensions_raise_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        jan.parse_extensions(text)
