"""The operating system: distribution, kernel, libc, and what it runs in (VM, container, WSL).

Linux reads os-release (its own parser, following the os-release spec), a few files for the
VM and container checks, and nothing else: no process is spawned.  macOS asks ``sw_vers``;
Windows reads the registry.  ``distro`` is not used: os-release is present on every current
distribution, and for the rare host without it the lsb-release and ``*-release`` files that
``distro`` would read are read here, through the runner, so replay sees them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envstamp.errors import ParseError
from envstamp.manifest.model import OperatingSystem
from envstamp.parsers.os_release import parse_lsb_release, parse_os_release, parse_release_line
from envstamp.parsers.sw_vers import parse_sw_vers
from envstamp.parsers.textutil import clean
from envstamp.parsers.virtualization import (
    container_from_cgroup,
    hypervisor_flag,
    is_wsl,
    virtualization_from,
    virtualization_from_sysctl,
)
from envstamp.parsers.windows_registry import windows_os
from envstamp.probes.context import Outcome, ProbeContext, failure_from
from envstamp.probes.system.shared import command_text, darwin_sysctl, proc_cpuinfo

if TYPE_CHECKING:
    from envstamp.runner import Runner

OS_RELEASE_PATHS = ("/etc/os-release", "/usr/lib/os-release")
LSB_RELEASE = "/etc/lsb-release"
# Old single-line release files, "Name release 7.9 (Codename)", in the order distro tries them.
RELEASE_LINE_FILES = ("/etc/redhat-release", "/etc/centos-release", "/etc/system-release")
WINDOWS_VERSION_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
WINDOWS_BIOS_KEY = r"HARDWARE\DESCRIPTION\System\BIOS"
HKLM = "HKEY_LOCAL_MACHINE"

# --------------------------------------------------------------------------------- Linux


def probe(ctx: ProbeContext) -> Outcome:
    """The os section for this system."""
    base = OperatingSystem(
        system=clean(ctx.platform.get("system")),
        kernel=clean(ctx.platform.get("release")),
        arch=clean(ctx.platform.get("machine")),
    )
    if ctx.system == "Linux":
        return _linux(ctx, base)
    if ctx.system == "Darwin":
        return _darwin(ctx, base)
    if ctx.system == "Windows":
        return _windows(ctx, base)
    return Outcome(sections={"os": base}, source="platform")


def _linux(ctx: ProbeContext, base: OperatingSystem) -> Outcome:
    runner = ctx.runner
    distro, source, detail = _linux_distro(runner)
    cpuinfo = proc_cpuinfo(runner)
    flag = hypervisor_flag(cpuinfo.text if cpuinfo.ok else None)
    kernel = base.kernel
    wsl = is_wsl(kernel)
    virtualization = virtualization_from(
        _first_line(runner, "/sys/class/dmi/id/sys_vendor"),
        _first_line(runner, "/sys/class/dmi/id/product_name"),
        flag,
    )
    if virtualization is None and (_first_line(runner, "/sys/hypervisor/type") or "") == "xen":
        virtualization = "xen"
    if wsl and virtualization in (None, "vm"):
        virtualization = "hyperv" if flag else None  # WSL2 is a Hyper-V VM; WSL1 is not
    os_ = OperatingSystem(
        system=base.system,
        kernel=kernel,
        arch=base.arch,
        distro_id=distro.distro_id,
        distro_name=distro.distro_name,
        distro_version=distro.distro_version,
        distro_pretty=distro.distro_pretty,
        distro_codename=distro.distro_codename,
        distro_like=distro.distro_like,
        libc=_libc(ctx),
        virtualization=virtualization,
        container=_container(runner),
        wsl=wsl,
    )
    if source is None:
        return Outcome({"os": os_}, "platform", "absent", detail)
    return Outcome(sections={"os": os_}, source=source, detail=detail)


def _linux_distro(runner: Runner) -> tuple[OperatingSystem, str | None, str | None]:
    """Distribution fields, the file they came from, and why earlier files did not do."""
    failures: list[str] = []
    readers = [(path, parse_os_release) for path in OS_RELEASE_PATHS]
    readers.append((LSB_RELEASE, parse_lsb_release))
    readers += [(path, parse_release_line) for path in RELEASE_LINE_FILES]
    for path, parse in readers:
        result = runner.read_text(path)
        if not result.ok or result.text is None:
            failures.append(f"{path}: {result.detail or result.status}")
            continue
        try:
            return parse(result.text), path, "; ".join(failures) or None
        except ParseError as exc:
            failures.append(f"{path}: {exc}")
    return OperatingSystem(), None, "no os-release: " + "; ".join(failures)


def _first_line(runner: Runner, path: str) -> str | None:
    result = runner.read_text(path, limit=4096)
    if not result.ok or not result.text:
        return None
    return clean(result.text.replace("\x00", "").splitlines()[0] if result.text.strip() else "")


def _libc(ctx: ProbeContext) -> str | None:
    """glibc from the interpreter; musl from its loader's name (its version is not read)."""
    libc = clean(ctx.platform.get("libc"))
    if libc:
        return libc
    names = ctx.runner.list_dir("/lib") or []
    if any(name.startswith("ld-musl-") for name in names):
        return "musl"
    return None


