"""The only code that touches the system: commands, files, environment, loopback HTTP, NVML.

Probes ask a :class:`Runner` for what they need and parse the answers with pure functions.
Every answer is plain JSON-able data, so it can be recorded to a folder and replayed:

* :class:`LiveRunner` asks the system;
* :class:`RecordingRunner` asks the system and writes every answer to a folder;
* :class:`ReplayRunner` answers from such a folder and refuses anything not recorded.

Nothing here raises for a missing tool, a hung command, garbage output or a permission error:
each answer carries a status (ok, absent, permission, timeout, error) and a detail.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from envstamp import __version__
from envstamp.errors import InputError

AnswerStatus = Literal["ok", "absent", "permission", "timeout", "error", "unsupported"]
Answer = dict[str, Any]

DEFAULT_COMMAND_TIMEOUT = 2.0
MAX_OUTPUT_BYTES = 8 << 20
MAX_FILE_BYTES = 4 << 20
_CHILD_ENV_OVERRIDES = {"LC_ALL": "C", "LANG": "C", "NO_COLOR": "1", "TERM": "dumb"}


class NotRecorded(InputError):  # noqa: N818 - reads better at the raise site
    """Replay was asked for something the recording does not hold."""


# ------------------------------------------------------------------------------- results


@attrs.frozen
class CommandResult:
    """What running a command produced.  ``status`` is "ok" whenever the process ran."""

    argv: tuple[str, ...]
    status: AnswerStatus
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration_ms: float = 0.0
    detail: str | None = None

    @property
    def succeeded(self) -> bool:
        """The command ran and exited 0."""
        return self.status == "ok" and self.returncode == 0

    @property
    def output(self) -> str:
        """stdout and stderr together (many tools print banners to stderr)."""
        if self.stdout and self.stderr:
            return self.stdout + "\n" + self.stderr
        return self.stdout or self.stderr

    def describe(self) -> str:
        """One line saying how the command ended, for probe records."""
        name = Path(self.argv[0]).name if self.argv else "?"
        if self.status == "ok":
            first = (self.stderr or self.stdout).strip().splitlines()
            tail = f": {first[-1][:160]}" if first and self.returncode else ""
            return f"{name} exited {self.returncode}{tail}"
        return f"{name}: {self.detail or self.status}"


@attrs.frozen
class FileResult:
    """A text file's contents, or why there are none."""

    path: str
    status: AnswerStatus
    text: str | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        """The file was read."""
        return self.status == "ok" and self.text is not None


@attrs.frozen
class StatResult:
    """What ``os.stat`` said of a path."""

    path: str
    exists: bool
    is_dir: bool = False
    size: int | None = None
    mtime_ns: int | None = None
    mode: int | None = None


@attrs.frozen
class HttpResult:
    """A loopback HTTP GET."""

    url: str
    status: AnswerStatus
    code: int | None = None
    body: str = ""
    detail: str | None = None


@attrs.frozen
class NvmlCall:
    """One NVML function call: ``fn(handle_of(index), *args)``, or ``fn(*args)`` without index."""

    fn: str
    index: int | None = None
    args: tuple[Any, ...] = ()


@attrs.frozen
class NvmlResult:
    """Answers to a batch of NVML calls: each a ``{"value": ...}`` or ``{"error": ...}``."""

    status: AnswerStatus
    answers: tuple[Answer, ...] = ()
    detail: str | None = None


# ------------------------------------------------------------------------------ the runner


