"""Record a real NVIDIA host for the tests: only what the gpu_nvidia probes ask, nothing else.

Run on a machine with an NVIDIA GPU (the recording runner also runs ``nvidia-smi -q -x`` when
NVML answers, so the folder carries both sources and ``tests/probes/test_gpu_nvidia.py`` can check
that they agree):

    python tests/record_nvidia_host.py tests/fixtures/hosts/real-h100-<driver>

The platform answer is trimmed to what the probes use, so no host name, home folder or
interpreter path of the recording machine ends up in the fixture.  Prints what was found and
exits 1 unless the probe answered from NVML and nvidia-smi agrees with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from envstamp.manifest.model import Gpu
from envstamp.parsers.nvidia_smi import parse_xml
from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.probes.gpu import nvidia as gpu_nvidia
from envstamp.probes.gpu.consolidate import normalize_bus_id
from envstamp.runner import RecordingRunner, ReplayRunner

KEEP = ("system", "release", "machine", "python_version", "python_implementation", "cpu_count")


def trim_platform(folder: Path) -> None:
    """Keep only the platform facts the probes read."""
    for path in folder.glob("platform-*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        record["answer"] = {k: v for k, v in record["answer"].items() if k in KEEP}
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    folder = Path(argv[0])
    runner = RecordingRunner(folder, command_timeout=30.0)
    ctx = ProbeContext(runner=runner, options=CaptureOptions())
    outcomes = {}
    failed = False
    for probe in (gpu_nvidia.probe, gpu_nvidia.state):
        try:
            outcomes[probe.__name__] = probe(ctx)
        except ProbeFailure as failure:
            print(f"{probe.__name__}: {failure.status}: {failure.detail}")
            failed = True
    trim_platform(folder)
    if failed:
        return 1
    static = outcomes["probe"]
    print(f"probe: {static.status} from {static.source}; detail: {static.detail}")
    for gpu in static.sections.get("gpus", []):
        print(f"  {gpu.index}: {gpu.name} {gpu.memory_total_mib} MiB driver {gpu.driver_version}"
              f" CUDA {gpu.cuda_version} cc {gpu.compute_capability} {gpu.architecture}")
    if static.source != "nvml":
        print("NVML did not answer: the recording cannot show that the sources agree")
        return 1
    return check_agreement(folder, static.sections["gpus"])


def check_agreement(folder: Path, from_nvml: list[Gpu]) -> int:
    replay = ReplayRunner(folder)
    smi = replay.which("nvidia-smi")
    if smi is None:
        print("nvidia-smi was not found: the recording has NVML only")
        return 1
    result = replay.run([smi, "-q", "-x"])
    from_smi = parse_xml(result.stdout).gpus
    same = len(from_smi) == len(from_nvml) and all(
        a.uuid == b.uuid
        and a.name == b.name
        and normalize_bus_id(a.pci_bus_id or "") == normalize_bus_id(b.pci_bus_id or "")
        for a, b in zip(from_nvml, from_smi, strict=False)
    )
    print("NVML and nvidia-smi -q -x agree" if same else "NVML and nvidia-smi DISAGREE")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
