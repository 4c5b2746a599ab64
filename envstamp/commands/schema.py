"""``envstamp schema``: print, write or check the published JSON Schemas."""

from __future__ import annotations

import argparse
from pathlib import Path


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
    from envstamp.commands import emit
    from envstamp.errors import CheckFailed, InputError
    from envstamp.manifest import schema

    if args.check is not None:
        stale = [
            name
            for name in schema.SCHEMAS
            if _read(Path(args.check) / name) != schema.dumps(schema.build(name))
        ]
        if stale:
            raise CheckFailed(
                f"stale or missing in {args.check}: {', '.join(stale)} "
                f"(regenerate with 'envstamp schema --write {args.check}')"
            )
        print(f"{len(schema.SCHEMAS)} schemas up to date in {args.check}")
        return 0
    if args.write is not None:
        folder = Path(args.write)
        if not folder.is_dir():
            raise InputError(f"{folder} is not a folder")
        for name in schema.SCHEMAS:
            emit(schema.dumps(schema.build(name)), str(folder / name))
        return 0
    if args.name not in schema.SCHEMAS:
        raise InputError(f"unknown schema {args.name!r}; schemas: {', '.join(schema.SCHEMAS)}")
    emit(schema.dumps(schema.build(args.name)), None)
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
