"""The gpu_nvidia probes replayed on recorded hosts (hand-made ones, and real ones if present)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envstamp.manifest.model import Gpu
from envstamp.parsers.nvidia_smi import parse_xml
from envstamp.probes.context import CaptureOptions, Outcome, ProbeContext, ProbeFailure
from envstamp.probes.gpu import nvidia as gpu_nvidia
from envstamp.probes.gpu.consolidate import normalize_bus_id
from envstamp.runner import Answer, LiveRunner, ReplayRunner
from tests.nvidia_support import A100_NVML, SpecRunner, _hosts, record_host

HOSTS = Path(__file__).parents[1] / "fixtures" / "hosts"
NVIDIA_HOSTS = sorted(p.name for p in HOSTS.glob("nvidia-*") if p.is_dir())
REAL_HOSTS = sorted(p for p in HOSTS.glob("real-h100*") if p.is_dir()) + sorted(
    p for p in HOSTS.glob("real-h200*") if p.is_dir()
)


class CountingReplay(ReplayRunner):
    """A replay runner that remembers which kinds of question were asked."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        self.asked.append((op, key))
        return super()._answer(op, key, compute)

    def ops(self) -> list[str]:
        return [op for op, _ in self.asked]


def run(probe: Any, runner: Any) -> Outcome | ProbeFailure:
    ctx = ProbeContext(runner=runner, options=CaptureOptions())
    try:
        result: Outcome = probe(ctx)
    except ProbeFailure as failure:
        return failure
    return result


def replay(name: str) -> CountingReplay:
    return CountingReplay(HOSTS / name)


def ok(result: Outcome | ProbeFailure) -> Outcome:
    assert isinstance(result, Outcome), f"probe failed: {result}"
    assert result.status == "ok"
    return result


# ------------------------------------------------------------------------------ hosts


def test_committed_hosts_are_what_the_probes_ask_now(tmp_path: Path) -> None:
    """Regenerating a host from its spec gives the committed folder (else rerun the script)."""
    for name, spec in _hosts().items():
        record_host(tmp_path / name, spec)
        fresh = {p.name: json.loads(p.read_text()) for p in (tmp_path / name).glob("*.json")}
        committed = {p.name: json.loads(p.read_text()) for p in (HOSTS / name).glob("*.json")}
        assert fresh == committed, f"{name}: run python tests/nvidia_support.py"


def test_nvml_host_answers_without_spawning_anything() -> None:
    runner = replay("nvidia-a100-mig-nvml")
    outcome = ok(run(gpu_nvidia.probe, runner))
    assert outcome.source == "nvml" and outcome.detail is None
    assert "cmd" not in runner.ops() and "library" not in runner.ops()
    gpus = outcome.sections["gpus"]
    assert [(g.index, g.name, g.mig_mode) for g in gpus] == [
        (0, "NVIDIA A100-SXM4-40GB", True),
        (1, "NVIDIA A100-SXM4-40GB", False),
    ]
    first = gpus[0]
    assert (first.compute_capability, first.architecture, first.memory_total_mib) == (
        "8.0",
        "Ampere",
        40960,
    )
    assert (first.power_limit_w, first.power_max_limit_w, first.clocks_max_memory_mhz) == (
        400.0,
        400.0,
        1215,
    )
    assert (first.pcie_gen_max, first.pcie_gen_current, first.ecc_enabled) == (4, 4, True)
    assert first.serial == "1564720004631" and first.source == "nvml"
    runtimes = outcome.sections["runtimes"]
    assert (runtimes.nvidia_driver, runtimes.cuda_driver) == ("535.161.08", "12.2")


def test_nvml_state_is_cheap_and_complete() -> None:
    runner = replay("nvidia-a100-mig-nvml")
    outcome = ok(run(gpu_nvidia.state, runner))
    assert "cmd" not in runner.ops()
    states = outcome.sections["volatile"].gpus
    assert [s.uuid for s in states] == [g["nvmlDeviceGetUUID"] for g in A100_NVML["devices"]]
    assert (states[1].power_draw_w, states[1].memory_used_mib, states[1].process_count) == (
        312.55,
        31507,
        1,
    )
    assert states[0].utilization_gpu_pct is None  # "Not Supported" with MIG on


