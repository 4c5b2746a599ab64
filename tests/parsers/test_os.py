"""The os probe's parsers: os-release, lsb-release, release lines, sw_vers, Windows values,
and the VM / container / WSL rules."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.kinds import parse_to_data
from envstamp.parsers.os_release import (
    codename_from_version,
    parse_lsb_release,
    parse_os_release,
    parse_release_line,
    unquote_value,
)
from envstamp.parsers.sw_vers import macos_codename, parse_sw_vers
from envstamp.parsers.virtualization import (
    container_from_cgroup,
    hypervisor_flag,
    is_wsl,
    virtualization_from,
)
from envstamp.parsers.windows_registry import windows_os

SAMPLES = Path(__file__).parents[1] / "fixtures" / "text" / "os-release"

# file -> (id, name, version, pretty, codename, like)
OS_RELEASE = {
    "ubuntu-22.04.os-release": (
        "ubuntu",
        "Ubuntu",
        "22.04",
        "Ubuntu 22.04.4 LTS",
        "jammy",
        ["debian"],
    ),
    "rocky-9.4.os-release": (
        "rocky",
        "Rocky Linux",
        "9.4",
        "Rocky Linux 9.4 (Blue Onyx)",
        "Blue Onyx",
        ["rhel", "centos", "fedora"],
    ),
    "opensuse-tumbleweed.os-release": (
        "opensuse-tumbleweed",
        "openSUSE Tumbleweed",
        "20240611",
        "openSUSE Tumbleweed",
        None,
        ["opensuse", "suse"],
    ),
    "alpine-3.19.os-release": (
        "alpine",
        "Alpine Linux",
        "3.19.1",
        "Alpine Linux v3.19",
        None,
        [],
    ),
    "amazon-linux-2023.os-release": (
        "amzn",
        "Amazon Linux",
        "2023",
        "Amazon Linux 2023.4.20240611",
        None,
        ["fedora"],
    ),
    "nixos-24.05.os-release": ("nixos", "NixOS", "24.05", "NixOS 24.05 (Uakari)", "uakari", []),
    "debian-sid.os-release": (
        "debian",
        "Debian GNU/Linux",
        None,
        "Debian GNU/Linux trixie/sid",
        "trixie",
        [],
    ),
    "escapes-derivative.os-release": (
        "benchos",
        'Bench "Lab" OS',
        "3.1",
        "Bench Lab OS 3.1",
        "Quiet $HOME, Fast `CPU`",
        ["ubuntu", "debian"],
    ),
}


@pytest.mark.parametrize("name", sorted(OS_RELEASE))
def test_os_release_samples(name: str) -> None:
    found = parse_os_release((SAMPLES / name).read_text(encoding="utf-8"))
    expected = OS_RELEASE[name]
    actual = (
        found.distro_id,
        found.distro_name,
        found.distro_version,
        found.distro_pretty,
        found.distro_codename,
        found.distro_like,
    )
    assert actual == expected


def test_os_release_kind_is_the_os_fragment() -> None:
    text = (SAMPLES / "rocky-9.4.os-release").read_text(encoding="utf-8")
    data = parse_to_data("os-release", text)
    assert list(data) == ["os"]
    assert data["os"]["distro_like"] == ["rhel", "centos", "fedora"]
    assert data["os"]["system"] is None  # os-release alone does not say which kernel


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ('"a b"', "a b"),
        ("'a \\\" b'", 'a \\" b'),  # single quotes: backslashes stay
        ('"say \\"hi\\" \\$x \\`y\\` \\\\"', 'say "hi" $x `y` \\'),
        ('"keep \\n as is"', "keep \\n as is"),  # only $ " \\ ` are escapable in "..."
        ("plain\\ words", "plain words"),
        ('"unterminated', "unterminated"),
        ("", ""),
    ],
)
def test_unquote_follows_the_spec(raw: str, value: str) -> None:
    assert unquote_value(raw) == value


def test_empty_values_are_unknown_and_pretty_is_composed() -> None:
    found = parse_os_release('NAME="Foo"\nID=foo\nVERSION="2 (Bar)"\nVERSION_CODENAME=""\n')
    assert found.distro_codename == "Bar"  # empty VERSION_CODENAME falls through
    assert found.distro_pretty == "Foo 2 (Bar)"
    assert found.distro_version is None


@pytest.mark.parametrize(
    ("version", "codename"),
    [
        ("7 (Core)", "Core"),
        ("14.04.6 LTS, Trusty Tahr", "Trusty Tahr"),
        ("24.04 LTS (Noble Numbat)", "Noble Numbat"),
        ("40", None),
        (None, None),
    ],
)
def test_codename_from_version(version: str | None, codename: str | None) -> None:
    assert codename_from_version(version) == codename


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n", "hello world", "PATH=/usr/bin\nHOME=/root\n", "\x00\xff\ufffd", "{}"],
)
def test_not_os_release_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_os_release(text)


def test_lsb_release_and_release_line_fallbacks() -> None:
    lsb = parse_lsb_release(
        'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=16.04\nDISTRIB_CODENAME=xenial\n'
        'DISTRIB_DESCRIPTION="Ubuntu 16.04.7 LTS"\n'
    )
    assert (lsb.distro_id, lsb.distro_version, lsb.distro_codename) == ("ubuntu", "16.04", "xenial")
    assert lsb.distro_pretty == "Ubuntu 16.04.7 LTS"
    line = parse_release_line("CentOS release 6.10 (Final)\n")
    assert (line.distro_id, line.distro_name, line.distro_version) == ("centos", "CentOS", "6.10")
    assert line.distro_codename == "Final"
    with pytest.raises(ParseError):
        parse_release_line("no version here\n")
    with pytest.raises(ParseError):
        parse_lsb_release("DISTRIB_RELEASE=1\n")


@pytest.mark.parametrize(
    ("vendor", "product", "flag", "expected"),
    [
        ("QEMU", "Standard PC (Q35 + ICH9, 2009)", True, "qemu"),
        ("Red Hat", "KVM", True, "kvm"),
        ("VMware, Inc.", "VMware Virtual Platform", True, "vmware"),
        ("innotek GmbH", "VirtualBox", True, "virtualbox"),
        ("Microsoft Corporation", "Virtual Machine", True, "hyperv"),
        ("Microsoft Corporation", "Surface Laptop 5", False, None),  # real hardware
        ("Xen", "HVM domU", True, "xen"),
        ("Amazon EC2", "m7i.2xlarge", True, "amazon"),
        ("Amazon EC2", "c7g.2xlarge", None, "amazon"),  # ARM: no hypervisor bit to print
        ("Amazon EC2", "c7g.metal", None, None),  # bare metal
        ("Amazon EC2", "m5.metal", False, None),
        ("Google", "Google Compute Engine", True, "google"),
        ("Dell Inc.", "PowerEdge R760", False, None),
        (None, None, True, "vm"),  # Firecracker and friends: no DMI at all
        (None, None, None, None),
    ],
)
def test_virtualization_rules(
    vendor: str | None, product: str | None, flag: bool | None, expected: str | None
) -> None:
    assert virtualization_from(vendor, product, flag) == expected


def test_hypervisor_flag_reads_x86_flags_only() -> None:
    assert hypervisor_flag("processor : 0\nflags : fpu hypervisor avx\n") is True
    assert hypervisor_flag("processor : 0\nflags : fpu avx\n") is False
    assert hypervisor_flag("processor : 0\nFeatures : fp asimd\n") is None
    assert hypervisor_flag(None) is None


@pytest.mark.parametrize(
    ("cgroup", "expected"),
    [
        ("0::/\n", None),
        ("12:pids:/docker/3f2a9c\n", "docker"),
        ("0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-1.scope\n", "kubernetes"),
        ("0::/machine.slice/libpod-4d2e.scope/container\n", "podman"),
        ("0::/lxc.payload.web01/\n", "lxc"),
    ],
)
def test_container_from_cgroup(cgroup: str, expected: str | None) -> None:
    assert container_from_cgroup(cgroup) == expected


@pytest.mark.parametrize(
    ("release", "wsl"),
    [
        ("5.15.153.1-microsoft-standard-WSL2", True),
        ("4.4.0-19041-Microsoft", True),
        ("6.8.0-45-generic", False),
        (None, False),
    ],
)
def test_wsl_from_kernel_release(release: str | None, wsl: bool) -> None:
    assert is_wsl(release) is wsl


def test_sw_vers() -> None:
    found = parse_sw_vers(
        "ProductName:\t\tmacOS\nProductVersion:\t\t15.1\nProductVersionExtra:\t(a)\n"
        "BuildVersion:\t\t24B83\n"
    )
    assert (found.distro_id, found.distro_version, found.build) == ("macos", "15.1", "24B83")
    assert found.distro_codename == "Sequoia"
    assert found.distro_pretty == "macOS Sequoia 15.1 (a)"  # the build has its own field
    old = parse_sw_vers("ProductName:\tMac OS X\nProductVersion:\t10.15.7\nBuildVersion:\t19H2\n")
    assert old.distro_codename == "Catalina"
    with pytest.raises(ParseError):
        parse_sw_vers("sw_vers: command not found\n")


@pytest.mark.parametrize(
    ("version", "name"), [("14.5", "Sonoma"), ("26.0", "Tahoe"), ("10.13.6", "High Sierra")]
)
def test_macos_codenames(version: str, name: str) -> None:
    assert macos_codename(version) == name


def test_windows_11_is_named_so_despite_product_name() -> None:
    values: dict[str, object] = {
        "ProductName": "Windows 10 Home",
        "DisplayVersion": "24H2",
        "CurrentBuild": "26100",
        "UBR": 2033,
        "EditionID": "Core",
    }
    found = windows_os(values)
    assert found.distro_name == "Windows 11 Home"
    assert found.build == "26100.2033"
    assert found.edition == "Core"
    assert found.distro_pretty == "Windows 11 Home 24H2"


def test_windows_10_stays_windows_10() -> None:
    values: dict[str, object] = {
        "ProductName": "Windows 10 Pro",
        "ReleaseId": "2009",
        "CurrentBuildNumber": "19045",
        "UBR": None,
    }
    found = windows_os(values)
    assert found.distro_name == "Windows 10 Pro"
    assert found.build == "19045"
    assert found.distro_version == "2009"


@given(st.text())
def test_os_parsers_raise_only_parse_error(text: str) -> None:
    for parse in (parse_os_release, parse_lsb_release, parse_release_line, parse_sw_vers):
        with contextlib.suppress(ParseError):
            parse(text)


@given(st.binary())
def test_os_release_on_decoded_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_os_release(data.decode("utf-8", errors="replace"))
