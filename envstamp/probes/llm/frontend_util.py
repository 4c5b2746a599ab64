"""Small helpers shared by the frontend probes (Ollama, LM Studio, Jan, other engines).

Pure text helpers (tables with aligned columns, versions, JSON) and thin runner helpers
(paths per OS, reading JSON files).  Nothing here spawns a process.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from envstamp.errors import InputError, ParseError
from envstamp.manifest.model import BundledEngine, Frontends, Sections

if TYPE_CHECKING:
    from types import ModuleType

    from envstamp.runner import Runner

class LazyPattern:
    """A regular expression compiled on first use.

    A capture imports every probe module; compiling a dozen patterns at import would cost
    milliseconds on machines that have none of these tools.
    """

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern."""
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)

    def match(self, text: str) -> re.Match[str] | None:
        return self.compiled.match(text)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.compiled.fullmatch(text)

    def sub(self, replacement: str, text: str) -> str:
        return self.compiled.sub(replacement, text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(text)


lazy = LazyPattern

# A version as tools print it: 0.1.38, 1.75.2, 0.6.3.post1, 0.5.0-rc1, 2.4.1+cu124.
VERSION = r"\d+(?:\.\d+)+(?:[-+._]?[A-Za-z][\w.+-]*)?"
_VERSION_RE = lazy(rf"^v?({VERSION})$")
_GAP = lazy(r"\S+(?: \S+)*")  # cells: runs of text separated by 2+ spaces


def frontends(**values: Any) -> Sections:
    """The ``{"frontends": Frontends(...)}`` fragment a frontend kind or probe yields."""
    return {"frontends": Frontends(**values)}


def lines_of(text: str) -> list[str]:
    """Lines with CRLF, stray CRs and trailing spaces removed."""
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def require_text(text: str, what: str) -> str:
    """The text, or ParseError when it is empty or binary."""
    if not text or not text.strip():
        raise ParseError(f"empty {what} output")
    if "\x00" in text:
        raise ParseError(f"{what}: binary data, not text")
    return text


def as_version(text: str | None) -> str | None:
    """A bare version ("v0.0.47" -> "0.0.47") when the whole text is one, else None."""
    if text is None:
        return None
    match = _VERSION_RE.match(text.strip())
    return match.group(1) if match else None


def cells(line: str) -> list[tuple[int, str]]:
    """(start column, text) of each cell of a table row; cells are 2+ spaces apart."""
    return [(m.start(), m.group()) for m in _GAP.finditer(line.replace("\t", "  "))]


def row_by_header(header: list[tuple[int, str]], line: str) -> dict[str, str]:
    """A table row as {column title: text}.

    Cells map one to one when the counts agree; otherwise (empty cells, wide values) each
    cell goes to the column its span overlaps most, the columns spanning from one title's
    start to the next one's.
    """
    starts = [start for start, _ in header]
    row = [piece for cell in cells(line) for piece in _split_at(cell, starts)]
    titles = [title for _, title in header]
    if len(row) == len(header):
        return {title: text for title, (_, text) in zip(titles, row, strict=True)}
    ends = [*starts[1:], 1 << 30]
    found: dict[str, list[str]] = {}
    for start, text in row:
        end = start + len(text)
        overlaps = [max(0, min(end, e) - max(start, s)) for s, e in zip(starts, ends, strict=True)]
        best = max(range(len(overlaps)), key=lambda i: (overlaps[i], -i))
        found.setdefault(titles[best], []).append(text)
    return {title: " ".join(parts) for title, parts in found.items()}


def _split_at(cell: tuple[int, str], starts: list[int]) -> list[tuple[int, str]]:
    """A cell that runs into the next column with one space between (a value that filled
    its column) split where that column's title starts."""
    start, text = cell
    pieces: list[tuple[int, str]] = []
    for boundary in starts:
        cut = boundary - start
        if 0 < cut < len(text) and text[cut - 1] == " " and text[cut] != " ":
            pieces.append((start, text[: cut - 1]))
            start, text = boundary, text[cut:]
    return [*pieces, (start, text)]


def load_json(text: str, what: str) -> Any:
    """Strict JSON, or ParseError with a one-line reason."""
    from envstamp.manifest.serialize import parse_json_strict

    require_text(text, what)
    try:
        return parse_json_strict(text.lstrip("\ufeff"), what=what)
    except InputError as exc:
        raise ParseError(str(exc)) from None


def strip_credentials(value: str) -> str:
    """A value (URL, host, setting) without credentials or tokens
    (``envstamp.manifest.secrets``)."""
    from envstamp.manifest.secrets import redact_value

    return redact_value(value)


# ---------------------------------------------------------------------------- bundled engines

# GPU backends named inside package, folder and library names, with the version forms
# each uses: "nvidia-cuda12", "cuda_v12", "cuda-12-0", "cu12.0", "rocm_v60002", "vulkan".
_BACKEND_WORDS = lazy(
    r"(?<![a-z])(?:(cuda|cu(?=\d))[-_ ]?v?(\d+(?:[.-]\d+)?)?|(rocm|hip)(?:[-_ ]?v?(\d+))?"
    r"|(vulkan|metal|sycl|opencl|clblast|musa|cann)(?![a-z]))",
    re.IGNORECASE,
)
_BACKEND_SPELLING = {
    "cuda": "CUDA",
    "cu": "CUDA",
    "rocm": "HIP",
    "hip": "HIP",
    "vulkan": "Vulkan",
    "metal": "Metal",
    "sycl": "SYCL",
    "opencl": "OpenCL",
    "clblast": "CLBlast",
    "musa": "MUSA",
    "cann": "CANN",
}


def backend_in_name(name: str) -> str | None:
    """The GPU backend a package, folder or library name states, with its major version
    where it gives one: "llama.cpp-linux-x86_64-nvidia-cuda12-avx2" -> "CUDA 12",
    "linux-avx2-cuda-cu12.0-x64" -> "CUDA 12.0", "cuda_v11" -> "CUDA 11",
    "rocm_v60002" -> "HIP 6", "...-apple-metal-advsimd" -> "Metal"; None when it names none
    (a CPU build, or a name that says nothing)."""
    spelled = version = None
    for found in _BACKEND_WORDS.finditer(name):
        cuda, cuda_version, rocm, rocm_version, other = found.groups()
        word = _BACKEND_SPELLING[(cuda or rocm or other or "").lower()]
        if spelled not in (None, word):
            continue  # the first backend named is the one; "cuda-cu12.0" names it twice
        spelled = word
        if version is None and cuda_version:
            version = cuda_version.replace("-", ".")
            if version.isdigit() and len(version) >= 3:  # "cu124", "cuda1210": 12.4, 12.1
                version = f"{version[:2]}.{version[2]}"
        elif version is None and rocm_version:
            # ROCm folders encode the version as MMmmpp (60002 = 6.0.2); keep the major.
            number = int(rocm_version)
            version = str(number // 10000 if number >= 10000 else number)
    if spelled is None:
        return None
    return f"{spelled} {version}" if version else spelled


def engine_from_llama_output(text: str, source: str) -> BundledEngine | None:
    """The llama.cpp build a frontend's own output reveals (a build-info line, device and
    backend lines), read by llama.cpp's log parser; None when it says nothing of it.

    Frontends that embed llama.cpp (llamafile, koboldcpp) print llama.cpp's own lines beside
    theirs, so the same parser reads them wherever they appear."""
    from envstamp.parsers.llamacpp_log import parse_llama_log

    try:
        build = parse_llama_log(text)
    except ParseError:
        return None
    named = build.backends or []
    gpu = [name for name in named if name not in ("CPU", "BLAS", "RPC")]
    backend = gpu[0] if gpu else ("CPU" if "CPU" in named else None)
    engine = BundledEngine(
        name="llama.cpp",
        version=build.version,
        build_number=build.build_number,
        commit=build.commit,
        backend=backend,
        source=source,
    )
    return engine if says_something(engine) else None


def says_something(engine: BundledEngine | None) -> bool:
    """True when an engine entry states more than its name (a build, commit or backend)."""
    return engine is not None and any(
        value is not None
        for value in (engine.version, engine.build_number, engine.commit, engine.backend)
    )


def agreed_engine(engines: list[BundledEngine], source: str) -> BundledEngine | None:
    """What every candidate engine agrees on, field by field (None where they differ).

    Used where a frontend has several engines installed and does not say which it runs:
    a value they all share is known, one they disagree on is not."""
    if not engines:
        return None
    values = {}
    for name in ("name", "version", "build_number", "commit", "backend"):
        seen = {getattr(engine, name) for engine in engines}
        values[name] = seen.pop() if len(seen) == 1 else None
    agreed = BundledEngine(source=source, **values)
    return agreed if says_something(agreed) else None


# ---------------------------------------------------------------------------- on the system


def paths_for(system: str) -> ModuleType:
    """The path module of the probed system (a recorded Windows host replays on Linux)."""
    return ntpath if system == "Windows" else posixpath


def read_json_file(runner: Runner, path: str) -> Any:
    """A JSON file's data, or None when it is missing, unreadable or not JSON."""
    result = runner.read_text(path)
    if not result.ok or result.text is None:
        return None
    try:
        return load_json(result.text, path)
    except ParseError:
        return None


def subfolders(runner: Runner, folder: str, join: Any) -> list[str]:
    """Names of the folders inside ``folder`` (files left out); empty when missing."""
    names = runner.list_dir(folder) or []
    return [name for name in names if runner.stat(join(folder, name)).is_dir]
