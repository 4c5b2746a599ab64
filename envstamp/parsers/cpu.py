"""Pure parsers for CPU descriptions: /proc/cpuinfo, lscpu, macOS sysctl, py-cpuinfo.

Each takes text (or a recorded answer) and returns typed values; each raises only
:class:`envstamp.errors.ParseError`.  They never touch the system.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from envstamp.errors import ParseError
from envstamp.manifest.model import Cpu, Host, Memory
from envstamp.parsers.textutil import (
    clean,
    collapse,
    size_to_bytes,
    sorted_unique,
    to_float,
    to_int,
)

# ------------------------------------------------------------------------------------- isa

# The ISA names DESIGN 3.1 keeps: the extensions that decide which kernels an inference engine
# can use.  Linux prints them under these very names (x86 "flags", ARM "Features").
ISA_NAMES = frozenset(
    {
        "avx",
        "avx2",
        "avx_vnni",
        "fma",
        "f16c",
        "avx512f",
        "avx512_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_int8",
        "amx_bf16",
        "neon",
        "asimd",
        "asimddp",
        "i8mm",
        "sve",
        "sve2",
        "bf16",
    }
)


def isa_from_flags(flags: Iterable[str]) -> list[str]:
    """The DESIGN ISA names among printed flags (Linux spelling), sorted."""
    return sorted({flag.lower() for flag in flags} & ISA_NAMES)


# ------------------------------------------------------------------------------ ARM names

ARM_IMPLEMENTERS = {
    0x41: "ARM",
    0x42: "Broadcom",
    0x43: "Cavium",
    0x46: "Fujitsu",
    0x48: "HiSilicon",
    0x4E: "NVIDIA",
    0x50: "APM",
    0x51: "Qualcomm",
    0x53: "Samsung",
    0x61: "Apple",
    0x69: "Intel",
    0x6D: "Microsoft",
    0xC0: "Ampere",
}

# (implementer, part) -> core name, for the cores people run inference on (phones, boards,
# cloud servers, Apple machines under Linux).  Unknown pairs are named by their numbers.
ARM_PARTS = {
    (0x41, 0xB76): "ARM1176",
    (0x41, 0xC07): "Cortex-A7",
    (0x41, 0xC08): "Cortex-A8",
    (0x41, 0xC09): "Cortex-A9",
    (0x41, 0xC0F): "Cortex-A15",
    (0x41, 0xD03): "Cortex-A53",
    (0x41, 0xD04): "Cortex-A35",
    (0x41, 0xD05): "Cortex-A55",
    (0x41, 0xD07): "Cortex-A57",
    (0x41, 0xD08): "Cortex-A72",
    (0x41, 0xD09): "Cortex-A73",
    (0x41, 0xD0A): "Cortex-A75",
    (0x41, 0xD0B): "Cortex-A76",
    (0x41, 0xD0C): "Neoverse-N1",
    (0x41, 0xD0D): "Cortex-A77",
    (0x41, 0xD40): "Neoverse-V1",
    (0x41, 0xD41): "Cortex-A78",
    (0x41, 0xD44): "Cortex-X1",
    (0x41, 0xD46): "Cortex-A510",
    (0x41, 0xD47): "Cortex-A710",
    (0x41, 0xD48): "Cortex-X2",
    (0x41, 0xD49): "Neoverse-N2",
    (0x41, 0xD4B): "Cortex-A78C",
    (0x41, 0xD4C): "Cortex-X1C",
    (0x41, 0xD4D): "Cortex-A715",
    (0x41, 0xD4E): "Cortex-X3",
    (0x41, 0xD4F): "Neoverse-V2",
    (0x41, 0xD80): "Cortex-A520",
    (0x41, 0xD81): "Cortex-A720",
    (0x41, 0xD82): "Cortex-X4",
    (0x41, 0xD84): "Neoverse-V3",
    (0x41, 0xD85): "Cortex-X925",
    (0x41, 0xD87): "Cortex-A725",
    (0x41, 0xD8E): "Neoverse-N3",
    (0x43, 0x0AF): "ThunderX2",
    (0x46, 0x001): "A64FX",
    (0x48, 0xD01): "Kunpeng-920",
    (0x4E, 0x004): "Carmel",
    (0x51, 0x001): "Oryon",
    (0x51, 0x800): "Kryo-2XX-Gold",
    (0x51, 0x801): "Kryo-2XX-Silver",
    (0x51, 0x802): "Kryo-3XX-Gold",
    (0x51, 0x803): "Kryo-3XX-Silver",
    (0x51, 0x804): "Kryo-4XX-Gold",
    (0x51, 0x805): "Kryo-4XX-Silver",
    (0x51, 0xC00): "Falkor",
    (0x61, 0x022): "Apple M1 Icestorm",
    (0x61, 0x023): "Apple M1 Firestorm",
    (0x61, 0x024): "Apple M1 Pro Icestorm",
    (0x61, 0x025): "Apple M1 Pro Firestorm",
    (0x61, 0x028): "Apple M1 Max Icestorm",
    (0x61, 0x029): "Apple M1 Max Firestorm",
    (0x61, 0x032): "Apple M2 Blizzard",
    (0x61, 0x033): "Apple M2 Avalanche",
    (0x6D, 0xD49): "Azure Cobalt 100",
    (0xC0, 0xAC3): "Ampere-1",
    (0xC0, 0xAC4): "Ampere-1a",
}

# Little (efficiency) cores: on a big.LITTLE chip, these count as efficiency cores.
ARM_LITTLE_PARTS = frozenset(
    {
        (0x41, 0xC07),
        (0x41, 0xD03),
        (0x41, 0xD04),
        (0x41, 0xD05),
        (0x41, 0xD46),
        (0x41, 0xD80),
        (0x51, 0x801),
        (0x51, 0x803),
        (0x51, 0x805),
        (0x61, 0x022),
        (0x61, 0x024),
        (0x61, 0x028),
        (0x61, 0x032),
    }
)


# The ARM cores of the table above that run several threads per core.
ARM_SMT_PARTS = frozenset({(0x43, 0x0AF)})


def _hex(value: str | None) -> int | None:
    text = clean(value)
    if text is None:
        return None
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def arm_core_name(implementer: int | None, part: int | None) -> str | None:
    """ "Cortex-A57", or "ARM implementer 0x41 part 0xd07" when the pair is not in the table."""
    if implementer is None or part is None:
        return None
    known = ARM_PARTS.get((implementer, part))
    if known:
        return known
    return f"ARM implementer {implementer:#04x} part {part:#05x}"


# --------------------------------------------------------------------------- /proc/cpuinfo


def cpuinfo_entries(text: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Per-processor fields and the fields outside any processor block.

    A block starts at ``processor : N``.  Old ARM kernels print a leading ``Processor`` (the
    model) and a trailing Hardware/Revision/Serial block: those land in the second dict.
    """
    entries: list[dict[str, str]] = []
    outside: dict[str, str] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.strip():
            current = None
            continue
        key, found, value = line.partition(":")
        if not found:
            continue
        key = collapse(key)
        value = collapse(value)
        if key == "processor" and value.isdecimal() and len(value) < 10:
            current = {"processor": value}
            entries.append(current)
        elif current is not None:
            current.setdefault(key, value)
        else:
            outside.setdefault(key, value)
    return entries, outside


