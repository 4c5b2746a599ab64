"""The processor: model, topology, features, and the cpufreq settings that move benchmarks.

Sources by system (the pure parsers live in :mod:`envstamp.parsers.cpu`):

* Linux: /proc/cpuinfo plus sysfs (governor, max clock, boost, SMT, caches, hybrid core
  types), file reads only; ``lscpu`` only when /proc/cpuinfo cannot be read.
* macOS: one ``sysctl hw machdep.cpu ...`` listing (shared with the memory and host probes).
* Windows: the registry's CentralProcessor\\0 key; counts from the interpreter.
* Anything else: py-cpuinfo, which spends about a second measuring clocks, hence last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from envstamp.manifest.model import Cpu, Sections, fill_missing
from envstamp.parsers.cpu import (
    cpuinfo_entries,
    hybrid_core_counts,
    parse_cpu_list,
    parse_lscpu,
    parse_proc_cpuinfo,
    parse_sysctl,
)
from envstamp.parsers.textutil import clean, size_to_bytes, to_bool, to_int
from envstamp.parsers.windows_registry import windows_cpu
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure, failure_from, first_ok
from envstamp.probes.system.shared import command_text, darwin_sysctl, proc_cpuinfo

if TYPE_CHECKING:
    from envstamp.runner import Runner

SYS_CPU = "/sys/devices/system/cpu"
CPU_REGISTRY_KEY = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
HKLM = "HKEY_LOCAL_MACHINE"
# Policies read for the highest max clock; x86 has one per CPU, ARM one per cluster.
MAX_POLICIES = 256


def probe(ctx: ProbeContext) -> Outcome:
    """The cpu section for this system."""
    if ctx.system == "Linux":
        return _linux(ctx)
    if ctx.system == "Darwin":
        return first_ok([("sysctl", lambda: _darwin(ctx))])
    if ctx.system == "Windows":
        return first_ok([("registry", lambda: _windows(ctx))])
    return first_ok([("py-cpuinfo", lambda: _py_cpuinfo(ctx))])


# ---------------------------------------------------------------------------------- Linux


def _linux(ctx: ProbeContext) -> Outcome:
    outcome = first_ok(
        [("/proc/cpuinfo", lambda: _from_cpuinfo(ctx)), ("lscpu", lambda: _from_lscpu(ctx))]
    )
    cpu = outcome.sections["cpu"]
    machine = clean(ctx.platform.get("machine"))
    cpu = attrs.evolve(cpu, arch=machine) if machine else cpu  # the kernel's own word
    cpu = fill_missing(cpu, sysfs_cpu(ctx.runner))
    if cpu.physical_cores is None and cpu.smt is False:
        cpu = fill_missing(cpu, Cpu(physical_cores=cpu.logical_cpus))
    return Outcome(
        sections={"cpu": cpu}, source=outcome.source, status=outcome.status, detail=outcome.detail
    )


def _from_cpuinfo(ctx: ProbeContext) -> Sections:
    result = proc_cpuinfo(ctx.runner)
    if not result.ok or result.text is None:
        raise failure_from(result, "/proc/cpuinfo")
    cpu = parse_proc_cpuinfo(result.text)
    performance, efficiency = _intel_hybrid(ctx.runner, result.text)
    if performance is not None:
        cpu = fill_missing(Cpu(performance_cores=performance, efficiency_cores=efficiency), cpu)
    return {"cpu": cpu}


def _from_lscpu(ctx: ProbeContext) -> Sections:
    result = ctx.runner.run(["lscpu"])
    if not result.succeeded:
        raise failure_from(result, "lscpu")
    cpu, _numa = parse_lscpu(result.stdout)
    return {"cpu": cpu}


def _intel_hybrid(runner: Runner, cpuinfo: str) -> tuple[int | None, int | None]:
    """P/E core counts where the kernel lists hybrid core types (Intel Alder Lake and later)."""
    performance = runner.read_text("/sys/devices/cpu_core/cpus", limit=4096)
    if not performance.ok:
        return None, None
    efficiency = runner.read_text("/sys/devices/cpu_atom/cpus", limit=4096)
    entries, _ = cpuinfo_entries(cpuinfo)
    return hybrid_core_counts(
        entries, parse_cpu_list(performance.text), parse_cpu_list(efficiency.text)
    )


def _read(runner: Runner, path: str) -> str | None:
    return clean(runner.text(path, limit=4096))


def sysfs_cpu(runner: Runner) -> Cpu:
    """Governor, max clock, boost, SMT and cache sizes from /sys/devices/system/cpu."""
    governor = _read(runner, f"{SYS_CPU}/cpu0/cpufreq/scaling_governor")
    policies = [
        name
        for name in runner.list_dir(f"{SYS_CPU}/cpufreq") or []
        if name.startswith("policy") and name[6:].isdecimal()
    ]
    policies.sort(key=lambda name: int(name[6:]))
    max_khz = [
        to_int(_read(runner, f"{SYS_CPU}/cpufreq/{name}/cpuinfo_max_freq"))
        for name in policies[:MAX_POLICIES]
    ]
    known_khz = [k for k in max_khz if k]
    l2, l3 = _caches(runner)
    smt = to_bool(_read(runner, f"{SYS_CPU}/smt/active"))
    return Cpu(
        governor=governor,
        max_mhz=round(max(known_khz) / 1000) if known_khz else None,
        boost=_boost(runner, policies[0] if policies else None),
        smt=smt,
        cache_l2_kib=l2,
        cache_l3_kib=l3,
    )


def _boost(runner: Runner, policy: str | None) -> bool | None:
    """acpi-cpufreq's global boost, intel_pstate's no_turbo (inverted), amd-pstate's per policy."""
    value = to_bool(_read(runner, f"{SYS_CPU}/cpufreq/boost"))
    if value is not None:
        return value
    no_turbo = to_bool(_read(runner, f"{SYS_CPU}/intel_pstate/no_turbo"))
    if no_turbo is not None:
        return not no_turbo
    if policy is not None:
        return to_bool(_read(runner, f"{SYS_CPU}/cpufreq/{policy}/boost"))
    return None