def test_probe_and_state_share_one_presence_check() -> None:
    runner = replay("nvidia-a100-mig-nvml")
    ctx = ProbeContext(runner=runner, options=CaptureOptions())
    gpu_nvidia.probe(ctx)
    gpu_nvidia.state(ctx)
    assert runner.ops().count("file") == 1


def test_old_driver_missing_nvml_functions_fall_back_field_by_field() -> None:
    outcome = ok(run(gpu_nvidia.probe, replay("nvidia-gtx1080-470-nvml")))
    (gpu,) = outcome.sections["gpus"]
    assert (gpu.architecture, gpu.compute_capability) == ("Pascal", "6.1")
    assert (gpu.serial, gpu.mig_mode, gpu.ecc_enabled) == (None, None, None)
    assert (gpu.memory_total_mib, gpu.power_max_limit_w) == (8119, 217.0)
    state = ok(run(gpu_nvidia.state, replay("nvidia-gtx1080-470-nvml")))
    (reading,) = state.sections["volatile"].gpus
    assert (reading.pstate, reading.fan_pct, reading.throttle_reasons) == ("P8", 27.0, [])


def test_nvml_missing_but_nvidia_smi_works_on_windows() -> None:
    runner = replay("nvidia-rtx4090x2-windows-no-nvml")
    outcome = ok(run(gpu_nvidia.probe, runner))
    assert outcome.source == "nvidia-smi -q -x"
    assert outcome.detail == "nvml: nvidia-ml-py is not installed"
    assert "file" not in runner.ops()  # no /proc on Windows
    gpus = outcome.sections["gpus"]
    assert [g.pci_bus_id for g in gpus] == ["00000000:01:00.0", "00000000:05:00.0"]
    assert [g.power_limit_w for g in gpus] == [450.0, 350.0]
    assert "volatile" not in outcome.sections  # readings belong to the state probe
    state = ok(run(gpu_nvidia.state, replay("nvidia-rtx4090x2-windows-no-nvml")))
    assert state.source == "nvidia-smi --query-gpu"
    assert [s.pstate for s in state.sections["volatile"].gpus] == ["P2", "P8"]


def test_driver_not_loaded() -> None:
    runner = replay("nvidia-driver-not-loaded")
    failure = run(gpu_nvidia.probe, runner)
    assert isinstance(failure, ProbeFailure)
    assert failure.status == "absent"
    assert "couldn't communicate with the NVIDIA driver" in failure.detail
    assert runner.ops().count("cmd") == 1  # no second nvidia-smi, no GPUtil
    assert "library" not in runner.ops()
    state = run(gpu_nvidia.state, replay("nvidia-driver-not-loaded"))
    assert isinstance(state, ProbeFailure) and state.status == "absent"


def test_hanging_nvidia_smi_is_a_timeout_not_absent() -> None:
    runner = replay("nvidia-smi-hangs")
    outcome = run(gpu_nvidia.probe, runner)
    assert isinstance(outcome, Outcome)
    assert outcome.status == "timeout" and outcome.source == "nvidia-smi -q -x"
    assert "no answer within 2 s" in (outcome.detail or "")
    assert runner.ops().count("cmd") == 1  # the CSV query and GPUtil are not tried after a hang
    assert "library" not in runner.ops()
    # The kernel module still names the driver.
    assert outcome.sections["runtimes"].nvidia_driver == "550.90.07"
    state = run(gpu_nvidia.state, replay("nvidia-smi-hangs"))
    assert isinstance(state, ProbeFailure) and state.status == "timeout"


