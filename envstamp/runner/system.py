"""Facts about the interpreter and the OS: platform, installed distributions, the Windows
registry, memory and power calls."""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

from envstamp.runner.caches import register

if TYPE_CHECKING:
    from envstamp.runner.answer_types import (
        MemoryStatusAnswer,
        PlatformAnswer,
        PowerStatusAnswer,
        RegistryValue,
    )

# ------------------------------------------------------------------------------- platform


# sys.implementation.name -> what platform.python_implementation() prints
_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalVM"}


def platform_answer() -> PlatformAnswer:
    """Facts about the interpreter and kernel (no processes; the platform module only on
    Windows, where os.uname is missing)."""
    system_name, node, release, version, machine = _uname()
    libc: str | None = None
    if hasattr(os, "confstr"):
        try:
            libc = os.confstr("CS_GNU_LIBC_VERSION")
        except (ValueError, OSError):
            libc = None
    return {
        "system": system_name,
        "node": node,
        "release": release,
        "version": version,
        "machine": machine,
        "libc": libc,
        "python_version": sys.version.split()[0],
        "python_implementation": _IMPLEMENTATIONS.get(
            sys.implementation.name, sys.implementation.name
        ),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "home": os.path.expanduser("~"),
        "cpu_count": os.cpu_count(),
    }


def _uname() -> tuple[str, str, str, str, str]:
    """System, node, release, version and machine."""
    if hasattr(os, "uname"):
        uname = os.uname()
        return uname.sysname, uname.nodename, uname.release, uname.version, uname.machine
    import platform

    win = platform.uname()
    return win.system, win.node, win.release, win.version, win.machine


def normalize_distribution(name: str) -> str:
    """PEP 503 normalised distribution name ("llama_cpp.Python" -> "llama-cpp-python")."""
    return re.sub(r"[-_.]+", "-", name).lower()


def package_versions(names: list[str]) -> dict[str, str | None]:
    index = installed_distributions(tuple(sys.path))
    return {name: index.get(normalize_distribution(name)) for name in names}


# Installed distributions by sys.path: a new environment means a new path, and reset() drops
# what an environment changed in place had.
DIST_INDEX: dict[tuple[str, ...], dict[str, str]] = {}
register(__name__, "DIST_INDEX")(DIST_INDEX.clear)


def installed_distributions(path: tuple[str, ...]) -> dict[str, str]:
    """Normalised name -> version of every distribution on ``path``, from folder names.

    Reading ``*.dist-info`` / ``*.egg-info`` names costs one listdir per path entry, where
    importlib.metadata costs ~40 ms to import; the version in the folder name is the installed
    version, local tags included (``torch-2.4.0+cu124.dist-info``).  The first entry on the
    path wins, as for imports.
    """
    cached = DIST_INDEX.get(path)
    if cached is not None:
        return cached
    index: dict[str, str] = {}
    for entry in path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            parsed = _distribution_folder(folder)
            if parsed is not None:
                index.setdefault(*parsed)
    DIST_INDEX[path] = index
    return index


def _distribution_folder(folder: str) -> tuple[str, str] | None:
    for suffix in (".dist-info", ".egg-info"):
        if folder.endswith(suffix):
            name, sep, version = folder[: -len(suffix)].partition("-")
            if not sep or not version:
                return None
            # egg-info folders may carry "-py3.11" after the version.
            version = re.sub(r"-py\d+(\.\d+)*$", "", version)
            return normalize_distribution(name), version
    return None


def registry_value(root: str, key: str, value: str) -> RegistryValue:
    if os.name != "nt":
        return None
    import importlib

    # Imported by name: type checkers on other platforms know no winreg attributes.
    winreg: Any = importlib.import_module("winreg")

    hive = getattr(winreg, root, None)
    if hive is None:
        return None
    try:
        with winreg.OpenKey(hive, key) as handle:
            data, _kind = winreg.QueryValueEx(handle, value)
    except OSError:
        return None
    if isinstance(data, bytes):
        return data.hex()
    if isinstance(data, str | int) or data is None:
        return data
    if isinstance(data, list):  # REG_MULTI_SZ
        return [str(item) for item in data]
    return str(data)


def memory_status_answer() -> MemoryStatusAnswer:
    """Total and available physical memory, from the OS's own call (no process)."""
    if os.name == "nt":
        return _windows_memory_status()
    answer: MemoryStatusAnswer = {"status": "ok", "total_bytes": None, "available_bytes": None}
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        answer["total_bytes"] = os.sysconf("SC_PHYS_PAGES") * page
        answer["available_bytes"] = os.sysconf("SC_AVPHYS_PAGES") * page
    except (ValueError, OSError, AttributeError):
        pass  # macOS has no SC_AVPHYS_PAGES; what was read stays
    return answer


def _windows_memory_status() -> MemoryStatusAnswer:
    import ctypes

    class MemoryStatusEx(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatusEx()
    status.dwLength = ctypes.sizeof(MemoryStatusEx)
    try:
        kernel32 = getattr(ctypes, "windll").kernel32  # noqa: B009 - absent off Windows
        if not kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return {"status": "error", "detail": "GlobalMemoryStatusEx failed"}
    except (OSError, AttributeError) as exc:
        return {"status": "error", "detail": f"GlobalMemoryStatusEx: {exc}"}
    return {
        "status": "ok",
        "total_bytes": int(status.ullTotalPhys),
        "available_bytes": int(status.ullAvailPhys),
    }


def power_status_answer() -> PowerStatusAnswer:
    """AC line and battery charge (Windows GetSystemPowerStatus); unsupported elsewhere."""
    if os.name != "nt":
        return {"status": "unsupported", "detail": "no power status call on this OS"}
    import ctypes

    class SystemPowerStatus(ctypes.Structure):
        _fields_ = [
            ("ACLineStatus", ctypes.c_ubyte),
            ("BatteryFlag", ctypes.c_ubyte),
            ("BatteryLifePercent", ctypes.c_ubyte),
            ("SystemStatusFlag", ctypes.c_ubyte),
            ("BatteryLifeTime", ctypes.c_ulong),
            ("BatteryFullLifeTime", ctypes.c_ulong),
        ]

    status = SystemPowerStatus()
    try:
        kernel32 = getattr(ctypes, "windll").kernel32  # noqa: B009 - absent off Windows
        if not kernel32.GetSystemPowerStatus(ctypes.byref(status)):
            return {"status": "error", "detail": "GetSystemPowerStatus failed"}
    except (OSError, AttributeError) as exc:
        return {"status": "error", "detail": f"GetSystemPowerStatus: {exc}"}
    ac = {0: False, 1: True}.get(int(status.ACLineStatus))  # 255: unknown
    no_battery = bool(status.BatteryFlag & 128) or status.BatteryFlag == 255
    percent = int(status.BatteryLifePercent)
    return {
        "status": "ok",
        "ac_online": ac,
        "battery_percent": None if no_battery or percent > 100 else float(percent),
    }


# ------------------------------------------------------------------------ resident memory


def max_rss_self() -> int | None:
    """This process's resident high-water mark, bytes (None where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    return rusage_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def rusage_bytes(max_rss: int) -> int:
    """``ru_maxrss`` in bytes: the kernel counts KiB on Linux and bytes on macOS."""
    return int(max_rss) if sys.platform == "darwin" else int(max_rss) * 1024
