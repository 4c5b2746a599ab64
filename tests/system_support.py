# ruff: noqa: E501, W291 - tool outputs below keep their long lines and trailing spaces
"""Hand-made recorded hosts for the system probes, and helpers to replay hosts in tests.

The hosts below are outputs written to the documented formats of each tool or file
(sw_vers, sysctl, pmset, ioreg, the Windows registry, /proc and /sys) for machines this
project has no access to.  :func:`build` captures each through the real probes with a runner
that answers from these outputs (anything not listed answers "absent") and *records*, so each
folder under ``tests/fixtures/hosts`` holds exactly what the probes ask, in the format
``envstamp capture --raw`` writes.  Regenerate the folders after changing what a probe asks:

    python tests/system_support.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from envstamp.capturing.capture import capture
from envstamp.manifest.model import Manifest
from envstamp.probes.context import CaptureOptions
from envstamp.probes.registry import PROBES
from envstamp.runner import Answer, RecordingRunner, answer_file_name

HOSTS = Path(__file__).parent / "fixtures" / "hosts"
SYSTEM_PROBES = frozenset({"host", "os", "cpu", "memory", "python", "env", "power", "state"})
OTHER_PROBES = frozenset(p.name for p in PROBES if p.name not in SYSTEM_PROBES)
HKLM = "HKEY_LOCAL_MACHINE"
DARWIN_SYSCTL = ("sysctl", "hw", "machdep.cpu", "vm.swapusage", "kern.hv_vmm_present")


def ok(stdout: str, returncode: int = 0, stderr: str = "") -> dict[str, Any]:
    """A command that ran, as the runner records it."""
    return {"status": "ok", "returncode": returncode, "stdout": stdout, "stderr": stderr,
            "duration_ms": 4.0}


def replay_system(folder: Path, **options: Any) -> Manifest:
    """Replay a recorded host through the system probes only (the others are skipped)."""
    options.setdefault("skip", OTHER_PROBES)
    return capture(CaptureOptions(**options), replay=str(folder))


def edited_copy(source: Path, target: Path, answers: dict[tuple[str, str], Answer | None]) -> Path:
    """A copy of a recording with some answers replaced (None removes one).

    Keys are (op, identifying value): ("file", "/proc/cpuinfo"), ("cmd", "sw_vers")...
    """
    shutil.copytree(source, target)
    for (op, ident), answer in answers.items():
        key = _key_of(op, ident)
        path = target / answer_file_name(op, key)
        for old in target.glob("*.json"):
            record = json.loads(old.read_text(encoding="utf-8"))
            if record["op"] == op and record["key"] == key:
                old.unlink()
        if answer is not None:
            record = {"op": op, "key": key, "answer": answer}
            path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


def _key_of(op: str, ident: str) -> dict[str, Any]:
    if op == "cmd":
        return {"argv": ident.split(" ")}
    if op in ("file", "dir", "stat"):
        return {"path": ident}
    if op == "env":
        return {"name": ident}
    return {}


class SpecRunner(RecordingRunner):
    """Answers from a host spec and records every question and answer."""

    def __init__(self, folder: Path, spec: dict[str, Any]) -> None:
        super().__init__(folder)
        self.spec = spec

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> dict[str, Any]:
        return super()._answer(op, key, lambda: self.lookup(op, key))

    def lookup(self, op: str, key: dict[str, Any]) -> dict[str, Any]:
        s = self.spec
        if op == "platform":
            return dict(s["platform"])
        if op == "cmd":
            found = s.get("cmd", {}).get(tuple(key["argv"]))
            return found or {"status": "absent", "detail": "not found", "duration_ms": 0.1}
        if op == "file":
            text = s.get("files", {}).get(key["path"])
            if text is None:
                return {"status": "absent", "detail": "not found"}
            if isinstance(text, dict):
                return text
            return {"status": "ok", "text": text}
        if op == "dir":
            names = s.get("dirs", {}).get(key["path"])
            if names is None:
                return {"status": "absent", "detail": "not found"}
            return {"status": "ok", "names": sorted(names)}
        if op == "stat":
            return {"exists": key["path"] in s.get("exists", ())}
        if op == "registry":
            return {"value": s.get("registry", {}).get((key["key"], key["value"]))}
        if op == "env":
            return {"value": s.get("env", {}).get(key["name"])}
        if op == "env_names":
            return {"names": sorted(s.get("env", {}))}
        if op == "packages":
            return {"versions": {n: s.get("packages", {}).get(n) for n in key["names"]}}
        if op == "which":
            return {"path": None}
        if op == "realpath":
            return {"path": key["path"]}
        if op in ("memory_status", "power_status"):
            return s.get(op) or {"status": "unsupported", "detail": "not on this host"}
        return {"status": "absent", "detail": "not on this host"}


# ------------------------------------------------------------------------------ macOS arm64

M2PRO_SYSCTL = """\
hw.ncpu: 12
hw.byteorder: 1234
hw.memsize: 34359738368
hw.activecpu: 12
hw.perflevel0.physicalcpu: 8
hw.perflevel0.physicalcpu_max: 8
hw.perflevel0.logicalcpu: 8
hw.perflevel0.logicalcpu_max: 8
hw.perflevel0.l1icachesize: 196608
hw.perflevel0.l1dcachesize: 131072
hw.perflevel0.l2cachesize: 16777216
hw.perflevel0.cpusperl2: 4
hw.perflevel0.name: Performance
hw.perflevel1.physicalcpu: 4
hw.perflevel1.physicalcpu_max: 4
hw.perflevel1.logicalcpu: 4
hw.perflevel1.logicalcpu_max: 4
hw.perflevel1.l1icachesize: 131072
hw.perflevel1.l1dcachesize: 65536
hw.perflevel1.l2cachesize: 4194304
hw.perflevel1.cpusperl2: 4
hw.perflevel1.name: Efficiency
hw.optional.arm.FEAT_FlagM: 1
hw.optional.arm.FEAT_FlagM2: 1
hw.optional.arm.FEAT_FHM: 1
hw.optional.arm.FEAT_DotProd: 1
hw.optional.arm.FEAT_SHA3: 1
hw.optional.arm.FEAT_RDM: 1
hw.optional.arm.FEAT_LSE: 1
hw.optional.arm.FEAT_SHA256: 1
hw.optional.arm.FEAT_SHA512: 1
hw.optional.arm.FEAT_SHA1: 1
hw.optional.arm.FEAT_AES: 1
hw.optional.arm.FEAT_PMULL: 1
hw.optional.arm.FEAT_SPECRES: 0
hw.optional.arm.FEAT_SB: 1
hw.optional.arm.FEAT_FRINTTS: 1
hw.optional.arm.FEAT_LRCPC: 1
hw.optional.arm.FEAT_LRCPC2: 1
hw.optional.arm.FEAT_FCMA: 1
hw.optional.arm.FEAT_JSCVT: 1
hw.optional.arm.FEAT_PAuth: 1
hw.optional.arm.FEAT_PAuth2: 0
hw.optional.arm.FEAT_FPAC: 0
hw.optional.arm.FEAT_DPB: 1
hw.optional.arm.FEAT_DPB2: 1
hw.optional.arm.FEAT_BF16: 1
hw.optional.arm.FEAT_I8MM: 1
hw.optional.arm.FEAT_ECV: 1
hw.optional.arm.FEAT_LSE2: 1
hw.optional.arm.FEAT_CSV2: 1
hw.optional.arm.FEAT_CSV3: 1
hw.optional.arm.FEAT_DIT: 1
hw.optional.arm.FEAT_FP16: 1
hw.optional.arm.FEAT_SSBS: 1
hw.optional.arm.FEAT_BTI: 1
hw.optional.arm.FEAT_SME: 0
hw.optional.arm.FP_SyncExceptions: 1
hw.optional.floatingpoint: 1
hw.optional.neon: 1
hw.optional.neon_hpfp: 1
hw.optional.neon_fp16: 1
hw.optional.armv8_1_atomics: 1
hw.optional.armv8_2_fhm: 1
hw.optional.armv8_2_sha512: 1
hw.optional.armv8_2_sha3: 1
hw.optional.armv8_3_compnum: 1
hw.optional.watchpoint: 4
hw.optional.breakpoint: 6
hw.optional.armv8_crc32: 1
hw.optional.armv8_gpi: 1
hw.optional.AdvSIMD: 1
hw.optional.AdvSIMD_HPFPCvt: 1
hw.optional.ucnormal_mem: 1
hw.optional.arm64: 1
hw.features.allows_security_research: 0
hw.physicalcpu: 12
hw.physicalcpu_max: 12
hw.logicalcpu: 12
hw.logicalcpu_max: 12
hw.cputype: 16777228
hw.cpusubtype: 2
hw.cpu64bit_capable: 1
hw.cpufamily: -634136515
hw.cpusubfamily: 2
hw.cacheconfig: 12 1 4 0 0 0 0 0 0 0
hw.cachesize: 3556147200 65536 4194304 0 0 0 0 0 0 0
hw.pagesize: 16384
hw.pagesize32: 16384
hw.cachelinesize: 128
hw.l1icachesize: 131072
hw.l1dcachesize: 65536
hw.l2cachesize: 4194304
hw.tbfrequency: 24000000
hw.packages: 1
hw.osenvironment: 
hw.ephemeral_storage: 0
hw.use_recovery_securityd: 0
hw.use_kernelmanagerd: 1
hw.serialdebugmode: 0
hw.nperflevels: 2
hw.targettype: J474s
hw.product: Mac14,12
hw.model: Mac14,12
hw.machine: arm64
machdep.cpu.cores_per_package: 12
machdep.cpu.core_count: 12
machdep.cpu.logical_per_package: 12
machdep.cpu.thread_count: 12
machdep.cpu.brand_string: Apple M2 Pro
vm.swapusage: total = 2048.00M  used = 1109.25M  free = 938.75M  (encrypted)
kern.hv_vmm_present: 0
"""

PMSET_MINI = """\
System-wide power settings:
Currently in use:
 standby              0
 Sleep On Power Button 1
 autorestart          0
 powernap             1
 networkoversleep     0
 disksleep            10
 sleep                1 (sleep prevented by sharingd, powerd)
 ttyskeepawake        1
 displaysleep         10
 tcpkeepalive         1
 lowpowermode         0
 womp                 1
