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
        default="manifest.v1.schema.json",
        help="which schema to print (default: the manifest's)",
    )
    parser.add_argument(
        "--write", metavar="DIR", help="write every schema into DIR (e.g. schemas/)"
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
    from envstamp.errors import CheckFailed, InputError
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
        folder = Path(args.write)
        if not folder.is_dir():
            raise InputError(f"{folder} is not a folder")
        for name in SCHEMAS:
            emit(schema.dumps(build(name)), str(folder / name))
        return 0
    if args.name not in SCHEMAS:
        raise InputError(f"unknown schema {args.name!r}; schemas: {', '.join(SCHEMAS)}")
    emit(schema.dumps(build(args.name)), None)
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
