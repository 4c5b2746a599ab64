"""Hashing files through the on-disk hash cache (keyed by path, size and mtime).

Apart from ``files`` so that the caches, which write through ``files``, and hashing, which
reads through the caches, do not import each other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from envstamp.runner.caches import hash_cache
from envstamp.runner.files import NotRegularError, _open_for_reading, os_error_status

if TYPE_CHECKING:
    from envstamp.runner.answer_types import HashAnswer


def sha256_answer(path: str, progress: Callable[[int, int], None] | None) -> HashAnswer:
    """Hash a regular file live, through the hash cache.  Anything else (a FIFO would wait
    for a writer for ever, /dev/zero never ends) is refused without reading."""
    try:
        handle = _open_for_reading(path)
    except NotRegularError as exc:
        return {"status": "error", "detail": f"not hashed: {exc}"}
    except OSError as exc:
        status, detail = os_error_status(exc)
        return {"status": status, "detail": detail}
    with handle:
        return _hash_open_file(path, handle, progress)


def _hash_open_file(
    path: str, handle: IO[bytes], progress: Callable[[int, int], None] | None
) -> HashAnswer:
    st = os.fstat(handle.fileno())
    cache = hash_cache()
    cache_key = f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}"
    hit = cache.get(cache_key)
    if isinstance(hit, str):
        return {"status": "ok", "sha256": hit, "cached": True}
    digest = hashlib.sha256()
    done = 0
    try:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, st.st_size)
    except OSError as exc:
        status, detail = os_error_status(exc)
        return {"status": status, "detail": detail}
    value = digest.hexdigest()
    cache.put(cache_key, value)
    cache.save()
    return {"status": "ok", "sha256": value, "cached": False}