"""

IOREG_M2PRO = """\
+-o J474sAP  <class IOPlatformExpertDevice, id 0x100000220, registered, matched, active, busy 0 (141 ms), retain 38>
    {
      "IOPolledInterface" = "AppleARMWatchdogTimerHibernateHandler is not serializable"
      "#address-cells" = <02000000>
      "AAPL,phandle" = <01000000>
      "IOPlatformUUID" = "4C2A9E71-0B3D-5F86-A1C4-7E9D2B6F0A38"
      "serial-number" = <00000000000000000000000000000000000000000000000000000000000000>
      "IOBusyInterest" = "IOCommand is not serializable"
      "target-type" = <"J474s">
      "IOPlatformSerialNumber" = "XXXXXXXXXX"
      "platform-name" = <7436303230000000000000000000000000000000000000000000000000000000>
      "manufacturer" = <"Apple Inc.">
      "model" = <"Mac14,12">
      "compatible" = <"J474sAP","Mac14,12","AppleARM">
      "IOPlatformSystemSleepPolicy" = <534c505402000a00>
    }
"""

MACOS_ARM = {
    "platform": {
        "system": "Darwin", "node": "studio-mini.local", "release": "23.5.0",
        "version": "Darwin Kernel Version 23.5.0: Wed May  1 20:12:58 PDT 2024; "
                   "root:xnu-10063.121.3~5/RELEASE_ARM64_T6020",
        "machine": "arm64", "libc": None, "python_version": "3.12.4",
        "python_implementation": "CPython", "executable": "/Users/bench/venv/bin/python3",
        "prefix": "/Users/bench/venv", "base_prefix": "/opt/homebrew/opt/python@3.12/"
        "Frameworks/Python.framework/Versions/3.12", "home": "/Users/bench", "cpu_count": 12,
    },
    "cmd": {
        DARWIN_SYSCTL: ok(M2PRO_SYSCTL),
        ("sw_vers",): ok("ProductName:\t\tmacOS\nProductVersion:\t\t14.5\nBuildVersion:\t\t23F79\n"),
        ("pmset", "-g"): ok(PMSET_MINI),
        ("pmset", "-g", "batt"): ok("Now drawing from 'AC Power'\n"),
        ("sysctl", "-n", "vm.loadavg"): ok("{ 1.85 2.01 2.10 }\n"),
        ("ioreg", "-rd1", "-c", "IOPlatformExpertDevice"): ok(IOREG_M2PRO),
    },
    "env": {
        "PATH": "/opt/homebrew/bin:/usr/bin:/bin", "HOME": "/Users/bench",
        "VIRTUAL_ENV": "/Users/bench/venv", "GGML_METAL_PATH_RESOURCES": "/opt/llama.cpp/bin",
        "OLLAMA_KEEP_ALIVE": "30m", "OLLAMA_API_KEY": "not-a-real-key",
        "MTL_DEBUG_LAYER": "0", "TERM_SESSION_ID": "w0t0p0:1D2C",
    },
    "packages": {"mlx": "0.15.2", "mlx-lm": "0.14.3", "numpy": "1.26.4", "envstamp": "0.1.0"},
}

# ------------------------------------------------------------------------------ macOS Intel

INTEL_MAC_SYSCTL = """\
hw.ncpu: 16
hw.byteorder: 1234
hw.memsize: 34359738368
hw.activecpu: 16
hw.physicalcpu: 8
hw.physicalcpu_max: 8
hw.logicalcpu: 16
hw.logicalcpu_max: 16
hw.cputype: 7
hw.cpusubtype: 8
hw.cpu64bit_capable: 1
hw.cpufamily: 260141638
hw.cacheconfig: 16 2 2 16 0 0 0 0 0 0
hw.cachesize: 34359738368 32768 262144 16777216 0 0 0 0 0 0
hw.pagesize: 4096
hw.pagesize32: 4096
hw.busfrequency: 400000000
hw.busfrequency_min: 400000000
hw.busfrequency_max: 400000000
hw.cpufrequency: 2400000000
hw.cpufrequency_min: 2400000000
hw.cpufrequency_max: 2400000000
hw.cachelinesize: 64
hw.l1icachesize: 32768
hw.l1dcachesize: 32768
hw.l2cachesize: 262144
hw.l3cachesize: 16777216
hw.tbfrequency: 1000000000
hw.packages: 1
hw.optional.floatingpoint: 1
hw.optional.mmx: 1
hw.optional.sse: 1
hw.optional.sse2: 1
hw.optional.sse3: 1
hw.optional.supplementalsse3: 1
hw.optional.sse4_1: 1
hw.optional.sse4_2: 1
hw.optional.x86_64: 1
hw.optional.aes: 1
hw.optional.avx1_0: 1
hw.optional.rdrand: 1
hw.optional.f16c: 1
hw.optional.enfstrg: 1
hw.optional.fma: 1
hw.optional.avx2_0: 1
hw.optional.bmi1: 1
hw.optional.bmi2: 1
hw.optional.rtm: 0
hw.optional.hle: 0
hw.optional.adx: 1
hw.optional.mpx: 0
hw.optional.sgx: 0
hw.optional.avx512f: 0
hw.optional.avx512cd: 0
hw.optional.avx512dq: 0
hw.optional.avx512bw: 0
hw.optional.avx512vl: 0
hw.optional.avx512ifma: 0
hw.optional.avx512vbmi: 0
hw.targettype: 
hw.cputhreadtype: 1
hw.model: MacBookPro16,1
hw.machine: x86_64
machdep.cpu.max_basic: 22
machdep.cpu.max_ext: 2147483656
machdep.cpu.vendor: GenuineIntel
machdep.cpu.brand_string: Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz
machdep.cpu.family: 6
machdep.cpu.model: 158
machdep.cpu.extmodel: 9
machdep.cpu.extfamily: 0
machdep.cpu.stepping: 13
machdep.cpu.feature_bits: 9221959987971750911
machdep.cpu.leaf7_feature_bits: 43804591 1073742848
machdep.cpu.leaf7_feature_bits_edx: 3154120192
machdep.cpu.extfeature_bits: 1241984796928
machdep.cpu.signature: 591597
machdep.cpu.brand: 0
machdep.cpu.features: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH DS ACPI MMX FXSR SSE SSE2 SS HTT TM PBE SSE3 PCLMULQDQ DTES64 MON DSCPL VMX SMX EST TM2 SSSE3 FMA CX16 TPR PDCM SSE4.1 SSE4.2 x2APIC MOVBE POPCNT AES PCID XSAVE OSXSAVE SEGLIM64 TSCTMR AVX1.0 RDRAND F16C
machdep.cpu.leaf7_features: RDWRFSGS TSC_THREAD_OFFSET SGX BMI1 HLE AVX2 SMEP BMI2 ERMS INVPCID RTM FPU_CSDS MPX RDSEED ADX SMAP CLFSOPT IPT SGXLC MDCLEAR TSXFA IBRS STIBP L1DF ACAPMSR SSBD
machdep.cpu.extfeatures: SYSCALL XD 1GBPAGE EM64T LAHF LZCNT PREFETCHW RDTSCP TSCI
machdep.cpu.logical_per_package: 16
machdep.cpu.cores_per_package: 8
machdep.cpu.microcode_version: 248
machdep.cpu.processor_flag: 5
machdep.cpu.core_count: 8
machdep.cpu.thread_count: 16
vm.swapusage: total = 1024.00M  used = 216.75M  free = 807.25M  (encrypted)
kern.hv_vmm_present: 0
"""

PMSET_LAPTOP = """\
Battery Power:
Currently in use:
 standby              1
 Sleep On Power Button 1
 hibernatefile        /var/vm/sleepimage
 powernap             0
 networkoversleep     0
 disksleep            10
 sleep                1
 hibernatemode        3
 ttyskeepawake        1
 displaysleep         2
 tcpkeepalive         1
 lowpowermode         1
 womp                 0
