"""Hand-made recorded NVIDIA hosts: specs written to NVML's and nvidia-smi's formats.

We have no NVIDIA machine here, so each host is a spec (below): NVML answers shaped as the
runner records them (nvidia-ml-py values turned to JSON: structures as dicts, pairs as lists),
nvidia-smi outputs taken from ``tests/fixtures/nvidia`` (samples written to the documented
formats), files, PATH lookups.  :func:`record_host` runs the real ``gpu_nvidia`` probes against
a spec through a *recording* runner, so each folder holds exactly the answers the probes ask
for, in the format ``envstamp capture --raw`` writes (and, as in a real recording, both NVML
and ``nvidia-smi -q -x`` where NVML answered).

Regenerate the committed folders after changing what the probes ask:

    python tests/nvidia_support.py
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path
from typing import Any

from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.runner import Answer, RecordingRunner

TESTS = Path(__file__).parent
HOSTS = TESTS / "fixtures" / "hosts"
SAMPLES = TESTS / "fixtures" / "nvidia"
LINUX_SMI = "/usr/bin/nvidia-smi"
WINDOWS_SMI = "C:\\Windows\\system32\\nvidia-smi.exe"
PROC_VERSION = "/proc/driver/nvidia/version"
XML = ("-q", "-x")
DRIVER_GONE = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running.\n\n"
)


class Err:
    """An NVML call that fails with this NVMLError text."""

    def __init__(self, text: str) -> None:
        self.text = text


NOT_SUPPORTED = Err("Not Supported")
NOT_FOUND = Err("Function Not Found")


def ok(stdout: str, code: int = 0, stderr: str = "") -> Answer:
    """A command that ran."""
    return {"status": "ok", "returncode": code, "stdout": stdout, "stderr": stderr,
            "duration_ms": 41.0}


def sample(name: str) -> str:
    """A fixture output, as the runner would have decoded it (CRLF folded)."""
    return (SAMPLES / name).read_text(encoding="utf-8").replace("\r\n", "\n")


class SpecRunner(RecordingRunner):
    """Answers from a host spec (anything unlisted is absent) and records every answer."""

    def __init__(self, folder: Path, spec: dict[str, Any]) -> None:
        super().__init__(folder)
        self.spec = spec

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        return super()._answer(op, key, lambda: self._from_spec(op, key))

    def _from_spec(self, op: str, key: dict[str, Any]) -> Answer:
        spec = self.spec
        if op == "platform":
            return dict(spec["platform"])
        if op == "which":
            return {"path": spec.get("which", {}).get(key["name"])}
        if op == "stat":
            return {"exists": False}
        if op == "file":
            text = spec.get("files", {}).get(key["path"])
            if text is None:
                return {"status": "absent", "detail": "not found"}
            return {"status": "ok", "text": text}
        if op == "cmd":
            found = spec.get("cmds", {}).get(tuple(key["argv"]))
            return dict(found) if found else {"status": "absent", "detail": "not found"}
        if op == "nvml":
            return _nvml(spec.get("nvml", {}), key["calls"])
        if op == "library":
            found = spec.get("library", {}).get(key["name"])
            return dict(found) if found else {"status": "unsupported", "detail": "no such library"}
        raise AssertionError(f"the NVIDIA probes should not ask for {op}")


def _nvml(nvml: dict[str, Any], calls: list[list[Any]]) -> Answer:
    if "failure" in nvml:
        return dict(nvml["failure"])
    answers: list[Answer] = []
    for fn, index, args in calls:
        table = nvml["system"] if index is None else nvml["devices"][index]
        name = fn if not args else f"{fn}:{args[0]}"
        value = table.get(name, NOT_SUPPORTED)
        answers.append({"error": value.text} if isinstance(value, Err) else {"value": value})
    return {"status": "ok", "answers": answers}


def record_host(folder: Path, spec: dict[str, Any]) -> None:
    """Write what the NVIDIA probes ask of ``spec`` into ``folder`` (emptied first)."""
    from envstamp.probes.gpu import nvidia as gpu_nvidia

    if folder.exists():
        shutil.rmtree(folder)
    runner = SpecRunner(folder, spec)
    ctx = ProbeContext(runner=runner, options=CaptureOptions())
    for probe in (gpu_nvidia.probe, gpu_nvidia.state):
        with contextlib.suppress(ProbeFailure):
            probe(ctx)


# ------------------------------------------------------------------------------- platforms


def _linux(release: str = "6.5.0-35-generic") -> dict[str, Any]:
    return {"system": "Linux", "node": "gpu-node", "release": release, "machine": "x86_64",
            "python_version": "3.11.9", "cpu_count": 64}


WINDOWS = {"system": "Windows", "node": "DESKTOP-4090", "release": "11", "machine": "AMD64",
           "version": "10.0.22631", "python_version": "3.12.7", "cpu_count": 32}


def _proc(version: str, built: str) -> str:
    return (
        f"NVRM version: NVIDIA UNIX x86_64 Kernel Module  {version}  {built}\n"
        "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04) \n"
    )


# ------------------------------------------------------------------------------------- NVML

GIB = 1 << 30
MIB = 1 << 20


def _pci(bus: str, device_id: int, subsystem: int) -> dict[str, Any]:
    domain, bus_no, rest = bus.split(":")
    return {"busIdLegacy": bus[4:], "domain": int(domain, 16), "bus": int(bus_no, 16),
            "device": int(rest.split(".")[0], 16), "pciDeviceId": device_id,
            "pciSubSystemId": subsystem, "busId": bus}


def _a100(bus: str, uuid: str, serial: str, mig: int, used_mib: int, util: dict[str, int],
          temp: int, power_mw: int, processes: list[dict[str, Any]]) -> dict[str, Any]:
    total = 40960 * MIB
    return {
        "nvmlDeviceGetName": "NVIDIA A100-SXM4-40GB",
        "nvmlDeviceGetUUID": uuid,
        "nvmlDeviceGetSerial": serial,
        "nvmlDeviceGetPciInfo": _pci(bus, 0x20B010DE, 0x134F10DE),
        "nvmlDeviceGetMemoryInfo": {"total": total, "free": total - used_mib * MIB,
                                    "used": used_mib * MIB},
        "nvmlDeviceGetCudaComputeCapability": [8, 0],
        "nvmlDeviceGetArchitecture": 7,
        "nvmlDeviceGetVbiosVersion": "92.00.45.00.03",
        "nvmlDeviceGetPowerManagementLimit": 400000,
        "nvmlDeviceGetEnforcedPowerLimit": 400000,
        "nvmlDeviceGetPowerManagementDefaultLimit": 400000,
        "nvmlDeviceGetPowerManagementLimitConstraints": [100000, 400000],
        "nvmlDeviceGetMaxClockInfo:0": 1410,
        "nvmlDeviceGetMaxClockInfo:2": 1215,
        "nvmlDeviceGetMaxPcieLinkGeneration": 4,
        "nvmlDeviceGetMaxPcieLinkWidth": 16,
        "nvmlDeviceGetCurrPcieLinkGeneration": 4,
        "nvmlDeviceGetCurrPcieLinkWidth": 16,
        "nvmlDeviceGetPersistenceMode": 1,
        "nvmlDeviceGetMigMode": [mig, mig],
        "nvmlDeviceGetEccMode": [1, 1],
        "nvmlDeviceGetTemperature:0": temp,
        "nvmlDeviceGetUtilizationRates": util if util else NOT_SUPPORTED,
        "nvmlDeviceGetClockInfo:0": 1410,
        "nvmlDeviceGetClockInfo:1": 1410,
        "nvmlDeviceGetClockInfo:2": 1215,
        "nvmlDeviceGetPowerUsage": power_mw,
        "nvmlDeviceGetPerformanceState": 0,
        "nvmlDeviceGetFanSpeed": NOT_SUPPORTED,
        "nvmlDeviceGetCurrentClocksEventReasons": 0,
        "nvmlDeviceGetCurrentClocksThrottleReasons": 0,
        "nvmlDeviceGetComputeRunningProcesses": processes,
    }


A100_NVML = {
    "system": {
        "nvmlDeviceGetCount": 2,
        "nvmlSystemGetDriverVersion": "535.161.08",
        "nvmlSystemGetCudaDriverVersion_v2": 12020,
        "nvmlSystemGetCudaDriverVersion": 12020,
    },
    "devices": [
        _a100("00000000:07:00.0", "GPU-2f6a1c9e-8b57-4d03-a9e1-5c0d7f3b6a21", "1564720004631",
              1, 26, {}, 31, 54120, []),
        _a100("00000000:0F:00.0", "GPU-9d41b7e0-3c2a-4f86-b1d5-e87a02c4f359", "1564720004712",
              0, 31507, {"gpu": 87, "memory": 41}, 64, 312550,
              [{"pid": 48213, "usedGpuMemory": 31480 * MIB, "gpuInstanceId": 4294967295,
                "computeInstanceId": 4294967295}]),
    ],
}

GTX1080_NVML = {
    "system": {
        "nvmlDeviceGetCount": 1,
        "nvmlSystemGetDriverVersion": "470.223.02",
        "nvmlSystemGetCudaDriverVersion_v2": 11040,
        "nvmlSystemGetCudaDriverVersion": 11040,
    },
    "devices": [
        {
            "nvmlDeviceGetName": "NVIDIA GeForce GTX 1080",
            "nvmlDeviceGetUUID": "GPU-6b0e4a8d-91f2-7c35-e0a4-2d8b9f17c6e3",
            "nvmlDeviceGetSerial": NOT_SUPPORTED,
            "nvmlDeviceGetPciInfo": _pci("00000000:01:00.0", 0x1B8010DE, 0x85AA1043),
            "nvmlDeviceGetMemoryInfo": {"total": 8513708032, "free": 8186552320,
                                        "used": 327155712},
            "nvmlDeviceGetCudaComputeCapability": [6, 1],
            # nvidia-ml-py 12 asks the 470 driver for functions it does not have yet.
            "nvmlDeviceGetArchitecture": NOT_FOUND,
            "nvmlDeviceGetVbiosVersion": "86.04.17.00.80",
            "nvmlDeviceGetPowerManagementLimit": 180000,
            "nvmlDeviceGetEnforcedPowerLimit": 180000,
            "nvmlDeviceGetPowerManagementDefaultLimit": 180000,
            "nvmlDeviceGetPowerManagementLimitConstraints": [90000, 217000],
            "nvmlDeviceGetMaxClockInfo:0": 1911,
            "nvmlDeviceGetMaxClockInfo:2": 5005,
            "nvmlDeviceGetMaxPcieLinkGeneration": 3,
            "nvmlDeviceGetMaxPcieLinkWidth": 16,
            "nvmlDeviceGetCurrPcieLinkGeneration": 1,
            "nvmlDeviceGetCurrPcieLinkWidth": 16,
            "nvmlDeviceGetPersistenceMode": 0,
            "nvmlDeviceGetMigMode": NOT_SUPPORTED,
            "nvmlDeviceGetEccMode": NOT_SUPPORTED,
            "nvmlDeviceGetTemperature:0": 38,
            "nvmlDeviceGetUtilizationRates": {"gpu": 0, "memory": 2},
            "nvmlDeviceGetClockInfo:0": 139,
            "nvmlDeviceGetClockInfo:1": 139,
            "nvmlDeviceGetClockInfo:2": 405,
            "nvmlDeviceGetPowerUsage": 9450,
            "nvmlDeviceGetPerformanceState": 8,
            "nvmlDeviceGetFanSpeed": 27,
            "nvmlDeviceGetCurrentClocksEventReasons": NOT_FOUND,
            "nvmlDeviceGetCurrentClocksThrottleReasons": 0x1,
            "nvmlDeviceGetComputeRunningProcesses": [],
        }
    ],
}

VOLATILE_4090 = (
    "index, uuid, temperature.gpu, utilization.gpu [%], utilization.memory [%], "
    "clocks.current.graphics [MHz], clocks.current.sm [MHz], clocks.current.memory [MHz], "
    "power.draw [W], memory.used [MiB], pstate, fan.speed [%], clocks_throttle_reasons.active\n"
    "0, GPU-5e27c0b8-d419-6f3a-8c21-0b9e4d7a31f6, 44, 12 %, 4 %, 2520 MHz, 2520 MHz, 10501 MHz, "
    "61.34 W, 1876 MiB, P2, 30 %, 0x0000000000000000\n"
    "1, GPU-a90f13d2-47be-c685-1e3d-72c5b08f94e1, 31, 0 %, 0 %, 210 MHz, 210 MHz, 405 MHz, "
    "12.08 W, 0 MiB, P8, 0 %, 0x0000000000000001\n"
)

T4_CSV = (
    "index, name, uuid, serial, pci.bus_id, pci.device_id, memory.total [MiB], driver_version, "
    "vbios_version, power.limit [W], power.default_limit [W], power.max_limit [W], "
    "clocks.max.graphics [MHz], clocks.max.memory [MHz], pcie.link.gen.max, "
    "pcie.link.width.max, pcie.link.gen.current, pcie.link.width.current, persistence_mode, "
    "mig.mode.current, ecc.mode.current\n"
    "0, Tesla T4, GPU-3e8f0a27-6b1d-9c45-f2e7-80d4a6b1c953, 1323620047418, 00000000:00:1E.0, "
    "0x1EB810DE, 15109 MiB, 450.80.02, 90.04.96.00.02, 70.00 W, 70.00 W, 70.00 W, 1590 MHz, "
    "5001 MHz, 3, 16, 3, 16, Enabled, [N/A], Enabled\n"
)

T4_VOLATILE = (
    "index, uuid, temperature.gpu, utilization.gpu [%], utilization.memory [%], "
    "clocks.current.graphics [MHz], clocks.current.sm [MHz], clocks.current.memory [MHz], "
    "power.draw [W], memory.used [MiB], pstate, fan.speed [%], clocks_throttle_reasons.active\n"
    "0, GPU-3e8f0a27-6b1d-9c45-f2e7-80d4a6b1c953, 36, 0 %, 0 %, 300 MHz, 300 MHz, 405 MHz, "
    "9.62 W, 0 MiB, P8, [N/A], 0x0000000000000001\n"
)


T4_XML_CUT = (
    '<?xml version="1.0" ?>\n'
    '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v11.dtd">\n'
    "<nvidia_smi_log>\n"
    "\t<timestamp>Thu Nov 12 10:04:51 2020</timestamp>\n"
    "\t<driver_version>450.80.02</driver_version>\n"
    "\t<cuda_version>11.0</cuda_version>\n"
    "\t<attached_gpus>1</attached_gpus>\n"
    '\t<gpu id="00000000:00:1E.0">\n'
    "\t\t<product_name>Tesla T4</product_name>\n"
    "\t\t<product_brand>Tesla</product_brand>\n"
    "\t\t<display_mode>Disabled</display_mode>\n"
    "\t\t<dis"
)


def _csv_argv(smi: str, fields: tuple[str, ...]) -> tuple[str, ...]:
    return (smi, f"--query-gpu={','.join(fields)}", "--format=csv")


def _hosts() -> dict[str, dict[str, Any]]:
    from envstamp.probes.gpu.nvidia import STATIC_CSV_FIELDS, VOLATILE_CSV_FIELDS

    no_cc = tuple(f for f in STATIC_CSV_FIELDS if f != "compute_cap")
    return {
        "nvidia-a100-mig-nvml": {
            "platform": _linux(),
            "files": {PROC_VERSION: _proc("535.161.08", "Tue Mar  5 22:42:15 UTC 2024")},
            "which": {"nvidia-smi": LINUX_SMI},
            "nvml": A100_NVML,
            "cmds": {(LINUX_SMI, *XML): ok(sample("a100-mig-2gpu-535-q-x.xml"))},
        },
        "nvidia-gtx1080-470-nvml": {
            "platform": _linux("5.15.0-91-generic"),
            "files": {PROC_VERSION: _proc("470.223.02", "Sat Oct  7 15:35:05 UTC 2023")},
            "which": {"nvidia-smi": LINUX_SMI},
            "nvml": GTX1080_NVML,
            "cmds": {(LINUX_SMI, *XML): ok(sample("gtx1080-470-q-x.xml"))},
        },
        "nvidia-rtx4090x2-windows-no-nvml": {
            "platform": WINDOWS,
            "which": {"nvidia-smi": WINDOWS_SMI},
            "nvml": {"failure": {"status": "absent", "detail": "nvidia-ml-py is not installed"}},
            "cmds": {
                (WINDOWS_SMI, *XML): ok(sample("rtx4090x2-windows-566-q-x.xml")),
                _csv_argv(WINDOWS_SMI, VOLATILE_CSV_FIELDS): ok(VOLATILE_4090),
            },
        },
        "nvidia-driver-not-loaded": {
            "platform": _linux(),
            "which": {"nvidia-smi": LINUX_SMI},
            "nvml": {"failure": {"status": "absent", "detail": "NVIDIA driver not loaded"}},
            "cmds": {
                (LINUX_SMI, *XML): ok(DRIVER_GONE, code=9),
                _csv_argv(LINUX_SMI, VOLATILE_CSV_FIELDS): ok(DRIVER_GONE, code=9),
            },
        },
        "nvidia-smi-hangs": {
            "platform": _linux(),
            "files": {PROC_VERSION: _proc("550.90.07", "Fri May 31 09:35:42 UTC 2024")},
            "which": {"nvidia-smi": LINUX_SMI},
            "nvml": {"failure": {"status": "absent",
                                 "detail": "NVML library not found (no NVIDIA driver)"}},
            "cmds": {
                (LINUX_SMI, *XML): {"status": "timeout", "detail": "no answer within 2 s; killed",
                                    "stdout": "", "stderr": "", "duration_ms": 2003.5},
                _csv_argv(LINUX_SMI, VOLATILE_CSV_FIELDS): {
                    "status": "timeout", "detail": "no answer within 2 s; killed",
                    "stdout": "", "stderr": "", "duration_ms": 2001.9},
            },
        },
        "nvidia-t4-450-csv-fallback": {
            "platform": _linux("5.4.0-1045-aws"),
            "files": {PROC_VERSION: _proc("450.80.02", "Wed Sep 23 01:13:39 UTC 2020")},
            "which": {"nvidia-smi": LINUX_SMI},
            "nvml": {"failure": {"status": "absent", "detail": "nvidia-ml-py is not installed"}},
            "cmds": {
                # nvidia-smi crashed before its first complete GPU element...
                (LINUX_SMI, *XML): ok(T4_XML_CUT, code=-11),
                # ...and this driver predates the compute_cap query field.
                _csv_argv(LINUX_SMI, STATIC_CSV_FIELDS): ok(
                    'Field "compute_cap" is not a valid field to query.\n\n', code=2),
                _csv_argv(LINUX_SMI, no_cc): ok(T4_CSV),
                _csv_argv(LINUX_SMI, VOLATILE_CSV_FIELDS): ok(T4_VOLATILE),
            },
        },
        "nvidia-none": {"platform": _linux()},
    }


def main() -> int:
    for name, spec in _hosts().items():
        record_host(HOSTS / name, spec)
        print(f"wrote {HOSTS / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
