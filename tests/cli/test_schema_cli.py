"""``envstamp schema NAME``: the short names a person types, and an error that lists them
(issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

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


# ------------------------------------------------------------------- schema --write DIR


def test_write_creates_the_folder_and_names_each_file_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from envstamp.cli.schema import build
    from envstamp.manifest import schema

    folder = tmp_path / "not" / "there" / "schemas"
    assert main(["schema", "--write", str(folder)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays clean for a pipe
    titles = {name: build(name)["title"] for name in SCHEMAS}
    assert captured.err.splitlines() == [
        f"envstamp schema: wrote {folder / name}: {titles[name]}" for name in SCHEMAS]
    assert sorted(p.name for p in folder.iterdir()) == sorted(SCHEMAS)
    for name in SCHEMAS:
        assert (folder / name).read_text(encoding="utf-8") == schema.dumps(build(name))
    assert main(["schema", "--check", str(folder)]) == 0


def test_write_into_an_existing_folder_replaces_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "manifest.v1.schema.json"
    stale.write_text("{}\n")
    (tmp_path / "notes.txt").write_text("mine\n")
    assert main(["schema", "--write", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert f"envstamp schema: wrote {stale}: envstamp manifest\n" in err
    assert len(err.splitlines()) == len(SCHEMAS)
    assert json.loads(stale.read_text())["title"] == "envstamp manifest"
    assert (tmp_path / "notes.txt").read_text() == "mine\n"  # other files left alone


@pytest.mark.parametrize("where", ["file", "below-a-file"])
def test_write_where_no_folder_can_be_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    blocker = tmp_path / "schemas"
    blocker.write_text("not a folder\n")
    target = blocker if where == "file" else blocker / "inside"
    assert main(["schema", "--write", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    expected = (f"cannot write into {target}: it is a regular file" if where == "file"
                else f"cannot create {target}: ")
    assert captured.err.startswith(f"envstamp schema: error: {expected}")
    assert len(captured.err.splitlines()) == 1
    assert blocker.read_text() == "not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schemas"]


def test_help_says_write_creates_the_folder(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["schema", "--help"])
    assert "created when missing" in " ".join(capsys.readouterr().out.split())
