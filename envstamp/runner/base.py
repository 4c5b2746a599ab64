"""Runner classes, their typed answers, and the record/replay format."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

import attrs

from envstamp.errors import InputError
from envstamp.manifest.records import FrozenRecord
from envstamp.runner import files, system
from envstamp.runner.answers import (
    DEFAULT_COMMAND_TIMEOUT,
    MAX_FILE_BYTES,
    Answer,
    AnswerStatus,
    Key,
    NvmlCall,
)

if TYPE_CHECKING:
    from envstamp.runner.answer_types import (
        CommandAnswer,
        GitAnswer,
        HashAnswer,
        HttpAnswer,
        LibraryAnswer,
        MemoryStatusAnswer,
        NvmlAnswer,
        NvmlItem,
        PlatformAnswer,
        PowerStatusAnswer,
    )
    from envstamp.runner.commands import ChildRegistry

# The answer type of one operation (a TypedDict of answer_types).
A = TypeVar("A", bound=Mapping[str, object])


class NotRecorded(InputError):  # noqa: N818 - reads better at the raise site
    """Replay was asked for something the recording does not hold."""


# ------------------------------------------------------------------------------- results


@attrs.frozen(eq=False, repr=False)
class CommandResult(FrozenRecord):
    """What running a command produced.  ``status`` is "ok" whenever the process ran."""

    argv: tuple[str, ...]
    status: AnswerStatus
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration_ms: float = 0.0
    detail: str | None = None
    truncated: bool = False  # it printed more than the runner keeps (MAX_OUTPUT_BYTES a stream)

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
            cut = " (output truncated)" if self.truncated else ""
            return f"{name} exited {self.returncode}{tail}{cut}"
        return f"{name}: {self.detail or self.status}"


@attrs.frozen(eq=False, repr=False)
class FileResult(FrozenRecord):
    """A text file's contents, or why there are none."""

    path: str
    status: AnswerStatus
    text: str | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        """The file was read."""
        return self.status == "ok" and self.text is not None


@attrs.frozen(eq=False, repr=False)
class StatResult(FrozenRecord):
    """What ``os.stat`` said of a path."""

    path: str
    exists: bool
    is_dir: bool = False
    size: int | None = None
    mtime_ns: int | None = None
    mode: int | None = None
    kind: str | None = None
    """"file", "dir", "fifo", "char device", "block device", "socket" (None: not recorded)."""

    @property
    def is_regular(self) -> bool:
        """A regular file (or, from a recording made before ``kind`` was kept, not a folder)."""
        return self.exists and (self.kind == "file" or (self.kind is None and not self.is_dir))


@attrs.frozen(eq=False, repr=False)
class HttpResult(FrozenRecord):
    """A loopback HTTP GET."""

    url: str
    status: AnswerStatus
    code: int | None = None
    body: str = ""
    detail: str | None = None


@attrs.frozen(eq=False, repr=False)
class NvmlResult(FrozenRecord):
    """Answers to a batch of NVML calls: each a ``{"value": ...}`` or ``{"error": ...}``."""

    status: AnswerStatus
    answers: tuple[NvmlItem, ...] = ()
    detail: str | None = None


# ------------------------------------------------------------------------------ the runner


