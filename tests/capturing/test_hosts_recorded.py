"""Recorded hosts replayed through the real system probes, edge hosts, and live faults.

The hosts are folders of runner answers: ``linux-debian12-vm`` was recorded on the machine
this project is built on (``envstamp capture --raw``; paths and the machine id scrubbed, see
its README), the others are hand-made from documented output formats (tests/system_support.py).
Edge hosts are copies of those with single answers replaced.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from envstamp.capturing.capture import capture
from envstamp.manifest import schema
from envstamp.manifest.model import Manifest, ProbeRecord
from envstamp.manifest.secrets import is_secret_name as looks_secret
from envstamp.manifest.serialize import unstructure
from envstamp.probes.context import CaptureOptions
from envstamp.runner import Answer, LiveRunner, ReplayRunner, read_text_answer
from tests.system_support import HOSTS, OTHER_PROBES, SYSTEM_PROBES, edited_copy, ok, replay_system

LINUX_VM = HOSTS / "linux-debian12-vm"
GRAVITON = HOSTS / "linux-ubuntu22-graviton3"
MAC_ARM = HOSTS / "macos-14-m2pro"
MAC_INTEL = HOSTS / "macos-13-intel"
WINDOWS = HOSTS / "windows-11-ryzen"
SYSTEM_HOSTS = [LINUX_VM, GRAVITON, MAC_ARM, MAC_INTEL, WINDOWS]


def record(manifest: Manifest, name: str) -> ProbeRecord:
    return next(p for p in manifest.probes if p.name == name)


def statuses(manifest: Manifest) -> dict[str, str]:
    return {p.name: p.status for p in manifest.probes if p.name in SYSTEM_PROBES}


# ---------------------------------------------------------------------------- every host


@pytest.mark.parametrize("folder", SYSTEM_HOSTS, ids=lambda p: p.name)
def test_host_replays_into_a_schema_valid_manifest(folder: Path) -> None:
    manifest = replay_system(folder)
    validator = jsonschema.Draft202012Validator(schema.manifest_schema())
    validator.validate(unstructure(manifest))
    assert manifest.identity_digest and manifest.identity_digest.startswith("sha256:")
    for name in OTHER_PROBES:
        assert record(manifest, name).status == "unsupported"  # skipped, never asked


@pytest.mark.parametrize("folder", SYSTEM_HOSTS, ids=lambda p: p.name)
def test_replay_is_deterministic(folder: Path) -> None:
    first = replay_system(folder)
    second = replay_system(folder)
    assert first.identity_digest == second.identity_digest
    assert unstructure(first.cpu) == unstructure(second.cpu)


@pytest.mark.parametrize("folder", SYSTEM_HOSTS, ids=lambda p: p.name)
def test_recordings_hold_no_secrets(folder: Path) -> None:
    paths = sorted(folder.glob("*.json"))
    assert paths  # an empty folder would pass the loop unchecked
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["op"] == "env":
            assert not looks_secret(data["key"]["name"])  # a secret's value is never read
        text = path.read_text(encoding="utf-8")
        for secret in ("not-a-real-key", "not-a-real-token", "hunter2"):
            # hand-made hosts set such variables: their values are never even asked for,
            # except the URL whose credentials the env probe strips after reading
            if secret == "hunter2" and data["op"] == "env":
                continue
            assert secret not in text, path.name
    manifest = replay_system(folder)
    for name, value in manifest.env.items():
        assert not looks_secret(name)
        assert "hunter2" not in value


class CountingReplay(ReplayRunner):
    """A replay that notes every command and library call the probes ask for."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.spawns: list[str] = []

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        if op in ("cmd", "library"):
            self.spawns.append(f"{op} {key}")
        return super()._answer(op, key, compute)


@pytest.mark.parametrize("folder", [LINUX_VM, GRAVITON], ids=lambda p: p.name)
def test_linux_system_probes_spawn_no_process(folder: Path) -> None:
    runner = CountingReplay(folder)
    m = capture(CaptureOptions(skip=OTHER_PROBES), runner=runner)
    assert runner.spawns == []  # file reads only on the default Linux path, no py-cpuinfo
    assert statuses(m)["cpu"] == "ok"


# ----------------------------------------------------------------------------- each host


