"""Compute runtimes installed on the machine: CUDA toolkit, cuDNN, ROCm, HIP, Vulkan, oneAPI.

Files first: version files, headers and versioned library names; a tool runs only where its
install was found and no file said the version (``nvcc --version``, ``hipconfig --version``,
both cached for the boot).  A machine with none of these costs a handful of stat calls.
Metal comes from system_profiler (gpu_apple), OpenCL and the Vulkan instance as vulkaninfo
prints it from gpu_intel; the NVIDIA driver's CUDA version from gpu_nvidia.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from collections.abc import Callable

import attrs

from envstamp.manifest.model import Runtimes
from envstamp.manifest.records import FrozenRecord
from envstamp.parsers.runtime_versions import (
    VERSION_PATTERN,
    newest_version,
    parse_cuda_version_json,
    parse_cuda_version_txt,
    parse_cudnn_header,
    parse_hip_version_file,
    parse_hipconfig_version,
    parse_nvcc_version,
    parse_rocm_version_file,
    version_in_name,
)
from envstamp.parsers.textutil import clean
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure


@attrs.frozen(eq=False, repr=False)
class Found(FrozenRecord):
    """One runtime version and where it was read."""

    field: str
    version: str
    source: str


# ----------------------------------------------------------------------------- the finder


class Finder:
    """Looks for runtimes through the runner, with the recorded host's path conventions."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx
        self.runner = ctx.runner
        self.windows = ctx.system == "Windows"
        self.path = ntpath if self.windows else posixpath
        machine = str(ctx.platform.get("machine") or "").lower()
        arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
        self.triplet = f"{arch}-linux-gnu" if arch else "x86_64-linux-gnu"

    def join(self, *parts: str) -> str:
        return str(self.path.join(*parts))

    def is_dir(self, path: str) -> bool:
        return self.runner.stat(path).is_dir

    def exists(self, path: str) -> bool:
        return self.runner.stat(path).exists

    def read(self, path: str) -> str | None:
        return self.runner.text(path, limit=1 << 20)

    def first_file(self, paths: list[str], parse: Callable[[str], str | None]) -> Found | None:
        for path in paths:
            text = self.read(path)
            version = parse(text) if text is not None else None
            if version:
                return Found("", version, path)
        return None

    def linked_version(self, paths: list[str], pattern: str) -> Found | None:
        """Version from the file a versioned library link points to."""
        for path in paths:
            if self.exists(path):
                target = self.runner.realpath(path)
                version = version_in_name(self.path.basename(target), pattern)
                if version:
                    return Found("", version, f"{path} -> {self.path.basename(target)}")
        return None

    def env_dirs(self, *names: str) -> list[str]:
        return [value for name in names if (value := clean(self.runner.env(name)))]

    def tool(self, argv: list[str], parse: Callable[[str], str | None]) -> Found | None:
        result = self.runner.run(argv, cache=True)
        version = parse(result.stdout or result.stderr) if result.succeeded else None
        if not version:
            return None
        return Found("", version, " ".join(argv))


# -------------------------------------------------------------------------------- finders


def cuda_roots(f: Finder) -> list[str]:
    """Toolkit folders: CUDA_HOME, CUDA_PATH, then the default install places."""
    candidates = f.env_dirs("CUDA_HOME", "CUDA_PATH")
    if f.windows:
        base = "C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA"
        newest = newest_version(f.runner.list_dir(base) or [], r"^v(\d+\.\d+)$")
        if newest:
            candidates.append(f.join(base, f"v{newest}"))
    else:
        candidates += ["/usr/local/cuda", "/opt/cuda"]
    roots: list[str] = []
    for root in candidates:
        if root not in roots and f.is_dir(root):
            roots.append(root)
    return roots


def find_cuda_toolkit(f: Finder, roots: list[str]) -> Found | None:
    """version.json, version.txt, the nvcc wheel's dist-info folder, then nvcc --version."""
    for root in roots:
        found = (
            f.first_file([f.join(root, "version.json")], parse_cuda_version_json)
            or f.first_file([f.join(root, "version.txt")], parse_cuda_version_txt)
            or nvcc_dist_info(f, root)
        )
        if found:
            return found
    nvcc_name = "nvcc.exe" if f.windows else "nvcc"
    nvcc = next((p for r in roots if f.exists(p := f.join(r, "bin", nvcc_name))), None)
    nvcc = nvcc or f.runner.which("nvcc")
    return f.tool([nvcc, "--version"], parse_nvcc_version) if nvcc else None


def nvcc_dist_info(f: Finder, root: str) -> Found | None:
    """Toolkits assembled from NVIDIA's wheels carry ``dist-info/nvidia_cuda_nvcc-V.dist-info``
    instead of version.json: that package's version is the one ``nvcc --version`` prints."""
    folder = f.join(root, "dist-info")
    names = f.runner.list_dir(folder) or []
    pattern = r"^nvidia_cuda_nvcc(?:_cu\d+)?-(\d+\.\d+(?:\.\d+)*)\.dist-info$"
    version = newest_version(names, pattern)
    if version is None:
        return None
    return Found("", version, f.join(folder, f"nvidia_cuda_nvcc-{version}.dist-info"))


def find_cudnn(f: Finder, roots: list[str]) -> Found | None:
    """cudnn_version.h (or Debian's cudnn_version_vN.h, or an old cudnn.h), else the library."""
    include_dirs = [f.join(r, "include") for r in roots]
    lib_dirs = [f.join(r, d) for r in roots for d in ("lib64", "lib")]
    if not f.windows:
        include_dirs += ["/usr/include", f"/usr/include/{f.triplet}"]
        lib_dirs += [f"/usr/lib/{f.triplet}", "/usr/lib64", "/usr/lib"]
    headers = ("cudnn_version.h", "cudnn_version_v9.h", "cudnn_version_v8.h", "cudnn.h")
    paths = [f.join(d, h) for d in include_dirs for h in headers]
    found = f.first_file(paths, parse_cudnn_header)
    if found or f.windows:
        return found
    libraries = [f.join(d, f"libcudnn.so.{major}") for d in lib_dirs for major in (9, 8, 7)]
    return f.linked_version(libraries, rf"libcudnn\.so\.({VERSION_PATTERN})$")