class Runner:
    """Answers questions about the system.  Subclasses decide where answers come from."""

    mode = "live"
    # The recordings a replay answers from, by folder name (what a manifest's
    # ``replayed_from`` says); None for a runner that asks the system.
    replayed_from: list[str] | None = None

    def __init__(self, *, command_timeout: float = DEFAULT_COMMAND_TIMEOUT) -> None:
        self.command_timeout = command_timeout
        self.deadline: float | None = None  # time.monotonic() value; caps command timeouts
        # A bounded() runner's own commands (a commands.ChildRegistry made on the first one)
        # and the lock that makes it once; None on a runner that is not bounded.
        self._started: ChildRegistry | None = None
        self._bounded_lock: threading.Lock | None = None

    def bounded(self, deadline: float, command_timeout: float | None = None) -> Runner:
        """This runner for one call that has a deadline (a capture, a state reading).

        A shallow copy: it shares everything this runner holds (a recording's folder and
        lock, a replay's answers, what a subclass collects in containers), but the deadline,
        the command timeout and the commands it starts (which its :meth:`abort` ends) are its
        own.  The runner the caller made is never changed, so it keeps answering after the
        call's deadline has passed.
        """
        import copy

        call = copy.copy(self)
        call.deadline = deadline
        if command_timeout is not None:
            call.command_timeout = command_timeout
        call._started = None  # created on the first command (commands.ChildRegistry)
        call._bounded_lock = threading.Lock()
        return call

    # Every public method funnels through _answer(op, key, compute): the one seam that
    # record and replay hook.  ``compute`` asks the live system; its answer type (one per
    # operation, see answer_types) is what a replay of ``op`` gives back too.
    def _answer(self, op: str, key: Key, compute: Callable[[], A]) -> A:
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
        key: Key = {"argv": list(argv)}
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
            truncated=bool(answer.get("truncated", False)),
        )

    def _limit(self, timeout: float | None) -> float:
        limit = self.command_timeout if timeout is None else timeout
        if self.deadline is not None:
            limit = min(limit, max(0.0, self.deadline - time.monotonic()))
        return limit

    def _run_cached(
        self, argv: tuple[str, ...], limit: float, cache: bool, extra_env: dict[str, str]
    ) -> CommandAnswer:
        from envstamp.runner import caches

        store = caches.static_cache() if cache and self.mode == "live" else None
        cache_key = caches.command_cache_key(argv, extra_env) if store is not None else None
        if store is not None and cache_key is not None:
            hit = store.get(cache_key)
            if isinstance(hit, dict) and "status" in hit:  # as this method put it there
                return cast("CommandAnswer", hit)
        from envstamp.runner.commands import run_command

        answer = run_command(argv, limit, extra_env, self._registry())
        cacheable = answer["status"] == "ok" and not answer.get("truncated")
        if store is not None and cache_key is not None and cacheable:
            store.put(cache_key, answer)
        return answer

    def _registry(self) -> ChildRegistry | None:
        """Where the commands of this runner are registered: a bounded runner's own
        registry, else (None) the process-wide one."""
        lock: threading.Lock | None = getattr(self, "_bounded_lock", None)
        if lock is None:
            return None  # run_command's process-wide CHILDREN
        with lock:
            if self._started is None:
                from envstamp.runner.commands import ChildRegistry

                self._started = ChildRegistry()
            return self._started

    def abort(self) -> None:
        """End every command still running with all it started (the deadline passed): a
        bounded runner's own commands, or on any other runner every command of the
        process."""
        if getattr(self, "_bounded_lock", None) is not None:
            if self._started is not None:
                self._started.kill_all()
            return
        commands = sys.modules.get("envstamp.runner.commands")
        if commands is not None:  # nothing was started otherwise
            commands.CHILDREN.kill_all()

    # -- files ---------------------------------------------------------------------------

    def read_text(self, path: str | os.PathLike[str], *, limit: int = MAX_FILE_BYTES) -> FileResult:
        """A text file, decoded leniently; at most ``limit`` bytes."""
        spath = os.fspath(path)
        answer = self._answer("file", {"path": spath}, lambda: files.read_text_answer(spath, limit))
        return FileResult(
            path=spath,
            status=answer["status"],
            text=answer.get("text"),
            detail=answer.get("detail"),
        )

    def text(self, path: str | os.PathLike[str], *, limit: int = MAX_FILE_BYTES) -> str | None:
        """A text file's contents, or None whatever the reason (see read_text for which)."""
        result = self.read_text(path, limit=limit)
        return result.text if result.ok else None

    def read_bytes(self, path: str | os.PathLike[str], offset: int, length: int) -> bytes | None:
        """Up to ``length`` bytes at ``offset``; None when unreadable."""
        spath = os.fspath(path)
        key: Key = {"path": spath, "offset": offset, "length": length}
        answer = self._answer("bytes", key, lambda: files.read_bytes_answer(spath, offset, length))
        if answer["status"] != "ok":
            return None
        return bytes.fromhex(answer["hex"])

    def list_dir(self, path: str | os.PathLike[str]) -> list[str] | None:
        """Sorted entry names of a folder; None when it is missing or unreadable."""
        spath = os.fspath(path)
        answer = self._answer("dir", {"path": spath}, lambda: files.list_dir_answer(spath))
        names = answer.get("names")
        return list(names) if answer["status"] == "ok" and names is not None else None

    def stat(self, path: str | os.PathLike[str]) -> StatResult:
        """Existence, type, size, mtime and mode of a path (links followed)."""
        spath = os.fspath(path)
        answer = self._answer("stat", {"path": spath}, lambda: files.stat_answer(spath))
        return StatResult(
            path=spath,
            exists=answer["exists"],
            is_dir=answer.get("is_dir", False),
            size=answer.get("size"),
            mtime_ns=answer.get("mtime_ns"),
            mode=answer.get("mode"),
            kind=answer.get("kind"),
        )

    def realpath(self, path: str) -> str:
        """The path with links resolved."""
        answer = self._answer("realpath", {"path": path}, lambda: {"path": os.path.realpath(path)})
        return str(answer["path"])

    def sha256_file(
        self, path: str, *, progress: Callable[[int, int], None] | None = None
    ) -> str | None:
        """Hex sha256 of a file's contents, streamed; cached by (path, size, mtime)."""
        answer = self._answer("sha256", {"path": path}, lambda: _sha256(path, progress))
        value = answer.get("sha256")
        return str(value) if answer["status"] == "ok" and value else None

    # -- environment and platform --------------------------------------------------------

    def which(self, name: str) -> str | None:
        """Full path of an executable on PATH, or None."""
        answer = self._answer("which", {"name": name}, lambda: {"path": shutil.which(name)})
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

    def platform(self) -> PlatformAnswer:
        """Interpreter and kernel facts: system, release, machine, node, Python..."""
        return self._answer("platform", {}, system.platform_answer)

    def python_packages(self, names: Iterable[str]) -> dict[str, str | None]:
        """Installed versions of distributions, from metadata, without importing them."""
        wanted = sorted(set(names))
        answer = self._answer(
            "packages", {"names": wanted}, lambda: {"versions": system.package_versions(wanted)}
        )
        return dict(answer["versions"])

    def registry(self, root: str, key: str, value: str) -> object:
        """A Windows registry value (None elsewhere or when missing): text, a number or a
        list of texts (``answer_types.RegistryValue``) as the key holds it; callers check."""
        return self._answer(
            "registry",
            {"root": root, "key": key, "value": value},
            lambda: {"value": system.registry_value(root, key, value)},
        ).get("value")

    def memory_status(self) -> MemoryStatusAnswer:
        """Physical memory, bytes: ``total_bytes`` and ``available_bytes`` from the OS's own
        call (GlobalMemoryStatusEx on Windows, sysconf elsewhere); None where unknown."""
        answer = self._answer("memory_status", {}, system.memory_status_answer)
        return {
            "total_bytes": answer.get("total_bytes"),
            "available_bytes": answer.get("available_bytes"),
        }

    def power_status(self) -> PowerStatusAnswer:
        """``ac_online`` and ``battery_percent`` from the OS's own call (GetSystemPowerStatus
        on Windows); None where the OS offers no such call (Linux and macOS have files/tools)."""
        answer = self._answer("power_status", {}, system.power_status_answer)
        return {
            "ac_online": answer.get("ac_online"),
            "battery_percent": answer.get("battery_percent"),
        }

    # -- network and libraries -----------------------------------------------------------

    def http_get(self, url: str, *, timeout: float = 0.5) -> HttpResult:
        """GET on a loopback address only; short timeouts; never follows redirects."""
        answer = self._answer("http", {"url": url}, lambda: _http(url, timeout))
        return _http_result(url, answer)

    def http_post_json(self, url: str, payload: object, *, timeout: float = 0.5) -> HttpResult:
        """POST a small JSON body on a loopback address only (an API that takes its question
        as a body, such as Ollama's /api/show); otherwise as :meth:`http_get`."""
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        answer = self._answer(
            "http",
            {"url": url, "method": "POST", "body": body},
            lambda: _http(url, timeout, method="POST", body=body),
        )
        return _http_result(url, answer)

    def nvml(
        self,
        calls: Sequence[NvmlCall],
        *,
        timeout: float | None = None,
        cache: bool = False,
        watchdog: bool = True,
    ) -> NvmlResult:
        """Call NVML in-process (nvidia-ml-py); one answer per call.

        ``cache=True`` marks static facts (names, limits) that the live runner may keep in the
        on-disk static cache, keyed by boot and driver.  ``watchdog=False`` calls NVML in the
        caller's thread, without the helper thread that enforces the timeout: for callers that
        already run in a thread of their own and call often (the 10 Hz memory sampler).
        """
        key: Key = {"calls": [[c.fn, c.index, list(c.args)] for c in calls]}
        limit = self._limit(timeout) if watchdog else None
        answer = self._answer("nvml", key, lambda: _nvml(calls, limit, cache))
        return NvmlResult(
            status=answer["status"],
            answers=tuple(answer.get("answers", ())),
            detail=answer.get("detail"),
        )

    def git_info(self, path: str, *, timeout: float | None = None) -> GitAnswer:
        """Commit, describe, branch, dirty and remote of a git checkout (GitPython)."""
        limit = self._limit(timeout)
        return self._answer("git", {"path": path}, lambda: _git(path, limit, self._registry()))

    def library(self, name: str, *, timeout: float | None = None) -> LibraryAnswer:
        """Ask a third-party library (``py-cpuinfo``, ``gputil``) under a timeout."""
        limit = self._limit(timeout)
        return self._answer(
            "library",
            {"name": name},
            lambda: _library(name, limit, self._registry()),
        )

    def finish(self) -> None:
        """Flush what the runner keeps (the static cache)."""
        caches = sys.modules.get("envstamp.runner.caches")
        if caches is not None:  # never imported: nothing to flush
            caches.flush()


