"""Finding llama.cpp builds and describing each: --version, CMakeCache.txt, git.

Where builds are looked for:

* ``llama-cli``, ``llama-server`` and ``llama-bench`` on PATH, and the old ``main`` only when
  it looks like llama.cpp (a ``libggml*`` / ``libllama*`` beside it, or "llama" in its path);
* every path of ``CaptureOptions.llama_cpp`` (``--llama-cpp``) and of ``ENVSTAMP_LLAMA_CPP``
  (``os.pathsep``-separated): a binary, a build folder (``CMakeCache.txt``, ``bin/``), a source
  checkout (git, ``build*/``), or a folder of released binaries.

One entry per build: the binaries of one folder share one ``--version`` call, and a binary
reached twice (a PATH symlink and a build folder) is described once.  ``--version`` runs with
``cache=True``: the runner keeps its answer keyed by the binary's path, size and mtime, so the
seconds some builds spend initialising GPU backends are paid once per binary and boot.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from types import ModuleType
from typing import TYPE_CHECKING

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import GitInfo, LlamaCppBuild, ProbeStatus
from envstamp.parsers.llamacpp_log import parse_llama_log
from envstamp.parsers.textutil import clean
from envstamp.probes.context import ProbeContext
from envstamp.runner import CommandResult, Runner

if TYPE_CHECKING:
    from envstamp.runner.answer_types import GitAnswer

PATH_NAMES = ("llama-cli", "llama-server", "llama-bench")
# Binaries whose --version describes their build, best first (llama-bench has no --version,
# but still prints its backends' device lines).
VERSION_PREFERENCE = ("llama-cli", "llama-server", "main", "server", "llama-bench")
ASKS_VERSION = frozenset(VERSION_PREFERENCE[:-1])  # every build of these has --version
BIN_SUBDIRS = ("bin", "Release", "RelWithDebInfo")  # where CMake puts binaries
ENV_VAR = "ENVSTAMP_LLAMA_CPP"
LIST_DEVICES_FROM = 4000  # builds this new have --list-devices


# ------------------------------------------------------------------------- CMakeCache.txt

# Build options worth keeping: backend switches, CPU features, GPU targets, build type.
_FLAG_PREFIXES = ("GGML_", "LLAMA_")
_FLAG_NAMES = frozenset(
    {
        "CMAKE_BUILD_TYPE",
        "CMAKE_CUDA_ARCHITECTURES",
        "CMAKE_HIP_ARCHITECTURES",
        "AMDGPU_TARGETS",
        "GPU_TARGETS",
        "BUILD_SHARED_LIBS",
    }
)
# Options that say nothing about speed (what gets built, warnings, install layout).
_FLAG_NOISE = re.compile(
    r"(?:BUILD_(?:TESTS|EXAMPLES|TOOLS|SERVER|COMMON)|ALL_WARNINGS|FATAL_WARNINGS|WARNINGS|"
    r"CCACHE|INSTALL|SANITIZE|GPROF|STANDALONE|_DIR$|_LIB$|_LIBRARY|_INCLUDE|_PATH$|BINARY|"
    r"SOURCE|_EXECUTABLE$|_COMPILER$)"
)
_CACHE_LINE = re.compile(r"^([A-Za-z_][\w.+-]*)(?::([A-Z]+))?=(.*)$")
_KEPT_TYPES = frozenset({"BOOL", "STRING", "UNINITIALIZED", None})
# build flag -> the backend it compiles in
FLAG_BACKENDS = (
    ("CUDA", ("GGML_CUDA", "LLAMA_CUDA", "LLAMA_CUBLAS")),
    ("HIP", ("GGML_HIP", "GGML_HIPBLAS", "LLAMA_HIPBLAS", "LLAMA_HIP")),
    ("MUSA", ("GGML_MUSA", "LLAMA_MUSA")),
    ("Vulkan", ("GGML_VULKAN", "LLAMA_VULKAN")),
    ("Metal", ("GGML_METAL", "LLAMA_METAL")),
    ("SYCL", ("GGML_SYCL", "LLAMA_SYCL")),
    ("CANN", ("GGML_CANN",)),
    ("OpenCL", ("GGML_OPENCL", "LLAMA_CLBLAST")),
    ("BLAS", ("GGML_BLAS", "LLAMA_BLAS")),
    ("RPC", ("GGML_RPC", "LLAMA_RPC")),
    ("Kompute", ("GGML_KOMPUTE", "LLAMA_KOMPUTE")),
    ("CPU", ("GGML_CPU",)),
)
# Backend libraries a build with dynamically loaded backends (GGML_BACKEND_DL, the released
# zips) keeps beside its binaries: libggml-cuda.so, ggml-vulkan.dll, libggml-cpu-haswell.so.
_BACKEND_LIBRARY = re.compile(r"^(?:lib)?ggml-([a-z]+)(?:-[\w.]+)?\.(?:so|dll|dylib)(?:\.\d+)*$")
_NOT_BACKENDS = frozenset({"base"})


@attrs.define
class CMakeCache:
    """What a build folder's CMakeCache.txt says."""

    flags: dict[str, str]
    source_dir: str | None = None