def test_this_machine_recording() -> None:
    m = replay_system(LINUX_VM)
    assert set(statuses(m).values()) <= {"ok", "absent"}
    assert statuses(m)["power"] == "absent"  # a VM: no ACPI profile, no daemon
    assert (m.os.system, m.os.distro_id, m.os.distro_version) == ("Linux", "debian", "12")
    assert (m.os.distro_codename, m.os.libc, m.os.wsl) == ("bookworm", "glibc 2.36", False)
    assert m.os.virtualization == "vm"  # hypervisor flag, no DMI naming the hypervisor
    assert m.os.container == "docker"
    assert (m.cpu.vendor, m.cpu.arch, m.cpu.logical_cpus) == ("AuthenticAMD", "x86_64", 2)
    assert {"avx2", "fma", "f16c"} <= set(m.cpu.isa)
    assert (m.cpu.cache_l2_kib, m.cpu.cache_l3_kib, m.cpu.smt) == (512, 32768, False)
    assert m.memory.total_bytes and m.memory.total_bytes > 1 << 30
    assert (m.memory.numa_nodes, m.memory.thp) == (1, "madvise")
    assert m.host.machine_id and len(m.host.machine_id) == 64
    assert m.env == {"GGML_SCHED_MAX_COPIES": "1", "OMP_NUM_THREADS": "2"}
    assert m.python.virtualenv is True and "envstamp" in m.python.packages
    assert m.volatile.cpu_mhz and m.volatile.load_1m is not None
    assert m.volatile.memory_available_bytes


def test_graviton_host() -> None:
    m = replay_system(GRAVITON)
    assert (m.cpu.model_name, m.cpu.vendor, m.cpu.physical_cores) == ("Neoverse-V1", "ARM", 8)
    assert m.cpu.isa == ["asimd", "asimddp", "bf16", "i8mm", "sve"]
    assert (m.cpu.cache_l2_kib, m.cpu.cache_l3_kib) == (1024, 32768)
    assert m.cpu.governor is None and m.cpu.max_mhz is None  # EC2 exposes no cpufreq
    assert m.os.virtualization == "amazon"  # from DMI: ARM prints no hypervisor flag
    assert (m.os.distro_codename, m.os.distro_like) == ("jammy", ["debian"])
    assert m.host.model == "Amazon EC2 c7g.2xlarge"
    assert m.memory.swap_bytes == 0
    assert m.volatile.cpu_mhz is None  # no "cpu MHz" and no cpufreq policies
    assert m.env == {"GGML_NUMA": "distribute", "OMP_NUM_THREADS": "8"}


def test_macos_apple_silicon_host() -> None:
    m = replay_system(MAC_ARM)
    assert set(statuses(m).values()) == {"ok"}
    assert (m.os.distro_name, m.os.distro_version, m.os.build) == ("macOS", "14.5", "23F79")
    assert (m.os.distro_codename, m.os.kernel, m.os.virtualization) == ("Sonoma", "23.5.0", None)
    assert (m.cpu.model_name, m.cpu.performance_cores, m.cpu.efficiency_cores) == (
        "Apple M2 Pro",
        8,
        4,
    )
    assert m.cpu.isa == ["asimd", "asimddp", "bf16", "i8mm"]
    assert (m.memory.total_bytes, m.memory.swap_bytes) == (32 << 30, 2048 << 20)
    assert m.host.model == "Mac14,12" and m.host.machine_id
    assert m.power.macos_low_power_mode is False
    assert (m.power.ac_online, m.power.battery_percent) == (True, None)
    assert "OLLAMA_API_KEY" not in m.env and m.env["OLLAMA_KEEP_ALIVE"] == "30m"
    assert m.python.packages["mlx-lm"] == "0.14.3"


def test_macos_intel_laptop_on_battery() -> None:
    m = replay_system(MAC_INTEL)
    assert (m.cpu.vendor, m.cpu.physical_cores, m.cpu.logical_cpus, m.cpu.smt) == (
        "GenuineIntel",
        8,
        16,
        True,
    )
    assert m.cpu.isa == ["avx", "avx2", "f16c", "fma"]
    assert (m.os.distro_codename, m.os.arch) == ("Ventura", "x86_64")
    assert m.power.macos_low_power_mode is True
    assert (m.power.ac_online, m.power.battery_percent) == (False, 76.0)
    assert m.volatile.ac_online is False
    assert m.python.virtualenv is False


def test_windows_11_host() -> None:
    m = replay_system(WINDOWS)
    assert set(statuses(m).values()) == {"ok"}
    assert m.os.distro_name == "Windows 11 Pro"  # the registry still says "Windows 10 Pro"
    assert (m.os.build, m.os.edition, m.os.distro_version) == ("22631.3880", "Professional", "23H2")
    assert m.os.kernel == "10.0.22631"
    assert (m.cpu.model_name, m.cpu.logical_cpus) == ("AMD Ryzen 7 7800X3D 8-Core Processor", 16)
    assert m.memory.total_bytes == 68602511360
    assert m.power.windows_power_plan == "High performance"
    assert m.power.ac_online is True and m.volatile.memory_available_bytes == 51346997248
    assert m.host.model == "Micro-Star International Co., Ltd. MS-7D76"
    assert m.env["OLLAMA_HOST"] == "http://127.0.0.1:11434"  # credentials stripped
    assert "HF_TOKEN" not in m.env