def test_crashed_xml_and_an_old_driver_fall_back_to_the_csv_query() -> None:
    runner = replay("nvidia-t4-450-csv-fallback")
    outcome = ok(run(gpu_nvidia.probe, runner))
    assert outcome.source == "nvidia-smi --query-gpu"
    assert "exited -11" in (outcome.detail or "")
    queries = [key["argv"][1] for op, key in runner.asked if op == "cmd"][1:]
    assert "compute_cap" in queries[0] and "compute_cap" not in queries[1]
    (gpu,) = outcome.sections["gpus"]
    assert (gpu.name, gpu.architecture, gpu.driver_version, gpu.power_limit_w) == (
        "Tesla T4",
        "Turing",
        "450.80.02",
        70.0,
    )
    assert (gpu.mig_mode, gpu.ecc_enabled, gpu.persistence_mode) == (None, True, True)


def test_no_nvidia_at_all_asks_nothing_expensive() -> None:
    runner = replay("nvidia-none")
    for probe in (gpu_nvidia.probe, gpu_nvidia.state):
        failure = run(probe, runner)
        assert isinstance(failure, ProbeFailure) and failure.status == "absent"
        assert "no NVIDIA driver" in failure.detail
    assert set(runner.ops()) <= {"platform", "file", "which"}


# -------------------------------------------------------------- synthetic failure chains


def _spec(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "platform": {"system": "Linux", "release": "6.1.0", "machine": "x86_64"},
        "files": {"/proc/driver/nvidia/version": "NVRM version: NVIDIA UNIX Open Kernel Module "
                  "for x86_64  560.35.03  Release Build  (dvs-builder@U16-I3-B03-4-3)\n"},
        "which": {"nvidia-smi": "/usr/bin/nvidia-smi"},
        "nvml": {"failure": {"status": "absent", "detail": "nvidia-ml-py is not installed"}},
    }
    spec.update(extra)
    return spec


def _replay_spec(tmp_path: Path, spec: dict[str, Any]) -> CountingReplay:
    record_host(tmp_path / "host", spec)
    return CountingReplay(tmp_path / "host")


def test_gputil_is_the_last_resort(tmp_path: Path) -> None:
    garbage = {"status": "ok", "returncode": 0, "stdout": "Segmentation fault\n", "stderr": ""}
    from envstamp.probes.gpu.nvidia import STATIC_CSV_FIELDS

    csv_argv = ("/usr/bin/nvidia-smi", f"--query-gpu={','.join(STATIC_CSV_FIELDS)}",
                "--format=csv")
    spec = _spec(
        cmds={("/usr/bin/nvidia-smi", "-q", "-x"): garbage, csv_argv: garbage},
        library={"gputil": {"status": "ok", "gpus": [
            {"id": 0, "uuid": "GPU-77", "name": "NVIDIA GeForce RTX 3060", "driver": "560.35.03",
             "serial": "[N/A]", "memory_total_mib": 12288.0, "memory_used_mib": 3.0,
             "temperature_c": 40.0, "load": 0.0}]}},
    )
    outcome = ok(run(gpu_nvidia.probe, _replay_spec(tmp_path, spec)))
    assert outcome.source == "gputil"
    (gpu,) = outcome.sections["gpus"]
    assert (gpu.name, gpu.memory_total_mib, gpu.serial, gpu.architecture) == (
        "NVIDIA GeForce RTX 3060",
        12288,
        None,
        "Ampere",
    )
    assert outcome.sections["runtimes"].nvidia_driver == "560.35.03"


def test_nvml_with_no_devices_spawns_nothing(tmp_path: Path) -> None:
    nvml = {"system": {"nvmlDeviceGetCount": 0, "nvmlSystemGetDriverVersion": "560.35.03",
                       "nvmlSystemGetCudaDriverVersion_v2": 12060}, "devices": []}
    runner = _replay_spec(tmp_path, _spec(nvml=nvml))
    outcome = run(gpu_nvidia.probe, runner)
    assert isinstance(outcome, Outcome) and outcome.status == "absent"
    assert "NVML reports no GPUs" in (outcome.detail or "")
    assert "cmd" not in runner.ops() and "library" not in runner.ops()


