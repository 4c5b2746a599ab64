"""Both string registries resolve: every probe target names a probe function and every parse
kind a parse function (issue 13)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from envstamp.parsers.kinds import KINDS, parser_for
from envstamp.probes.registry import PROBES, load


@pytest.mark.parametrize("spec", PROBES, ids=lambda spec: spec.name)
def test_every_probe_target_resolves_to_a_probe_function(spec: object) -> None:
    target = spec.target  # type: ignore[attr-defined]
    module_name, _, function = target.partition(":")
    assert module_name.startswith("envstamp.probes.") and function
    probe = load(target)
    assert callable(probe) and list(inspect.signature(probe).parameters) == ["ctx"]


def test_probe_names_are_unique() -> None:
    names = [spec.name for spec in PROBES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_parse_kind_resolves_to_a_function_of_one_text(kind: str) -> None:
    target, what = KINDS[kind]
    module_name, _, function = target.partition(":")
    assert importlib.import_module(module_name) and function and what
    parse = parser_for(kind)
    assert callable(parse) and len(inspect.signature(parse).parameters) == 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_parse_kind_names_the_module_that_defines_it(kind: str) -> None:
    module_name = KINDS[kind][0].partition(":")[0]
    assert parser_for(kind).__module__ == module_name
