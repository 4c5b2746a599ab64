"""The shape of every runner answer: one TypedDict per operation (``op`` of a recording).

An answer is what the live system said, as plain JSON: it is what a recording holds on disk
(``{"op": ..., "key": ..., "answer": ...}``) and what a replay gives back, so these are
dictionaries, not classes.  ``recorded.SHAPES`` checks a recorded answer against the same
fields (a test holds the two lists of fields equal) before a replay hands it out.

Each answer splits into the fields it always has (a ``_...Base`` class, total) and those it
may leave out (the subclass, ``total=False``): Python 3.10 has no ``typing.Required``.

Types only: the runner's modules import this module under ``TYPE_CHECKING``.  Building these
classes costs ~1.5 ms at import, and nothing at run time looks at them (the tests do).
"""

from __future__ import annotations

from typing import Any, TypedDict

from envstamp.runner.answers import AnswerStatus

# A value as JSON holds it: what an answer, a recording and the on-disk caches are made of.
JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


class _Status(TypedDict):
    status: AnswerStatus


class Failure(_Status, total=False):
    """What every operation with a status answers when it could not ask: why, in words."""

    detail: str | None


class CommandAnswer(_Status, total=False):
    """``cmd``: a command's exit code and output (``returncode`` missing on a timeout)."""

    returncode: int | None
    stdout: str
    stderr: str
    duration_ms: float
    truncated: bool  # it printed more than MAX_OUTPUT_BYTES on a stream
    detail: str | None


class FileAnswer(_Status, total=False):
    """``file``: a text file's contents, decoded leniently."""

    text: str | None
    detail: str | None


class BytesAnswer(_Status, total=False):
    """``bytes``: a byte range of a file, hex-encoded."""

    hex: str
    detail: str | None


class DirAnswer(_Status, total=False):
    """``dir``: a folder's entry names, sorted."""

    names: list[str] | None
    detail: str | None


class _Exists(TypedDict):
    exists: bool


class StatAnswer(_Exists, total=False):
    """``stat``: what ``os.stat`` said (links followed); only ``exists`` when nothing is there."""

    is_dir: bool
    size: int | None
    mtime_ns: int | None
    mode: int | None
    kind: str | None  # "file", "dir", "fifo", "char device", "block device", "socket", "other"


class RealpathAnswer(TypedDict):
    """``realpath``: the path with links resolved."""

    path: str


class HashAnswer(_Status, total=False):
    """``sha256``: a file's digest; ``cached`` when the hash cache knew it."""

    sha256: str | None
    cached: bool
    detail: str | None


class WhichAnswer(TypedDict, total=False):
    """``which``: the full path of an executable on PATH, or null."""

    path: str | None


class EnvAnswer(TypedDict, total=False):
    """``env``: one environment variable's value, or null."""

    value: str | None


class EnvNamesAnswer(TypedDict):
    """``env_names``: the names (never values) of all environment variables."""

    names: list[str]


class PlatformAnswer(TypedDict, total=False):
    """``platform``: the interpreter and the kernel."""

    system: str | None  # "Linux", "Darwin", "Windows"... as platform.system() says
    node: str | None
    release: str | None
    version: str | None
    machine: str | None
    libc: str | None
    python_version: str | None
    python_implementation: str | None
    executable: str | None
    prefix: str | None
    base_prefix: str | None
    home: str | None
    cpu_count: int | None


class PackagesAnswer(TypedDict):
    """``packages``: installed versions of distributions (null: not installed)."""

    versions: dict[str, str | None]


# A Windows registry value as JSON: REG_SZ text, REG_DWORD/QWORD numbers, REG_MULTI_SZ lists,
# REG_BINARY as hex text.
RegistryValue = str | int | list[str] | None


class RegistryAnswer(TypedDict, total=False):
    """``registry``: one Windows registry value (null elsewhere or when missing)."""

    value: RegistryValue


class MemoryStatusAnswer(TypedDict, total=False):
    """``memory_status``: physical memory from the OS's own call."""

    status: AnswerStatus
    detail: str | None
    total_bytes: int | None
    available_bytes: int | None


class PowerStatusAnswer(TypedDict, total=False):
    """``power_status``: AC line and battery from the OS's own call (Windows)."""

    status: AnswerStatus
    detail: str | None
    ac_online: bool | None
    battery_percent: float | None


class HttpAnswer(_Status, total=False):
    """``http``: a loopback HTTP response's status code and body."""

    code: int | None
    body: str
    detail: str | None


class NvmlItem(TypedDict, total=False):
    """One NVML call's result: its ``value`` (bytes decoded, structures as objects, lists as
    lists: NVML's own types, truly dynamic) or the ``error`` it raised."""

    value: JsonValue
    error: str


class NvmlAnswer(_Status, total=False):
    """``nvml``: one item per call asked, in order."""

    answers: list[NvmlItem]
    detail: str | None


class GitAnswer(_Status, total=False):
    """``git``: what GitPython says of a checkout."""

    commit: str | None
    describe: str | None
    branch: str | None
    dirty: bool | None
    remote: str | None
    detail: str | None


class LibraryAnswer(_Status, total=False):
    """``library``: a third-party library's own output, as JSON (its fields are the
    library's: py-cpuinfo's ``info``, GPUtil's ``gpus``)."""

    info: dict[str, JsonValue]
    gpus: list[dict[str, JsonValue]]
    detail: str | None


class StreamAnswer(_Status, total=False):
    """``http_stream``: one streamed HTTP exchange of ``envstamp bench``, timed line by line
    (``runner/streaming.py``)."""

    code: int | None
    headers: dict[str, str]  # the few kept (streaming.KEPT_HEADERS), names lower-cased
    detail: str | None
    failure: str | None
    """refused, connect, first_byte, stall, deadline, disconnect, malformed, too_large,
    redirect, remote, url; None when the exchange completed."""
    connect_s: float | None
    first_byte_s: float | None
    """Seconds from sending the request to reading the answer's status line and headers."""
    total_s: float | None
    """Seconds from sending the request to the end of the answer (or the failure)."""
    lines: list[list[Any]]
    """``[seconds since the request was sent, text]`` per non-blank line, in order."""
    truncated: bool


class BenchClockAnswer(TypedDict):
    """``bench_clock``: the times ``envstamp bench`` measured around one concurrency level
    (``streaming.clock_reading``): its wall time and when each request was sent, in
    seconds since the level began."""

    wall_s: float
    started_s: list[float]


# The answer type of each operation, by the name a recording gives it.
BY_OP: dict[str, type] = {
    "cmd": CommandAnswer,
    "file": FileAnswer,
    "bytes": BytesAnswer,
    "dir": DirAnswer,
    "stat": StatAnswer,
    "realpath": RealpathAnswer,
    "sha256": HashAnswer,
    "which": WhichAnswer,
    "env": EnvAnswer,
    "env_names": EnvNamesAnswer,
    "platform": PlatformAnswer,
    "packages": PackagesAnswer,
    "registry": RegistryAnswer,
    "memory_status": MemoryStatusAnswer,
    "power_status": PowerStatusAnswer,
    "http": HttpAnswer,
    "nvml": NvmlAnswer,
    "git": GitAnswer,
    "library": LibraryAnswer,
    "http_stream": StreamAnswer,
    "bench_clock": BenchClockAnswer,
}