def parse_cmake_cache(text: str) -> CMakeCache:
    """Build options (keys as in the file, values as printed) and the source folder.

    Paths are never kept as flag values: they name this machine, not the build.
    """
    if not isinstance(text, str) or not text.strip():
        raise ParseError("empty CMakeCache.txt")
    flags: dict[str, str] = {}
    source_dir = None
    entries = 0
    for raw in text.splitlines():
        match = _CACHE_LINE.match(raw.strip())
        if not match or raw.lstrip().startswith(("#", "//")):
            continue
        entries += 1
        key, kind, value = match.group(1), match.group(2), clean(match.group(3))
        if key in ("CMAKE_HOME_DIRECTORY", "llama.cpp_SOURCE_DIR") and value:
            source_dir = source_dir or value
        if value is None or kind not in _KEPT_TYPES or _looks_like_path(value):
            continue
        if key in _FLAG_NAMES or (key.startswith(_FLAG_PREFIXES) and not _FLAG_NOISE.search(key)):
            flags[key] = value
    if not entries:
        raise ParseError("no KEY:TYPE=VALUE entries: not a CMakeCache.txt")
    return CMakeCache(flags=dict(sorted(flags.items())), source_dir=source_dir)


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", "~", "\\\\")) or bool(re.match(r"^[A-Za-z]:[\\/]", value))


def backends_from_flags(flags: dict[str, str]) -> list[str]:
    """Backends a build's options switch on, the CPU backend included.

    GGML_CPU (default ON) exists since ggml split its CPU backend out (late 2024); a cache of
    an older tree has no such switch because the CPU code was always compiled in.
    """
    on = {key for key, value in flags.items() if value.upper() in ("ON", "TRUE", "YES", "1")}
    backends = [backend for backend, keys in FLAG_BACKENDS if on.intersection(keys)]
    older_tree = "GGML_CPU" not in flags and any(key.startswith(_FLAG_PREFIXES) for key in flags)
    if older_tree and "CPU" not in backends:
        backends.append("CPU")
    return backends


def backends_from_libraries(names: list[str]) -> list[str]:
    """Backends whose libraries sit beside a build's binaries (builds that load them)."""
    from envstamp.parsers.llamacpp_log import backend_name

    found: list[str] = []
    for name in sorted(names):
        match = _BACKEND_LIBRARY.match(name.lower())
        if match and match.group(1) not in _NOT_BACKENDS:
            backend = backend_name(match.group(1))
            if backend not in found:
                found.append(backend)
    return found


# ------------------------------------------------------------------------------------ git


def strip_credentials(url: str | None) -> str | None:
    """A remote URL without user:password@ (tokens live there)."""
    text = clean(url)
    if text is None:
        return None
    from envstamp.manifest.secrets import redact_value

    return redact_value(text)


