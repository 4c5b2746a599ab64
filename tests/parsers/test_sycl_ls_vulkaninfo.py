"""The cross-vendor tools the Intel probe runs: sycl-ls and vulkaninfo (the probe:
tests/probes/test_gpu_intel.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.kinds import parse_to_data
from envstamp.parsers.sycl_ls import parse_line, parse_sycl_ls
from envstamp.parsers.vulkaninfo import parse_vulkaninfo

INTEL = Path(__file__).parents[1] / "fixtures" / "intel"


def read(name: str) -> str:
    return (INTEL / name).read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- sycl-ls


def test_sycl_ls_arc_a770_each_gpu_once() -> None:
    sections = parse_sycl_ls(read("sycl-ls-arc-a770-uhd770.txt"))
    arc, uhd = sections["gpus"]  # Level Zero's lines; the OpenCL duplicates and the CPU dropped
    assert (arc.vendor, arc.name, arc.index) == ("intel", "Intel(R) Arc(TM) A770 Graphics", 0)
    assert arc.driver_version == "1.3.29138"
    assert uhd.name == "Intel(R) UHD Graphics 770"
    assert sections["runtimes"].opencl == "3.0"


def test_sycl_ls_old_line_form_with_embedded_device_id() -> None:
    sections = parse_sycl_ls(read("sycl-ls-old-iris-xe.txt"))
    (gpu,) = sections["gpus"]
    assert gpu.name == "Intel(R) Graphics [0x9a49]"
    assert gpu.pci_device_id == "0x8086:0x9a49"
    assert gpu.driver_version == "1.3.24595"


def test_sycl_ls_cuda_and_hip_plugins() -> None:
    found = parse_sycl_ls(read("sycl-ls-cuda-plugin.txt"))["gpus"]
    assert [g.vendor for g in found] == ["nvidia", "nvidia", "amd"]
    assert found[0].compute_capability == "8.6"
    assert found[0].cuda_version == "12.4"
    assert found[0].driver_version is None
    assert found[2].architecture == "gfx1100"


def test_sycl_ls_cpu_only_lists_no_gpu_but_the_opencl_version() -> None:
    sections = parse_sycl_ls(read("sycl-ls-cpu-only-ryzen.txt"))
    assert sections["gpus"] == []
    assert sections["runtimes"].opencl == "2.1"
    data = parse_to_data("sycl-ls", read("sycl-ls-cpu-only-ryzen.txt"))
    assert data["gpus"] == []


def test_sycl_ls_line_parts() -> None:
    device = parse_line(
        "[opencl:gpu][opencl:1] Intel(R) OpenCL Graphics, Intel(R) Arc(TM) B580 Graphics "
        "OpenCL 3.0 NEO  [24.52.32224.5]"
    )
    assert device is not None
    assert (device.backend, device.type, device.index) == ("opencl", "gpu", 1)
    assert device.name == "Intel(R) Arc(TM) B580 Graphics"
    assert device.version == "OpenCL 3.0 NEO"
    assert device.driver == "24.52.32224.5"
    assert parse_line("Warning: something") is None


@pytest.mark.parametrize(
    "text", ["", "\n\n", "No platforms found.", "\x00\x01\xfe", read("vulkaninfo-no-driver.txt")]
)
def test_sycl_ls_refuses_other_output(text: str) -> None:
    with pytest.raises(ParseError):
        parse_sycl_ls(text)


# -------------------------------------------------------------------------- vulkaninfo


def test_vulkaninfo_radv_with_llvmpipe() -> None:
    sections = parse_vulkaninfo(read("vulkaninfo-radv-llvmpipe.txt"))
    (gpu,) = sections["gpus"]  # llvmpipe is a CPU device
    assert (gpu.vendor, gpu.name) == ("amd", "AMD Radeon RX 7900 XTX (RADV NAVI31)")
    assert gpu.driver_version == "Mesa 24.0.5-1ubuntu1"
    assert gpu.pci_device_id == "0x1002:0x744c"
    assert gpu.unified_memory is False
    assert sections["runtimes"].vulkan_instance == "1.3.275"


def test_vulkaninfo_arc_and_nvidia() -> None:
    arc, nvidia, igpu = parse_vulkaninfo(read("vulkaninfo-arc-nvidia.txt"))["gpus"]
    assert arc.pci_device_id == "0x8086:0x56a0"
    assert nvidia.driver_version == "560.35.03"
    assert (igpu.unified_memory, igpu.index) == (True, 2)


def test_vulkaninfo_full_output_shape() -> None:
    text = (
        "Vulkan Instance Version: 1.2.131\n\nDevice Properties and Extensions:\n"
        "==================================\nGPU0:\nVkPhysicalDeviceProperties:\n"
        "---------------------------\n\tapiVersion     = 4202641 (1.2.145)\n"
        "\tdriverVersion  = 2030026752 (0x78ff4000)\n\tvendorID       = 0x10de\n"
        "\tdeviceID       = 0x1e87\n\tdeviceType     = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU\n"
        "\tdeviceName     = GeForce RTX 2080\n"
    )
    (gpu,) = parse_vulkaninfo(text)["gpus"]
    assert gpu.name == "GeForce RTX 2080"
    assert gpu.vendor == "nvidia"
    assert gpu.driver_version is None  # a raw packed number is not a version


def test_vulkaninfo_1_1_header_without_colon() -> None:
    text = "Vulkan Instance Version: 1.1.73\n\nGPU0\nVkPhysicalDeviceProperties:\n" \
        "\tvendorID = 0x8086\n\tdeviceID = 0x5912\n\tdeviceName = Intel(R) HD Graphics 630\n"
    (gpu,) = parse_vulkaninfo(text)["gpus"]
    assert (gpu.name, gpu.pci_device_id) == ("Intel(R) HD Graphics 630", "0x8086:0x5912")


@pytest.mark.parametrize(
    "text",
    ["", "\x00\x01\xfe", read("vulkaninfo-no-driver.txt"), read("sycl-ls-arc-a770-uhd770.txt")],
)
def test_vulkaninfo_refuses_other_output(text: str) -> None:
    with pytest.raises(ParseError):
        parse_vulkaninfo(text)


def test_vulkaninfo_kind_fragment() -> None:
    data = parse_to_data("vulkaninfo", read("vulkaninfo-radv-llvmpipe.txt"))
    assert data["runtimes"]["vulkan_instance"] == "1.3.275"
    assert len(data["gpus"]) == 1


# ------------------------------------------------------------------------------- probe


# -------------------------------------------------------------------------- properties

sycl_lines = st.lists(
    st.builds(
        lambda b, t, rest: f"[{b}:{t}][{b}:0] {rest}",
        st.sampled_from(["level_zero", "opencl", "cuda", "hip", "x"]),
        st.sampled_from(["gpu", "cpu", "acc"]),
        st.text(max_size=40),
    )
    | st.text(max_size=40),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(sycl_lines)
def test_sycl_ls_raises_only_parse_error(lines: list[str]) -> None:
    with contextlib.suppress(ParseError):
        parse_sycl_ls("\n".join(lines))


vulkan_lines = st.lists(
    st.sampled_from(["GPU0:", "GPU1:", "Vulkan Instance Version: 1.3.1", ""])
    | st.builds(
        lambda k, v: f"\t{k} = {v}",
        st.sampled_from(["deviceName", "vendorID", "deviceID", "deviceType", "driverInfo",
                         "driverVersion", "driverName"]),
        st.text(max_size=20),
    )
    | st.text(max_size=30),
    max_size=15,
)


@settings(max_examples=300, deadline=None)
@given(vulkan_lines)
def test_vulkaninfo_raises_only_parse_error(lines: list[str]) -> None:
    with contextlib.suppress(ParseError):
        parse_vulkaninfo("\n".join(lines))
