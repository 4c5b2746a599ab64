"""Every probe by name: where its function lives (``"module:function"``) and when it applies.

The one list of probes.  A capture imports a probe's module only when that probe runs on this
platform; a test checks that every target resolves.
"""

from __future__ import annotations

import importlib
from typing import Any

import attrs

from envstamp.manifest.records import FrozenRecord


@attrs.frozen(eq=False, repr=False)
class ProbeSpec(FrozenRecord):
    """A probe: where its function lives and when it applies."""

    name: str
    target: str  # "module:function"
    volatile: bool = False
    systems: tuple[str, ...] | None = None  # platform.system() values it applies to
    # Waited for past the deadline: hashing the model files the user named takes as long as
    # reading them (once: hashes are cached), and a manifest without them is not what was asked.
    outlives_deadline: bool = False
    # Apt to wait on the system (NVML start-up, commands, sockets): begun before the others so
    # that its wait overlaps their work instead of ending the capture.
    waits: bool = False


PROBES: tuple[ProbeSpec, ...] = (
    ProbeSpec("host", "envstamp.probes.system.host:probe"),
    ProbeSpec("os", "envstamp.probes.system.os_:probe"),
    ProbeSpec("cpu", "envstamp.probes.system.cpu:probe"),
    ProbeSpec("memory", "envstamp.probes.system.memory:probe"),
    ProbeSpec("python", "envstamp.probes.system.python:probe"),
    ProbeSpec("env", "envstamp.probes.system.env:probe"),
    ProbeSpec("power", "envstamp.probes.system.power:probe"),
    ProbeSpec("gpu_nvidia", "envstamp.probes.gpu.nvidia:probe", waits=True),
    ProbeSpec("gpu_amd", "envstamp.probes.gpu.amd:probe", systems=("Linux", "Windows")),
    ProbeSpec("gpu_apple", "envstamp.probes.gpu.apple:probe", systems=("Darwin",)),
    ProbeSpec("gpu_windows", "envstamp.probes.gpu.windows:probe", systems=("Windows",)),
    ProbeSpec("gpu_intel", "envstamp.probes.gpu.intel:probe", systems=("Linux", "Windows")),
    ProbeSpec("runtimes", "envstamp.probes.gpu.runtimes:probe", waits=True),
    ProbeSpec("llamacpp", "envstamp.probes.llm.llamacpp:probe", waits=True),
    ProbeSpec("ollama", "envstamp.probes.llm.ollama:probe", waits=True),
    ProbeSpec("lmstudio", "envstamp.probes.llm.lmstudio:probe"),
    ProbeSpec("jan", "envstamp.probes.llm.jan:probe"),
    ProbeSpec("engines", "envstamp.probes.llm.engines:probe"),
    ProbeSpec("models", "envstamp.probes.llm.model_file:probe", outlives_deadline=True),
    ProbeSpec("state", "envstamp.probes.system.state:probe", volatile=True),
    ProbeSpec("gpu_nvidia_state", "envstamp.probes.gpu.nvidia:state", volatile=True, waits=True),
)


def load(target: str) -> Any:
    """The function a ``module:function`` target names (its module imported now)."""
    module_name, _, function = target.partition(":")
    return getattr(importlib.import_module(module_name), function)