def test_nvidia_smi_not_found_after_proc_says_driver(tmp_path: Path) -> None:
    runner = _replay_spec(tmp_path, _spec(which={}))
    outcome = run(gpu_nvidia.probe, runner)
    assert isinstance(outcome, Outcome) and outcome.status == "absent"
    assert "nvidia-smi not found" in (outcome.detail or "")
    assert outcome.sections["runtimes"].nvidia_driver == "560.35.03"
    assert "cmd" not in runner.ops()


def test_permission_problems_are_reported_as_such(tmp_path: Path) -> None:
    denied = {"status": "ok", "returncode": 4, "stderr": "",
              "stdout": "Failed to initialize NVML: Insufficient Permissions\n"}
    nvml = {"failure": {"status": "permission", "detail": "NVML: insufficient permissions"}}
    runner = _replay_spec(
        tmp_path, _spec(nvml=nvml, cmds={("/usr/bin/nvidia-smi", "-q", "-x"): denied})
    )
    outcome = run(gpu_nvidia.probe, runner)
    assert isinstance(outcome, Outcome)
    assert outcome.status == "permission"


def test_record_mode_also_records_nvidia_smi_xml(tmp_path: Path) -> None:
    spec = _hosts()["nvidia-a100-mig-nvml"]
    runner = SpecRunner(tmp_path / "rec", spec)
    outcome = ok(run(gpu_nvidia.probe, runner))
    assert outcome.source == "nvml"
    recorded = [json.loads(p.read_text()) for p in (tmp_path / "rec").glob("cmd-*.json")]
    assert [r["key"]["argv"][1:] for r in recorded] == [["-q", "-x"]]


# ----------------------------------------------------------- NVML vs nvidia-smi agreement


def assert_sources_agree(folder: Path) -> None:
    """NVML (the probe's answer) and nvidia-smi -q -x (also in the recording) agree."""
    runner = ReplayRunner(folder)
    outcome = ok(run(gpu_nvidia.probe, runner))
    assert outcome.source == "nvml"
    from_nvml: list[Gpu] = outcome.sections["gpus"]
    smi = runner.which("nvidia-smi")
    assert smi, "the recording has no nvidia-smi path"
    result = runner.run([smi, "-q", "-x"])
    assert result.succeeded, result.describe()
    from_smi = parse_xml(result.stdout).gpus
    assert len(from_nvml) == len(from_smi)
    for a, b in zip(from_nvml, from_smi, strict=True):
        assert a.name == b.name
        assert a.uuid == b.uuid
        assert normalize_bus_id(a.pci_bus_id or "") == normalize_bus_id(b.pci_bus_id or "")
        assert a.driver_version == b.driver_version
        assert a.memory_total_mib and b.memory_total_mib
        assert abs(a.memory_total_mib - b.memory_total_mib) <= 0.01 * b.memory_total_mib
        if a.architecture and b.architecture:
            assert a.architecture == b.architecture


@pytest.mark.parametrize("name", ["nvidia-a100-mig-nvml", "nvidia-gtx1080-470-nvml"])
def test_nvml_and_nvidia_smi_agree_on_recorded_hosts(name: str) -> None:
    assert_sources_agree(HOSTS / name)


@pytest.mark.parametrize("folder", REAL_HOSTS, ids=lambda p: p.name)
def test_nvml_and_nvidia_smi_agree_on_real_recordings(folder: Path) -> None:
    """A real GPU host recorded with ``envstamp capture --raw`` (committed by the lead)."""
    assert_sources_agree(folder)
    state = ok(run(gpu_nvidia.state, ReplayRunner(folder)))
    assert state.sections["volatile"].gpus


# ------------------------------------------------------------------ whole captures


