"""The lean loader of diff and compare builds what the loader of record builds, or defers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from envstamp.diffing.load import _Fallback, lean_manifest, load
from envstamp.documents import document_from_bytes
from envstamp.errors import InputError
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import to_json
from tests.diff_support import DIFF_FIXTURES, NEWER_MAJOR, OLDER, RENDER_NODE, WORKSTATION
from tests.diffing.test_diff_props import MANIFESTS


def of_record(data: bytes) -> Manifest:
    return document_from_bytes(data, source="x").manifest


@pytest.mark.parametrize("path", [WORKSTATION, RENDER_NODE, OLDER], ids=lambda p: p.name)
def test_fixtures_load_alike(path: Path) -> None:
    data = path.read_bytes()
    assert lean_manifest(data) == of_record(data)
    doc = load(str(path))
    assert (doc.kind, doc.source, doc.signature) == ("manifest", str(path), "unsigned")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MANIFESTS)
def test_generated_manifests_load_alike(manifest: Manifest) -> None:
    data = to_json(manifest).encode()
    assert lean_manifest(data) == of_record(data) == manifest


@pytest.mark.parametrize(
    "text",
    [
        '{"schema": "envstamp.manifest/1", "envstamp_version": "x"}',  # required field missing
        '{"schema": "envstamp.manifest/1", "envstamp_version": "x", "captured_at": "t", '
        '"cpu": {"sockets": "2"}}',  # wrong type
        '{"schema": "envstamp.manifest/1", "envstamp_version": "x", "captured_at": "t", '
        '"cpu": {"boost": 1}}',  # a number is not a flag
        '{"schema": "envstamp.manifest/1", "schema": "envstamp.manifest/1"}',  # duplicate key
        '{"schema": "envstamp.manifest/1", "x": NaN}',
        '{"schema": "envstamp.manifest/2"}',
        '{"payloadType": "application/vnd.in-toto+json", "signatures": []}',
        "[]",
        "not json",
    ],
)
def test_anything_unusual_goes_to_the_loader_of_record(text: str) -> None:
    with pytest.raises(_Fallback):
        lean_manifest(text.encode())
    with pytest.raises(InputError):  # ... which explains it in one line
        load_bytes(text)


def test_what_the_lean_path_declines_the_loader_of_record_decides() -> None:
    # An object where a list belongs: the lean path declines, and the loader of record
    # refuses it naming the path (cattrs alone would read it as the list of its keys).
    text = ('{"schema": "envstamp.manifest/1", "envstamp_version": "x", "captured_at": "t", '
            '"gpus": {}}')
    with pytest.raises(_Fallback):
        lean_manifest(text.encode())
    with pytest.raises(InputError, match=r"\$\.gpus must be a list"):
        of_record(text.encode())


def load_bytes(text: str) -> object:
    return document_from_bytes(text.encode(), source="input")


def test_load_defers_errors_to_the_loader_of_record(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="newer major schema"):
        load(str(NEWER_MAJOR))
    with pytest.raises(InputError, match="no such file"):
        load(str(tmp_path / "absent.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "envstamp.manifest/1", "envstamp_version": "x",
                               "captured_at": "t", "cpu": {"sockets": "two"}}))
    with pytest.raises(InputError, match="sockets"):
        load(str(bad))


def test_fixture_folder_has_only_loadable_or_deliberately_bad_files() -> None:
    names = sorted(p.name for p in DIFF_FIXTURES.iterdir())
    assert "workstation-b3447.json" in names and "not-a-manifest.json" in names
