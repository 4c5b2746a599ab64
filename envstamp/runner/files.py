"""Files and folders, read and written."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from envstamp.errors import InputError
from envstamp.runner.answers import Answer, decode

# ---------------------------------------------------------------------------------- files


def _os_error_answer(exc: OSError) -> Answer:
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return {"status": "absent", "detail": "not found"}
    if isinstance(exc, PermissionError):
        return {"status": "permission", "detail": "permission denied"}
    return {"status": "error", "detail": exc.strerror or str(exc)}


def read_text_answer(path: str, limit: int) -> Answer:
    """Read a file live."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit)
    except OSError as exc:
        return _os_error_answer(exc)
    return {"status": "ok", "text": decode(data)}


def read_bytes_answer(path: str, offset: int, length: int) -> Answer:
    """Read a byte range live."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
    except OSError as exc:
        return _os_error_answer(exc)
    return {"status": "ok", "hex": data.hex()}


def list_dir_answer(path: str) -> Answer:
    """List a folder live."""
    try:
        return {"status": "ok", "names": sorted(os.listdir(path))}
    except OSError as exc:
        return _os_error_answer(exc)


def stat_answer(path: str) -> Answer:
    """Stat a path live."""
    try:
        st = os.stat(path)
    except OSError:
        return {"exists": False}
    import stat as stat_mod

    return {
        "exists": True,
        "is_dir": stat_mod.S_ISDIR(st.st_mode),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "mode": stat_mod.S_IMODE(st.st_mode),
    }


def sha256_answer(path: str, progress: Callable[[int, int], None] | None) -> Answer:
    """Hash a file live, through the hash cache."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return _os_error_answer(exc)
    from envstamp.runner.caches import hash_cache

    cache = hash_cache()
    cache_key = f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}"
    hit = cache.get(cache_key)
    if hit is not None:
        return {"status": "ok", "sha256": hit, "cached": True}
    digest = hashlib.sha256()
    done = 0
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, st.st_size)
    except OSError as exc:
        return _os_error_answer(exc)
    value = digest.hexdigest()
    cache.put(cache_key, value)
    cache.save()
    return {"status": "ok", "sha256": value, "cached": False}


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> None:
    """Write a file so readers see the old or the new contents, never a part.

    Raises InputError (one line) when the folder is missing or unwritable.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot write {target}: {reason}") from None


def which(name: str) -> str | None:
    """An executable on PATH.  POSIX rules are simple enough to follow here without importing
    shutil; Windows (PATHEXT, the current folder first) goes to shutil.which."""
    if os.name == "nt" or os.sep in name:
        import shutil

        return shutil.which(name)
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or os.curdir, name)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None
