"""NVML in-process through nvidia-ml-py, imported only when asked."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, cast

from envstamp.runner.answers import NvmlCall, call_with_timeout
from envstamp.runner.caches import register, static_cache

if TYPE_CHECKING:
    from envstamp.runner.answer_types import JsonValue, NvmlAnswer, NvmlItem

# ----------------------------------------------------------------------------------- NVML

_NVML_LOCK = threading.Lock()


class _Loaded:
    """NVML as this process loaded it: the module once initialised, or why it could not be
    (asked again only after :func:`forget`)."""

    def __init__(self) -> None:
        self.module: ModuleType | None = None  # pynvml (untyped)
        self.failure: NvmlAnswer | None = None


_LOADED = _Loaded()


@register(__name__, "_LOADED")
def forget() -> None:
    """Forget NVML's module and any failure to load it: the next call loads it anew."""
    with _NVML_LOCK:
        _LOADED.module = None
        _LOADED.failure = None


def _nvml_value(value: object) -> JsonValue:
    """NVML return values -> JSON: bytes decoded, ctypes structures as dicts."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").rstrip("\x00")
    if isinstance(value, (list, tuple)):
        return [_nvml_value(v) for v in value]
    fields = getattr(value, "_fields_", None)
    if fields is not None:
        return {name: _nvml_value(getattr(value, name)) for name, *_ in fields}
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    # Process lists come back as plain attribute bags (nvmlFriendlyObject): keep their fields.
    attributes = getattr(value, "__dict__", None)
    if type(value).__name__ == "nvmlFriendlyObject" and isinstance(attributes, dict):
        return {str(name): _nvml_value(item) for name, item in attributes.items()}
    return str(value)


def _nvml_init() -> NvmlAnswer | None:
    """Load and initialise NVML once per process; an answer when that fails."""
    if _LOADED.failure is not None:
        return _LOADED.failure.copy()
    if _LOADED.module is not None:
        return None
    try:
        import pynvml
    except ImportError:
        _LOADED.failure = {"status": "absent", "detail": "nvidia-ml-py is not installed"}
        return _LOADED.failure.copy()
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        _LOADED.failure = _nvml_init_failure(pynvml, exc)
        return _LOADED.failure.copy()
    except OSError as exc:  # a broken libnvidia-ml
        _LOADED.failure = {"status": "error", "detail": f"cannot load NVML: {exc}"}
        return _LOADED.failure.copy()
    _LOADED.module = pynvml
    return None


def _nvml_init_failure(pynvml: ModuleType, exc: Exception) -> NvmlAnswer:
    text = str(exc)
    if isinstance(exc, pynvml.NVMLError_LibraryNotFound):
        return {"status": "absent", "detail": "NVML library not found (no NVIDIA driver)"}
    if isinstance(exc, pynvml.NVMLError_DriverNotLoaded):
        return {"status": "absent", "detail": "NVIDIA driver not loaded"}
    if isinstance(exc, pynvml.NVMLError_NoPermission):
        return {"status": "permission", "detail": "NVML: insufficient permissions"}
    return {"status": "error", "detail": f"NVML init failed: {text}"}


def _nvml_calls(calls: Sequence[NvmlCall]) -> NvmlAnswer:
    with _NVML_LOCK:
        failure = _nvml_init()
        if failure is not None:
            return failure
        pynvml = _LOADED.module
        assert pynvml is not None  # no failure: _nvml_init loaded it
        handles: dict[int, object] = {}  # NVML's opaque device handles
        answers: list[NvmlItem] = []
        for call in calls:
            try:
                fn = getattr(pynvml, call.fn)
                if call.index is None:
                    value = fn(*call.args)
                else:
                    if call.index not in handles:
                        handles[call.index] = pynvml.nvmlDeviceGetHandleByIndex(call.index)
                    value = fn(handles[call.index], *call.args)
                answers.append({"value": _nvml_value(value)})
            except pynvml.NVMLError as exc:
                answers.append({"error": str(exc)})
            except (AttributeError, TypeError, ValueError, OSError) as exc:
                # An older nvidia-ml-py or driver without this function.
                answers.append({"error": f"{type(exc).__name__}: {exc}"})
        return {"status": "ok", "answers": answers}


def nvml_answer(calls: Sequence[NvmlCall], timeout: float | None, cache: bool) -> NvmlAnswer:
    """NVML answers, from the static cache when allowed; ``timeout`` None: in this thread."""
    store = static_cache() if cache else None
    cache_key = None
    if store is not None:
        driver = _nvidia_driver_stamp()
        if driver is None:
            store = None
        else:
            key = json.dumps([[c.fn, c.index, list(c.args)] for c in calls])
            cache_key = "nvml|" + driver + "|" + hashlib.sha256(key.encode()).hexdigest()
            hit = store.get(cache_key)
            if isinstance(hit, dict) and "status" in hit:  # as this function put it there
                return cast("NvmlAnswer", hit)
    if timeout is None:
        answer = _nvml_calls(calls)
    else:
        answer = call_with_timeout(lambda: _nvml_calls(calls), timeout, "NVML")
    if store is not None and cache_key is not None and answer.get("status") == "ok":
        store.put(cache_key, answer)
    return answer


def _nvidia_driver_stamp() -> str | None:
    """The loaded NVIDIA kernel module's version line (Linux); keys NVML's static cache."""
    try:
        with open("/proc/driver/nvidia/version", "rb") as handle:
            return handle.readline().decode(errors="replace").strip() or None
    except OSError:
        return None


