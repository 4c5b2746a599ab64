"""The frontends' parsers use plain compiled regular expressions (issue 13 retired
LazyPattern: compiling all 36 of them at import costs a cold capture ~3.7 ms, under the 5 ms a
trick must save; docs/decisions.md)."""

from __future__ import annotations

import importlib
import re

import pytest

from envstamp.parsers import frontend_text

MODULES = ["frontend_text", "lmstudio", "ollama", "ollama_log", "bundled_engine", "koboldcpp",
           "llamafile", "vllm"]  # fmt: skip


def test_no_lazy_pattern_is_left() -> None:
    assert not hasattr(frontend_text, "LazyPattern")
    assert not hasattr(frontend_text, "lazy")


@pytest.mark.parametrize("name", MODULES)
def test_module_patterns_are_compiled_at_import(name: str) -> None:
    module = importlib.import_module(f"envstamp.parsers.{name}")
    patterns = [v for k, v in vars(module).items() if k.isupper() or k.startswith("_")]
    compiled = [p for p in patterns if isinstance(p, re.Pattern)]
    assert compiled, f"{name} holds no compiled pattern"
    unusual = [p for p in patterns if type(p).__name__ == "LazyPattern"]
    assert unusual == []


def test_shared_helpers_behave_as_before() -> None:
    assert frontend_text.as_version("v0.0.47") == "0.0.47"
    assert frontend_text.as_version("0.6.3.post1") == "0.6.3.post1"
    assert frontend_text.as_version("not a version") is None
    assert frontend_text.cells("NAME    ID   SIZE") == [(0, "NAME"), (8, "ID"), (13, "SIZE")]
