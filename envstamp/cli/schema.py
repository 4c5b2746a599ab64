"""``envstamp schema``: print, write or check the published JSON Schemas."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# Every schema envstamp publishes: file name -> "module:function" that builds it (each module
# builds its document's schema with envstamp.manifest.schema.schema_for).  Here, at the top,
# because the documents live in every layer from the manifest up to the output.
SCHEMAS: dict[str, str] = {
    "manifest.v1.schema.json": "envstamp.manifest.schema:manifest_schema",
    "diff.v1.schema.json": "envstamp.diffing.model:diff_schema",
    "compare.v1.schema.json": "envstamp.diffing.compare:compare_schema",
    "results.v1.schema.json": "envstamp.stamping.results:results_schema",
    "show.v1.schema.json": "envstamp.output.show_json:show_schema",
}


def short_name(file_name: str) -> str:
    """ "results.v1.schema.json" -> "results": the name a person types."""
    return file_name.split(".", 1)[0]


def resolve(name: str) -> str:
    """The published file name for ``name``: a file name as listed, or its short name
    ("results"), or the short name with its version ("results.v1"); InputError listing the
    short names otherwise."""
    from envstamp.errors import InputError

    for file_name in SCHEMAS:
        if name in (file_name, short_name(file_name), file_name.removesuffix(".schema.json")):
            return file_name
    names = ", ".join(short_name(file_name) for file_name in SCHEMAS)
    raise InputError(
        f"unknown schema {name!r}; schemas: {names} (or their file names, e.g. "
        f"{next(iter(SCHEMAS))})"
    )


def build(name: str) -> dict[str, Any]:
    """Build one published schema by file name."""
    import importlib

    module_name, _, function = SCHEMAS[name].partition(":")
    built: dict[str, Any] = getattr(importlib.import_module(module_name), function)()
    return built


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        default="manifest",
        help="which schema to print: "
        + ", ".join(short_name(file_name) for file_name in SCHEMAS)
        + " (or the file name, e.g. results.v1.schema.json; default: manifest)",
    )
    parser.add_argument(
        "--write",
        metavar="DIR",
        help="write every schema into DIR (e.g. schemas/; created when missing), naming each "
        "file written on stderr",
    )
    parser.add_argument(
        "--check",
        nargs="?",
        const="schemas",
        metavar="DIR",
        help="exit 1 when a schema in DIR (default schemas/) is stale",
    )


def run(args: argparse.Namespace) -> int:
    from envstamp.cli.shared import emit
    from envstamp.errors import CheckFailed
    from envstamp.manifest import schema

    if args.check is not None:
        stale = [
            name
            for name in SCHEMAS
            if _read(Path(args.check) / name) != schema.dumps(build(name))
        ]
        if stale:
            raise CheckFailed(
                f"stale or missing in {args.check}: {', '.join(stale)} "
                f"(regenerate with 'envstamp schema --write {args.check}')"
            )
        print(f"{len(SCHEMAS)} schemas up to date in {args.check}")
        return 0
    if args.write is not None:
        _write_all(args.write)
        return 0
    emit(schema.dumps(build(resolve(args.name))), None)
    return 0


def _write_all(folder: str) -> None:
    """Every schema into ``folder`` (made, parents too, when missing); one line per file on
    stderr, so that stdout stays clean for a pipe."""
    import sys

    from envstamp.cli.shared import emit
    from envstamp.manifest import schema
    from envstamp.runner.files import make_folder

    make_folder(folder)
    for name in SCHEMAS:
        built = build(name)
        path = Path(folder) / name
        emit(schema.dumps(built), str(path))
        sys.stderr.write(f"envstamp schema: wrote {path}: {built.get('title', name)}\n")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
