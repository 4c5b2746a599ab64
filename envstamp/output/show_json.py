"""``envstamp show --json`` of a results log: every setup, with its manifest and its results.

A manifest or a signed envelope shows as its manifest (``manifest.v1.schema.json``).  A
results log holds more: results, possibly run under several setups (the same file, a second
run with ``OMP_NUM_THREADS=3``).  Its JSON view (``show.v1.schema.json``) lists each setup -
its identity digest (the machine's setup), the manifest digests its results name (sha256 of
each signed manifest's bytes), its manifest, what differs from setup 1 - with its results
exactly as the log stores them (``results.v1.schema.json``; failed runs included, marked
``failed``).
"""

from __future__ import annotations

from typing import Any

import attrs

from envstamp.diffing.model import doc_field

SHOW_SCHEMA_NAME = "envstamp.show"
SHOW_SCHEMA_MAJOR = 1
SHOW_SCHEMA_ID = f"{SHOW_SCHEMA_NAME}/{SHOW_SCHEMA_MAJOR}"

_doc = doc_field


@attrs.define(kw_only=True)
class ShownSetup:
    """One setup of the log: its manifest and the results run under it."""

    index: int = _doc("1-based, in the order the log first used it.")
    identity_digest: str | None = _doc(
        "Identity digest (the machine's setup): the manifest's digest over what identifies "
        "the machine and configuration; what show and diff print.", None)
    manifest_digests: list[str] = attrs.field(
        factory=list,
        metadata={"doc": "Manifest digests (sha256 of the signed manifest's bytes) that its "
                         "results name: several when the log holds several captures of one "
                         "setup."},
    )
    captured_at: str | None = _doc("When its (first) manifest was captured.", None)
    changes: list[str] = attrs.field(
        factory=list,
        metadata={"doc": 'What differs from setup 1, as "env.OMP_NUM_THREADS: unset -> 3" '
                         "(settings that may change speed); empty for setup 1."},
    )
    manifest: dict[str, Any] = attrs.field(
        factory=dict, metadata={"doc": "Its (first) manifest."})
    results: list[dict[str, Any]] = attrs.field(
        factory=list,
        metadata={"doc": "Its results, each as its line in the log (failed runs included, "
                         "marked failed)."},
    )


@attrs.define(kw_only=True)
class ShownLog:
    """``envstamp show --json`` of a results log."""

    schema: str = _doc('"envstamp.show/1".', SHOW_SCHEMA_ID)
    kind: str = _doc('"results".', "results")
    source: str = _doc("The path given.", "")
    log_schema: str | None = _doc('The log\'s own schema ("envstamp.results/1").', None)
    signature: str = _doc("The log's verification, as show prints it.", "")
    signers: list[str] = attrs.field(
        factory=list, metadata={"doc": "Key ids whose signed heads cover its results."})
    results: int = _doc("How many results the log holds (failed ones included).", 0)
    setups: list[ShownSetup] = attrs.field(
        factory=list,
        metadata={"doc": "Each setup with its results, in the order the log first used it."},
    )


def shown_log(doc: Any) -> ShownLog:
    """The JSON view of a loaded results log (a :class:`~envstamp.manifest.document.Document`)."""
    from envstamp.diffing.setups import changes_from, group_setups
    from envstamp.manifest.serialize import unstructure
    from envstamp.stamping.results import LOG_SCHEMA

    groups = group_setups(doc.results, doc.manifest)
    first = groups[0].manifest if groups else doc.manifest
    setups = [
        ShownSetup(
            index=g.index,
            identity_digest=g.manifest.identity_digest,
            manifest_digests=[d for d in g.digests if d.startswith("sha256:")],
            captured_at=g.manifest.captured_at,
            changes=changes_from(first, g.manifest, g.index) if g.index > 1 else [],
            manifest=unstructure(g.manifest),
            results=[result_line(r) for r in g.results],
        )
        for g in groups
    ] or [ShownSetup(index=1, identity_digest=doc.manifest.identity_digest,
                     captured_at=doc.manifest.captured_at, manifest=unstructure(doc.manifest))]
    return ShownLog(source=doc.source, log_schema=LOG_SCHEMA, signature=doc.signature,
                    signers=list(doc.verification.signers), results=len(doc.results), setups=setups)


def result_line(result: Any) -> dict[str, Any]:
    """A result as its line in the log stores it: ``prev``, then the line's body."""
    import json

    from envstamp.stamping.results import result_body

    body: dict[str, Any] = json.loads(result_body(result))
    return {"prev": result.prev, **body} if result.prev else body


def to_json(view: ShownLog) -> str:
    import json

    return json.dumps(attrs.asdict(view), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def show_schema() -> dict[str, Any]:
    """JSON Schema of ``envstamp show --json`` of a results log; a setup's manifest and
    results refer to the manifest and result-line schemas."""
    from envstamp.manifest.schema import schema_for

    schema = schema_for(
        ShownLog,
        schema_id=f"show.v{SHOW_SCHEMA_MAJOR}.schema.json",
        title="envstamp show --json of a results log",
        patterns={"schema": f"^{SHOW_SCHEMA_NAME.replace('.', '[.]')}/{SHOW_SCHEMA_MAJOR}$"},
    )
    setup = schema["$defs"]["ShownSetup"]["properties"]
    setup["manifest"] = {"$ref": "manifest.v1.schema.json",
                         "description": setup["manifest"]["description"]}
    setup["results"]["items"] = {"$ref": "results.v1.schema.json"}
    setup["manifest_digests"]["items"]["pattern"] = "^sha256:[0-9a-f]{64}$"
    return schema