"""

MACOS_INTEL = {
    "platform": {
        "system": "Darwin", "node": "mbp-2019.local", "release": "22.6.0",
        "version": "Darwin Kernel Version 22.6.0: Thu Nov  2 07:43:57 PDT 2023; "
                   "root:xnu-8796.141.3.701.17~6/RELEASE_X86_64",
        "machine": "x86_64", "libc": None, "python_version": "3.11.9",
        "python_implementation": "CPython", "executable": "/usr/local/bin/python3",
        "prefix": "/usr/local/Cellar/python@3.11/3.11.9/Frameworks/Python.framework/Versions/3.11",
        "base_prefix": "/usr/local/Cellar/python@3.11/3.11.9/Frameworks/Python.framework/"
        "Versions/3.11", "home": "/Users/bench", "cpu_count": 16,
    },
    "cmd": {
        DARWIN_SYSCTL: ok(INTEL_MAC_SYSCTL),
        ("sw_vers",): ok("ProductName:\t\tmacOS\nProductVersion:\t\t13.6.7\nBuildVersion:\t\t22G720\n"),
        ("pmset", "-g"): ok(PMSET_LAPTOP),
        ("pmset", "-g", "batt"): ok(
            "Now drawing from 'Battery Power'\n"
            " -InternalBattery-0 (id=4587619)\t76%; discharging; 3:41 remaining present: true\n"
        ),
        ("sysctl", "-n", "vm.loadavg"): ok("{ 3.12 2.87 2.55 }\n"),
        ("ioreg", "-rd1", "-c", "IOPlatformExpertDevice"): ok(
            '+-o MacBookPro16,1  <class IOPlatformExpertDevice, id 0x10000020f, registered>\n'
            '    {\n      "IOPlatformUUID" = "9D1B7C3E-2F4A-5B6C-8D7E-0A1B2C3D4E5F"\n'
            '      "model" = <"MacBookPro16,1">\n    }\n'
        ),
    },
    "env": {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/Users/bench",
            "OMP_NUM_THREADS": "8", "LLAMA_CACHE": "/Users/bench/.cache/llama.cpp"},
    "packages": {"torch": "2.2.2", "numpy": "1.26.4", "llama-cpp-python": "0.2.77"},
}

# ---------------------------------------------------------------------------------- Windows

CV = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
CPU0 = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
BIOS = r"HARDWARE\DESCRIPTION\System\BIOS"
SCHEMES = r"SYSTEM\CurrentControlSet\Control\Power\User\PowerSchemes"

WINDOWS_11 = {
    "platform": {
        "system": "Windows", "node": "BENCH-DESKTOP", "release": "10", "version": "10.0.22631",
        "machine": "AMD64", "libc": None, "python_version": "3.12.3",
        "python_implementation": "CPython",
        "executable": "C:\\Users\\bench\\llm\\.venv\\Scripts\\python.exe",
        "prefix": "C:\\Users\\bench\\llm\\.venv",
        "base_prefix": "C:\\Users\\bench\\AppData\\Local\\Programs\\Python\\Python312",
        "home": "C:\\Users\\bench", "cpu_count": 16,
    },
    "registry": {
        (CV, "ProductName"): "Windows 10 Pro",
        (CV, "DisplayVersion"): "23H2",
        (CV, "ReleaseId"): "2009",
        (CV, "CurrentBuild"): "22631",
        (CV, "CurrentBuildNumber"): "22631",
        (CV, "UBR"): 3880,
        (CV, "EditionID"): "Professional",
        (CPU0, "ProcessorNameString"): "AMD Ryzen 7 7800X3D 8-Core Processor          ",
        (CPU0, "VendorIdentifier"): "AuthenticAMD",
        (CPU0, "~MHz"): 4201,
        (BIOS, "SystemManufacturer"): "Micro-Star International Co., Ltd.",
        (BIOS, "SystemProductName"): "MS-7D76",
        (r"SOFTWARE\Microsoft\Cryptography", "MachineGuid"): "6f2d8a41-93c7-4e5b-b0d2-1a7c9e3f5b80",
        (SCHEMES, "ActivePowerScheme"): "8c5e7fda-e8bf-4a96-9a85-a6e23a8c635c",
    },
    "env": {
        "PATH": "C:\\Windows\\system32;C:\\Windows", "USERPROFILE": "C:\\Users\\bench",
        "VIRTUAL_ENV": "C:\\Users\\bench\\llm\\.venv", "CUDA_VISIBLE_DEVICES": "0",
        "OLLAMA_HOST": "http://admin:hunter2@127.0.0.1:11434", "OLLAMA_FLASH_ATTENTION": "1",
        "HF_TOKEN": "not-a-real-token", "GGML_CUDA_ENABLE_UNIFIED_MEMORY": "1",
    },
    "packages": {"torch": "2.3.1+cu121", "transformers": "4.42.3", "numpy": "1.26.4"},
    # GlobalMemoryStatusEx / GetSystemPowerStatus as the runner answers them (a desktop:
    # AC line online, BatteryFlag 128 "no system battery").
    "memory_status": {"status": "ok", "total_bytes": 68602511360, "available_bytes": 51346997248},
    "power_status": {"status": "ok", "ac_online": True, "battery_percent": None},
}

# ---------------------------------------------------------------------- Linux ARM (Graviton3)

GRAVITON_FEATURES = (
    "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt "
    "fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs "
    "paca pacg dcpodp svei8mm svebf16 i8mm bf16 dgh rng"
)
GRAVITON_CPUINFO = "".join(
    f"processor\t: {i}\nBogoMIPS\t: 2100.00\nFeatures\t: {GRAVITON_FEATURES}\n"
    "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0xd40\n"
    "CPU revision\t: 1\n\n"
    for i in range(8)
)
UBUNTU_2204 = """\
PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=jammy
"""
GRAVITON_MEMINFO = """\
MemTotal:       15999220 kB
MemFree:        14321904 kB
MemAvailable:   15207332 kB
Buffers:           27260 kB
Cached:          1035164 kB
SwapCached:            0 kB
Active:           427836 kB
Inactive:         871524 kB
SwapTotal:             0 kB
SwapFree:              0 kB
Dirty:                 4 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
"""
SYSCPU = "/sys/devices/system/cpu"
GRAVITON = {
    "platform": {
        "system": "Linux", "node": "ip-172-31-20-41", "release": "6.5.0-1017-aws",
        "version": "#17~22.04.2-Ubuntu SMP Mon Mar 25 20:47:22 UTC 2024", "machine": "aarch64",
        "libc": "glibc 2.35", "python_version": "3.10.12", "python_implementation": "CPython",
        "executable": "/usr/bin/python3", "prefix": "/usr", "base_prefix": "/usr",
        "home": "/home/ubuntu", "cpu_count": 8,
    },
    "files": {
        "/etc/os-release": UBUNTU_2204,
        "/proc/cpuinfo": GRAVITON_CPUINFO,
        "/proc/meminfo": GRAVITON_MEMINFO,
        "/proc/loadavg": "0.08 0.03 0.01 1/178 4211\n",
        "/proc/1/cgroup": "0::/init.scope\n",
        "/etc/machine-id": "ec2b1f0c7a9d4e3f8b6a5c4d3e2f1a0b\n",
        "/sys/class/dmi/id/sys_vendor": "Amazon EC2\n",
        "/sys/class/dmi/id/product_name": "c7g.2xlarge\n",
        "/sys/kernel/mm/transparent_hugepage/enabled": "always [madvise] never\n",
        f"{SYSCPU}/cpu0/cache/index0/level": "1\n",
        f"{SYSCPU}/cpu0/cache/index1/level": "1\n",
        f"{SYSCPU}/cpu0/cache/index2/level": "2\n",
        f"{SYSCPU}/cpu0/cache/index2/size": "1024K\n",
        f"{SYSCPU}/cpu0/cache/index3/level": "3\n",
        f"{SYSCPU}/cpu0/cache/index3/size": "32768K\n",
    },
    "dirs": {
        "/sys/devices/system/node": ["has_cpu", "has_memory", "node0", "online", "possible"],
        f"{SYSCPU}/cpu0/cache": ["index0", "index1", "index2", "index3", "uevent"],
        "/lib": ["aarch64-linux-gnu", "ld-linux-aarch64.so.1"],
        "/sys/class/power_supply": [],
    },
    "env": {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/ubuntu",
            "OMP_NUM_THREADS": "8", "GGML_NUMA": "distribute"},
    "packages": {"llama-cpp-python": "0.2.82", "numpy": "1.26.4"},
}

SPECS = {
    "macos-14-m2pro": MACOS_ARM,
    "macos-13-intel": MACOS_INTEL,
    "windows-11-ryzen": WINDOWS_11,
    "linux-ubuntu22-graviton3": GRAVITON,
}


def build(name: str, spec: dict[str, Any]) -> None:
    """Capture a spec through the system probes into ``tests/fixtures/hosts/<name>``."""
    folder = HOSTS / name
    shutil.rmtree(folder, ignore_errors=True)
    runner = SpecRunner(folder, spec)
    # Every probe runs, so the other probes' questions are recorded too (answered "absent")
    # and ``envstamp capture --replay`` of the folder runs cleanly end to end.
    capture(CaptureOptions(deadline=30.0), runner=runner)


if __name__ == "__main__":
    for host in sys.argv[1:] or SPECS:
        build(host, SPECS[host])
        print("built", host)
