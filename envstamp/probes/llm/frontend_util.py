"""Thin runner helpers shared by the frontend probes (Ollama, LM Studio, Jan, other engines):
paths per OS, JSON files, subfolders.  Nothing here spawns a process; the text helpers the
frontends' parsers share live in :mod:`envstamp.parsers.frontend_text`.
"""

from __future__ import annotations

import ntpath
import posixpath
from typing import TYPE_CHECKING, Any

from envstamp.errors import ParseError
from envstamp.parsers.frontend_text import load_json

if TYPE_CHECKING:
    from types import ModuleType

    from envstamp.runner import Runner

def paths_for(system: str) -> ModuleType:
    """The path module of the probed system (a recorded Windows host replays on Linux)."""
    return ntpath if system == "Windows" else posixpath


def read_json_file(runner: Runner, path: str) -> Any:
    """A JSON file's data, or None when it is missing, unreadable or not JSON."""
    result = runner.read_text(path)
    if not result.ok or result.text is None:
        return None
    try:
        return load_json(result.text, path)
    except ParseError:
        return None


def subfolders(runner: Runner, folder: str, join: Any) -> list[str]:
    """Names of the folders inside ``folder`` (files left out); empty when missing."""
    names = runner.list_dir(folder) or []
    return [name for name in names if runner.stat(join(folder, name)).is_dir]
