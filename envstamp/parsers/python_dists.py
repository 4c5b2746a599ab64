"""Python distributions as their metadata and files name them: a version with its local build
tag (torch's ``2.4.1+cu124``), ``<name>-<version>.dist-info`` folder names, a console script's
shebang."""

from __future__ import annotations

import re

from envstamp.manifest.model import PythonEngine
from envstamp.parsers.textutil import clean


def python_engine(version: str | None) -> PythonEngine | None:
    """ "2.4.1+cu124" -> PythonEngine("2.4.1", "cu124"); None when not installed."""
    text = clean(version)
    if text is None:
        return None
    public, plus, local = text.partition("+")
    return PythonEngine(version=public, build_tag=local or None if plus else None)


def dist_info_version(names: list[str], distribution: str) -> str | None:
    """The version in a ``<name>-<version>.dist-info`` folder name of ``distribution``."""
    wanted = re.sub(r"[-_.]+", "_", distribution).lower()
    for name in names:
        stem, _, suffix = name.rpartition(".")
        if suffix not in ("dist-info", "egg-info"):
            continue
        project, _, version = stem.partition("-")
        if re.sub(r"[-_.]+", "_", project).lower() == wanted and version:
            return version.partition("-")[0]  # egg-info may append "-py3.11"
    return None


def shebang_python(head: bytes) -> str | None:
    """The interpreter a console script names on its first line."""
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    if not words:
        return None
    if words[0].endswith("/env") and len(words) > 1:
        return None  # "#!/usr/bin/env python3": no environment named
    return words[0]