_CPUINFO_KEYS = ("vendor_id", "model name", "flags", "Features", "CPU implementer", "cpu", "isa")


def parse_proc_cpuinfo(text: str) -> Cpu:
    """/proc/cpuinfo of x86, ARM (32 and 64 bit), POWER or RISC-V -> Cpu."""
    entries, outside = cpuinfo_entries(text)
    keys = {k for entry in entries for k in entry} | outside.keys()
    if not entries or not keys & set(_CPUINFO_KEYS):
        raise ParseError("no processor entries with CPU fields: not /proc/cpuinfo")
    return cpu_from_entries(entries, outside)


def cpu_from_entries(entries: list[dict[str, str]], outside: dict[str, str]) -> Cpu:
    """A Cpu from parsed /proc/cpuinfo entries."""
    # Old arm64 kernels print the implementer/part once, after all "processor" lines.
    shared = {k: v for e in reversed(entries) for k, v in e.items() if k.startswith("CPU ")}
    first = {**shared, **outside, **entries[0]}
    flags = sorted_unique(
        flag
        for entry in entries
        for flag in (entry.get("flags") or entry.get("Features") or "").split()
    )
    if not flags:
        flags = sorted_unique((outside.get("flags") or outside.get("Features") or "").split())
    parts = [_arm_part(entry, {**shared, **outside}) for entry in entries]
    arm_names = list(dict.fromkeys(arm_core_name(*p) for p in parts if p[0] is not None))
    model_name = clean(first.get("model name")) or (" + ".join(n for n in arm_names if n) or None)
    model_name = model_name or clean(first.get("Processor")) or clean(first.get("cpu"))
    model_name = model_name or clean(first.get("uarch"))
    vendor = clean(first.get("vendor_id")) or clean(first.get("vendor"))
    implementer = parts[0][0]
    if vendor is None and implementer is not None:
        vendor = ARM_IMPLEMENTERS.get(implementer, f"{implementer:#04x}")
    physical_ids = {entry["physical id"] for entry in entries if "physical id" in entry}
    cores = {(e.get("physical id"), e["core id"]) for e in entries if "core id" in e}
    if not cores and parts and all(p in ARM_PARTS and p not in ARM_SMT_PARTS for p in parts):
        cores = {("arm", str(i)) for i in range(len(entries))}  # these cores run one thread
    performance, efficiency = _arm_hybrid(parts)
    return Cpu(
        vendor=vendor,
        model_name=model_name,
        arch=_arch_from(first, flags),
        sockets=len(physical_ids) or 1,
        physical_cores=len(cores) or None,
        logical_cpus=len(entries),
        performance_cores=performance,
        efficiency_cores=efficiency,
        flags=flags,
        isa=isa_from_flags(flags),
        microcode=clean(first.get("microcode")),
    )