def git_from_answer(answer: GitAnswer) -> GitInfo | None:
    """GitInfo of a runner.git_info answer; None when the folder is no checkout."""
    if answer.get("status") != "ok":
        return None
    dirty = answer.get("dirty")
    return GitInfo(
        commit=clean(answer.get("commit")),
        describe=clean(answer.get("describe")),
        branch=clean(answer.get("branch")),
        dirty=dirty if isinstance(dirty, bool) else None,
        remote=strip_credentials(answer.get("remote")),
    )


# ------------------------------------------------------------------------------ discovery


@attrs.define
class Candidate:
    """A build to describe: the path shown, the binary to ask, where flags and git live."""

    path: str
    binary: str | None = None
    cache_file: str | None = None
    checkout: str | None = None
    key: str = ""  # the folder its binaries really live in: one build per folder


@attrs.define
class _Finder:
    ctx: ProbeContext
    paths: ModuleType
    notes: list[str] = attrs.field(factory=list)

    @property
    def runner(self) -> Runner:
        return self.ctx.runner

    def exists(self, path: str) -> bool:
        return self.runner.stat(path).exists

    def binaries_in(self, folder: str) -> list[str]:
        """llama.cpp binaries in a folder and its bin/ (Release/) subfolders, best first."""
        found: list[str] = []
        queue = [(folder, 0)]
        while queue:
            where, depth = queue.pop(0)
            present = set(self.runner.list_dir(where) or [])
            for name in VERSION_PREFERENCE:
                for file_name in (name, name + ".exe"):
                    if file_name in present:
                        found.append(str(self.paths.join(where, file_name)))
            if depth < 2:
                subs = [sub for sub in BIN_SUBDIRS if sub in present]
                queue += [(str(self.paths.join(where, sub)), depth + 1) for sub in subs]
        return found

    def cache_near(self, binary: str) -> str | None:
        """The CMakeCache.txt of the build folder a binary sits in (bin/, bin/Release/)."""
        folder = self.paths.dirname(binary)
        for _ in range(3):
            candidate = str(self.paths.join(folder, "CMakeCache.txt"))
            if self.exists(candidate):
                return candidate
            parent = self.paths.dirname(folder)
            if parent == folder:
                break
            folder = parent
        return None

    def from_binary(self, path: str, shown: str | None = None) -> Candidate:
        """A binary's build.  Its folder's best binary is asked for --version: every binary of
        a folder is one build, and older llama-bench builds have no --version."""
        real = self.runner.realpath(path)
        folder = str(self.paths.dirname(real))
        binary = path
        if _tool_name(path) not in ASKS_VERSION:
            siblings = [b for b in self.binaries_in(folder) if self.paths.dirname(b) == folder]
            binary = siblings[0] if siblings else path
        return Candidate(
            path=shown or real,
            binary=binary,
            cache_file=self.cache_near(real),
            key=folder,
        )

    def from_folder(self, folder: str) -> list[Candidate]:
        names = set(self.runner.list_dir(folder) or [])
        if "CMakeCache.txt" in names:
            return [self.build_folder(folder, None)]
        if ".git" in names or "CMakeLists.txt" in names:
            return self.checkout(folder, names)
        binaries = self.binaries_in(folder)
        if binaries:
            return [self.folder_candidate(folder, binaries[0], None)]
        self.notes.append(f"{folder}: no llama.cpp binary, build folder or checkout there")
        return []

    def folder_candidate(self, folder: str, binary: str | None, checkout: str | None) -> Candidate:
        key = self.paths.dirname(self.runner.realpath(binary)) if binary else folder
        return Candidate(path=folder, binary=binary, checkout=checkout, key=str(key))

    def build_folder(self, folder: str, checkout: str | None) -> Candidate:
        binaries = self.binaries_in(folder)
        candidate = self.folder_candidate(folder, binaries[0] if binaries else None, checkout)
        candidate.cache_file = self.paths.join(folder, "CMakeCache.txt")
        return candidate

    def checkout(self, folder: str, names: set[str]) -> list[Candidate]:
        """A source checkout: one entry per build*/ folder, or the checkout itself."""
        builds = []
        for name in sorted(names):
            if name.lower().startswith("build"):
                sub = self.paths.join(folder, name)
                if self.exists(self.paths.join(sub, "CMakeCache.txt")):
                    builds.append(self.build_folder(sub, folder))
        if builds:
            return builds
        # Makefile builds left their binaries in the checkout itself.
        binaries = self.binaries_in(folder)
        return [self.folder_candidate(folder, binaries[0] if binaries else None, folder)]

    def given(self, raw: str) -> list[Candidate]:
        path = self.expand(raw)
        info = self.runner.stat(path)
        if not info.exists:
            self.notes.append(f"{raw}: not found")
            return []
        if info.is_dir:
            return self.from_folder(path)
        return [self.from_binary(path, shown=path)]

    def expand(self, raw: str) -> str:
        home = str(self.ctx.platform.get("home") or "")
        if home and (raw == "~" or raw.startswith(("~/", "~\\"))):
            return home + raw[1:]
        return raw

    def on_path(self) -> list[Candidate]:
        """PATH binaries, one per folder (llama-cli and llama-server of one build share it)."""
        by_folder: dict[str, str] = {}
        for name in (*PATH_NAMES, "main"):
            found = self.runner.which(name)
            if not found:
                continue
            real = self.runner.realpath(found)
            if name == "main" and not self.looks_like_llama(real):
                continue
            by_folder.setdefault(self.paths.dirname(real), found)
        return [self.from_binary(binary) for binary in by_folder.values()]

    def looks_like_llama(self, real: str) -> bool:
        """Never run a random ``main``: it must sit beside ggml/llama libraries or in a
        folder whose path names llama."""
        folder = self.paths.dirname(real)
        if "llama" in folder.lower():
            return True
        names = self.runner.list_dir(folder) or []
        return any(n.lower().startswith(("libggml", "libllama", "ggml", "llama")) for n in names)


