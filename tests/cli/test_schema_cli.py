"""``envstamp schema NAME``: the short names a person types, and an error that lists them
(issue 15)."""

from __future__ import annotations

import json

import pytest

from envstamp.cli.main import main
from envstamp.cli.schema import SCHEMAS, resolve, short_name


@pytest.mark.parametrize(
    "name", ["results", "results.v1", "results.v1.schema.json"]
)
def test_short_versioned_and_file_names_print_the_same_schema(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", name]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["$id"] == "https://envstamp.dev/schemas/results.v1.schema.json"


def test_every_published_schema_has_a_short_name() -> None:
    assert [short_name(file_name) for file_name in SCHEMAS] == [
        "manifest", "diff", "compare", "results", "show"
    ]
    assert all(resolve(short_name(file_name)) == file_name for file_name in SCHEMAS)


def test_default_is_the_manifest_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["$id"].endswith("/manifest.v1.schema.json")


def test_unknown_name_lists_the_short_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "result"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "envstamp schema: error: unknown schema 'result'; schemas: manifest, diff, compare, "
        "results, show (or their file names, e.g. manifest.v1.schema.json)\n"
    )


def test_help_names_the_short_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["schema", "--help"])
    assert "manifest, diff, compare, results, show" in " ".join(capsys.readouterr().out.split())
