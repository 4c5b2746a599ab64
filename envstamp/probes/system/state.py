"""Readings of the moment, taken on every capture: CPU clock, load, free memory, AC power.

This probe runs again on every capture (the static ones run once per process), so it must be
cheap: on Linux a handful of file reads, no process.  macOS has no such files; it asks
``pmset -g batt`` and ``sysctl vm.loadavg``.  Windows asks the runner for
GlobalMemoryStatusEx and GetSystemPowerStatus (in-process calls); it has no load average.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envstamp.errors import ParseError
from envstamp.manifest.model import Power, Volatile
from envstamp.parsers.cpu import cpu_mhz_mean, parse_cpu_list
from envstamp.parsers.loadavg import parse_loadavg
from envstamp.parsers.meminfo import parse_meminfo
from envstamp.parsers.power import parse_pmset_batt, supply_state
from envstamp.parsers.textutil import to_int
from envstamp.probes.context import Outcome, ProbeContext, by_system
from envstamp.probes.system.power import read_supplies

if TYPE_CHECKING:
    from envstamp.runner import Runner

CPUFREQ = "/sys/devices/system/cpu/cpufreq"


def probe(ctx: ProbeContext) -> Outcome:
    """The volatile section, and the power supply readings."""
    handlers = {"Linux": _linux, "Darwin": _darwin, "Windows": _windows}
    return by_system(ctx, handlers, "cheap readings")


def _linux(runner: Runner) -> Outcome:
    cpuinfo = runner.text("/proc/cpuinfo")
    mhz = cpu_mhz_mean(cpuinfo) if cpuinfo else None
    if mhz is None:
        mhz = policy_mhz_mean(runner)  # ARM kernels print no "cpu MHz"
    loadavg = runner.text("/proc/loadavg")
    meminfo = runner.text("/proc/meminfo")
    available = None
    if meminfo:
        try:
            available = parse_meminfo(meminfo).get("MemAvailable")
        except ParseError:
            available = None
    ac, battery = supply_state(read_supplies(runner))
    volatile = Volatile(
        cpu_mhz=mhz,
        load_1m=parse_loadavg(loadavg) if loadavg else None,
        memory_available_bytes=available,
        ac_online=ac,
    )
    sections = {"volatile": volatile, "power": Power(ac_online=ac, battery_percent=battery)}
    return Outcome(sections=sections, source="/proc, /sys")


def policy_mhz_mean(runner: Runner) -> float | None:
    """Mean current clock over cpufreq policies, each weighted by the CPUs it drives."""
    total = 0.0
    count = 0
    for name in runner.list_dir(CPUFREQ) or []:
        if not name.startswith("policy"):
            continue
        khz = to_int(runner.text(f"{CPUFREQ}/{name}/scaling_cur_freq"))
        if not khz:
            continue
        cpus = len(parse_cpu_list(runner.text(f"{CPUFREQ}/{name}/affected_cpus"))) or 1
        total += khz / 1000 * cpus
        count += cpus
    return round(total / count, 1) if count else None


def _darwin(runner: Runner) -> Outcome:
    batt = runner.run(["pmset", "-g", "batt"])
    ac: bool | None = None
    battery: float | None = None
    if batt.succeeded:
        try:
            ac, battery = parse_pmset_batt(batt.stdout)
        except ParseError:
            ac, battery = None, None
    load = runner.run(["sysctl", "-n", "vm.loadavg"])
    volatile = Volatile(
        load_1m=parse_loadavg(load.stdout) if load.succeeded else None, ac_online=ac
    )
    sections = {"volatile": volatile, "power": Power(ac_online=ac, battery_percent=battery)}
    return Outcome(sections=sections, source="pmset -g batt, sysctl vm.loadavg")


def _windows(runner: Runner) -> Outcome:
    memory = runner.memory_status()
    power = runner.power_status()
    ac = power.get("ac_online")
    battery = power.get("battery_percent")
    volatile = Volatile(memory_available_bytes=memory.get("available_bytes"), ac_online=ac)
    sections = {"volatile": volatile, "power": Power(ac_online=ac, battery_percent=battery)}
    return Outcome(sections=sections, source="GlobalMemoryStatusEx, GetSystemPowerStatus")


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "state", "order": 900, "volatile": True},)