def user_paths(ctx: ProbeContext) -> list[str]:
    """--llama-cpp paths, then ENVSTAMP_LLAMA_CPP's."""
    paths = list(ctx.options.llama_cpp)
    value = ctx.runner.env(ENV_VAR)
    if value:
        separator = ";" if ctx.system == "Windows" else ":"
        paths += [p for p in value.split(separator) if p.strip()]
    return paths


def discover(ctx: ProbeContext) -> tuple[list[Candidate], list[str]]:
    """Builds to describe (given paths first, then PATH) and notes on paths that gave none."""
    finder = _Finder(ctx, ntpath if ctx.system == "Windows" else posixpath)
    candidates: list[Candidate] = []
    for raw in user_paths(ctx):
        candidates += finder.given(raw)
    candidates += finder.on_path()
    unique: dict[str, Candidate] = {}
    for candidate in candidates:
        unique.setdefault(candidate.key or candidate.path, candidate)
    return list(unique.values()), finder.notes


# ------------------------------------------------------------------------------ describing


@attrs.define
class _Described:
    build: LlamaCppBuild
    status: ProbeStatus = "ok"
    problem: str | None = None


def _version_of(runner: Runner, binary: str) -> tuple[LlamaCppBuild, CommandResult]:
    result = runner.run([binary, "--version"], cache=True)
    try:
        build = parse_llama_log(result.output)  # a hung build may have printed its banner
    except ParseError:
        build = LlamaCppBuild()
    if result.succeeded and not build.devices and _may_list_devices(build):
        build = _with_listed_devices(runner, binary, build)
    return build, result


def _may_list_devices(build: LlamaCppBuild) -> bool:
    """Builds this new have --list-devices.  A build that does not know its number (built
    without git) may be new too: asked, an old one only prints its usage and fails."""
    if build.version is not None:  # semantic versions came long after --list-devices
        return True
    if build.build_number is None:
        return build.compiler is not None  # its banner was read: it is llama.cpp
    return build.build_number >= LIST_DEVICES_FROM


