"""A real NVIDIA H200 host, recorded on a lent GPU machine (tests/gpu_host_check.sh).

Every nvidia-smi format it printed, and the NVML answers, must tell the same story: the values
below were read off that machine by eye, not produced by the parsers under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from envstamp.capturing.capture import capture
from envstamp.parsers.kinds import parser_for
from envstamp.probes.gpu.consolidate import normalize_bus_id

HERE = Path(__file__).parents[1]
SMI = HERE / "fixtures" / "nvidia" / "real-h200-580"
HOST = HERE / "fixtures" / "hosts" / "real-h200-580"

TRUTH = {
    "name": "NVIDIA H200",
    "uuid": "GPU-5eed0000-0000-4000-8000-000000002000",
    "pci_bus_id": "0000:00:06.0",
    "memory_total_mib": 143771,
    "driver_version": "580.159.04",
    "cuda_version": "13.0",
    "power_limit_w": 700.0,
}
FULL = {
    **TRUTH,
    "serial": "1650000000000",
    "architecture": "Hopper",
    "vbios_version": "96.00.A5.00.1A",
    "power_default_limit_w": 700.0,
    "power_max_limit_w": 700.0,
    "clocks_max_graphics_mhz": 1980,
    "clocks_max_memory_mhz": 3201,
    "pcie_gen_max": 5,
    "pcie_width_max": 16,
    "persistence_mode": True,
    "mig_mode": False,
    "ecc_enabled": True,
}

# kind -> fields that format carries
FORMATS = {
    ("nvidia-smi-xml", "q-x.xml"): FULL,
    ("nvidia-smi-q", "q.txt"): {k: v for k, v in FULL.items() if k != "compute_capability"},
    ("nvidia-smi-csv", "query-gpu.csv"): {
        **{k: v for k, v in FULL.items() if k not in ("architecture", "cuda_version")},
        "compute_capability": "9.0",
    },
    ("nvidia-smi-table", "table.txt"): {
        k: TRUTH[k] for k in ("name", "memory_total_mib", "driver_version", "cuda_version")
    }
    | {"persistence_mode": True, "mig_mode": False, "power_limit_w": 700.0},
    ("nvidia-smi-list", "L.txt"): {"name": "NVIDIA H200", "uuid": TRUTH["uuid"]},
}


def _value(gpu: object, field: str) -> object:
    value = getattr(gpu, field)
    return normalize_bus_id(value) if field == "pci_bus_id" and value else value


@pytest.mark.parametrize(("kind", "file"), list(FORMATS), ids=[k for k, _ in FORMATS])
def test_every_nvidia_smi_format_of_the_real_host(kind: str, file: str) -> None:
    sections = parser_for(kind)((SMI / file).read_text(encoding="utf-8"))
    (gpu,) = sections["gpus"]
    for field, expected in FORMATS[(kind, file)].items():
        assert _value(gpu, field) == expected, field
    assert gpu.vendor == "nvidia"


def test_version_of_the_real_host() -> None:
    runtimes = parser_for("nvidia-smi-version")((SMI / "version.txt").read_text())["runtimes"]
    assert (runtimes.nvidia_driver, runtimes.cuda_driver) == ("580.159.04", "13.0")


def test_capture_replayed_from_nvml_matches_the_machine() -> None:
    manifest = capture(replay=str(HOST), skip=_non_nvidia_probes())
    (gpu,) = manifest.gpus
    assert gpu.source == "nvml"
    for field, expected in FULL.items():
        assert _value(gpu, field) == expected, field
    assert gpu.compute_capability == "9.0"
    assert manifest.runtimes.nvidia_driver == "580.159.04"
    assert manifest.runtimes.cuda_driver == "13.0"
    (state,) = manifest.volatile.gpus
    assert state.temperature_c is not None and 10 <= state.temperature_c <= 100
    assert state.pstate == "P0"
    records = {r.name: r.status for r in manifest.probes}
    assert records["gpu_nvidia"] == "ok" and records["gpu_nvidia_state"] == "ok"


def _non_nvidia_probes() -> set[str]:
    from envstamp.probes.registry import PROBES

    return {s.name for s in PROBES if not s.name.startswith("gpu_nvidia")}