def _arm_part(entry: dict[str, str], outside: dict[str, str]) -> tuple[int | None, int | None]:
    implementer = _hex(entry.get("CPU implementer") or outside.get("CPU implementer"))
    part = _hex(entry.get("CPU part") or outside.get("CPU part"))
    return implementer, part


def _arm_hybrid(parts: list[tuple[int | None, int | None]]) -> tuple[int | None, int | None]:
    """(big, little) core counts when an ARM chip mixes core types, else (None, None)."""
    known = [p for p in parts if p[0] is not None and p[1] is not None]
    if len(set(known)) < 2:
        return None, None
    little = sum(1 for p in known if p in ARM_LITTLE_PARTS)
    if little == 0 or little == len(known):
        return None, None
    return len(known) - little, little


def _arch_from(first: dict[str, str], flags: list[str]) -> str | None:
    """The architecture /proc/cpuinfo implies (the live probe uses the kernel's own word)."""
    if "vendor_id" in first and flags:
        return "x86_64" if "lm" in flags else "i686"
    arm = to_int(first.get("CPU architecture"))
    if arm is not None:
        if "asimd" in flags:
            return "aarch64"
        # "ARMv6-compatible processor rev 7 (v6l)": the model knows better than the
        # architecture field, which some 32-bit kernels print as 7 for any v6/v7 core.
        suffix = re.search(r"\((v\d+\w*)\)\s*$", first.get("model name", ""))
        return f"arm{suffix.group(1)}" if suffix else f"armv{arm}l"
    isa = (first.get("isa") or "").lower()
    if isa.startswith("rv64"):
        return "riscv64"
    if first.get("cpu", "").upper().startswith("POWER"):
        return "ppc64le"
    return None


def parse_proc_cpuinfo_kind(text: str) -> dict[str, Any]:
    """Parse kind ``proc-cpuinfo`` -> ``{"cpu": ...}``."""
    return {"cpu": parse_proc_cpuinfo(text)}


def cpu_mhz_mean(text: str) -> float | None:
    """Mean of the ``cpu MHz`` lines of /proc/cpuinfo (x86 prints one per CPU)."""
    values = [
        to_float(match.group(1))
        for match in re.finditer(r"^cpu MHz\s*:\s*([\d.]+)", text, re.MULTILINE)
    ]
    numbers = [v for v in values if v is not None and v > 0]
    if not numbers:
        return None
    return round(sum(numbers) / len(numbers), 1)


def parse_cpu_list(text: str | None) -> set[int]:
    """A sysfs CPU list ("0-7,16-23", or affected_cpus' "0 1 2 3") as a set; empty on junk."""
    cpus: set[int] = set()
    for part in re.split(r"[,\s]+", (text or "").strip()):
        low, dash, high = part.strip().partition("-")
        if not low.isdecimal() or (dash and not high.isdecimal()) or len(low + high) > 12:
            continue
        start, end = int(low), int(high) if dash else int(low)
        if end - start > 65536:
            continue
        cpus.update(range(start, end + 1))
    return cpus