class LiveRunner(Runner):
    """Asks the live system."""


class RecordingRunner(Runner):
    """Asks the live system and writes every answer into ``folder``.

    Recordings are made to be shared (bug reports): questions and answers are written with
    secrets redacted (``envstamp.manifest.secrets.redact_key`` / ``redact_answer``), and the probes
    get the redacted answer too, so replaying a recording gives the manifest its recording
    capture gave.
    """

    mode = "record"

    def __init__(
        self, folder: str | os.PathLike[str], *, command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    ) -> None:
        super().__init__(command_timeout=command_timeout)
        self.folder = Path(folder)
        what = files.not_a_folder(self.folder)
        if what is not None:
            raise InputError(
                f"cannot record into {self.folder}: it is {what}; answers are recorded into "
                "a folder (created when missing)"
            )
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create {self.folder}: {exc.strerror}") from None
        self._lock = threading.Lock()

    def _answer(self, op: str, key: Key, compute: Callable[[], A]) -> A:
        from envstamp.manifest.secrets import redact_answer, redact_key

        # Redaction rewrites texts only: the answer keeps its fields and their types.
        answer = cast(A, redact_answer(op, key, compute()))
        key = redact_key(op, key)
        record = {"op": op, "key": key, "answer": answer}
        name = answer_file_name(op, key)
        data = json.dumps(record, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            files.write_atomic(self.folder / name, data.encode())
        return answer


class ReplayRunner(Runner):
    """Answers from recorded folders; never asks the live system.

    Several folders layer: the first that holds an answer gives it, so a recording of one
    part of a machine (its GPUs) can be replayed over a recording of the rest.
    """

    mode = "replay"

    def __init__(
        self,
        folder: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        super().__init__(command_timeout=command_timeout)
        folders = [folder] if isinstance(folder, (str, os.PathLike)) else list(folder)
        if not folders:
            raise InputError("replay needs a recording folder")
        self.folder = Path(folders[0])
        self.replayed_from = [recording_name(layer) for layer in folders]
        self._answers: dict[str, Answer] = {}
        for layer in reversed(folders):
            self._answers.update(load_recording(Path(layer)))

    def _answer(self, op: str, key: Key, compute: Callable[[], A]) -> A:
        found = self._answers.get(answer_key(op, key))
        if found is None:  # recorded with its secrets redacted (see RecordingRunner)
            from envstamp.manifest.secrets import redact_key

            found = self._answers.get(answer_key(op, redact_key(op, key)))
        if found is None:
            raise NotRecorded(f"not in the recording {self.folder.name}: {op} {_short(key)}")
        # load_recording held every answer to the shape of its operation (recorded.SHAPES,
        # the fields of answer_types' TypedDicts): it is the answer ``compute`` would give.
        return cast(A, found)

    def abort(self) -> None:
        """Nothing runs in replay."""


def recording_name(folder: str | os.PathLike[str]) -> str:
    """A recording folder's name as a manifest records it: its last part ("rec" for
    "~/runs/rec/"), never the path (where it lies on this machine is nobody's business)."""
    path = os.path.normpath(os.fspath(folder))
    return os.path.basename(path) or path


def _short(key: Key) -> str:
    text = json.dumps(key, sort_keys=True)
    return text if len(text) < 120 else text[:117] + "..."


# -------------------------------------------------------------------------- record format


def answer_key(op: str, key: Mapping[str, object]) -> str:
    """The lookup key of a recorded answer."""
    return op + " " + json.dumps(key, sort_keys=True, separators=(",", ":"))


def answer_file_name(op: str, key: Mapping[str, object]) -> str:
    """A readable, unique file name for one recorded answer."""
    import hashlib

    words = [str(v) for v in key.values() if isinstance(v, (str, int))]
    argv, calls = key.get("argv"), key.get("calls")
    if isinstance(argv, list) and argv:
        words = [Path(str(argv[0])).name, *map(str, argv[1:])]
    if isinstance(calls, list):
        words = [str(len(calls)) + "-calls"]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(words)).strip("_.-")[:60]
    digest = hashlib.sha256(answer_key(op, key).encode()).hexdigest()[:10]
    return f"{op}-{slug}-{digest}.json" if slug else f"{op}-{digest}.json"


# The largest answer file a recording may hold: a GGUF header read in full (up to 64 MiB,
# hex-encoded) or two command outputs of MAX_OUTPUT_BYTES with JSON escapes fit well below.
MAX_RECORDED_ANSWER_BYTES = 256 << 20


def load_recording(folder: Path) -> dict[str, Answer]:
    """Every recorded answer of a folder, by lookup key."""
    from envstamp.runner.recorded import answer_problem  # the shapes: replay only

    if not folder.is_dir():
        raise InputError(f"no recording at {folder}")
    answers: dict[str, Answer] = {}
    for path in sorted(folder.glob("*.json")):
        # A regular file of bounded size only: a FIFO named *.json would wait for ever, a
        # link to /dev/zero would fill the memory.
        data = files.read_regular(path, MAX_RECORDED_ANSWER_BYTES)
        try:
            record = json.loads(data.decode("utf-8"))
            if not isinstance(record, dict):
                raise TypeError("the file must hold a JSON object with op, key and answer")
            op, key, answer = record["op"], record["key"], record["answer"]
            if not (isinstance(op, str) and isinstance(key, dict) and isinstance(answer, dict)):
                raise TypeError("op, key and answer must be a string and two objects")
            problem = answer_problem(op, answer)
            if problem is not None:
                raise TypeError(problem)
            answers[answer_key(op, key)] = answer
        except RecursionError:
            raise InputError(f"bad recorded answer {path.name}: nested too deeply") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"bad recorded answer {path.name}: {exc}") from None
    return answers