def rocm_roots(f: Finder) -> list[str]:
    candidates = f.env_dirs("ROCM_PATH", "HIP_PATH")
    if not f.windows:
        candidates.append("/opt/rocm")
    return [r for i, r in enumerate(candidates) if r not in candidates[:i] and f.is_dir(r)]


def find_rocm(f: Finder, roots: list[str]) -> Found | None:
    """.info/version, else the version in the (resolved) folder name: rocm-6.1.2, ROCm\\6.1."""
    for root in roots:
        found = f.first_file([f.join(root, ".info", "version")], parse_rocm_version_file)
        if found:
            return found
    for root in roots:
        resolved = f.runner.realpath(root)
        name = f.path.basename(resolved.rstrip("\\/"))
        version = version_in_name(name, rf"^(?:rocm-)?({VERSION_PATTERN})$")
        if version:
            return Found("", version, resolved)
    return None


def find_hip(f: Finder, roots: list[str]) -> Found | None:
    """HIP's version file, else ``hipconfig --version`` (only where ROCm is installed)."""
    names = [("share", "hip", "version"), ("bin", ".hipVersion"), ("hip", "bin", ".hipVersion")]
    paths = [f.join(root, *name) for root in roots for name in names]
    found = f.first_file(paths, parse_hip_version_file)
    if found or not roots:
        return found
    hipconfig = next(
        (p for r in roots if f.exists(p := f.join(r, "bin", "hipconfig"))), None
    ) or f.runner.which("hipconfig")
    return f.tool([hipconfig, "--version"], parse_hipconfig_version) if hipconfig else None


def find_vulkan(f: Finder) -> Found | None:
    """The loader's versioned file name (libvulkan.so.1 -> libvulkan.so.1.3.275), else the SDK."""
    if f.ctx.system == "Darwin":
        paths = [f"{d}/libvulkan.1.dylib" for d in ("/usr/local/lib", "/opt/homebrew/lib")]
        found = f.linked_version(paths, rf"libvulkan\.({VERSION_PATTERN})\.dylib$")
    elif not f.windows:
        dirs = [f"/usr/lib/{f.triplet}", "/usr/lib64", "/usr/lib", "/usr/local/lib"]
        paths = [f"{d}/libvulkan.so.1" for d in dirs]
        found = f.linked_version(paths, rf"libvulkan\.so\.({VERSION_PATTERN})$")
    else:
        found = None
    if found:
        return found
    for sdk in f.env_dirs("VULKAN_SDK"):
        match = re.search(r"(\d+\.\d+\.\d+)(?:\.\d+)?", sdk)
        if match:
            return Found("", match.group(1), "VULKAN_SDK")
    return None


def find_oneapi(f: Finder) -> Found | None:
    """The DPC++ compiler release: CMPLR_ROOT (setvars), else compiler/latest or the newest."""
    for root in f.env_dirs("CMPLR_ROOT"):
        version = version_in_name(f.path.basename(root.rstrip("\\/")), r"^(\d{4}(?:\.\d+)+)$")
        if version:
            return Found("", version, "CMPLR_ROOT")
    default = "C:\\Program Files (x86)\\Intel\\oneAPI" if f.windows else "/opt/intel/oneapi"
    for root in [*f.env_dirs("ONEAPI_ROOT"), default]:
        compiler = f.join(root, "compiler")
        names = f.runner.list_dir(compiler)
        if not names:
            continue
        if "latest" in names:
            target = f.path.basename(f.runner.realpath(f.join(compiler, "latest")))
            version = version_in_name(target, r"^(\d{4}(?:\.\d+)+)$")
            if version:
                return Found("", version, f"{compiler} (latest -> {target})")
        newest = newest_version(names, r"^(\d{4}(?:\.\d+)+)$")
        if newest:
            return Found("", newest, compiler)
    return None


# ----------------------------------------------------------------------------------- probe


def find_all(ctx: ProbeContext) -> list[Found]:
    """Every runtime found, each with its source."""
    f = Finder(ctx)
    cuda = cuda_roots(f)
    rocm = rocm_roots(f)
    attempts: list[tuple[str, Callable[[], Found | None]]] = [
        ("cuda_toolkit", lambda: find_cuda_toolkit(f, cuda)),
        ("cudnn", lambda: find_cudnn(f, cuda)),
        ("rocm", lambda: find_rocm(f, rocm)),
        ("hip", lambda: find_hip(f, rocm)),
        ("vulkan_instance", lambda: find_vulkan(f)),
        ("oneapi", lambda: find_oneapi(f)),
    ]
    found: list[Found] = []
    for field, attempt in attempts:
        result = attempt()
        if result is not None:
            found.append(attrs.evolve(result, field=field))
    return found


def probe(ctx: ProbeContext) -> Outcome:
    """Runtime versions, each with the file or command it came from."""
    found = find_all(ctx)
    if not found:
        raise ProbeFailure(
            "absent", "no CUDA toolkit, cuDNN, ROCm, HIP, Vulkan loader or oneAPI found", "files"
        )
    runtimes = Runtimes(**{item.field: item.version for item in found})
    source = "; ".join(f"{item.field}: {item.source}" for item in found)
    return Outcome({"runtimes": runtimes}, source=source)


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "runtimes", "order": 250, "waits": True},)
