"""The cpu probe's sysfs settings: governor, max clock, boost, SMT, caches (the parsers'
tests are in tests/parsers/test_cpu.py)."""

from __future__ import annotations

from typing import Any

from envstamp.probes.system.cpu import sysfs_cpu
from envstamp.runner import Answer, Runner


class FileRunner(Runner):
    """Answers file and folder questions from a dict; anything else is absent."""

    def __init__(self, files: dict[str, str], dirs: dict[str, list[str]]) -> None:
        super().__init__()
        self.files = files
        self.dirs = dirs

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        path = key.get("path", "")
        if op == "file" and path in self.files:
            return {"status": "ok", "text": self.files[path]}
        if op == "dir" and path in self.dirs:
            return {"status": "ok", "names": self.dirs[path]}
        return {"status": "absent", "detail": "not found"}


CPU = "/sys/devices/system/cpu"


def test_sysfs_settings_of_an_intel_laptop() -> None:
    files = {
        f"{CPU}/cpu0/cpufreq/scaling_governor": "powersave\n",
        f"{CPU}/intel_pstate/no_turbo": "0\n",
        f"{CPU}/smt/active": "1\n",
        f"{CPU}/cpu0/cache/index2/level": "2\n",
        f"{CPU}/cpu0/cache/index2/size": "1280K\n",
        f"{CPU}/cpu0/cache/index3/level": "3\n",
        f"{CPU}/cpu0/cache/index3/size": "24576K\n",
    }
    for n, khz in enumerate([4700000, 4700000, 3500000]):
        files[f"{CPU}/cpufreq/policy{n}/cpuinfo_max_freq"] = f"{khz}\n"
    dirs = {
        f"{CPU}/cpufreq": ["policy0", "policy1", "policy2", "ondemand"],
        f"{CPU}/cpu0/cache": ["index0", "index1", "index2", "index3", "uevent"],
    }
    cpu = sysfs_cpu(FileRunner(files, dirs))
    assert (cpu.governor, cpu.boost, cpu.smt, cpu.max_mhz) == ("powersave", True, True, 4700)
    assert (cpu.cache_l2_kib, cpu.cache_l3_kib) == (1280, 24576)


def test_sysfs_boost_sources_in_order() -> None:
    dirs = {f"{CPU}/cpufreq": ["policy0"]}
    acpi = {f"{CPU}/cpufreq/boost": "0\n", f"{CPU}/intel_pstate/no_turbo": "0\n"}
    assert sysfs_cpu(FileRunner(acpi, dirs)).boost is False
    pstate = {f"{CPU}/intel_pstate/no_turbo": "1\n"}
    assert sysfs_cpu(FileRunner(pstate, dirs)).boost is False
    amd = {f"{CPU}/cpufreq/policy0/boost": "1\n"}
    assert sysfs_cpu(FileRunner(amd, dirs)).boost is True
    nothing = sysfs_cpu(FileRunner({}, {}))
    assert (nothing.boost, nothing.governor, nothing.max_mhz, nothing.smt) == (None,) * 4