@pytest.mark.parametrize("name", NVIDIA_HOSTS)
def test_capture_on_recorded_hosts_gives_schema_valid_manifests(name: str) -> None:
    import jsonschema

    from envstamp.capturing.capture import capture
    from envstamp.manifest.serialize import unstructure

    manifest = capture(replay=str(HOSTS / name))
    data = unstructure(manifest)
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "manifest.v1.schema.json")
                        .read_text())
    jsonschema.validate(data, schema)
    record = next(p for p in manifest.probes if p.name == "gpu_nvidia")
    state = next(p for p in manifest.probes if p.name == "gpu_nvidia_state")
    expected = {
        "nvidia-a100-mig-nvml": ("ok", 2),
        "nvidia-gtx1080-470-nvml": ("ok", 1),
        "nvidia-rtx4090x2-windows-no-nvml": ("ok", 2),
        "nvidia-t4-450-csv-fallback": ("ok", 1),
        "nvidia-driver-not-loaded": ("absent", 0),
        "nvidia-smi-hangs": ("timeout", 0),
        "nvidia-none": ("absent", 0),
    }[name]
    nvidia = [g for g in manifest.gpus if g.vendor == "nvidia"]
    assert (record.status, len(nvidia)) == expected
    assert state.status == ("ok" if expected[0] == "ok" else expected[0])
    if nvidia:
        assert manifest.runtimes.nvidia_driver == nvidia[0].driver_version
        assert len(manifest.volatile.gpus) >= len(nvidia)


# ----------------------------------------------------------------------- live machine


