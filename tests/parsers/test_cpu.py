"""The cpu parsers: /proc/cpuinfo, lscpu, sysctl, ISA names, the Windows registry values,
py-cpuinfo's mapping (the probe's sysfs settings: tests/probes/test_probe_cpu.py)."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.manifest.model import Cpu
from envstamp.parsers.cpu import (
    ISA_NAMES,
    arm_core_name,
    cpu_from_py_cpuinfo,
    cpu_mhz_mean,
    cpuinfo_entries,
    hybrid_core_counts,
    isa_from_flags,
    parse_cpu_list,
    parse_lscpu,
    parse_proc_cpuinfo,
    parse_swapusage,
    parse_sysctl,
)
from envstamp.parsers.kinds import parse_to_data
from envstamp.parsers.windows_registry import windows_cpu

TEXT = Path(__file__).parents[1] / "fixtures" / "text"


def sample(kind: str, name: str) -> str:
    return (TEXT / kind / name).read_text(encoding="utf-8")


def summary(cpu: Cpu) -> dict[str, Any]:
    """The fields a sample asserts (flags checked separately)."""
    return {
        "vendor": cpu.vendor,
        "model_name": cpu.model_name,
        "arch": cpu.arch,
        "sockets": cpu.sockets,
        "physical_cores": cpu.physical_cores,
        "logical_cpus": cpu.logical_cpus,
        "performance_cores": cpu.performance_cores,
        "efficiency_cores": cpu.efficiency_cores,
        "isa": cpu.isa,
    }


# ------------------------------------------------------------------------- /proc/cpuinfo

CPUINFO = {
    "intel-i7-12700h-hybrid.txt": {
        "vendor": "GenuineIntel",
        "model_name": "12th Gen Intel(R) Core(TM) i7-12700H",
        "arch": "x86_64",
        "sockets": 1,
        "physical_cores": 14,
        "logical_cpus": 20,
        "performance_cores": None,  # needs sysfs cpu_core / cpu_atom
        "efficiency_cores": None,
        "isa": ["avx", "avx2", "avx_vnni", "f16c", "fma"],
    },
    "amd-epyc-9124-2s.txt": {
        "vendor": "AuthenticAMD",
        "model_name": "AMD EPYC 9124 16-Core Processor",
        "arch": "x86_64",
        "sockets": 2,
        "physical_cores": 32,
        "logical_cpus": 64,
        "performance_cores": None,
        "efficiency_cores": None,
        "isa": ["avx", "avx2", "avx512_bf16", "avx512_vnni", "avx512f", "f16c", "fma"],
    },
    "graviton2-neoverse-n1.txt": {
        "vendor": "ARM",
        "model_name": "Neoverse-N1",
        "arch": "aarch64",
        "sockets": 1,
        "physical_cores": 4,
        "logical_cpus": 4,
        "performance_cores": None,
        "efficiency_cores": None,
        "isa": ["asimd", "asimddp"],
    },
    "rk3588-a55-a76-hybrid.txt": {
        "vendor": "ARM",
        "model_name": "Cortex-A55 + Cortex-A76",
        "arch": "aarch64",
        "sockets": 1,
        "physical_cores": 8,
        "logical_cpus": 8,
        "performance_cores": 4,
        "efficiency_cores": 4,
        "isa": ["asimd", "asimddp"],
    },
    "rpi4-aarch64.txt": {
        "vendor": "ARM",
        "model_name": "Cortex-A72",
        "arch": "aarch64",
        "sockets": 1,
        "physical_cores": 4,
        "logical_cpus": 4,
        "performance_cores": None,
        "efficiency_cores": None,
        "isa": ["asimd"],
    },
    "rpi-zero-w-armv6.txt": {
        "vendor": "ARM",
        "model_name": "ARMv6-compatible processor rev 7 (v6l)",
        "arch": "armv6l",
        "sockets": 1,
        "physical_cores": 1,
        "logical_cpus": 1,
        "performance_cores": None,
        "efficiency_cores": None,
        "isa": [],  # an old CPU may have none
    },
    "old-arm64-kernel-msm8953.txt": {
        "vendor": "ARM",
        "model_name": "Cortex-A53",
        "arch": "aarch64",
        "sockets": 1,
        "physical_cores": 8,
        "logical_cpus": 8,
        "performance_cores": None,
        "efficiency_cores": None,
        "isa": ["asimd"],
    },
}


@pytest.mark.parametrize("name", sorted(CPUINFO))
def test_proc_cpuinfo_samples(name: str) -> None:
    cpu = parse_proc_cpuinfo(sample("proc-cpuinfo", name))
    assert summary(cpu) == CPUINFO[name]
    assert cpu.flags == sorted(set(cpu.flags))
    assert set(cpu.isa) <= ISA_NAMES


def test_proc_cpuinfo_x86_details() -> None:
    cpu = parse_proc_cpuinfo(sample("proc-cpuinfo", "amd-epyc-9124-2s.txt"))
    assert cpu.microcode == "0xa101148"
    assert "avx512_vbmi2" in cpu.flags  # flags are kept as printed, beyond the ISA subset
    assert cpu.max_mhz is None  # "cpu MHz" is the current clock, not the maximum


def test_proc_cpuinfo_kind_shape() -> None:
    data = parse_to_data("proc-cpuinfo", sample("proc-cpuinfo", "rpi4-aarch64.txt"))
    assert list(data) == ["cpu"]
    assert data["cpu"]["model_name"] == "Cortex-A72"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n\n",
        "garbage without any colon",
        "processor : 0\n",  # an index and nothing else
        "NAME=Ubuntu\nID=ubuntu\n",
        # lscpu output is another tool's: no processor entries
        "Architecture: x86_64\nCPU(s): 4\nModel name: Intel\nFlags: fpu avx\n",
    ],
)
def test_not_cpuinfo_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_proc_cpuinfo(text)


def test_invalid_utf8_cpuinfo_still_parses() -> None:
    raw = sample("proc-cpuinfo", "graviton2-neoverse-n1.txt").encode() + b"\xff\xfe junk\n"
    cpu = parse_proc_cpuinfo(raw.decode("utf-8", errors="replace"))
    assert cpu.logical_cpus == 4


def test_arm_core_names() -> None:
    assert arm_core_name(0x41, 0xD40) == "Neoverse-V1"
    assert arm_core_name(0x61, 0x033) == "Apple M2 Avalanche"
    assert arm_core_name(0x41, 0xFFF) == "ARM implementer 0x41 part 0xfff"
    assert arm_core_name(None, 0xD40) is None


def test_isa_is_exactly_the_design_subset() -> None:
    flags = ["AVX2", "avx512f", "avx512bw", "sse4_2", "amx_tile", "amx_int8", "sve2", "neon"]
    assert isa_from_flags(flags) == ["amx_int8", "amx_tile", "avx2", "avx512f", "neon", "sve2"]
    assert isa_from_flags([]) == []


def test_cpu_list_and_hybrid_core_counts() -> None:
    assert parse_cpu_list("0-3,8,10-11\n") == {0, 1, 2, 3, 8, 10, 11}
    assert parse_cpu_list("garbage") == set()
    assert parse_cpu_list(None) == set()
    entries, _ = cpuinfo_entries(sample("proc-cpuinfo", "intel-i7-12700h-hybrid.txt"))
    # 12 P-core threads on 6 cores, 8 E-cores of one thread each
    assert hybrid_core_counts(entries, set(range(12)), set(range(12, 20))) == (6, 8)
    assert hybrid_core_counts(entries, set(range(20)), set()) == (None, None)


def test_cpu_mhz_mean() -> None:
    assert cpu_mhz_mean("cpu MHz\t\t: 1000.0\ncpu MHz\t\t: 3000.000\n") == 2000.0
    assert cpu_mhz_mean("processor : 0\nFeatures : fp\n") is None


# ----------------------------------------------------------------------------------- lscpu

LSCPU = {
    "intel-i7-12700h-util-linux-2.39.txt": {
        "model_name": "12th Gen Intel(R) Core(TM) i7-12700H",
        "arch": "x86_64",
        "sockets": 1,
        "physical_cores": 14,
        "logical_cpus": 20,
        "max_mhz": 4700,
        "cache_l2_kib": 1472,  # 11.5 MiB over 8 instances (P-core L2s and E-cluster L2s)
        "cache_l3_kib": 24576,
        "smt": True,
        "numa": 1,
    },
    "xeon-e5-2620v4-2s-centos7.txt": {
        "model_name": "Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz",
        "arch": "x86_64",
        "sockets": 2,
        "physical_cores": 16,
        "logical_cpus": 32,
        "max_mhz": 3000,
        "cache_l2_kib": 256,  # old lscpu prints one instance
        "cache_l3_kib": 20480,
        "smt": True,
        "numa": 2,
    },
    "rk3588-arm-hybrid-util-linux-2.38.txt": {
        "model_name": "Cortex-A55 + Cortex-A76",
        "arch": "aarch64",
        "sockets": 1,
        "physical_cores": 8,  # 4 x A55 + 2 x 2 A76
        "logical_cpus": 8,
        "max_mhz": 2352,  # the fastest core type's
        "cache_l2_kib": 320,
        "cache_l3_kib": 3072,
        "smt": False,
        "numa": 1,
    },
    "graviton4-lscpu-J.json": {
        "model_name": "Neoverse-V2",  # not "BIOS Model name"
        "arch": "aarch64",
        "sockets": 1,
        "physical_cores": 64,
        "logical_cpus": 64,
        "max_mhz": None,
        "cache_l2_kib": 2048,
        "cache_l3_kib": 36864,
        "smt": False,
        "numa": 1,
    },
}


@pytest.mark.parametrize("name", sorted(LSCPU))
def test_lscpu_samples(name: str) -> None:
    cpu, memory = parse_lscpu(sample("lscpu", name))
    actual = {
        "model_name": cpu.model_name,
        "arch": cpu.arch,
        "sockets": cpu.sockets,
        "physical_cores": cpu.physical_cores,
        "logical_cpus": cpu.logical_cpus,
        "max_mhz": cpu.max_mhz,
        "cache_l2_kib": cpu.cache_l2_kib,
        "cache_l3_kib": cpu.cache_l3_kib,
        "smt": cpu.smt,
        "numa": memory.numa_nodes,
    }
    assert actual == LSCPU[name]
    assert cpu.isa == isa_from_flags(cpu.flags)


def test_lscpu_kind_carries_numa_nodes() -> None:
    data = parse_to_data("lscpu", sample("lscpu", "xeon-e5-2620v4-2s-centos7.txt"))
    assert data["memory"]["numa_nodes"] == 2
    assert "avx2" in data["cpu"]["isa"]


@pytest.mark.parametrize(
    "text", ["", "{not json", '{"lscpu": 3}', "Architektur: x86_64\nModellname: X\n", "a:b"]
)
def test_not_lscpu_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_lscpu(text)


# ---------------------------------------------------------------------------------- sysctl

SYSCTL = {
    "m3max-macbookpro-sysctl-hw-machdep.txt": (
        "Apple M3 Max",
        16,
        16,
        12,
        4,
        ["asimd", "asimddp", "bf16", "i8mm"],
        68719476736,
        None,
        "Mac15,9",
    ),
    "m1-air-8gb-sysctl-hw-machdep-swap.txt": (
        "Apple M1",
        8,
        8,
        4,
        4,
        ["asimd", "asimddp"],  # M1 has no I8MM / BF16
        8589934592,
        3072 << 20,
        "MacBookAir10,1",
    ),
    "macpro-2019-xeon-w3245-sysctl-hw-machdep.txt": (
        "Intel(R) Xeon(R) W-3245 CPU @ 3.20GHz",
        16,
        32,
        None,
        None,
        ["avx", "avx2", "avx512_vnni", "avx512f", "f16c", "fma"],
        103079215104,
        None,
        "MacPro7,1",
    ),
}


@pytest.mark.parametrize("name", sorted(SYSCTL))
def test_sysctl_samples(name: str) -> None:
    cpu, memory, host = parse_sysctl(sample("sysctl", name))
    actual = (
        cpu.model_name,
        cpu.physical_cores,
        cpu.logical_cpus,
        cpu.performance_cores,
        cpu.efficiency_cores,
        cpu.isa,
        memory.total_bytes,
        memory.swap_bytes,
        host.model,
    )
    assert actual == SYSCTL[name]


def test_sysctl_intel_details() -> None:
    text = sample("sysctl", "macpro-2019-xeon-w3245-sysctl-hw-machdep.txt")
    cpu, _memory, _host = parse_sysctl(text)
    assert (cpu.vendor, cpu.max_mhz, cpu.smt, cpu.microcode) == ("GenuineIntel", 3200, True, "94")
    assert (cpu.cache_l2_kib, cpu.cache_l3_kib) == (1024, 22528)
    assert "AVX512VNNI" in cpu.flags and "avx512f" in cpu.flags


def test_sysctl_kind_sections() -> None:
    data = parse_to_data("sysctl", sample("sysctl", "m1-air-8gb-sysctl-hw-machdep-swap.txt"))
    assert set(data) == {"cpu", "memory", "host"}
    text = "machdep.cpu.brand_string: Apple M4\nmachdep.cpu.core_count: 10\n"
    bare = parse_to_data("sysctl", text)
    assert set(bare) == {"cpu"}  # no hw.memsize, no hw.model: no memory or host fragment
    assert bare["cpu"]["vendor"] == "Apple"


def test_sysctl_accepts_equals_form_and_swap_units() -> None:
    cpu, memory, _ = parse_sysctl("hw.physicalcpu = 4\nhw.logicalcpu = 8\nhw.memsize = 1024\n")
    assert (cpu.physical_cores, cpu.logical_cpus, cpu.smt, memory.total_bytes) == (4, 8, True, 1024)
    assert parse_swapusage("total = 1.50G  used = 0.00M  free = 1.50G") == 1610612736
    assert parse_swapusage("garbage") is None


@pytest.mark.parametrize("text", ["", "kern.ostype: Darwin\n", "no colon at all", "x: 1"])
def test_not_sysctl_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_sysctl(text)


# ------------------------------------------------------------------ Windows and py-cpuinfo


def test_windows_registry_cpu() -> None:
    values: dict[str, object] = {
        "ProcessorNameString": "Intel(R) Core(TM) Ultra 7 155H   ",
        "VendorIdentifier": "GenuineIntel",
    }
    cpu = windows_cpu(values, 22, "AMD64")
    assert (cpu.model_name, cpu.vendor, cpu.logical_cpus, cpu.arch) == (
        "Intel(R) Core(TM) Ultra 7 155H",
        "GenuineIntel",
        22,
        "AMD64",
    )
    with pytest.raises(ParseError):
        windows_cpu({}, 4, "ARM64")


def test_py_cpuinfo_mapping() -> None:
    info = {
        "brand_raw": "AMD Ryzen 9 7950X 16-Core Processor",
        "vendor_id_raw": "AuthenticAMD",
        "arch_string_raw": "amd64",
        "count": 32,
        "flags": ["avx2", "avx512f", "sse2"],
        "hz_advertised": [4500000000, 0],
        "l2_cache_size": 16777216,
    }
    cpu = cpu_from_py_cpuinfo(info)
    assert (cpu.max_mhz, cpu.isa, cpu.cache_l2_kib) == (4500, ["avx2", "avx512f"], 16384)
    with pytest.raises(ParseError):
        cpu_from_py_cpuinfo({"count": 4})


# ------------------------------------------------------------------------------ properties


@given(st.text())
def test_cpu_parsers_raise_only_parse_error(text: str) -> None:
    for parse in (parse_proc_cpuinfo, parse_lscpu, parse_sysctl):
        with contextlib.suppress(ParseError):
            parse(text)
    mean = cpu_mhz_mean(text)
    # a mean exists only where a 'cpu MHz' line does, and it is a positive, finite speed
    assert mean is None or ("cpu MHz" in text and math.isfinite(mean) and mean > 0)
    parse_cpu_list(text)


@given(
    st.lists(
        st.sampled_from(
            [
                "processor\t: 0",
                "processor\t: 1",
                "flags\t: fpu avx2",
                "Features\t: fp asimd",
                "CPU implementer\t: 0x41",
                "CPU part\t: 0xd0c",
                "CPU part\t: zz",
                "core id\t: 3",
                "physical id\t: 1",
                "model name\t: X",
                "",
                "Hardware\t: BCM2835",
                "CPU architecture: 8",
            ]
        ),
        max_size=30,
    )
)
def test_cpuinfo_like_lines_raise_only_parse_error(lines: list[str]) -> None:
    try:
        cpu = parse_proc_cpuinfo("\n".join(lines))
    except ParseError:
        return
    assert cpu.logical_cpus is not None and cpu.logical_cpus >= 1


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(
        st.sampled_from(["flags", "count", "brand_raw", "hz_advertised", "l2_cache_size"]), JSONISH
    )
)
def test_py_cpuinfo_mapping_raises_only_parse_error(info: dict[str, Any]) -> None:
    with contextlib.suppress(ParseError):
        cpu_from_py_cpuinfo(info)
