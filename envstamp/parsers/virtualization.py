"""What a machine runs in: a hypervisor named by DMI or macOS' sysctl, a container runtime
named by /proc/1/cgroup, WSL named by the kernel release, the CPU's hypervisor flag."""

from __future__ import annotations

import re

from envstamp.parsers.textutil import clean, key_values, to_int

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


def virtualization_from_sysctl(text: str) -> str | None:
    """The hypervisor a macOS ``sysctl`` listing names (kern.hv_vmm_present, hw.model)."""
    values = dict(key_values(text.splitlines()))
    if to_int(values.get("kern.hv_vmm_present")) != 1:
        return None
    model = (values.get("hw.model") or "").lower()
    for needle, name in (("vmware", "vmware"), ("parallels", "parallels"), ("virtualmac", "apple")):
        if needle in model:
            return name
    return "vm"
