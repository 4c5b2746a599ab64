"""NVML in-process through nvidia-ml-py, imported only when asked."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from typing import Any

from envstamp.runner.answers import Answer, NvmlCall, call_with_timeout
from envstamp.runner.caches import static_cache

# ----------------------------------------------------------------------------------- NVML

_NVML_LOCK = threading.Lock()
_NVML_STATE: dict[str, Any] = {}


def _nvml_value(value: Any) -> Any:
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


def _nvml_init() -> Answer | None:
    """Load and initialise NVML once per process; an answer when that fails."""
    if "error" in _NVML_STATE:
        return dict(_NVML_STATE["error"])
    if "module" in _NVML_STATE:
        return None
    try:
        import pynvml
    except ImportError:
        failure: Answer = {"status": "absent", "detail": "nvidia-ml-py is not installed"}
        _NVML_STATE["error"] = failure
        return failure
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        failure = _nvml_init_failure(pynvml, exc)
        _NVML_STATE["error"] = failure
        return failure
    except OSError as exc:  # a broken libnvidia-ml
        failure = {"status": "error", "detail": f"cannot load NVML: {exc}"}
        _NVML_STATE["error"] = failure
        return failure
    _NVML_STATE["module"] = pynvml
    return None


def _nvml_init_failure(pynvml: Any, exc: Exception) -> Answer:
    text = str(exc)
    if isinstance(exc, pynvml.NVMLError_LibraryNotFound):
        return {"status": "absent", "detail": "NVML library not found (no NVIDIA driver)"}
    if isinstance(exc, pynvml.NVMLError_DriverNotLoaded):
        return {"status": "absent", "detail": "NVIDIA driver not loaded"}
    if isinstance(exc, pynvml.NVMLError_NoPermission):
        return {"status": "permission", "detail": "NVML: insufficient permissions"}
    return {"status": "error", "detail": f"NVML init failed: {text}"}


def _nvml_calls(calls: Sequence[NvmlCall]) -> Answer:
    with _NVML_LOCK:
        failure = _nvml_init()
        if failure is not None:
            return failure
        pynvml = _NVML_STATE["module"]
        handles: dict[int, Any] = {}
        answers: list[Answer] = []
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


def nvml_answer(calls: Sequence[NvmlCall], timeout: float | None, cache: bool) -> Answer:
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
            hit: Answer | None = store.get(cache_key)
            if hit is not None:
                return hit
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