def hybrid_core_counts(
    entries: list[dict[str, str]], performance_cpus: set[int], efficiency_cpus: set[int]
) -> tuple[int | None, int | None]:
    """Intel hybrid: P and E *cores* (not threads) from sysfs cpu_core / cpu_atom CPU lists."""
    if not performance_cpus or not efficiency_cpus:
        return None, None

    def cores(cpus: set[int]) -> int:
        found = {
            (e.get("physical id"), e.get("core id"))
            for e in entries
            if e["processor"].isdecimal() and int(e["processor"]) in cpus
        }
        return len(found) if all(key[1] is not None for key in found) else len(cpus)

    return cores(performance_cpus), cores(efficiency_cpus)


# ----------------------------------------------------------------------------------- lscpu


def _lscpu_json_pairs(data: Any) -> Iterator[tuple[str, str]]:
    """``lscpu -J``: {"lscpu": [{"field": "CPU(s):", "data": "8", "children": [...]}]}."""
    items = data.get("lscpu") if isinstance(data, dict) else None
    stack = list(reversed(items)) if isinstance(items, list) else []
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        field, value = item.get("field"), item.get("data")
        if isinstance(field, str):
            yield collapse(field).rstrip(":"), collapse(str(value)) if value is not None else ""
        children = item.get("children")
        if isinstance(children, list):
            stack.extend(reversed(children))


def lscpu_pairs(text: str) -> list[tuple[str, str]]:
    """(key, value) pairs of lscpu's text or JSON output, in order."""
    stripped = text.strip()
    if stripped.startswith("{"):
        import json  # only lscpu -J needs it

        try:
            return list(_lscpu_json_pairs(json.loads(stripped)))
        except (ValueError, RecursionError):
            raise ParseError("lscpu JSON output is not valid JSON") from None
    pairs = []
    for line in text.splitlines():
        key, found, value = line.partition(":")
        if found and key.strip():
            pairs.append((collapse(key), collapse(value)))
    return pairs


def _per_instance_kib(value: str | None) -> int | None:
    """ "24 MiB (48 instances)" -> 512; "512K" -> 512 (old lscpu prints one instance)."""
    text = clean(value)
    if text is None:
        return None
    total = size_to_bytes(re.sub(r"\(.*", "", text))
    if total is None:
        return None
    match = re.search(r"\((\d+)\s+instances?\)", text)
    count = int(match.group(1)) if match else 1
    return round(total / max(count, 1) / 1024)


_LSCPU_KEYS = {"Architecture", "CPU(s)", "Model name", "Vendor ID", "Flags", "Socket(s)"}


def parse_lscpu(text: str) -> tuple[Cpu, Memory]:
    """``lscpu`` (text, or ``lscpu -J``) -> Cpu and the NUMA node count."""
    pairs = lscpu_pairs(text)
    if not _LSCPU_KEYS & {key for key, _ in pairs}:
        raise ParseError("no lscpu fields (Architecture, CPU(s), Model name...)")
    values: dict[str, str] = {}
    blocks: list[dict[str, str]] = []  # hybrid chips print one block per core type
    for key, value in pairs:
        if key == "Model name":
            blocks.append({})
        if blocks and key in ("Thread(s) per core", "Core(s) per socket", "Core(s) per cluster"):
            blocks[-1].setdefault(key, value)
        if key in ("Socket(s)", "Cluster(s)") and blocks:
            blocks[-1].setdefault(key, value)
        values.setdefault(key, value)
    names = [clean(v) for k, v in pairs if k == "Model name"]
    flags = sorted_unique((values.get("Flags") or "").split())
    threads = to_int(values.get("Thread(s) per core"))
    sockets = to_int(values.get("Socket(s)"))
    cpu = Cpu(
        vendor=clean(values.get("Vendor ID")),
        model_name=" + ".join(dict.fromkeys(n for n in names if n)) or None,
        arch=clean(values.get("Architecture")),
        sockets=sockets,
        physical_cores=_lscpu_cores(blocks if len(blocks) > 1 else [values]),
        logical_cpus=to_int(values.get("CPU(s)")),
        flags=flags,
        isa=isa_from_flags(flags),
        max_mhz=max((m for k, v in pairs if k == "CPU max MHz" and (m := to_int(v))), default=None),
        cache_l2_kib=_per_instance_kib(values.get("L2 cache") or values.get("L2")),
        cache_l3_kib=_per_instance_kib(values.get("L3 cache") or values.get("L3")),
        microcode=clean(values.get("Microcode version")) or clean(values.get("Microcode")),
        boost=_enabled(values.get("Frequency boost")),
        smt=None if threads is None else threads > 1,
    )
    return cpu, Memory(numa_nodes=to_int(values.get("NUMA node(s)")))


