"""The NVIDIA kernel module's version from /proc/driver/nvidia/version, and what nvidia-smi's own
words say when it failed (the driver not loaded, no devices, permissions)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from envstamp.parsers.nvidia_proc import parse_proc_version
from envstamp.parsers.nvidia_values import smi_failure

HOSTS = Path(__file__).parents[1] / "fixtures" / "hosts"


def answer(host: str, prefix: str) -> dict[str, object]:
    """The runner's answer a recorded host holds for the one file named ``prefix*``."""
    (path,) = (HOSTS / host).glob(prefix + "*.json")
    found: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))["answer"]
    return found


def test_open_kernel_module_of_a_real_h200() -> None:
    # Recorded on a real machine: "NVIDIA UNIX Open Kernel Module for x86_64  580.159.04"
    text = str(answer("real-h200-580", "file-proc_driver_nvidia_version-")["text"])
    assert parse_proc_version(text) == "580.159.04"


def test_proprietary_module_lines() -> None:
    text = str(answer("nvidia-t4-450-csv-fallback", "file-proc_driver_nvidia_version-")["text"])
    assert parse_proc_version(text) == "450.80.02"
    assert parse_proc_version("NVRM version: NVIDIA UNIX Kernel Module  535.54\n") == "535.54"


def test_no_module_line_is_unknown() -> None:
    assert parse_proc_version("") is None
    assert parse_proc_version("GCC version:  gcc version 12.3.0\n") is None


def test_driver_not_loaded_is_absent() -> None:
    stdout = str(answer("nvidia-driver-not-loaded", "cmd-nvidia-smi--q--x-")["stdout"])
    status, detail = smi_failure(stdout) or ("", "")
    assert status == "absent"
    assert detail.startswith("driver not loaded: NVIDIA-SMI has failed")


def test_no_devices_and_permissions() -> None:
    assert smi_failure("No devices were found\n") == (
        "absent",
        "nvidia-smi: No devices were found",
    )
    assert smi_failure("Unable to determine the device handle: Insufficient Permissions\n") == (
        "permission",
        "nvidia-smi: insufficient permissions",
    )
    assert smi_failure("GPU 0: NVIDIA H200 (UUID: GPU-x)\n") is None


@given(st.text(max_size=300))
def test_both_read_any_text(text: str) -> None:
    version = parse_proc_version(text)
    assert version is None or version[0].isdigit()
    failed = smi_failure(text)
    assert failed is None or failed[0] in ("absent", "permission")
