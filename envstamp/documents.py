"""Reading what users hand us: a plain manifest, a signed envelope, or a results log.

The loader of record: ``show``, ``diff`` and ``compare`` accept all of them alike and say
which they got.  It sits above signing and stamping (an envelope is verified, a results log
checked) and below diffing and output.  A path names a file; reading ``-`` from stdin is the
command line's business, which hands the bytes to :func:`document_from_bytes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from envstamp.errors import InputError, input_error

if TYPE_CHECKING:
    from envstamp.manifest.document import Document
    from envstamp.manifest.model import Manifest

MAX_INPUT_BYTES = 256 << 20


def read_file(path: str, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """Bytes of a file a user named; InputError with one line when it cannot be read or is
    larger than ``limit``."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise input_error(path, exc) from None
    if len(data) > limit:
        raise InputError(f"{path}: larger than {limit >> 20} MiB")
    return data


def load_document(path: str, *, verify: bool = True) -> Document:
    """Load any envstamp document from a file (``-`` too names a file here)."""
    return document_from_bytes(read_file(path), source=path, verify=verify)


def document_from_bytes(data: bytes, *, source: str, verify: bool = True) -> Document:
    """Recognise and load an envstamp document from its bytes."""
    from envstamp.manifest.serialize import manifest_from_data, parse_json_strict

    text = _as_text(data, source)
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{source} is empty")
    if _looks_like_jsonl(stripped):
        return _load_results(text, source=source, verify=verify)
    data_obj = parse_json_strict(text, what=source)
    if isinstance(data_obj, dict) and "payloadType" in data_obj and "signatures" in data_obj:
        return _load_envelope(data, source=source, verify=verify)
    if isinstance(data_obj, dict) and "schema" in data_obj:
        return plain_manifest_document(manifest_from_data(data_obj, what=source), source, data_obj)
    raise InputError(f"{source} is not an envstamp manifest, envelope or results file")


def plain_manifest_document(manifest: Manifest, source: str, data: Any = None) -> Document:
    """A plain manifest loaded from a file: its identity digest is recomputed, and one that
    does not match what is stored is EDITED, "invalid: edited after capture ..." (issue 12)."""
    from envstamp.manifest.document import Document, Status, Verification
    from envstamp.manifest.serialize import checked_identity

    manifest, edited = checked_identity(manifest, data)
    verification = Verification(Status.EDITED, message=edited) if edited else Verification()
    return Document("manifest", manifest, source, verification=verification)


def _as_text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text") from None


def _looks_like_jsonl(text: str) -> bool:
    first, newline, rest = text.partition("\n")
    return bool(newline and rest.strip()) and first.strip().startswith("{") and (
        first.strip().endswith("}")
    )


def _load_envelope(data: bytes, *, source: str, verify: bool) -> Document:
    from envstamp.signing.verify import load_envelope_document

    return load_envelope_document(data, source=source, verify=verify)


def _load_results(text: str, *, source: str, verify: bool) -> Document:
    try:
        from envstamp.stamping import results
    except ImportError:  # pragma: no cover - results ship with envstamp
        raise InputError(f"{source}: results logs need envstamp's results module") from None
    return results.load_results_document(text, source=source, verify=verify)