def _lscpu_cores(blocks: list[dict[str, str]]) -> int | None:
    total = 0
    for block in blocks:
        per = to_int(block.get("Core(s) per socket")) or to_int(block.get("Core(s) per cluster"))
        groups = to_int(block.get("Socket(s)")) or to_int(block.get("Cluster(s)")) or 1
        if per is None:
            return None
        total += per * groups
    return total or None


def _enabled(value: str | None) -> bool | None:
    text = (clean(value) or "").lower()
    if text in ("enabled", "yes", "on"):
        return True
    if text in ("disabled", "no", "off"):
        return False
    return None


def parse_lscpu_kind(text: str) -> dict[str, Any]:
    """Parse kind ``lscpu`` -> ``{"cpu": ...}`` (and ``{"memory": {numa_nodes}}`` if printed)."""
    cpu, memory = parse_lscpu(text)
    sections: dict[str, Any] = {"cpu": cpu}
    if memory.numa_nodes is not None:
        sections["memory"] = memory
    return sections


# ---------------------------------------------------------------------------- macOS sysctl

# hw.optional names -> DESIGN ISA names.  arm64 Macs spell ARM features FEAT_*; Intel Macs
# name x86 extensions their own way (avx1_0, avx2_0...).
_SYSCTL_ISA = {
    "neon": "asimd",
    "arm.feat_dotprod": "asimddp",
    "arm.feat_i8mm": "i8mm",
    "arm.feat_bf16": "bf16",
    "arm.feat_sve": "sve",
    "arm.feat_sve2": "sve2",
    "avx1_0": "avx",
    "avx2_0": "avx2",
    "fma": "fma",
    "f16c": "f16c",
    "avx512f": "avx512f",
    "avx512vnni": "avx512_vnni",
    "avx512bf16": "avx512_bf16",
}
# machdep.cpu.features / leaf7_features words (Intel Macs) -> DESIGN ISA names.
_MACHDEP_ISA = {
    "avx1.0": "avx",
    "avx2": "avx2",
    "fma": "fma",
    "f16c": "f16c",
    "avx512f": "avx512f",
    "avx512vnni": "avx512_vnni",
}
_MACHDEP_FEATURE_KEYS = (
    "machdep.cpu.features",
    "machdep.cpu.leaf7_features",
    "machdep.cpu.extfeatures",
)