def _container(runner: Runner) -> str | None:
    if runner.env("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    cgroup = runner.read_text("/proc/1/cgroup", limit=65536)
    from_cgroup = container_from_cgroup(cgroup.text) if cgroup.ok and cgroup.text else None
    if from_cgroup == "kubernetes":
        return from_cgroup
    if runner.stat("/run/.containerenv").exists:
        return "podman"
    if runner.stat("/.dockerenv").exists:
        return "docker"
    if from_cgroup:
        return from_cgroup
    marker = _first_line(runner, "/run/systemd/container")  # systemd-nspawn, lxc, ...
    return marker.lower() if marker else None


# ---------------------------------------------------------------------------------- macOS

def _darwin(ctx: ProbeContext, base: OperatingSystem) -> Outcome:
    runner = ctx.runner
    virtualization = _darwin_virtualization(runner)
    result = runner.run(["sw_vers"], cache=True)
    partial = OperatingSystem(
        system=base.system, kernel=base.kernel, arch=base.arch, virtualization=virtualization
    )
    if not result.succeeded:
        failure = failure_from(result, "sw_vers")
        return Outcome({"os": partial}, "platform", failure.status, failure.detail)
    try:
        found = parse_sw_vers(result.stdout)
    except ParseError as exc:
        return Outcome({"os": partial}, "platform", "error", f"sw_vers: {exc}")
    merged = OperatingSystem(
        system=base.system,
        kernel=base.kernel,
        arch=base.arch,
        distro_id=found.distro_id,
        distro_name=found.distro_name,
        distro_version=found.distro_version,
        distro_pretty=found.distro_pretty,
        distro_codename=found.distro_codename,
        build=found.build,
        virtualization=virtualization,
    )
    return Outcome(sections={"os": merged}, source="sw_vers")


def _darwin_virtualization(runner: Runner) -> str | None:
    text = command_text(darwin_sysctl(runner))
    return virtualization_from_sysctl(text) if text else None


# -------------------------------------------------------------------------------- Windows


WINDOWS_VERSION_VALUES = (
    "ProductName",
    "DisplayVersion",
    "ReleaseId",
    "CurrentBuild",
    "CurrentBuildNumber",
    "UBR",
    "EditionID",
)


def _windows(ctx: ProbeContext, base: OperatingSystem) -> Outcome:
    runner = ctx.runner
    values = {name: runner.registry(HKLM, WINDOWS_VERSION_KEY, name) for name in ("ProductName",)}
    if values["ProductName"] is None:
        detail = "registry CurrentVersion\\ProductName not readable"
        partial = OperatingSystem(system=base.system, kernel=base.kernel, arch=base.arch)
        return Outcome({"os": partial}, "platform", "absent", detail)
    for name in WINDOWS_VERSION_VALUES[1:]:
        values[name] = runner.registry(HKLM, WINDOWS_VERSION_KEY, name)
    found = windows_os(values)
    vendor = runner.registry(HKLM, WINDOWS_BIOS_KEY, "SystemManufacturer")
    product = runner.registry(HKLM, WINDOWS_BIOS_KEY, "SystemProductName")
    merged = OperatingSystem(
        system=base.system,
        kernel=clean(ctx.platform.get("version")) or base.kernel,
        arch=base.arch,
        distro_id=found.distro_id,
        distro_name=found.distro_name,
        distro_version=found.distro_version,
        distro_pretty=found.distro_pretty,
        build=found.build,
        edition=found.edition,
        virtualization=virtualization_from(_str(vendor), _str(product), None),
    )
    return Outcome(sections={"os": merged}, source="registry")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "os", "order": 110},)