def _nvidia_here() -> bool:
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def test_live_probe_without_nvidia_loads_nothing() -> None:
    """On a machine without NVIDIA: absent, and neither pynvml nor a process is touched."""
    if _nvidia_here():
        pytest.skip("this machine has an NVIDIA driver; the GPU-less path cannot be observed")
    code = (
        "import sys\n"
        "from envstamp.capturing.capture import CaptureOptions\n"
        "from envstamp.probes.context import ProbeContext, ProbeFailure\n"
        "from envstamp.probes.gpu import nvidia as gpu_nvidia\n"
        "from envstamp.runner import LiveRunner\n"
        "ctx = ProbeContext(runner=LiveRunner(), options=CaptureOptions())\n"
        "for probe in (gpu_nvidia.probe, gpu_nvidia.state):\n"
        "    try:\n"
        "        probe(ctx)\n"
        "        sys.exit('probe did not fail')\n"
        "    except ProbeFailure as failure:\n"
        "        assert failure.status == 'absent', failure.status\n"
        "assert 'pynvml' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.gpu
def test_live_nvidia_gpu() -> None:
    """On a GPU host: NVML answers, agrees with nvidia-smi, and the state probe reads it."""
    if not _nvidia_here():
        pytest.skip("no NVIDIA driver on this machine")
    runner = LiveRunner(command_timeout=30)
    outcome = ok(run(gpu_nvidia.probe, runner))
    gpus: list[Gpu] = outcome.sections["gpus"]
    assert gpus and all(g.name and g.uuid and g.memory_total_mib for g in gpus)
    assert outcome.sections["runtimes"].nvidia_driver
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        xml = subprocess.run([smi, "-q", "-x"], capture_output=True, text=True, timeout=60,
                             check=True, env={**os.environ, "LC_ALL": "C"})
        from_smi = parse_xml(xml.stdout).gpus
        assert [g.uuid for g in gpus] == [g.uuid for g in from_smi]
        assert [g.driver_version for g in gpus] == [g.driver_version for g in from_smi]
    state = ok(run(gpu_nvidia.state, runner))
    assert len(state.sections["volatile"].gpus) == len(gpus)


# ------------------------------------------------------- the live runner's NVML seam


def _stand_in_pynvml() -> Any:
    """A pynvml look-alike: real nvidia-ml-py structure types, canned values, real errors."""
    import types

    import pynvml as real

    fake = types.ModuleType("pynvml")

    class NVMLError(Exception):
        pass

    def unsupported(*_args: Any) -> Any:
        raise NVMLError("Not Supported")

    memory = real.c_nvmlMemory_t(total=24564 << 20, free=22688 << 20, used=1876 << 20)
    pci = real.nvmlPciInfo_t(busId=b"00000000:01:00.0", busIdLegacy=b"0000:01:00.0",
                             pciDeviceId=0x268410DE)
    utilization = real.c_nvmlUtilization_t(gpu=12, memory=4)
    values: dict[str, Any] = {
        "nvmlInit": lambda: None,
        "nvmlDeviceGetCount": lambda: 1,
        "nvmlDeviceGetHandleByIndex": lambda index: f"handle-{index}",
        "nvmlSystemGetDriverVersion": lambda: "560.35.03",
        "nvmlSystemGetCudaDriverVersion_v2": lambda: 12060,
        "nvmlDeviceGetName": lambda h: "NVIDIA GeForce RTX 4090",
        "nvmlDeviceGetUUID": lambda h: "GPU-5e27c0b8-d419-6f3a-8c21-0b9e4d7a31f6",
        "nvmlDeviceGetSerial": unsupported,
        "nvmlDeviceGetPciInfo": lambda h: pci,
        "nvmlDeviceGetMemoryInfo": lambda h: memory,
        "nvmlDeviceGetCudaComputeCapability": lambda h: (8, 9),
        "nvmlDeviceGetArchitecture": lambda h: 8,
        "nvmlDeviceGetPowerManagementLimit": lambda h: 450000,
        "nvmlDeviceGetPowerManagementLimitConstraints": lambda h: (150000, 600000),
        "nvmlDeviceGetMaxPcieLinkGeneration": lambda h: 4,
        "nvmlDeviceGetCurrPcieLinkGeneration": lambda h: 1,
        "nvmlDeviceGetMigMode": unsupported,
        "nvmlDeviceGetUtilizationRates": lambda h: utilization,
        "nvmlDeviceGetPerformanceState": lambda h: 8,
        "nvmlDeviceGetCurrentClocksEventReasons": lambda h: 0x4,
        "nvmlDeviceGetComputeRunningProcesses": lambda h: [],
    }
    for name, value in values.items():
        setattr(fake, name, value)
    fake.NVMLError = NVMLError  # type: ignore[attr-defined]
    for name in ("LibraryNotFound", "DriverNotLoaded", "NoPermission"):
        setattr(fake, f"NVMLError_{name}", type(name, (NVMLError,), {}))
    return fake


def test_live_runner_nvml_seam_with_a_stand_in_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NVML answers through the live runner; nvidia-smi exists but must not be spawned."""
    from envstamp.runner import nvml as runner_nvml

    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho spawned >> \"$0.log\"\nexit 3\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setitem(sys.modules, "pynvml", _stand_in_pynvml())
    runner_nvml.forget()  # NVML is loaded anew: from the stand-in
    monkeypatch.setattr(gpu_nvidia, "PROC_VERSION", str(tmp_path / "no-proc-file"))
    live = LiveRunner()
    outcome = ok(run(gpu_nvidia.probe, live))
    (gpu,) = outcome.sections["gpus"]
    assert (gpu.name, gpu.pci_bus_id, gpu.pci_device_id) == (
        "NVIDIA GeForce RTX 4090",
        "00000000:01:00.0",
        "0x10de:0x2684",
    )
    assert (gpu.memory_total_mib, gpu.compute_capability, gpu.architecture) == (
        24564,
        "8.9",
        "Ada Lovelace",
    )
    assert (gpu.power_limit_w, gpu.power_max_limit_w, gpu.pcie_gen_current) == (450.0, 600.0, 1)
    assert (gpu.serial, gpu.mig_mode, gpu.vbios_version) == (None, None, None)
    assert outcome.sections["runtimes"].cuda_driver == "12.6"
    state = ok(run(gpu_nvidia.state, live))
    (reading,) = state.sections["volatile"].gpus
    assert (reading.memory_used_mib, reading.utilization_gpu_pct, reading.pstate) == (
        1876,
        12.0,
        "P8",
    )
    assert (reading.throttle_reasons, reading.process_count) == (["sw_power_cap"], 0)
    assert not (tmp_path / "nvidia-smi.log").exists()
