"""System memory: total, swap, NUMA nodes, transparent huge pages.

Linux reads /proc/meminfo and two sysfs entries; macOS uses the shared ``sysctl`` listing
(hw.memsize, vm.swapusage); Windows asks GlobalMemoryStatusEx through the runner (a
PowerShell or wmic start would cost a second).  Swap, NUMA and THP stay null on Windows.
"""

from __future__ import annotations

from envstamp.manifest.model import Memory, Sections
from envstamp.parsers.cpu import parse_sysctl
from envstamp.parsers.meminfo import numa_node_count, parse_meminfo, parse_thp
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure, failure_from, first_ok
from envstamp.probes.system.shared import command_text, darwin_sysctl

MEMINFO = "/proc/meminfo"
NODES = "/sys/devices/system/node"
THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def probe(ctx: ProbeContext) -> Outcome:
    """The memory section for this system."""
    if ctx.system == "Linux":
        return first_ok([(MEMINFO, lambda: _linux(ctx))])
    if ctx.system == "Darwin":
        return first_ok([("sysctl", lambda: _darwin(ctx))])
    if ctx.system == "Windows":
        return first_ok([("GlobalMemoryStatusEx", lambda: _windows(ctx))])
    raise ProbeFailure("unsupported", f"no cheap memory source on {ctx.system or 'this system'}")


def _linux(ctx: ProbeContext) -> Sections:
    runner = ctx.runner
    result = runner.read_text(MEMINFO)
    if not result.ok or result.text is None:
        raise failure_from(result, MEMINFO)
    values = parse_meminfo(result.text)
    thp = runner.read_text(THP, limit=4096)
    return {
        "memory": Memory(
            total_bytes=values.get("MemTotal"),
            swap_bytes=values.get("SwapTotal"),
            numa_nodes=numa_node_count(runner.list_dir(NODES) or []),
            thp=parse_thp(thp.text) if thp.ok and thp.text else None,
        )
    }


def _darwin(ctx: ProbeContext) -> Sections:
    result = darwin_sysctl(ctx.runner)
    text = command_text(result)
    if text is None:
        raise failure_from(result, "sysctl")
    _cpu, memory, _host = parse_sysctl(text)
    if memory.total_bytes is None:
        raise ProbeFailure("error", "sysctl printed no hw.memsize")
    return {"memory": memory}


def _windows(ctx: ProbeContext) -> Sections:
    total = ctx.runner.memory_status().get("total_bytes")
    if total is None:
        raise ProbeFailure("error", "GlobalMemoryStatusEx gave no total")
    return {"memory": Memory(total_bytes=total)}


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "memory", "order": 130},)