class Runner:
    """Answers questions about the system.  Subclasses decide where answers come from."""

    mode = "live"

    def __init__(self, *, command_timeout: float = DEFAULT_COMMAND_TIMEOUT) -> None:
        self.command_timeout = command_timeout
        self.deadline: float | None = None  # time.monotonic() value; caps command timeouts

    # Every public method funnels through _answer(op, key, compute): the one seam that
    # record and replay hook.  ``compute`` asks the live system.
    def _answer(self, op: str, key: dict[str, Any], compute: Callable[[], Answer]) -> Answer:
        return compute()

    # -- commands ----------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        cache: bool = False,
        input_env: dict[str, str] | None = None,
    ) -> CommandResult:
        """Run ``argv`` without a shell; kill its process group on timeout.

        ``cache=True`` marks output that only changes with a reboot or with the binary itself
        (``--version`` banners, hardware listings): the live runner may answer it from the
        on-disk static cache.
        """
        argv = tuple(str(a) for a in argv)
        limit = self._limit(timeout)
        key: dict[str, Any] = {"argv": list(argv)}
        if input_env:
            key["env"] = dict(sorted(input_env.items()))
        answer = self._answer(
            "cmd", key, lambda: self._run_cached(argv, limit, cache, input_env or {})
        )
        return CommandResult(
            argv=argv,
            status=answer["status"],
            returncode=answer.get("returncode"),
            stdout=answer.get("stdout", ""),
            stderr=answer.get("stderr", ""),
            duration_ms=answer.get("duration_ms", 0.0),
            detail=answer.get("detail"),
        )

    def _limit(self, timeout: float | None) -> float:
        limit = self.command_timeout if timeout is None else timeout
        if self.deadline is not None:
            limit = min(limit, max(0.0, self.deadline - time.monotonic()))
        return limit

    def _run_cached(
        self, argv: tuple[str, ...], limit: float, cache: bool, extra_env: dict[str, str]
    ) -> Answer:
        store = static_cache() if cache and self.mode == "live" else None
        cache_key = _command_cache_key(argv, extra_env) if store is not None else None
        if store is not None and cache_key is not None:
            hit: Answer | None = store.get(cache_key)
            if hit is not None:
                return hit
        answer = run_command(argv, limit, extra_env)
        if store is not None and cache_key is not None and answer["status"] == "ok":
            store.put(cache_key, answer)
        return answer

    def abort(self) -> None:
        """Kill every child process still running (the capture's deadline passed)."""
        _CHILDREN.kill_all()

    # -- files ---------------------------------------------------------------------------

    def read_text(self, path: str | os.PathLike[str], *, limit: int = MAX_FILE_BYTES) -> FileResult:
        """A text file, decoded leniently; at most ``limit`` bytes."""
        spath = os.fspath(path)
        answer = self._answer("file", {"path": spath}, lambda: read_text_answer(spath, limit))
        return FileResult(
            path=spath,
            status=answer["status"],
            text=answer.get("text"),
            detail=answer.get("detail"),
        )

    def read_bytes(self, path: str | os.PathLike[str], offset: int, length: int) -> bytes | None:
        """Up to ``length`` bytes at ``offset``; None when unreadable."""
        spath = os.fspath(path)
        key = {"path": spath, "offset": offset, "length": length}
        answer = self._answer("bytes", key, lambda: read_bytes_answer(spath, offset, length))
        if answer["status"] != "ok":
            return None
        return bytes.fromhex(answer["hex"])

    def list_dir(self, path: str | os.PathLike[str]) -> list[str] | None:
        """Sorted entry names of a folder; None when it is missing or unreadable."""
        spath = os.fspath(path)
        answer = self._answer("dir", {"path": spath}, lambda: list_dir_answer(spath))
        names = answer.get("names")
        return list(names) if answer["status"] == "ok" and names is not None else None

    def stat(self, path: str | os.PathLike[str]) -> StatResult:
        """Existence, type, size, mtime and mode of a path (links followed)."""
        spath = os.fspath(path)
        answer = self._answer("stat", {"path": spath}, lambda: stat_answer(spath))
        return StatResult(
            path=spath,
            exists=answer["exists"],
            is_dir=answer.get("is_dir", False),
            size=answer.get("size"),
            mtime_ns=answer.get("mtime_ns"),
            mode=answer.get("mode"),
        )

    def realpath(self, path: str) -> str:
        """The path with links resolved."""
        answer = self._answer("realpath", {"path": path}, lambda: {"path": os.path.realpath(path)})
        return str(answer["path"])

    def sha256_file(
        self, path: str, *, progress: Callable[[int, int], None] | None = None
    ) -> str | None:
        """Hex sha256 of a file's contents, streamed; cached by (path, size, mtime)."""
        answer = self._answer("sha256", {"path": path}, lambda: sha256_answer(path, progress))
        value = answer.get("sha256")
        return str(value) if answer["status"] == "ok" and value else None

    # -- environment and platform --------------------------------------------------------

    def which(self, name: str) -> str | None:
        """Full path of an executable on PATH, or None."""
        answer = self._answer("which", {"name": name}, lambda: {"path": _which(name)})
        found = answer.get("path")
        return str(found) if found else None

    def env(self, name: str) -> str | None:
        """One environment variable."""
        answer = self._answer("env", {"name": name}, lambda: {"value": os.environ.get(name)})
        value = answer.get("value")
        return str(value) if value is not None else None

    def env_names(self) -> list[str]:
        """Names (never values) of all environment variables."""
        answer = self._answer("env_names", {}, lambda: {"names": sorted(os.environ)})
        return list(answer["names"])

    def platform(self) -> dict[str, Any]:
        """Interpreter and kernel facts: system, release, machine, node, Python..."""
        return self._answer("platform", {}, platform_answer)

    def python_packages(self, names: Iterable[str]) -> dict[str, str | None]:
        """Installed versions of distributions, from metadata, without importing them."""
        wanted = sorted(set(names))
        answer = self._answer(
            "packages", {"names": wanted}, lambda: {"versions": _package_versions(wanted)}
        )
        return dict(answer["versions"])

    def registry(self, root: str, key: str, value: str) -> Any:
        """A Windows registry value (None elsewhere or when missing)."""
        return self._answer(
            "registry",
            {"root": root, "key": key, "value": value},
            lambda: {"value": _registry_value(root, key, value)},
        ).get("value")

    def memory_status(self) -> dict[str, int | None]:
        """Physical memory, bytes: ``total_bytes`` and ``available_bytes`` from the OS's own
        call (GlobalMemoryStatusEx on Windows, sysconf elsewhere); None where unknown."""
        answer = self._answer("memory_status", {}, memory_status_answer)
        return {
            "total_bytes": answer.get("total_bytes"),
            "available_bytes": answer.get("available_bytes"),
        }

    def power_status(self) -> dict[str, Any]:
        """``ac_online`` and ``battery_percent`` from the OS's own call (GetSystemPowerStatus
        on Windows); None where the OS offers no such call (Linux and macOS have files/tools)."""
        answer = self._answer("power_status", {}, power_status_answer)
        return {
            "ac_online": answer.get("ac_online"),
            "battery_percent": answer.get("battery_percent"),
        }

    # -- network and libraries -----------------------------------------------------------

    def http_get(self, url: str, *, timeout: float = 0.5) -> HttpResult:
        """GET on a loopback address only; short timeouts; never follows redirects."""
        answer = self._answer("http", {"url": url}, lambda: http_get_answer(url, timeout))
        return HttpResult(
            url=url,
            status=answer["status"],
            code=answer.get("code"),
            body=answer.get("body", ""),
            detail=answer.get("detail"),
        )

    def nvml(
        self, calls: Sequence[NvmlCall], *, timeout: float | None = None, cache: bool = False
    ) -> NvmlResult:
        """Call NVML in-process (nvidia-ml-py); one answer per call.

        ``cache=True`` marks static facts (names, limits) that the live runner may keep in the
        on-disk static cache, keyed by boot and driver.
        """
        key = {"calls": [[c.fn, c.index, list(c.args)] for c in calls]}
        limit = self._limit(timeout)
        answer = self._answer("nvml", key, lambda: _nvml_cached(calls, limit, cache))
        return NvmlResult(
            status=answer["status"],
            answers=tuple(answer.get("answers", ())),
            detail=answer.get("detail"),
        )

    def git_info(self, path: str, *, timeout: float | None = None) -> Answer:
        """Commit, describe, branch, dirty and remote of a git checkout (GitPython)."""
        limit = self._limit(timeout)
        return self._answer("git", {"path": path}, lambda: git_answer(path, limit))

    def library(self, name: str, *, timeout: float | None = None) -> Answer:
        """Ask a third-party library (``py-cpuinfo``, ``gputil``) under a timeout."""
        limit = self._limit(timeout)
        return self._answer("library", {"name": name}, lambda: library_answer(name, limit))

    def finish(self) -> None:
        """Flush what the runner keeps (the static cache)."""
        if _STATIC_CACHE is not None:
            _STATIC_CACHE.save()


