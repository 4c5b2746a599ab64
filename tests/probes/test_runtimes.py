"""The runtimes probe: recorded hosts, tools run only where files say nothing, live (the
version files' parsers: tests/parsers/test_runtime_versions.py)."""

from __future__ import annotations

from pathlib import Path

from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.probes.gpu.runtimes import probe
from envstamp.runner import LiveRunner
from tests.gpu_support import SpecRunner, asked, bare_linux_host, replay, run_probe

RUNTIMES = Path(__file__).parents[1] / "fixtures" / "runtimes"


def read(name: str) -> str:
    return (RUNTIMES / name).read_text(encoding="utf-8")


def test_amd_host_runtimes() -> None:
    outcome = replay("amd-rocm-rx7900xtx", "runtimes")
    runtimes = outcome.sections["runtimes"]
    assert (runtimes.rocm, runtimes.hip) == ("6.2.1-112", "6.2.41134-65d174c3e")
    assert runtimes.vulkan_instance == "1.3.275"
    assert runtimes.cuda_toolkit is None
    assert outcome.source is not None and "rocm: /opt/rocm/.info/version" in outcome.source


def test_nvidia_host_runtimes_with_debian_cudnn_header() -> None:
    runtimes = replay("amd-sysfs-rx6600-nvidia", "runtimes").sections["runtimes"]
    assert (runtimes.cuda_toolkit, runtimes.cudnn) == ("12.4.1", "9.3.0")
    assert runtimes.vulkan_instance == "1.3.239"


def test_windows_host_runtimes_from_cuda_path() -> None:
    outcome = replay("windows-rtx4090-uhd770", "runtimes")
    assert outcome.sections["runtimes"].cuda_toolkit == "12.6.2"
    assert outcome.source is not None and "v12.6\\version.json" in outcome.source


def test_oneapi_and_mac_loader() -> None:
    assert replay("intel-arc-a770-linux", "runtimes").sections["runtimes"].oneapi == "2024.2"
    assert replay("apple-m3-max", "runtimes").sections["runtimes"].vulkan_instance == "1.3.290"


def test_nvcc_runs_only_without_version_files(tmp_path: Path) -> None:
    spec = bare_linux_host()
    spec.dirs["/usr/local/cuda"] = ["bin"]
    spec.files["/usr/local/cuda/bin/nvcc"] = ""
    spec.files["/usr/lib/x86_64-linux-gnu/libcudnn.so.8"] = ""
    spec.links["/usr/lib/x86_64-linux-gnu/libcudnn.so.8"] = (
        "/usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.7"
    )
    spec.commands[("/usr/local/cuda/bin/nvcc", "--version")] = read("nvcc-12.1.txt")
    outcome = run_probe(SpecRunner(tmp_path, spec), "runtimes")
    runtimes = outcome.sections["runtimes"]
    assert (runtimes.cuda_toolkit, runtimes.cudnn) == ("12.1.105", "8.9.7")
    assert asked(tmp_path).count("cmd") == 1


def test_hipconfig_runs_only_where_rocm_is(tmp_path: Path) -> None:
    spec = bare_linux_host()
    spec.dirs["/opt/rocm-6.1.2"] = ["bin"]
    spec.dirs["/opt/rocm"] = ["bin"]
    spec.links["/opt/rocm"] = "/opt/rocm-6.1.2"
    spec.files["/opt/rocm/bin/hipconfig"] = ""
    spec.commands[("/opt/rocm/bin/hipconfig", "--version")] = read("hipconfig-version.txt")
    runtimes = run_probe(SpecRunner(tmp_path, spec), "runtimes").sections["runtimes"]
    assert (runtimes.rocm, runtimes.hip) == ("6.1.2", "6.1.40093-bd86f1708")


def test_nothing_installed_spawns_nothing(tmp_path: Path) -> None:
    spec = bare_linux_host()
    spec.which["hipconfig"] = "/usr/bin/hipconfig"  # no ROCm folder: never run
    outcome = run_probe(SpecRunner(tmp_path, spec), "runtimes")
    assert outcome.status == "absent"
    assert "cmd" not in asked(tmp_path)


def test_setvars_environment_wins_for_oneapi(tmp_path: Path) -> None:
    spec = bare_linux_host()
    spec.env["CMPLR_ROOT"] = "/opt/intel/oneapi/compiler/2025.0"
    runtimes = run_probe(SpecRunner(tmp_path, spec), "runtimes").sections["runtimes"]
    assert runtimes.oneapi == "2025.0"


def test_live_probe_returns_or_fails_cleanly() -> None:
    """On whatever machine runs the tests: an Outcome, or a ProbeFailure, nothing else."""
    ctx = ProbeContext(runner=LiveRunner(), options=CaptureOptions())
    try:
        outcome = probe(ctx)
    except ProbeFailure as failure:
        assert failure.status in ("absent", "error", "timeout", "permission")
        return
    runtimes = outcome.sections["runtimes"]
    assert any(getattr(runtimes, name) for name in ("cuda_toolkit", "cudnn", "rocm", "hip",
                                                     "vulkan_instance", "oneapi"))
