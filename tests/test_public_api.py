"""The public API in envstamp/__init__.py: every lazy export resolves, and type checkers see
each one through the TYPE_CHECKING block (issue 13)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import envstamp

INIT = Path(envstamp.__file__)


def _type_checking_names() -> dict[str, str]:
    """name -> module of each ``from M import X as X`` under ``if TYPE_CHECKING:``."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for item in node.body:
                assert isinstance(item, ast.ImportFrom) and item.module
                for alias in item.names:
                    assert alias.asname == alias.name, "re-export as the same name"
                    names[alias.name] = item.module
    return names


def test_type_checking_block_names_every_export_from_its_module() -> None:
    assert _type_checking_names() == envstamp._EXPORTS


def test_all_lists_the_exports_and_the_version() -> None:
    assert sorted(envstamp.__all__) == sorted([*envstamp._EXPORTS, "__version__"])
    assert sorted(dir(envstamp)) == sorted(envstamp.__all__)


@pytest.mark.parametrize("name", sorted(envstamp._EXPORTS))
def test_every_export_resolves_to_what_its_module_defines(name: str) -> None:
    module = importlib.import_module(envstamp._EXPORTS[name])
    assert getattr(envstamp, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = envstamp.nothing_here  # type: ignore[attr-defined]
