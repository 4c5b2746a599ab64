"""The recorded development VM (tests/fixtures/hosts/linux-debian12-vm, recorded on a real
machine) replayed through the system probes: each section holds exactly what the raw answers
say, read here from the recording's own files, not from the parsers under test.

A reading of the moment changed in the recording changes only the volatile part; a fact
changed changes the identity digest and its own section only.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from envstamp.manifest.model import Manifest
from envstamp.manifest.redact import redact
from envstamp.manifest.serialize import identity_digest, to_json, unstructure
from tests.system_support import HOSTS, edited_copy, replay_system

VM = HOSTS / "linux-debian12-vm"


def raw(op: str, ident: str) -> dict[str, Any]:
    """The recorded answer to one question (op and path, variable name...)."""
    for path in VM.glob(f"{op}-*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        if ident in (record["key"].get("path"), record["key"].get("name")):
            answer: dict[str, Any] = record["answer"]
            return answer
    raise LookupError(f"{op} {ident} is not in the recording")


def raw_text(path: str) -> str:
    text: str = raw("file", path)["text"]
    return text


def field(text: str, name: str) -> str:
    """The value of a "name : value" line (cpuinfo) or "name: value" (meminfo)."""
    match = re.search(rf"^{re.escape(name)}\s*:\s*(.*)$", text, re.MULTILINE)
    assert match, name
    return match.group(1).strip()


@pytest.fixture(scope="module")
def vm() -> Manifest:
    return replay_system(VM)


def test_memory_is_meminfo_in_bytes(vm: Manifest) -> None:
    meminfo = raw_text("/proc/meminfo")
    total_kib = int(field(meminfo, "MemTotal").removesuffix(" kB"))
    available_kib = int(field(meminfo, "MemAvailable").removesuffix(" kB"))
    assert total_kib == 24684092  # read by eye
    assert vm.memory.total_bytes == total_kib * 1024
    assert vm.volatile.memory_available_bytes == available_kib * 1024
    assert vm.memory.swap_bytes == int(field(meminfo, "SwapTotal").removesuffix(" kB")) * 1024
    assert vm.memory.thp == "madvise"
    assert raw_text("/sys/kernel/mm/transparent_hugepage/enabled").strip() == \
        "always [madvise] never"
    nodes = [n for n in raw("dir", "/sys/devices/system/node")["names"] if n.startswith("node")]
    assert vm.memory.numa_nodes == len(nodes) == 1


def test_cpu_is_what_cpuinfo_says(vm: Manifest) -> None:
    cpuinfo = raw_text("/proc/cpuinfo")
    assert vm.cpu.model_name == field(cpuinfo, "model name") == "AMD EPYC"
    assert vm.cpu.vendor == field(cpuinfo, "vendor_id")
    assert vm.cpu.logical_cpus == cpuinfo.count("processor\t:") == 2
    flags = set(field(cpuinfo, "flags").split())
    assert set(vm.cpu.flags) == flags
    assert vm.cpu.flags == sorted(vm.cpu.flags)
    assert set(vm.cpu.isa) <= flags and {"avx2", "fma", "f16c"} <= set(vm.cpu.isa)
    mhz = float(field(cpuinfo, "cpu MHz"))
    assert vm.volatile.cpu_mhz == pytest.approx(mhz, abs=0.05)
    l3 = raw_text("/sys/devices/system/cpu/cpu0/cache/index3/size").strip()
    assert vm.cpu.cache_l3_kib == int(l3.removesuffix("K")) == 32768


def test_os_is_os_release_and_the_platform_answer(vm: Manifest) -> None:
    lines = raw_text("/etc/os-release").splitlines()
    release = {key: value.strip('"') for key, _, value in (li.partition("=") for li in lines)}
    platform = _platform()
    assert vm.os.distro_pretty == release["PRETTY_NAME"]
    assert vm.os.distro_name == release["NAME"]
    assert vm.os.distro_version == release["VERSION_ID"]
    assert vm.os.distro_codename == release["VERSION_CODENAME"]
    assert (vm.os.kernel, vm.os.arch, vm.os.system) == (
        platform["release"], platform["machine"], platform["system"])
    assert vm.os.libc == platform["libc"] == "glibc 2.36"
    assert vm.os.distro_like == []  # Debian names no ID_LIKE


def _platform() -> dict[str, Any]:
    (path,) = VM.glob("platform-*.json")
    answer: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["answer"]
    return answer


def test_host_is_the_node_name_and_the_hashed_machine_id(vm: Manifest) -> None:
    machine_id = raw_text("/etc/machine-id").strip()
    assert vm.host.hostname == _platform()["node"] == "vm"
    assert vm.host.machine_id == hashlib.sha256(machine_id.encode()).hexdigest()
    assert machine_id not in to_json(vm)  # never the raw id
    assert vm.host.model is None  # no DMI product name on this VM: unknown, not invented


def test_each_probe_names_what_answered(vm: Manifest) -> None:
    sources = {p.name: p.source for p in vm.probes if p.status == "ok"}
    assert sources["os"] == "/etc/os-release"
    assert sources["cpu"] == "/proc/cpuinfo"
    assert sources["memory"] == "/proc/meminfo"
    (power,) = [p for p in vm.probes if p.name == "power"]
    assert power.status == "absent" and power.detail and "platform profile" in power.detail


def test_a_reading_of_the_moment_changes_only_the_volatile_part(tmp_path: Path,
                                                                vm: Manifest) -> None:
    meminfo = raw_text("/proc/meminfo").replace("MemAvailable:   23822008 kB",
                                                "MemAvailable:    1000000 kB")
    assert meminfo != raw_text("/proc/meminfo")
    copy = edited_copy(VM, tmp_path / "vm", {
        ("file", "/proc/loadavg"): {"status": "ok", "text": "0.01 0.02 0.03 1/99 42\n"},
        ("file", "/proc/meminfo"): {"status": "ok", "text": meminfo},
    })
    later = replay_system(copy)
    assert later.volatile.load_1m == 0.01
    assert later.volatile.memory_available_bytes == 1000000 * 1024
    assert later.identity_digest == vm.identity_digest == identity_digest(later)
    before, after = unstructure(vm), unstructure(later)
    changed = {k for k in before if before[k] != after[k]}
    # replayed_from: the edited copy is another recording folder ("vm"), and says so
    assert (vm.replayed_from, later.replayed_from) == ([VM.name], ["vm"])
    assert changed <= {"volatile", "captured_at", "probes", "replayed_from"}


def test_a_changed_fact_changes_the_digest_and_its_section_only(tmp_path: Path,
                                                               vm: Manifest) -> None:
    release = raw_text("/etc/os-release").replace('VERSION_ID="12"', 'VERSION_ID="13"')
    copy = edited_copy(VM, tmp_path / "vm", {
        ("file", "/etc/os-release"): {"status": "ok", "text": release},
    })
    upgraded = replay_system(copy)
    assert upgraded.os.distro_version == "13"
    assert upgraded.identity_digest != vm.identity_digest
    before, after = unstructure(vm), unstructure(upgraded)
    changed = {k for k in before if before[k] != after[k]}
    ignored = {"volatile", "captured_at", "probes", "replayed_from"}  # replayed_from: the copy's
    assert changed - ignored == {"os", "identity_digest"}


def test_the_shareable_copy_of_the_replay_hides_the_machine(vm: Manifest) -> None:
    shown = redact(vm)
    assert (shown.host.hostname or "").startswith("redacted:")
    assert vm.host.machine_id is not None and vm.host.machine_id not in to_json(shown)
    assert shown.python.executable == "~/venv/bin/python3"
    assert (shown.cpu, shown.memory, shown.os) == (vm.cpu, vm.memory, vm.os)
