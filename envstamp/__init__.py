"""envstamp: benchmark provenance for local LLM inference.

``import envstamp`` is cheap: the public names below are imported on first use.

    manifest = envstamp.capture()              # fingerprint this machine
    rec = envstamp.Recorder("results.jsonl")   # stamp every timing with it
    with rec.timer("pp512") as t: ...          # one region
    @rec.timed                                 # every call of a function, into rec
    def step(): ...
    for gpu in manifest.gpus: ...              # empty on a machine without a GPU
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from envstamp._version import __version__

# public name -> module that defines it; resolved lazily by __getattr__ below.  The
# TYPE_CHECKING block names every one of them (a test holds the two equal), so type checkers
# see each export's real type.
_EXPORTS = {
    "capture": "envstamp.capturing.capture",
    "CaptureOptions": "envstamp.probes.context",
    "Manifest": "envstamp.manifest.model",
    "parse": "envstamp.parsers.kinds",
    "KINDS": "envstamp.parsers.kinds",
    "EnvstampError": "envstamp.errors",
    "InputError": "envstamp.errors",
    "ParseError": "envstamp.errors",
    "CheckFailed": "envstamp.errors",
    "to_json": "envstamp.manifest.serialize",
    "manifest_from_json": "envstamp.manifest.serialize",
    "load_document": "envstamp.documents",
    "sign_manifest": "envstamp.signing.sign",
    "verify_envelope": "envstamp.signing.verify",
    "Recorder": "envstamp.stamping.timing",
    "timed": "envstamp.stamping.timing",
    "load_results": "envstamp.stamping.results",
    "diff": "envstamp.diffing.differ",
}

__all__ = [  # noqa: RUF022 - grouped as in _EXPORTS
    "__version__",
    "capture",
    "CaptureOptions",
    "Manifest",
    "parse",
    "KINDS",
    "EnvstampError",
    "InputError",
    "ParseError",
    "CheckFailed",
    "to_json",
    "manifest_from_json",
    "load_document",
    "sign_manifest",
    "verify_envelope",
    "Recorder",
    "timed",
    "load_results",
    "diff",
]

if TYPE_CHECKING:
    from envstamp.capturing.capture import capture as capture
    from envstamp.diffing.differ import diff as diff
    from envstamp.documents import load_document as load_document
    from envstamp.errors import CheckFailed as CheckFailed
    from envstamp.errors import EnvstampError as EnvstampError
    from envstamp.errors import InputError as InputError
    from envstamp.errors import ParseError as ParseError
    from envstamp.manifest.model import Manifest as Manifest
    from envstamp.manifest.serialize import manifest_from_json as manifest_from_json
    from envstamp.manifest.serialize import to_json as to_json
    from envstamp.parsers.kinds import KINDS as KINDS
    from envstamp.parsers.kinds import parse as parse
    from envstamp.probes.context import CaptureOptions as CaptureOptions
    from envstamp.signing.sign import sign_manifest as sign_manifest
    from envstamp.signing.verify import verify_envelope as verify_envelope
    from envstamp.stamping.results import load_results as load_results
    from envstamp.stamping.timing import Recorder as Recorder
    from envstamp.stamping.timing import timed as timed


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'envstamp' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
