"""The operating system: distribution, kernel, libc, and what it runs in (VM, container, WSL).

Linux reads os-release (its own parser, following the os-release spec), a few files for the
VM and container checks, and nothing else: no process is spawned.  macOS asks ``sw_vers``;
Windows reads the registry.  ``distro`` is not used: os-release is present on every current
distribution, and for the rare host without it the lsb-release and ``*-release`` files that
``distro`` would read are read here, through the runner, so replay sees them too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from envstamp.errors import ParseError
from envstamp.manifest.model import OperatingSystem, Sections
from envstamp.parsers.textutil import clean, collapse, key_values, to_int
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

# ------------------------------------------------------------------------ os-release parser

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPABLE = '\\"$`'


def _unescape(text: str, escapable: str | None) -> str:
    """Drop shell backslashes: before any char (unquoted) or before ``escapable`` only."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and (escapable is None or text[i + 1] in escapable):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def unquote_value(raw: str) -> str:
    """An os-release value as the shell would read it (quotes and escapes removed)."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _unescape(value[1:-1], _ESCAPABLE)
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]  # single quotes: no escapes at all
    if value[:1] in "\"'":
        return _unescape(value[1:], _ESCAPABLE)  # unterminated quote: read what is there
    return _unescape(value, None)


def parse_key_value_file(text: str) -> dict[str, str]:
    """``KEY=value`` assignments (os-release, lsb-release); comments and junk lines skipped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, found, value = stripped.partition("=")
        key = key.strip()
        if found and _KEY.match(key):
            fields[key] = unquote_value(value)
    return fields


def codename_from_version(version: str | None) -> str | None:
    """ "7 (Core)" -> "Core"; "14.04.6 LTS, Trusty Tahr" -> "Trusty Tahr"."""
    if not version:
        return None
    match = re.search(r"\(([^()]+)\)\s*$", version)
    if match:
        return clean(match.group(1))
    if "," in version:
        return clean(version.rsplit(",", 1)[1])
    return None


def parse_os_release(text: str) -> OperatingSystem:
    """The distribution fields of an os-release file."""
    fields = {k: v for k, v in parse_key_value_file(text).items() if clean(v) is not None}
    if not {"ID", "NAME", "PRETTY_NAME", "VERSION_ID"} & fields.keys():
        raise ParseError("not an os-release file: no ID, NAME, PRETTY_NAME or VERSION_ID")
    version = clean(fields.get("VERSION"))
    name = clean(fields.get("NAME"))
    version_id = clean(fields.get("VERSION_ID"))
    pretty = clean(fields.get("PRETTY_NAME"))
    if pretty is None and name:
        pretty = collapse(f"{name} {version or version_id or ''}")
    return OperatingSystem(
        distro_id=clean(fields.get("ID")),
        distro_name=name,
        distro_version=version_id,
        distro_pretty=pretty,
        distro_codename=(
            clean(fields.get("VERSION_CODENAME"))
            or clean(fields.get("UBUNTU_CODENAME"))
            or codename_from_version(version)
        ),
        distro_like=fields.get("ID_LIKE", "").split(),
    )


def parse_os_release_kind(text: str) -> Sections:
    """Parse kind ``os-release``: /etc/os-release -> ``{"os": ...}``."""
    return {"os": parse_os_release(text)}


def parse_lsb_release(text: str) -> OperatingSystem:
    """/etc/lsb-release (DISTRIB_ID, DISTRIB_RELEASE, DISTRIB_CODENAME, DISTRIB_DESCRIPTION)."""
    fields = parse_key_value_file(text)
    distrib_id = clean(fields.get("DISTRIB_ID"))
    if distrib_id is None:
        raise ParseError("not an lsb-release file: no DISTRIB_ID")
    return OperatingSystem(
        distro_id=distrib_id.lower().replace(" ", ""),
        distro_name=distrib_id,
        distro_version=clean(fields.get("DISTRIB_RELEASE")),
        distro_pretty=clean(fields.get("DISTRIB_DESCRIPTION")),
        distro_codename=clean(fields.get("DISTRIB_CODENAME")),
    )


def parse_release_line(text: str) -> OperatingSystem:
    """ "CentOS release 6.10 (Final)" -> name, version, codename."""
    line = next((collapse(li) for li in text.splitlines() if li.strip()), "")
    match = re.match(r"^(?P<name>.+?)\s+(?:release\s+)?(?P<version>\d[\w.]*)(?P<rest>.*)$", line)
    if not match:
        raise ParseError("not a release line")
    name = match.group("name")
    return OperatingSystem(
        distro_id=name.split()[0].lower(),
        distro_name=name,
        distro_version=match.group("version"),
        distro_pretty=line,
        distro_codename=codename_from_version(match.group("rest")),
    )


# ----------------------------------------------------------------------- VM and container

# (field, substring, name): checked in order against DMI sys_vendor / product_name.  These
# names are VM products whatever the CPU says.
_VM_PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("product", "virtualbox", "virtualbox"),
    ("vendor", "innotek", "virtualbox"),
    ("any", "vmware", "vmware"),
    ("product", "kvm", "kvm"),
    ("vendor", "qemu", "qemu"),
    ("product", "virtual machine", "hyperv"),  # Microsoft Corporation / Virtual Machine
    ("vendor", "xen", "xen"),
    ("product", "hvm domu", "xen"),
    ("product", "google compute engine", "google"),
    ("vendor", "parallels", "parallels"),
    ("vendor", "bochs", "bochs"),
    ("any", "openstack", "openstack"),
    ("product", "apple virtualization", "apple"),
)
# Clouds that also rent bare metal ("c7g.metal"): a VM unless the CPU's hypervisor bit is
# known to be off, or the product says metal.
_CLOUD_VENDORS: tuple[tuple[str, str], ...] = (
    ("amazon ec2", "amazon"),
    ("alibaba cloud", "alibaba"),
)