def _with_listed_devices(runner: Runner, binary: str, build: LlamaCppBuild) -> LlamaCppBuild:
    """Builds that initialise their GPU lazily (Metal) print devices only when asked."""
    listed = runner.run([binary, "--list-devices"], cache=True)
    if not listed.succeeded:
        return build
    try:
        found = parse_llama_log(listed.output)
    except ParseError:
        return build
    backends = joined(build.backends, found.backends)
    return attrs.evolve(build, devices=found.devices, backends=backends)


def joined(first: list[str] | None, second: list[str] | None) -> list[str] | None:
    """The backends two sources name, in order, once each; None when neither names any:
    what no source named is unknown, not "no backend"."""
    if first is None and second is None:
        return None
    return list(dict.fromkeys([*(first or []), *(second or [])]))


def describe(ctx: ProbeContext, candidate: Candidate) -> _Described:
    """One build entry: --version, then CMakeCache.txt and git fill in what they know."""
    runner = ctx.runner
    build, described, sources = LlamaCppBuild(), _Described(LlamaCppBuild()), []
    if candidate.binary:
        build, result = _version_of(runner, candidate.binary)
        said = (build.build_number, build.commit, build.version, build.compiler, build.target)
        if any(value is not None for value in said) or build.devices or build.backends:
            sources.append("--version")
        # A hung or unstartable binary is a failure even when it printed part of a banner;
        # a non-zero exit after a banner (old builds, llama-bench) is not.
        if result.status != "ok" or (not result.succeeded and not sources):
            described.status = _status_of(result)
            described.problem = result.describe()
    if candidate.cache_file:
        cache = _read_cache(runner, candidate.cache_file)
        if cache is not None:
            build.build_flags = cache.flags
            sources.append("CMakeCache.txt")
            # The build's own options: known from here on, [] when they switch all off.
            build.backends = joined(build.backends, backends_from_flags(cache.flags))
            candidate.checkout = candidate.checkout or cache.source_dir
    if candidate.binary:
        libraries = _backend_libraries(runner, candidate.key or _dirname(candidate.binary))
        build.backends = joined(build.backends, libraries or None)  # none there says nothing
    if candidate.checkout:
        build.git = git_from_answer(runner.git_info(candidate.checkout))
        if build.git is not None:
            sources.append("git")
    build.path = candidate.path
    build.source = "+".join(sources) or None
    described.build = build
    return described


def _path_module(path: str) -> ModuleType:
    return ntpath if "\\" in path or re.match(r"^[A-Za-z]:", path) else posixpath


def _dirname(path: str) -> str:
    """The folder of a binary's path, Windows or POSIX spelled."""
    return str(_path_module(path).dirname(path))


def _tool_name(path: str) -> str:
    name = str(_path_module(path).basename(path))
    return name[:-4] if name.lower().endswith(".exe") else name


def _backend_libraries(runner: Runner, folder: str) -> list[str]:
    """Backend libraries beside the binaries, or in the ../lib of an installed prefix."""
    lib = str(_path_module(folder).join(_dirname(folder), "lib"))
    names = (runner.list_dir(folder) or []) + (runner.list_dir(lib) or [])
    return backends_from_libraries(names)


def _status_of(result: CommandResult) -> ProbeStatus:
    if result.status in ("timeout", "permission", "absent"):
        return result.status
    return "error"


def _read_cache(runner: Runner, path: str) -> CMakeCache | None:
    found = runner.read_text(path)
    if not found.ok or found.text is None:
        return None
    try:
        return parse_cmake_cache(found.text)
    except ParseError:
        return None


def describe_all(ctx: ProbeContext, candidates: list[Candidate]) -> list[_Described]:
    """Describe builds concurrently: each --version may spend its whole timeout."""
    if len(candidates) == 1:
        return [describe(ctx, candidates[0])]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, len(candidates))) as pool:
        return list(pool.map(lambda c: describe(ctx, c), candidates))