def test_static_power_probe_reports_no_supply_reading() -> None:
    # The power section's AC and battery fields come from the volatile state probe only.
    skip = OTHER_PROBES | {"state"}
    m = replay_system(MAC_INTEL, skip=skip)
    assert m.power.macos_low_power_mode is True
    assert (m.power.ac_online, m.power.battery_percent) == (None, None)


# ------------------------------------------------------------------------------ edge hosts


def test_tool_missing(tmp_path: Path) -> None:
    folder = edited_copy(MAC_ARM, tmp_path / "h", {("cmd", "sw_vers"): _absent()})
    m = replay_system(folder)
    os_record = record(m, "os")
    assert (os_record.status, os_record.source) == ("absent", "platform")
    assert "sw_vers" in (os_record.detail or "")
    assert (m.os.system, m.os.kernel, m.os.distro_version) == ("Darwin", "23.5.0", None)
    assert record(m, "cpu").status == "ok"  # one missing tool costs only its own facts


def test_tool_exits_non_zero(tmp_path: Path) -> None:
    failed = ok("", returncode=1, stderr="sysctl: unknown oid 'hw'\n")
    folder = edited_copy(MAC_ARM, tmp_path / "h", {("cmd", " ".join(_SYSCTL)): failed})
    m = replay_system(folder)
    for name in ("cpu", "memory"):
        assert record(m, name).status == "error"
        assert "exited 1" in (record(m, name).detail or "")
    assert m.cpu.model_name is None and m.host.model is None
    assert m.os.distro_version == "14.5"  # sw_vers still answered


def test_non_zero_exit_with_output_is_still_read(tmp_path: Path) -> None:
    # sysctl exits 1 when one asked name is unknown (older macOS), printing the rest
    text = "hw.memsize: 8589934592\nmachdep.cpu.brand_string: Apple M1\n"
    partial = ok(text, returncode=1, stderr="sysctl: unknown oid 'kern.hv_vmm_present'\n")
    folder = edited_copy(MAC_ARM, tmp_path / "h", {("cmd", " ".join(_SYSCTL)): partial})
    m = replay_system(folder)
    assert (m.cpu.model_name, m.memory.total_bytes) == ("Apple M1", 8589934592)
    assert record(m, "cpu").status == "ok"


@pytest.mark.parametrize(
    "garbage",
    ["", "\x00\x01\x02 binary \ufffd\ufffd", "Segmentation fault (core dumped)\n"],
    ids=["empty", "binary", "crash-text"],
)
def test_garbage_output(tmp_path: Path, garbage: str) -> None:
    folder = edited_copy(MAC_ARM, tmp_path / "h", {("cmd", "sw_vers"): ok(garbage)})
    m = replay_system(folder)
    assert record(m, "os").status == "error"
    assert m.os.system == "Darwin" and m.os.distro_name is None


def test_garbage_cpuinfo_falls_back_to_lscpu(tmp_path: Path) -> None:
    lscpu = "Architecture: x86_64\nCPU(s): 2\nVendor ID: AuthenticAMD\nModel name: AMD EPYC\n"
    answers: dict[tuple[str, str], Answer | None] = {
        ("file", "/proc/cpuinfo"): {"status": "ok", "text": "\ufffd\ufffd garbage \ufffd"},
        ("cmd", "lscpu"): ok(lscpu),
    }
    m = replay_system(edited_copy(LINUX_VM, tmp_path / "h", answers))
    cpu = record(m, "cpu")
    assert (cpu.status, cpu.source) == ("ok", "lscpu")
    assert "/proc/cpuinfo" in (cpu.detail or "")
    assert (m.cpu.model_name, m.cpu.logical_cpus) == ("AMD EPYC", 2)
    assert m.cpu.cache_l2_kib == 512  # sysfs still fills what lscpu did not print


def test_unreadable_file(tmp_path: Path) -> None:
    denied: Answer = {"status": "permission", "detail": "permission denied"}
    answers: dict[tuple[str, str], Answer | None] = {
        ("file", "/proc/meminfo"): denied,
        ("file", "/proc/cpuinfo"): denied,
        ("cmd", "lscpu"): _absent(),
    }
    m = replay_system(edited_copy(LINUX_VM, tmp_path / "h", answers))
    assert record(m, "memory").status == "permission"
    assert record(m, "cpu").status == "permission"  # the telling failure, not "absent"
    assert m.memory.total_bytes is None
    assert m.volatile.load_1m is not None  # the state probe reads what it can