def virtualization_from(
    vendor: str | None, product: str | None, hypervisor_flag: bool | None
) -> str | None:
    """The hypervisor named by DMI, "vm" when only the CPU says so, else None.

    ``hypervisor_flag`` is None where the CPU has no such bit to print (ARM).
    """
    vendor_l = (clean(vendor) or "").lower()
    product_l = (clean(product) or "").lower()
    for where, needle, name in _VM_PRODUCTS:
        haystack = {"vendor": vendor_l, "product": product_l}.get(where, vendor_l + " " + product_l)
        if needle in haystack:
            return name
    if hypervisor_flag is not False and not product_l.endswith("metal"):
        for needle, name in _CLOUD_VENDORS:
            if needle in vendor_l:
                return name
    return "vm" if hypervisor_flag else None


def container_from_cgroup(text: str) -> str | None:
    """The container runtime named in /proc/1/cgroup, if any."""
    lowered = text.lower()
    for needle, name in (("kubepods", "kubernetes"), ("libpod", "podman"), ("docker", "docker")):
        if needle in lowered:
            return name
    if "/lxc/" in lowered or "lxc.payload" in lowered:
        return "lxc"
    return None


def is_wsl(kernel_release: str | None) -> bool:
    """WSL kernels say so in their release ("5.15.153.1-microsoft-standard-WSL2")."""
    lowered = (kernel_release or "").lower()
    return "microsoft" in lowered or "wsl" in lowered


def hypervisor_flag(cpuinfo_text: str | None) -> bool | None:
    """Whether /proc/cpuinfo's x86 flags carry ``hypervisor``; None when it has no flags line."""
    if not cpuinfo_text:
        return None
    match = re.search(r"^flags\s*:(.*)$", cpuinfo_text, re.MULTILINE)
    if match is None:
        return None
    return "hypervisor" in match.group(1).split()


# --------------------------------------------------------------------------------- probes


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

# Marketing names by major version (10.x by minor): facts from Apple's release history.
_MACOS_NAMES = {
    "26": "Tahoe",
    "15": "Sequoia",
    "14": "Sonoma",
    "13": "Ventura",
    "12": "Monterey",
    "11": "Big Sur",
    "10.15": "Catalina",
    "10.14": "Mojave",
    "10.13": "High Sierra",
    "10.12": "Sierra",
}


def macos_codename(version: str | None) -> str | None:
    """ "14.5" -> "Sonoma"; "10.15.7" -> "Catalina"."""
    if not version:
        return None
    parts = version.split(".")
    key = ".".join(parts[:2]) if parts[0] == "10" else parts[0]
    return _MACOS_NAMES.get(key)


def parse_sw_vers(text: str) -> OperatingSystem:
    """``sw_vers``: ProductName, ProductVersion, ProductVersionExtra, BuildVersion."""
    fields = {k: v for k, v in key_values(text.splitlines()) if clean(v)}
    name = fields.get("ProductName")
    version = fields.get("ProductVersion")
    if not name and not version:
        raise ParseError("no ProductName or ProductVersion in sw_vers output")
    extra = fields.get("ProductVersionExtra")  # Rapid Security Response, "(a)"
    codename = macos_codename(version)
    build = fields.get("BuildVersion")
    pretty = collapse(" ".join(p for p in (name, codename, version, extra) if p))
    return OperatingSystem(
        distro_id="macos",
        distro_name=name,
        distro_version=version,
        distro_pretty=pretty,
        distro_codename=codename,
        build=build,
    )


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
    if not text:
        return None
    values = dict(key_values(text.splitlines()))
    if to_int(values.get("kern.hv_vmm_present")) != 1:
        return None
    model = (values.get("hw.model") or "").lower()
    for needle, name in (("vmware", "vmware"), ("parallels", "parallels"), ("virtualmac", "apple")):
        if needle in model:
            return name
    return "vm"


# -------------------------------------------------------------------------------- Windows


def windows_os(values: dict[str, object]) -> OperatingSystem:
    """The os section from CurrentVersion registry values.

    Windows 11 still says "Windows 10" in ProductName; build 22000 and later is Windows 11.
    """
    name = clean(values.get("ProductName"))
    build_number = clean(values.get("CurrentBuild")) or clean(values.get("CurrentBuildNumber"))
    build_int = to_int(build_number)
    if name and build_int is not None and build_int >= 22000:
        name = re.sub(r"\bWindows 10\b", "Windows 11", name)
    ubr = to_int(values.get("UBR"))
    build = f"{build_number}.{ubr}" if build_number and ubr is not None else build_number
    display = clean(values.get("DisplayVersion")) or clean(values.get("ReleaseId"))
    pretty = collapse(" ".join(p for p in (name, display) if p)) or None
    return OperatingSystem(
        system="Windows",
        distro_id="windows",
        distro_name=name,
        distro_version=display,
        distro_pretty=pretty,
        build=build,
        edition=clean(values.get("EditionID")),
    )


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
