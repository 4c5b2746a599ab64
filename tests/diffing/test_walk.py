"""The manifest walk is a pure function of its inputs: no diff depends on earlier ones."""

from __future__ import annotations

import subprocess
import sys
import types
import typing
from pathlib import Path

import attrs
import pytest

from envstamp.diffing.differ import diff
from envstamp.diffing.walk import MAPPING_PATHS, show_value
from envstamp.manifest.model import Manifest
from envstamp.output.diff_render import to_json
from envstamp.stamping.results import Result
from tests.diff_support import OLDER, RENDER_NODE, WORKSTATION, base, edit, edit_build, write

ROOT = Path(__file__).parents[2]


def _mappings(cls: type, prefix: str, found: set[str]) -> set[str]:
    """Generic paths of the dict fields of an attrs class, through its sections and lists."""
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        path = f"{prefix}.{field.name}" if prefix else field.name
        hint = hints[field.name]
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        for member in typing.get_args(hint) if union else (hint,):  # each side of X | None
            origin = typing.get_origin(member)
            if origin is dict:
                found.add(path)
            elif origin is list:
                (item,) = typing.get_args(member)
                if attrs.has(item):
                    _mappings(item, f"{path}[]", found)
            elif isinstance(member, type) and attrs.has(member):
                _mappings(member, path, found)
    return found


def test_mapping_paths_are_the_models_mappings_and_a_results_params() -> None:
    expected = _mappings(Manifest, "", set())
    assert typing.get_origin(typing.get_type_hints(Result)["params"]) is dict
    assert expected | {"tests[].params"} == MAPPING_PATHS


@pytest.mark.parametrize(
    "path", ["env", "frontends.ollama.settings", "llamacpp[].build_flags", "python.packages"]
)
def test_a_missing_key_of_a_mapping_is_unset_in_a_fresh_process(path: str) -> None:
    # Before, the walk learnt which paths were mappings as it met them: a process that had
    # not walked one yet called a missing variable "unknown".
    code = (
        "from envstamp.diffing.walk import show_value\n"
        f"print(show_value(None, path={path + '.KEY'!r}))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert shown == "unset"
    assert show_value(None, path=path + ".KEY") == "unset"
    assert show_value(None, path="gpus[].driver_version") == "unknown"


def _pairs(folder: Path) -> dict[str, tuple[Path, Path]]:
    """Pairs of manifests that differ in every kind of mapping, and the fixtures' pairs."""
    start = base()
    changed = edit(start, "python", packages={**start.python.packages, "torch": "2.4.0"})
    changed = attrs.evolve(changed, env={**start.env, "GGML_SCHED_MAX_COPIES": "1"})
    flags = {**start.llamacpp[0].build_flags, "GGML_CUDA_F16": "ON"}
    changed = edit_build(changed, build_flags=flags)
    return {
        "mappings": (write(start, folder / "a.json"), write(changed, folder / "b.json")),
        "hosts": (WORKSTATION, RENDER_NODE),
        "older": (OLDER, WORKSTATION),
    }


_REPORTS = """
import sys
from envstamp.diffing.differ import diff
from envstamp.output.diff_render import to_json
for a, b in zip(sys.argv[1::2], sys.argv[2::2]):
    print(to_json(diff(a, b)).replace("\\n", " "))
"""


def _reports_in_fresh_process(pairs: list[tuple[Path, Path]]) -> list[str]:
    argv = [str(p) for pair in pairs for p in pair]
    out = subprocess.run(
        [sys.executable, "-c", _REPORTS, *argv], capture_output=True, text=True, check=True,
        cwd=ROOT,
    ).stdout
    return out.splitlines()


def test_a_diff_alone_and_after_others_gives_the_same_report(tmp_path: Path) -> None:
    pairs = _pairs(tmp_path)
    for name, pair in pairs.items():
        others = [p for other, p in pairs.items() if other != name]
        alone = _reports_in_fresh_process([pair])[0]
        after = _reports_in_fresh_process([*others, pair])[-1]
        assert alone == after, name
        assert after == to_json(diff(*pair)).replace("\n", " "), name
    # the planted mapping changes are there to be seen, named by their keys
    report = diff(*pairs["mappings"])
    labels = {d.label for d in report.differences}
    assert {"Python package torch", "ggml setting GGML_SCHED_MAX_COPIES"} <= labels, labels
