"""/proc/driver/nvidia/version: the NVIDIA kernel module's version (Linux)."""

from __future__ import annotations

import re

_PROC_DRIVER = r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)\b"


def parse_proc_version(text: str) -> str | None:
    """Driver version from /proc/driver/nvidia/version ("NVRM version: ... Module 550.54.14")."""
    match = re.search(_PROC_DRIVER, text)  # compiled on first use: GPU-less machines never do
    return match.group(1) if match else None