def _caches(runner: Runner) -> tuple[int | None, int | None]:
    """cpu0's L2 and L3 sizes (per instance, as the cache hierarchy lists them), KiB."""
    folder = f"{SYS_CPU}/cpu0/cache"
    sizes: dict[int, int] = {}
    for name in runner.list_dir(folder) or []:
        if not name.startswith("index"):
            continue
        level = to_int(_read(runner, f"{folder}/{name}/level"))
        if level not in (2, 3) or level in sizes:
            continue
        size = size_to_bytes(_read(runner, f"{folder}/{name}/size"))
        if size:
            sizes[level] = size // 1024
    return sizes.get(2), sizes.get(3)


# ---------------------------------------------------------------------------------- macOS


def _darwin(ctx: ProbeContext) -> Sections:
    result = darwin_sysctl(ctx.runner)
    text = command_text(result)
    if text is None:
        raise failure_from(result, "sysctl")
    cpu, _memory, _host = parse_sysctl(text)
    return {"cpu": fill_missing(cpu, Cpu(arch=clean(ctx.platform.get("machine"))))}


# -------------------------------------------------------------------------------- Windows


def _windows(ctx: ProbeContext) -> Sections:
    values = {
        name: ctx.runner.registry(HKLM, CPU_REGISTRY_KEY, name)
        for name in ("ProcessorNameString", "VendorIdentifier")
    }
    if all(v is None for v in values.values()):
        raise ProbeFailure("absent", "CentralProcessor\\0 not readable in the registry")
    cpu = windows_cpu(
        values, to_int(ctx.platform.get("cpu_count")), clean(ctx.platform.get("machine"))
    )
    return {"cpu": cpu}


# ---------------------------------------------------------------------------- other systems


def _py_cpuinfo(ctx: ProbeContext) -> Sections:
    from envstamp.parsers.cpu import cpu_from_py_cpuinfo

    answer = ctx.runner.library("py-cpuinfo")
    status = answer.get("status")
    if status != "ok":
        detail = str(answer.get("detail") or "no answer")
        if status in ("absent", "timeout", "unsupported"):
            raise ProbeFailure(status, detail)
        raise ProbeFailure("error", detail)
    cpu = cpu_from_py_cpuinfo(answer.get("info") or {})
    return {"cpu": fill_missing(cpu, Cpu(logical_cpus=to_int(ctx.platform.get("cpu_count"))))}


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "cpu", "order": 120},)