def sysctl_values(text: str) -> dict[str, str]:
    """``name: value`` (or ``name = value``) lines of sysctl output."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([A-Za-z][\w.-]*)\s*(?::|=)\s?(.*)$", line)
        if match and "." in match.group(1):
            values.setdefault(match.group(1), collapse(match.group(2)))
    return values


def parse_sysctl(text: str) -> tuple[Cpu, Memory, Host]:
    """macOS ``sysctl hw machdep.cpu vm.swapusage`` -> Cpu, Memory, Host (hw.model)."""
    values = sysctl_values(text)
    if not any(k.startswith(("hw.", "machdep.cpu.")) for k in values):
        raise ParseError("no hw.* or machdep.cpu.* values: not macOS sysctl output")
    flags, isa = _sysctl_features(values)
    physical = to_int(values.get("hw.physicalcpu")) or to_int(values.get("machdep.cpu.core_count"))
    logical = (
        to_int(values.get("hw.logicalcpu"))
        or to_int(values.get("machdep.cpu.thread_count"))
        or to_int(values.get("hw.ncpu"))
    )
    performance, efficiency = _perf_levels(values)
    brand = clean(values.get("machdep.cpu.brand_string"))
    vendor = clean(values.get("machdep.cpu.vendor")) or (
        "Apple" if brand and brand.startswith("Apple") else None
    )
    max_hz = to_int(values.get("hw.cpufrequency_max"))
    l2 = to_int(values.get("hw.perflevel0.l2cachesize")) or to_int(values.get("hw.l2cachesize"))
    l3 = to_int(values.get("hw.l3cachesize"))
    cpu = Cpu(
        vendor=vendor,
        model_name=brand,
        arch=_sysctl_arch(values),
        sockets=to_int(values.get("hw.packages")),
        physical_cores=physical,
        logical_cpus=logical,
        performance_cores=performance,
        efficiency_cores=efficiency,
        flags=flags,
        isa=isa,
        max_mhz=round(max_hz / 1_000_000) if max_hz else None,
        cache_l2_kib=l2 // 1024 if l2 else None,
        cache_l3_kib=l3 // 1024 if l3 else None,
        microcode=clean(values.get("machdep.cpu.microcode_version")),
        smt=None if physical is None or logical is None else logical > physical,
    )
    memory = Memory(
        total_bytes=to_int(values.get("hw.memsize")),
        swap_bytes=parse_swapusage(values.get("vm.swapusage")),
    )
    return cpu, memory, Host(model=clean(values.get("hw.model")))


def _sysctl_features(values: dict[str, str]) -> tuple[list[str], list[str]]:
    flags: set[str] = set()
    isa: set[str] = set()
    for key, value in values.items():
        if key.startswith("hw.optional.") and to_int(value) == 1:
            name = key[len("hw.optional.") :]
            flags.add(name)
            if name.lower() in _SYSCTL_ISA:
                isa.add(_SYSCTL_ISA[name.lower()])
    for key in _MACHDEP_FEATURE_KEYS:
        for word in (values.get(key) or "").split():
            flags.add(word)
            if word.lower() in _MACHDEP_ISA:
                isa.add(_MACHDEP_ISA[word.lower()])
    return sorted(flags), sorted(isa)


def _perf_levels(values: dict[str, str]) -> tuple[int | None, int | None]:
    """Apple silicon: perflevel0 is the performance cluster, perflevel1 the efficiency one."""
    levels = to_int(values.get("hw.nperflevels")) or 0
    if levels < 2 and "hw.perflevel1.physicalcpu" not in values:
        return None, None
    return (
        to_int(values.get("hw.perflevel0.physicalcpu")),
        to_int(values.get("hw.perflevel1.physicalcpu")),
    )


def _sysctl_arch(values: dict[str, str]) -> str | None:
    machine = clean(values.get("hw.machine"))
    if machine:
        return machine
    if to_int(values.get("hw.optional.arm64")) == 1:
        return "arm64"
    if to_int(values.get("hw.optional.x86_64")) == 1:
        return "x86_64"
    return None


def parse_swapusage(value: str | None) -> int | None:
    """ "total = 2048.00M  used = 1.25M  free = 2046.75M  (encrypted)" -> total bytes."""
    match = re.search(r"total\s*=\s*([\d.]+\s*[KMGT]?)", value or "")
    return size_to_bytes(match.group(1)) if match else None


def parse_sysctl_kind(text: str) -> dict[str, Any]:
    """Parse kind ``sysctl`` -> ``{"cpu"}`` plus ``{"memory"}`` / ``{"host"}`` when printed."""
    cpu, memory, host = parse_sysctl(text)
    sections: dict[str, Any] = {"cpu": cpu}
    if memory.total_bytes is not None or memory.swap_bytes is not None:
        sections["memory"] = memory
    if host.model is not None:
        sections["host"] = host
    return sections


# ------------------------------------------------------------------------------ py-cpuinfo


def cpu_from_py_cpuinfo(info: dict[str, Any]) -> Cpu:
    """py-cpuinfo's ``get_cpu_info()`` dict -> Cpu (fallback for systems with no native source)."""
    if not isinstance(info, dict) or not (info.get("brand_raw") or info.get("flags")):
        raise ParseError("py-cpuinfo answered without a brand or flags")
    printed = info.get("flags")
    names = printed if isinstance(printed, list) else []
    flags = sorted_unique(f for f in names if isinstance(f, str))
    hz = info.get("hz_advertised")
    max_hz = hz[0] if isinstance(hz, list) and hz and isinstance(hz[0], int) else None
    l2 = to_int(info.get("l2_cache_size"))
    l3 = to_int(info.get("l3_cache_size"))
    return Cpu(
        vendor=clean(info.get("vendor_id_raw")),
        model_name=clean(info.get("brand_raw")),
        arch=clean(info.get("arch_string_raw")),
        logical_cpus=to_int(info.get("count")),
        flags=flags,
        isa=isa_from_flags(flags),
        max_mhz=round(max_hz / 1_000_000) if max_hz else None,
        cache_l2_kib=l2 // 1024 if l2 else None,
        cache_l3_kib=l3 // 1024 if l3 else None,
    )


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "proc-cpuinfo": ("parse_proc_cpuinfo_kind", "/proc/cpuinfo"),
    "lscpu": ("parse_lscpu_kind", "lscpu"),
    "sysctl": ("parse_sysctl_kind", "sysctl hw machdep (macOS)"),
}
