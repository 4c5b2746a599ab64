"""The hand-made GPU hosts: fresh recordings, schema-valid captures, one GPU list per machine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from envstamp.capturing.assembly import assemble
from envstamp.capturing.capture import capture
from envstamp.manifest.model import Gpu
from envstamp.manifest.serialize import unstructure
from envstamp.output.render import to_text
from envstamp.probes.context import Outcome
from envstamp.probes.registry import PROBES
from tests.gpu_support import HOSTS, MY_PROBES, SPECS, HostSpec, record, replay

SCHEMA = Path(__file__).parents[2] / "schemas" / "manifest.v1.schema.json"
OTHERS = frozenset(spec.name for spec in PROBES if spec.name not in MY_PROBES)
HOST_NAMES = [make().name for make in SPECS]


@pytest.mark.parametrize("make", SPECS, ids=HOST_NAMES)
def test_gpu_hosts_are_fresh(make: Callable[[], HostSpec], tmp_path: Path) -> None:
    """The committed recording is what the probes ask today (else: python tests/gpu_support.py)."""
    spec = make()
    record(spec, tmp_path / spec.name)
    fresh = {p.name: p.read_text() for p in (tmp_path / spec.name).iterdir()}
    committed = {p.name: p.read_text() for p in (HOSTS / spec.name).iterdir()}
    assert sorted(fresh) == sorted(committed)
    assert fresh == committed


@pytest.mark.parametrize("host", HOST_NAMES)
def test_capture_on_recorded_host_is_schema_valid(host: str) -> None:
    manifest = capture(replay=str(HOSTS / host), skip=OTHERS)
    data = unstructure(manifest)
    jsonschema.validate(data, json.loads(SCHEMA.read_text(encoding="utf-8")))
    records = {r.name: r for r in manifest.probes}
    assert all(records[name].status in ("ok", "absent", "unsupported") for name in MY_PROBES)
    assert manifest.gpus, "every GPU host lists its GPUs"
    assert all(g.vendor and g.source for g in manifest.gpus)


def test_capture_fills_manifest_and_show_line() -> None:
    manifest = capture(replay=str(HOSTS / "amd-rocm-rx7900xtx"), skip=OTHERS)
    assert manifest.runtimes.rocm == "6.2.1-112"
    assert [g.architecture for g in manifest.gpus] == ["gfx1100", "gfx1036"]
    text = to_text(manifest)
    assert "Radeon RX 7900 XTX" in text
    assert "24 GiB" in text or "24560 MiB" in text or "24.0 GiB" in text


def test_nvidia_and_amd_on_one_machine_list_both() -> None:
    """The NVIDIA probe's entry (as NVML gives it) and the AMD probe's, merged in one list."""
    nvidia = Gpu(index=0, vendor="nvidia", name="NVIDIA GeForce RTX 3060",
                 uuid="GPU-0f2e4c6a-8b1d-4e3f-9a7c-5d6e7f8091a2",
                 pci_bus_id="00000000:01:00.0", memory_total_mib=12288, source="nvml")
    amd = replay("amd-sysfs-rx6600-nvidia", "gpu_amd")
    runtimes = replay("amd-sysfs-rx6600-nvidia", "runtimes")
    merged = assemble([Outcome({"gpus": [nvidia]}), amd, runtimes])
    assert [(g.vendor, g.pci_bus_id) for g in merged["gpus"]] == [
        ("nvidia", "00000000:01:00.0"),
        ("amd", "0000:08:00.0"),
    ]
    assert merged["runtimes"].cuda_toolkit == "12.4.1"


def test_windows_host_lists_nvidia_and_intel() -> None:
    manifest = capture(replay=str(HOSTS / "windows-rtx4090-uhd770"), skip=OTHERS)
    assert [g.vendor for g in manifest.gpus] == ["nvidia", "intel"]
    assert manifest.runtimes.vulkan_instance == "1.3.280"
    assert manifest.runtimes.cuda_toolkit == "12.6.2"
