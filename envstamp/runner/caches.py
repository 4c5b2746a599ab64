"""On-disk caches: static facts per boot, file hashes by (path, size, mtime)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from envstamp._version import __version__
from envstamp.errors import InputError
from envstamp.runner.files import write_atomic

# ------------------------------------------------------------------------ process state

# What every module-level cache of envstamp registers: its module, the names it holds and
# the function that empties them.  One reset() forgets all that the process has learnt of
# the system, as a new process would start; tests/runner/test_reset.py finds every
# module-level cache in the source and checks it is here.
_REGISTERED: list[tuple[str, tuple[str, ...], Callable[[], object]]] = []
Forget = TypeVar("Forget", bound=Callable[[], object])


def register(module: str, *names: str) -> Callable[[Forget], Forget]:
    """Register a function that empties ``module``'s caches ``names`` with :func:`reset`
    (a decorator; ``register(__name__, "_MEMO")(_MEMO.clear)`` for a container)."""

    def add(forget: Forget) -> Forget:
        _REGISTERED.append((module, names, forget))
        return forget

    return add


def registered() -> dict[str, set[str]]:
    """Module -> names of the caches registered so far (modules register on import)."""
    found: dict[str, set[str]] = {}
    for module, names, _ in _REGISTERED:
        found.setdefault(module, set()).update(names)
    return found


def reset() -> None:
    """Forget every module-level cache: the static capture memo, the on-disk caches' handles,
    the index of installed distributions, NVML's loaded state, the probes' per-runner memos.
    The next capture asks everything anew, as in a new process."""
    for _, _, forget in list(_REGISTERED):
        forget()


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
    """A small JSON key -> value store in one file, loaded lazily, written atomically.

    A value comes back as JSON read it (``object``): the caller checks its shape, as the file
    may have been edited or damaged since it was written."""

    def __init__(self, path: Path, stamp: dict[str, object]) -> None:
        self.path = path
        self.stamp = stamp
        self._entries: dict[str, object] | None = None
        self._dirty = False
        self._lock = threading.Lock()

    def _load(self) -> dict[str, object]:
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

    def get(self, key: str) -> object:
        with self._lock:
            return self._load().get(key)

    def put(self, key: str, value: Mapping[str, object] | str) -> None:
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


@register(__name__, "_STATIC_CACHE", "_HASH_CACHE")
def _forget_disk_caches() -> None:
    """Drop the cache files' handles (unsaved entries too): read anew when next asked."""
    global _STATIC_CACHE, _HASH_CACHE  # noqa: PLW0603 - one cache per process
    _STATIC_CACHE = None
    _HASH_CACHE = None


@register("envstamp.manifest.serialize", "_EXACT_PLANS")
def _forget_exact_plans() -> None:
    """The loader's per-class field plans (its layer is below this registry, so it is
    registered here; a process that never loaded anything has none to forget)."""
    serialize = sys.modules.get("envstamp.manifest.serialize")
    if serialize is not None:
        serialize.forget_exact_plans()


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

    def get(self, key: str) -> object:
        return None

    def put(self, key: str, value: Mapping[str, object] | str) -> None:
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


def flush() -> None:
    """Write the static cache if this process changed it."""
    if _STATIC_CACHE is not None:
        _STATIC_CACHE.save()
