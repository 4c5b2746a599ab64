"""The one manifest loader: its exact path builds what the checks and the converter build, or
declines and leaves the decision to them (moved from tests/diffing/test_diff_load.py, whose
lean loader it replaces)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from envstamp.documents import document_from_bytes, load_document
from envstamp.errors import InputError
from envstamp.manifest import serialize
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import exact_structure, strict_loads, to_json
from tests.diff_support import DIFF_FIXTURES, NEWER_MAJOR, OLDER, RENDER_NODE, WORKSTATION
from tests.diffing.test_diff_props import MANIFESTS


def by_converter(data: Any) -> Manifest:
    """The converter's path alone: the checks, then cattrs."""
    serialize.check_fields(data, Manifest)
    return serialize.structure(data, Manifest)


def exact(text: str | bytes) -> Manifest | None:
    return exact_structure(strict_loads(text if isinstance(text, str) else text.decode()),
                           Manifest)


@pytest.mark.parametrize("path", [WORKSTATION, RENDER_NODE, OLDER], ids=lambda p: p.name)
def test_fixtures_load_alike(path: Path) -> None:
    data = path.read_bytes()
    built = exact(data)
    assert built is not None and built == by_converter(json.loads(data))
    doc = load_document(str(path))
    assert (doc.kind, doc.source, doc.signature) == ("manifest", str(path), "unsigned")
    assert doc.manifest == built


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MANIFESTS)
def test_generated_manifests_load_alike(manifest: Manifest) -> None:
    text = to_json(manifest)
    assert exact(text) == by_converter(json.loads(text)) == manifest
    assert document_from_bytes(text.encode(), source="x").manifest == manifest


@pytest.mark.parametrize(
    "text",
    [
        '{"schema": "envstamp.manifest/1", "envstamp_version": "x"}',  # required field missing
        '{"schema": "envstamp.manifest/1", "envstamp_version": "x", "captured_at": "t", '
        '"cpu": {"sockets": "2"}}',  # wrong type
        '{"schema": "envstamp.manifest/1", "envstamp_version": "x", "captured_at": "t", '
        '"cpu": {"boost": 1}}',  # a number is not a flag
        '{"schema": "envstamp.manifest/2"}',
        '{"payloadType": "application/vnd.in-toto+json", "signatures": []}',
        "[]",
    ],
)
def test_anything_unusual_is_left_to_the_checks_and_the_converter(text: str) -> None:
    assert exact(text) is None
    with pytest.raises(InputError):  # ... which explain it in one line
        load_bytes(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"schema": "envstamp.manifest/1", "schema": "envstamp.manifest/1"}',  # duplicate key
        '{"schema": "envstamp.manifest/1", "x": NaN}',
        '{"schema": "envstamp.manifest/1", "x": 1e999}',  # read as infinity by plain json
        "not json",
    ],
)
def test_strict_json_refuses_before_any_structure(text: str) -> None:
    with pytest.raises(ValueError):
        strict_loads(text)
    with pytest.raises(InputError):
        load_bytes(text)


def test_numbers_out_of_range_are_declined_not_raised() -> None:
    data = json.loads(WORKSTATION.read_text())
    for section, name in (("memory", "total_bytes"), ("volatile", "load_1m")):
        # A count beyond 2**53; a whole number beyond any double where a float belongs
        # (float() of it raises OverflowError): the checks name the path.
        changed = {**data, section: {**(data.get(section) or {}), name: 10**400}}
        assert exact_structure(changed, Manifest) is None
        with pytest.raises(InputError, match=rf"\$\.{section}\.{name}"):
            serialize.manifest_from_data(changed)


def test_what_the_exact_path_declines_the_converter_decides() -> None:
    # An object where a list belongs: the exact path declines, and the checks refuse it
    # naming the path (cattrs alone would read it as the list of its keys).
    text = ('{"schema": "envstamp.manifest/1", "envstamp_version": "x", "captured_at": "t", '
            '"gpus": {}}')
    assert exact(text) is None
    with pytest.raises(InputError, match=r"\$\.gpus must be a list"):
        load_bytes(text)


def load_bytes(text: str) -> object:
    return document_from_bytes(text.encode(), source="input")


def test_loading_errors_come_from_the_loader(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="newer major schema"):
        load_document(str(NEWER_MAJOR))
    with pytest.raises(InputError, match="no such file"):
        load_document(str(tmp_path / "absent.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "envstamp.manifest/1", "envstamp_version": "x",
                               "captured_at": "t", "cpu": {"sockets": "two"}}))
    with pytest.raises(InputError, match="sockets"):
        load_document(str(bad))


def test_fixture_folder_has_only_loadable_or_deliberately_bad_files() -> None:
    names = sorted(p.name for p in DIFF_FIXTURES.iterdir())
    assert "workstation-b3447.json" in names and "not-a-manifest.json" in names


def test_loading_a_plain_manifest_never_imports_cattrs() -> None:
    """The speed measure itself: ``envstamp diff A B`` of plain manifests pays no cattrs."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from envstamp.documents import load_document\n"
        "doc = load_document(sys.argv[1])\n"
        "print(doc.manifest.schema, 'cattrs' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(WORKSTATION)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [json.loads(WORKSTATION.read_text())["schema"], "False"]
