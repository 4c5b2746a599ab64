"""The committed JSON Schemas are fresh, valid 2020-12 schemas; manifests validate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from envstamp.cli import schema as published
from envstamp.cli.main import main
from envstamp.manifest import schema
from envstamp.manifest.model import Cpu, Gpu, Manifest
from envstamp.manifest.serialize import unstructure, with_digest

SCHEMAS = Path(__file__).parents[2] / "schemas"


@pytest.mark.parametrize("name", sorted(published.SCHEMAS))
def test_committed_schema_is_fresh(name: str) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")
    assert committed == schema.dumps(published.build(name)), (
        f"schemas/{name} is stale: run 'envstamp schema --write schemas'"
    )


@pytest.mark.parametrize("name", sorted(published.SCHEMAS))
def test_schema_is_valid_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(published.build(name))


def test_manifest_validates_and_bad_one_does_not() -> None:
    manifest = with_digest(
        Manifest(
            envstamp_version="0.1.0",
            captured_at="2026-11-27T10:00:00Z",
            cpu=Cpu(isa=["avx2"], logical_cpus=4),
            gpus=[Gpu(name="x", memory_total_mib=1024)],
        )
    )
    validator = jsonschema.Draft202012Validator(schema.manifest_schema())
    data = unstructure(manifest)
    validator.validate(data)
    data["gpus"][0]["memory_total_mib"] = "1 GiB"
    assert not validator.is_valid(data)
    data = unstructure(manifest)
    data["schema"] = "envstamp.manifest/2"
    assert not validator.is_valid(data)


def test_schema_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--check", str(SCHEMAS)]) == 0
    assert main(["schema", "--check", str(tmp_path)]) == 1
    assert "stale or missing" in capsys.readouterr().err
    assert main(["schema", "--write", str(tmp_path)]) == 0
    assert main(["schema", "--check", str(tmp_path)]) == 0


def test_field_reference_mentions_every_section() -> None:
    text = schema.field_reference()
    for section in ("Cpu", "Gpu", "Runtimes", "LlamaCppBuild", "Frontends", "Power"):
        assert f"## {section}" in text
    assert "*(volatile)*" in text


def test_schema_printed_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "envstamp manifest"


def test_field_reference_doc_is_fresh() -> None:
    doc = Path(__file__).parents[2] / "docs" / "reference" / "fields.md"
    assert doc.read_text(encoding="utf-8") == schema.field_reference(), (
        "docs/reference/fields.md is stale: run "
        "python -c 'from envstamp.manifest import schema; "
        "print(schema.field_reference(), end=\"\")' "
        "> docs/reference/fields.md"
    )
