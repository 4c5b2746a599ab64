"""Builders shared by the timing, results-log, sampler and run-command tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envstamp.manifest.model import Cpu, Gpu, Manifest, OperatingSystem, Power
from envstamp.manifest.serialize import with_digest
from envstamp.stamping.timing import Recorder


def make_manifest(**sections: Any) -> Manifest:
    """A small manifest of an imaginary workstation (no capture: tests stay fast)."""
    values: dict[str, Any] = {
        "os": OperatingSystem(system="Linux", kernel="6.8.0-45-generic", distro_id="ubuntu"),
        "cpu": Cpu(model_name="AMD Ryzen 9 7950X 16-Core Processor", governor="performance"),
        "gpus": [Gpu(index=0, vendor="amd", name="Radeon RX 7900 XTX", memory_total_mib=24560)],
        "power": Power(ac_online=True),
    }
    values.update(sections)
    return with_digest(
        Manifest(envstamp_version="0.1.0", captured_at="2025-03-01T09:00:00.000Z", **values)
    )


def open_recorder(path: Path | str, **options: Any) -> Recorder:
    """A Recorder on a prebuilt manifest, quiet and without state or memory sampling."""
    settings: dict[str, Any] = {
        "manifest": make_manifest(),
        "state": False,
        "memory": False,
        "advice": False,
    }
    settings.update(options)
    return Recorder(path, **settings)


def lines_of(path: Path) -> list[bytes]:
    """The complete lines of a log (without newlines)."""
    return path.read_bytes().split(b"\n")[:-1]


def kinds_of(path: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in lines_of(path)]


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"\n".join(lines) + b"\n")
