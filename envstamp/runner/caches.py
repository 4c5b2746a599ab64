"""On-disk caches: static facts per boot, file hashes by (path, size, mtime)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from envstamp._version import __version__
from envstamp.errors import InputError
from envstamp.runner.files import write_atomic

# ------------------------------------------------------------------------- on-disk caches


def boot_id() -> str | None:
    """An id that changes with every boot, where the OS offers one cheaply."""
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as handle:
            return handle.read().decode().strip() or None
    except OSError:
        pass
    if sys.platform == "darwin":
        return _darwin_boot_time()
    if os.name == "nt":
        return _windows_boot_time()
    return None


def _darwin_boot_time() -> str | None:
    import ctypes
    import ctypes.util

    class Timeval(ctypes.Structure):
        _fields_ = [("sec", ctypes.c_long), ("usec", ctypes.c_int32)]  # ctypes wants a list

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        value = Timeval()
        size = ctypes.c_size_t(ctypes.sizeof(value))
        if libc.sysctlbyname(b"kern.boottime", ctypes.byref(value), ctypes.byref(size), None, 0):
            return None
        return f"darwin-{value.sec}.{value.usec}"
    except (OSError, AttributeError):
        return None


def _windows_boot_time() -> str | None:
    import ctypes

    try:
        uptime_ms = ctypes.windll.kernel32.GetTickCount64()  # type: ignore[attr-defined, unused-ignore]
    except (OSError, AttributeError):
        return None
    # Boot time to the nearest 10 s: stable across calls, new after a reboot.
    return f"nt-{round((time.time() - uptime_ms / 1000) / 10)}"


def cache_folder() -> Path:
    """platformdirs' user cache folder for envstamp (ENVSTAMP_CACHE_DIR overrides)."""
    override = os.environ.get("ENVSTAMP_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("envstamp", appauthor=False))


class JsonCache:
    """A small JSON key -> value store in one file, loaded lazily, written atomically."""

    def __init__(self, path: Path, stamp: dict[str, Any]) -> None:
        self.path = path
        self.stamp = stamp
        self._entries: dict[str, Any] | None = None
        self._dirty = False
        self._lock = threading.Lock()

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("stamp") == self.stamp:
                    entries = data.get("entries")
                    self._entries = entries if isinstance(entries, dict) else {}
            except (OSError, ValueError):
                pass
        return self._entries

    def get(self, key: str) -> Any:
        with self._lock:
            return self._load().get(key)

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._load()[key] = value
            self._dirty = True

    def save(self) -> None:
        with self._lock:
            if not self._dirty or self._entries is None:
                return
            data = json.dumps({"stamp": self.stamp, "entries": self._entries}).encode()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                write_atomic(self.path, data, mode=0o600)
            except (OSError, InputError):
                return  # a cache that cannot be written is only slower
            self._dirty = False


_STATIC_CACHE: JsonCache | None = None
_HASH_CACHE: JsonCache | None = None


def caching_enabled() -> bool:
    """ENVSTAMP_NO_CACHE=1 turns the on-disk caches off."""
    return os.environ.get("ENVSTAMP_NO_CACHE", "") in ("", "0")


def static_cache() -> JsonCache | None:
    """Facts that hold until the next boot, keyed by boot id and envstamp version."""
    global _STATIC_CACHE  # noqa: PLW0603 - one cache per process
    if _STATIC_CACHE is None:
        boot = boot_id()
        if boot is None or not caching_enabled():
            return None
        _STATIC_CACHE = JsonCache(
            cache_folder() / "static.json", {"boot_id": boot, "envstamp": __version__}
        )
    return _STATIC_CACHE


class _NullCache(JsonCache):
    def __init__(self) -> None:
        super().__init__(Path(os.devnull), {})

    def get(self, key: str) -> Any:
        return None

    def put(self, key: str, value: Any) -> None:
        return

    def save(self) -> None:
        return


def hash_cache() -> JsonCache:
    """File hashes by (path, size, mtime): valid across reboots."""
    global _HASH_CACHE  # noqa: PLW0603 - one cache per process
    if _HASH_CACHE is None:
        if not caching_enabled():
            return _NullCache()
        _HASH_CACHE = JsonCache(cache_folder() / "hashes.json", {"format": 1})
    return _HASH_CACHE


def command_cache_key(argv: tuple[str, ...], extra_env: dict[str, str]) -> str | None:
    """Key a cached command by its arguments and the binary's identity (size, mtime)."""
    try:
        st = os.stat(argv[0])
    except OSError:
        return None
    parts = [*argv, f"{st.st_size}:{st.st_mtime_ns}", json.dumps(extra_env, sort_keys=True)]
    return "cmd|" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def reset_process_state() -> None:
    """Forget per-process caches (tests use this to simulate a new process)."""
    global _STATIC_CACHE, _HASH_CACHE  # noqa: PLW0603
    _STATIC_CACHE = None
    _HASH_CACHE = None
    from envstamp.runner import system

    system.DIST_INDEX.clear()
    nvml = sys.modules.get("envstamp.runner.nvml")
    if nvml is not None:  # NVML loaded anew, or asked again after a failure
        nvml.forget()


def flush() -> None:
    """Write the static cache if this process changed it."""
    if _STATIC_CACHE is not None:
        _STATIC_CACHE.save()