def test_no_os_release_falls_back_to_lsb_release(tmp_path: Path) -> None:
    answers: dict[tuple[str, str], Answer | None] = {
        ("file", "/etc/os-release"): _absent(),
        ("file", "/usr/lib/os-release"): _absent(),
        ("file", "/etc/lsb-release"): {
            "status": "ok",
            "text": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\nDISTRIB_CODENAME=trusty\n",
        },
    }
    m = replay_system(edited_copy(LINUX_VM, tmp_path / "h", answers))
    assert (m.os.distro_id, m.os.distro_version, m.os.distro_codename) == (
        "ubuntu",
        "14.04",
        "trusty",
    )
    assert record(m, "os").source == "/etc/lsb-release"


def test_windows_registry_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "h"
    folder.mkdir()
    for path in WINDOWS.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["op"] == "registry":
            data["answer"] = {"value": None}
        (folder / path.name).write_text(json.dumps(data), encoding="utf-8")
    m = replay_system(folder)
    assert statuses(m)["os"] == "absent" and statuses(m)["cpu"] == "absent"
    assert (m.os.system, m.cpu.model_name) == ("Windows", None)


def _absent() -> Answer:
    return {"status": "absent", "detail": "not found", "duration_ms": 0.1}


_SYSCTL = ("sysctl", "hw", "machdep.cpu", "vm.swapusage", "kern.hv_vmm_present")


# ----------------------------------------------------------------------------------- live


class CountingRunner(LiveRunner):
    """The live system, counting the processes the probes start."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands: list[tuple[str, ...]] = []

    def run(self, argv: Any, **kwargs: Any) -> Any:
        self.commands.append(tuple(argv))
        return super().run(argv, **kwargs)


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux-only path")


@linux_only
def test_live_linux_capture_spawns_no_process() -> None:
    runner = CountingRunner()
    m = capture(CaptureOptions(skip=OTHER_PROBES), runner=runner)
    assert runner.commands == []
    assert statuses(m)["cpu"] == "ok" and statuses(m)["os"] == "ok"
    assert m.cpu.logical_cpus and m.memory.total_bytes


class UnreadableCpuinfo(LiveRunner):
    """The live system, except that /proc/cpuinfo cannot be read (so lscpu is asked)."""

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        if op == "file" and key.get("path") == "/proc/cpuinfo":
            return {"status": "permission", "detail": "permission denied"}
        return super()._answer(op, key, compute)


@linux_only
def test_invalid_utf8_file_is_read_leniently(tmp_path: Path) -> None:
    path = tmp_path / "meminfo"
    path.write_bytes(b"MemTotal:       1024 kB\n\xff\xfe\xfa bogus\nSwapTotal: 0 kB\n")
    answer = read_text_answer(str(path), 1 << 20)
    from envstamp.parsers.meminfo import parse_meminfo

    assert parse_meminfo(answer["text"])["MemTotal"] == 1 << 20


@linux_only
def test_hanging_tool_costs_its_timeout_and_leaves_no_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = tmp_path / "pids"
    fake = tmp_path / "bin" / "lscpu"
    fake.parent.mkdir()
    # The fake lscpu starts a grandchild, then hangs itself: both must die.
    fake.write_text(f"#!/bin/sh\nsleep 60 &\necho $! >> {pids}\necho $$ >> {pids}\nsleep 60\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    runner = UnreadableCpuinfo(command_timeout=0.5)
    deadline = 3.0
    started = time.monotonic()
    m = capture(CaptureOptions(skip=OTHER_PROBES, deadline=deadline), runner=runner)
    elapsed = time.monotonic() - started
    assert elapsed < deadline + 1.0
    cpu = record(m, "cpu")
    assert cpu.status in ("timeout", "permission")
    assert "lscpu" in (cpu.detail or "")
    assert record(m, "os").status == "ok"  # the others finished meanwhile
    time.sleep(0.2)
    started_pids = [int(p) for p in pids.read_text().split()] if pids.exists() else []
    assert started_pids, "the fake lscpu never ran"
    assert not [pid for pid in started_pids if _alive(pid)]


def _alive(pid: int) -> bool:
    """A live process (zombies waiting for their reaper count as dead)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text.rsplit(")", 1)[1].split()[0] != "Z"