def make_runner(
    *,
    record: str | os.PathLike[str] | None = None,
    replay: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
) -> Runner:
    """The runner for a capture: live, recording or replaying (one folder or layers)."""
    if record is not None and replay:
        raise InputError("--raw and --replay cannot be used together")
    if replay:
        return ReplayRunner(replay, command_timeout=command_timeout)
    if record is not None:
        return RecordingRunner(record, command_timeout=command_timeout)
    return LiveRunner(command_timeout=command_timeout)


# The live side of the operations whose modules are imported on first use only (a capture
# that never asks for HTTP, NVML or a library never imports them).


def _http(url: str, timeout: float, *, method: str = "GET", body: str = "") -> HttpAnswer:
    from envstamp.runner.network import http_answer

    return http_answer(url, timeout, method=method, body=body)


def _http_result(url: str, answer: HttpAnswer) -> HttpResult:
    return HttpResult(
        url=url,
        status=answer["status"],
        code=answer.get("code"),
        body=answer.get("body", ""),
        detail=answer.get("detail"),
    )


def _nvml(calls: Sequence[NvmlCall], timeout: float | None, cache: bool) -> NvmlAnswer:
    from envstamp.runner.nvml import nvml_answer

    return nvml_answer(calls, timeout, cache)


def _git(path: str, timeout: float, registry: ChildRegistry | None) -> GitAnswer:
    from envstamp.runner.libraries import git_answer

    return git_answer(path, timeout, registry)


def _library(name: str, timeout: float, registry: ChildRegistry | None) -> LibraryAnswer:
    from envstamp.runner.libraries import library_answer

    return library_answer(name, timeout, registry)


def _sha256(path: str, progress: Callable[[int, int], None] | None) -> HashAnswer:
    from envstamp.runner.hashing import sha256_answer  # the hash cache, only when hashing

    return sha256_answer(path, progress)