class LiveRunner(Runner):
    """Asks the live system."""


class RecordingRunner(Runner):
    """Asks the live system and writes every answer into ``folder``."""

    mode = "record"

    def __init__(self, folder: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create {self.folder}: {exc.strerror}") from None
        self._lock = threading.Lock()

    def _answer(self, op: str, key: dict[str, Any], compute: Callable[[], Answer]) -> Answer:
        answer = compute()
        record = {"op": op, "key": key, "answer": answer}
        name = answer_file_name(op, key)
        data = json.dumps(record, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            write_atomic(self.folder / name, data.encode())
        return answer


class ReplayRunner(Runner):
    """Answers from a recorded folder; never asks the live system."""

    mode = "replay"

    def __init__(self, folder: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(folder)
        self._answers = load_recording(self.folder)

    def _answer(self, op: str, key: dict[str, Any], compute: Callable[[], Answer]) -> Answer:
        found = self._answers.get(answer_key(op, key))
        if found is None:
            raise NotRecorded(f"not in the recording {self.folder.name}: {op} {_short(key)}")
        return found

    def abort(self) -> None:
        """Nothing runs in replay."""


def _short(key: dict[str, Any]) -> str:
    text = json.dumps(key, sort_keys=True)
    return text if len(text) < 120 else text[:117] + "..."


# -------------------------------------------------------------------------- record format


def answer_key(op: str, key: dict[str, Any]) -> str:
    """The lookup key of a recorded answer."""
    return op + " " + json.dumps(key, sort_keys=True, separators=(",", ":"))


def answer_file_name(op: str, key: dict[str, Any]) -> str:
    """A readable, unique file name for one recorded answer."""
    words = [str(v) for v in key.values() if isinstance(v, (str, int))]
    if "argv" in key:
        words = [Path(key["argv"][0]).name, *key["argv"][1:]]
    if "calls" in key:
        words = [str(len(key["calls"])) + "-calls"]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(words)).strip("_.-")[:60]
    digest = hashlib.sha256(answer_key(op, key).encode()).hexdigest()[:10]
    return f"{op}-{slug}-{digest}.json" if slug else f"{op}-{digest}.json"


def load_recording(folder: Path) -> dict[str, Answer]:
    """Every recorded answer of a folder, by lookup key."""
    if not folder.is_dir():
        raise InputError(f"no recording at {folder}")
    answers: dict[str, Answer] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            answers[answer_key(record["op"], record["key"])] = record["answer"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"bad recorded answer {path.name}: {exc}") from None
    return answers


def make_runner(
    *,
    record: str | os.PathLike[str] | None = None,
    replay: str | os.PathLike[str] | None = None,
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
) -> Runner:
    """The runner for a capture: live, recording or replaying."""
    if record is not None and replay is not None:
        raise InputError("--raw and --replay cannot be used together")
    if replay is not None:
        return ReplayRunner(replay, command_timeout=command_timeout)
    if record is not None:
        return RecordingRunner(record, command_timeout=command_timeout)
    return LiveRunner(command_timeout=command_timeout)


# ------------------------------------------------------------------------------- commands


class _ChildRegistry:
    """Processes started and not yet reaped, so a deadline can kill them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            kill_tree(proc)


_CHILDREN = _ChildRegistry()


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(_CHILD_ENV_OVERRIDES)
    env.update(extra)
    return env


def decode(data: bytes) -> str:
    """Bytes -> text, never raising: UTF-8 with replacement, NULs dropped, CRLF folded."""
    text = data[:MAX_OUTPUT_BYTES].decode("utf-8", errors="replace")
    return text.replace("\x00", "").replace("\r\n", "\n")


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Kill a child and everything in its process group."""
    if proc.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            subprocess.run(
                ["taskkill", "/T", "/F", "/PID", str(proc.pid)],
                capture_output=True,
                timeout=2,
                check=False,
            )
            proc.kill()
    except (OSError, subprocess.SubprocessError):
        pass


def run_command(argv: Sequence[str], timeout: float, extra_env: dict[str, str]) -> Answer:
    """Run one command live.  Never raises; the answer says what happened."""
    start = time.perf_counter()
    argv = list(argv)

    def elapsed() -> float:
        return round((time.perf_counter() - start) * 1000, 3)

    if timeout <= 0:
        return {"status": "timeout", "detail": "no time left before the deadline", "duration_ms": 0}
    kwargs: dict[str, Any] = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True  # own process group: killpg reaches grandchildren
    else:
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(extra_env),
            **kwargs,
        )
    except FileNotFoundError:
        return {"status": "absent", "detail": "not found", "duration_ms": elapsed()}
    except PermissionError:
        return {"status": "permission", "detail": "permission denied", "duration_ms": elapsed()}
    except OSError as exc:
        return {"status": "error", "detail": f"cannot start: {exc}", "duration_ms": elapsed()}
    _CHILDREN.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        out, err = _drain(proc)
        return {
            "status": "timeout",
            "detail": f"no answer within {timeout:g} s; killed",
            "stdout": decode(out),
            "stderr": decode(err),
            "duration_ms": elapsed(),
        }
    finally:
        _CHILDREN.discard(proc)
    return {
        "status": "ok",
        "returncode": proc.returncode,
        "stdout": decode(out),
        "stderr": decode(err),
        "duration_ms": elapsed(),
    }


def _drain(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Collect what a killed child printed, without waiting on stray pipe holders."""
    try:
        return proc.communicate(timeout=0.5)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
        return b"", b""


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


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


# ------------------------------------------------------------------------------- platform


def platform_answer() -> Answer:
    """Facts about the interpreter and kernel, from the platform module (no processes)."""
    import platform

    uname = platform.uname()
    libc: str | None = None
    if hasattr(os, "confstr"):
        try:
            libc = os.confstr("CS_GNU_LIBC_VERSION")
        except (ValueError, OSError):
            libc = None
    return {
        "system": uname.system,
        "node": uname.node,
        "release": uname.release,
        "version": uname.version,
        "machine": uname.machine,
        "libc": libc,
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "home": os.path.expanduser("~"),
        "cpu_count": os.cpu_count(),
    }


def normalize_distribution(name: str) -> str:
    """PEP 503 normalised distribution name ("llama_cpp.Python" -> "llama-cpp-python")."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _package_versions(names: list[str]) -> dict[str, str | None]:
    index = installed_distributions(tuple(sys.path))
    return {name: index.get(normalize_distribution(name)) for name in names}


_DIST_INDEX: dict[tuple[str, ...], dict[str, str]] = {}


def installed_distributions(path: tuple[str, ...]) -> dict[str, str]:
    """Normalised name -> version of every distribution on ``path``, from folder names.

    Reading ``*.dist-info`` / ``*.egg-info`` names costs one listdir per path entry, where
    importlib.metadata costs ~40 ms to import; the version in the folder name is the installed
    version, local tags included (``torch-2.4.0+cu124.dist-info``).  The first entry on the
    path wins, as for imports.
    """
    cached = _DIST_INDEX.get(path)
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
    _DIST_INDEX[path] = index
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


def _registry_value(root: str, key: str, value: str) -> Any:
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
    return data


def memory_status_answer() -> Answer:
    """Total and available physical memory, from the OS's own call (no process)."""
    if os.name == "nt":
        return _windows_memory_status()
    answer: Answer = {"status": "ok", "total_bytes": None, "available_bytes": None}
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        answer["total_bytes"] = os.sysconf("SC_PHYS_PAGES") * page
        answer["available_bytes"] = os.sysconf("SC_AVPHYS_PAGES") * page
    except (ValueError, OSError, AttributeError):
        pass  # macOS has no SC_AVPHYS_PAGES; what was read stays
    return answer


def _windows_memory_status() -> Answer:
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


def power_status_answer() -> Answer:
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


# ----------------------------------------------------------------------------------- http

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}  # noqa: S104


def split_http_url(url: str) -> tuple[str, int, str] | None:
    """(host, port, path) of an http:// URL on a loopback host, else None."""
    match = re.match(r"^http://(\[[^\]]+\]|[^/:]+)(?::(\d+))?(/.*)?$", url)
    if not match:
        return None
    host = match.group(1)
    if host not in _LOOPBACK_HOSTS and not host.startswith("127."):
        return None
    if host == "0.0.0.0":  # noqa: S104 - a server bound to all interfaces answers on loopback
        host = "127.0.0.1"
    port = int(match.group(2) or 80)
    return host.strip("[]"), port, match.group(3) or "/"


def http_get_answer(url: str, timeout: float) -> Answer:
    """A minimal HTTP/1.0 GET over a socket: cheap to import, bounded in time."""
    import socket

    parts = split_http_url(url)
    if parts is None:
        return {"status": "unsupported", "detail": "only http:// on loopback is probed"}
    host, port, path = parts
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            request = f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n"
            sock.sendall(request.encode())
            chunks: list[bytes] = []
            size = 0
            while size < MAX_FILE_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return {"status": "timeout", "detail": f"no answer within {timeout:g} s"}
                sock.settimeout(remaining)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except ConnectionRefusedError:
        return {"status": "absent", "detail": "connection refused (not running)"}
    except TimeoutError:
        return {"status": "timeout", "detail": f"no answer within {timeout:g} s"}
    except OSError as exc:
        return {"status": "error", "detail": exc.strerror or str(exc)}
    return parse_http_response(b"".join(chunks))


def parse_http_response(raw: bytes) -> Answer:
    """Status code and body of a raw HTTP/1.x response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/\d\.\d (\d{3})", head)
    if not match:
        return {"status": "error", "detail": "not an HTTP response"}
    return {"status": "ok", "code": int(match.group(1)), "body": decode(body)}


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


def _nvml_cached(calls: Sequence[NvmlCall], timeout: float, cache: bool) -> Answer:
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


def call_with_timeout(fn: Callable[[], Answer], timeout: float, what: str) -> Answer:
    """Run ``fn`` in a daemon thread; give up waiting after ``timeout`` seconds."""
    box: list[Answer] = []

    def target() -> None:
        try:
            box.append(fn())
        except Exception as exc:  # noqa: BLE001 - a library's failure is data
            box.append({"status": "error", "detail": f"{what}: {type(exc).__name__}: {exc}"})

    thread = threading.Thread(target=target, name=f"envstamp-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if not box:
        return {"status": "timeout", "detail": f"{what} gave no answer within {timeout:g} s"}
    return box[0]


# ------------------------------------------------------------------------ git and libraries


def git_answer(path: str, timeout: float) -> Answer:
    """Describe a git checkout with GitPython (imported only here: it costs ~50 ms)."""

    def ask() -> Answer:
        try:
            import git
        except ImportError as exc:
            return {"status": "absent", "detail": f"GitPython unavailable: {exc}"}
        try:
            repo = git.Repo(path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            return {"status": "absent", "detail": "not a git checkout"}
        except git.GitError as exc:
            return {"status": "error", "detail": str(exc).splitlines()[0]}
        with repo:
            return _describe_repo(repo, timeout)

    return call_with_timeout(ask, timeout, "git")


def _describe_repo(repo: Any, timeout: float) -> Answer:
    import git

    def run_git(*args: str) -> str | None:
        try:
            return str(repo.git.execute(["git", *args], kill_after_timeout=timeout)).strip()
        except (git.GitCommandError, git.GitCommandNotFound, OSError, ValueError):
            return None

    try:
        commit = repo.head.commit.hexsha
    except (ValueError, git.GitError):
        commit = None
    try:
        branch = None if repo.head.is_detached else repo.active_branch.name
    except (TypeError, ValueError, git.GitError):
        branch = None
    status = run_git("status", "--porcelain", "--untracked-files=no")
    remote = None
    try:
        if "origin" in [r.name for r in repo.remotes]:
            remote = next(iter(repo.remotes.origin.urls), None)
    except (ValueError, git.GitError, StopIteration):
        remote = None
    return {
        "status": "ok",
        "commit": commit,
        "describe": run_git("describe", "--tags", "--always", "--dirty"),
        "branch": branch,
        "dirty": None if status is None else bool(status),
        "remote": remote,
    }


def library_answer(name: str, timeout: float) -> Answer:
    """Third-party libraries envstamp uses only as fallbacks, each under a timeout."""
    if name == "py-cpuinfo":
        return call_with_timeout(_py_cpuinfo, timeout, name)
    if name == "gputil":
        return call_with_timeout(_gputil, timeout, name)
    return {"status": "unsupported", "detail": f"unknown library {name}"}


def _py_cpuinfo() -> Answer:
    try:
        import cpuinfo  # py-cpuinfo or py-cpuinfo2: both install this module
    except ImportError as exc:
        return {"status": "absent", "detail": f"py-cpuinfo unavailable: {exc}"}
    info = cpuinfo.get_cpu_info()
    return {"status": "ok", "info": {k: v for k, v in info.items() if _jsonable(v)}}


def _gputil() -> Answer:
    try:
        import GPUtil  # the package's own name
    except Exception as exc:  # noqa: BLE001 - it imports distutils, gone in Python 3.12
        return {"status": "unsupported", "detail": f"GPUtil does not import here: {exc}"}
    gpus = GPUtil.getGPUs()
    return {
        "status": "ok",
        "gpus": [
            {
                "id": g.id,
                "uuid": g.uuid,
                "name": g.name,
                "driver": g.driver,
                "serial": g.serial,
                "memory_total_mib": g.memoryTotal,
                "memory_used_mib": g.memoryUsed,
                "temperature_c": g.temperature,
                "load": g.load,
            }
            for g in gpus
        ],
    }


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


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


def _command_cache_key(argv: tuple[str, ...], extra_env: dict[str, str]) -> str | None:
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
    _DIST_INDEX.clear()

