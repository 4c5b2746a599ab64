"""Pure parser of what llama.cpp prints about itself: ``--version``, start-up logs, devices.

llama.cpp has printed its identity in several ways over the years:

* ``version: 0.5.0-dev (build 7123, commit abc1234)`` + ``built with GNU 12.2.0 for Linux
  x86_64`` (--version since the semantic versions);
* ``version: 5760 (abc1234)`` + ``built with cc (GCC) 13.2 for x86_64-linux-gnu`` (--version);
* ``build: 3259 (abc1234) with cc (...) for x86_64-linux-gnu`` (start-up log), and
  ``build 7123 (abc1234) with ...`` (the newer trace line);
* ``build: abc1234 (5163)`` (llama-bench's last line: commit first);
* ``main: build = 1234 (abc1234)`` + ``main: built with ... for ...`` (old ``main``);
* ``{"msg":"build info","build":2405,"commit":"0e2fa8e"}`` (the 2024 server's JSON log);
* ``b5760-abc1234`` (``build_info`` of the server's /props and ``system_fingerprint``, and
  the ``build      : b5760-abc1234`` line of the chat-style llama-cli's banner).

A banner is read by its parts, not matched as a whole: the word before the parentheses and
each comma-separated part inside them is either ``key value`` (``build 7123``, ``commit
abc1234``) or a bare value whose shape says what it is: a build number (digits, or a
``b5760`` tag), a release version (``0.5.0-dev``), a commit (hex; a word never is) or one of
the ways of saying "unknown".  So the order of the parts, new keys and the llama-bench
footer's reversed order all read right.  A build number of 0 and a commit "unknown" are what
builds without git print: both are recorded as unknown.

Device lines come from each backend as it initialises (``ggml_cuda_init``, ``ggml_vulkan``,
``ggml_metal_init``, the SYCL device table, ``ggml_opencl``) or from ``--list-devices``.
Lines are recognised by their shape wherever they appear, so pasted logs with noise around
them parse too.  Nothing here touches the system.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import LlamaCppBuild, LlamaDevice, Sections
from envstamp.parsers.textutil import clean, collapse, to_int

# Backend names as logs spell them (lower case) -> the vocabulary's spelling.
BACKEND_NAMES: dict[str, str] = {
    "cuda": "CUDA",
    "cublas": "CUDA",
    "rocm": "HIP",
    "hip": "HIP",
    "hipblas": "HIP",
    "musa": "MUSA",
    "vulkan": "Vulkan",
    "metal": "Metal",
    "mtl": "Metal",
    "sycl": "SYCL",
    "cann": "CANN",
    "opencl": "OpenCL",
    "gpuopencl": "OpenCL",
    "clblast": "OpenCL",
    "blas": "BLAS",
    "cpu": "CPU",
    "rpc": "RPC",
    "kompute": "Kompute",
    "webgpu": "WebGPU",
    "zdnn": "zDNN",
}

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Optional log prefixes: "[1710317358] ", "0.00.012.345 I ", "I ".
_PREFIX = re.compile(r"^(?:\[\d+\]\s*)?(?:\d+\.\d{2}\.\d{3}\.\d{3}\s+)?(?:[IWEDT]\s+(?=\w))?")

# "[tool: ]version: HEAD (PARTS)", "[tool: ]build: HEAD (PARTS) [with TOOLCHAIN]",
# "build = HEAD (PARTS)", "[cmn  func: ]build HEAD (PARTS) with TOOLCHAIN".
_IDENTITY = re.compile(
    r"^(?:[\w.-]+\s+)?(?:[\w.-]+:\s*){0,3}(?P<key>version|build)(?P<sep>\s*[:=]\s*|\s+)"
    r"(?P<head>[^\s()]+)\s*\((?P<parts>[^()]*)\)(?P<rest>.*)$"
)
_WITH = re.compile(r"^\s+with\s+(.+)$")
_BUILT_WITH = re.compile(r"^(?:[\w.-]+:\s*)?built with\s+(.+)$")
# Shapes of a banner's values.  A build number has at most 6 digits (llama.cpp is near 8000);
# a longer run of digits is a commit that happens to have no letter.  A "b" tag has at most 5:
# "b123456" has the length and the letters of a git abbreviation, and is read as one.
_BUILD_NUMBER = re.compile(r"[bB](\d{1,5})|(\d{1,6})")
_RELEASE = re.compile(r"[vV]?(\d+(?:\.\d+)+(?:[-+][\w.+-]*)?)")
# A commit is hex: 7 to 40 digits (git's short hashes have 7 or more), or a 4-6 digit
# abbreviation holding both a digit and a letter, so that no word ("face", "added") is one.
_COMMIT = re.compile(
    r"([0-9a-fA-F]{7,40}|(?=[a-fA-F]*\d)(?=\d*[a-fA-F])[0-9a-fA-F]{4,6})(?:-dirty)?"
)
_BUILD_INFO = re.compile(r"[bB](\d+)-(\S+)")  # llama_build_info(): "b5760-abc1234"
_BUILD_INFO_LINE = re.compile(r"^build\s*:\s*([bB]\d+-\S+)$")  # the llama-cli chat banner
_KEY_VALUE = re.compile(r"([A-Za-z][\w ]*?)\s*(?:[:=]\s*|\s+)(\S+)")
_KEY_ROLES = {
    "build": "number",
    "build number": "number",
    "build_number": "number",
    "number": "number",
    "commit": "commit",
    "build_commit": "commit",
    "hash": "commit",
    "sha": "commit",
    "git": "commit",
    "version": "version",
}
_UNKNOWN_WORDS = frozenset({"unknown", "none", "null", "n/a", "-", "?"})
_FOUND = re.compile(r"\bfound (\d+) (\w+) devices?:?", re.IGNORECASE)
_CUDA_DEVICE = re.compile(r"^Device (\d+):\s*(.+)$")
_VULKAN_DEVICE = re.compile(r"^ggml_vulkan:\s*(\d+)\s*=\s*(.+)$")
_VULKAN_USING = re.compile(r"^ggml_vulkan:\s*Using\s+(.+)$")
_VULKAN_OLD = re.compile(r"^Vulkan(\d+):\s*([^|]+?)\s*\|")
_CUDA_FAILED = re.compile(r"^ggml_cuda_init: failed to initialize (\w+)")
_METAL_DEVICE = re.compile(
    r"^ggml_metal\w*:\s*(?:found device|picking default device|GPU name)\s*:\s*(.+)$"
)
_METAL_FAMILY = re.compile(r"^ggml_metal\w*:\s*GPU family:\s*MTLGPUFamily(Apple\d+)")
_OPENCL_DEVICE = re.compile(r"^ggml_opencl:\s*(?:selecting device|device):\s*'([^']+)'")
_LISTED = re.compile(
    r"^([A-Za-z][A-Za-z_]*?)(\d+|\[[^\]]*\])?:\s*(.+?)\s*\((\d+) MiB,\s*\d+ MiB free\)$"
)
_DEVICE_LIST = re.compile(r"^available devices\s*:\s*$", re.IGNORECASE)
_USING_DEVICE = re.compile(r"using device ([A-Za-z][A-Za-z_]*?)(\d*) \((.+)\)(?: - \d+ MiB free)?")
_REGISTERED_DEVICE = re.compile(r"registered device ([A-Za-z][A-Za-z_]*?)(\d*) \((.+)\)\s*$")
_LOADED_BACKEND = re.compile(r"loaded (\w+) backend from ")
_REGISTERED_BACKEND = re.compile(r"registered backend (\w+)")
_SYSTEM_INFO_BACKEND = re.compile(r"(?:^|\|)\s*([A-Za-z][\w]*) : ")
_GLOBAL_MEM = re.compile(r"global mem size\s*:?\s*(\d+)", re.IGNORECASE)
# Log prefixes that show a backend is compiled in even when it found no device.
_BACKEND_PREFIXES = (
    ("ggml_opencl:", "OpenCL"),
    ("ggml_vulkan:", "Vulkan"),
    ("ggml_init_sycl:", "SYCL"),
    ("ggml_sycl", "SYCL"),
    ("ggml_cann", "CANN"),
    ("ggml_backend_blas", "BLAS"),
)


def backend_name(raw: str) -> str:
    """A backend as the vocabulary spells it ("ROCm" -> "HIP"); unknown names as printed."""
    return BACKEND_NAMES.get(raw.strip().lower(), raw.strip())


@attrs.define
class _Device:
    """A device while the log is read: keyed by (backend, index) so sources merge."""

    backend: str
    index: int | None
    name: str | None = None
    memory_total_mib: int | None = None
    compute_capability: str | None = None
    architecture: str | None = None
    driver: str | None = None

    def to_model(self) -> LlamaDevice:
        return LlamaDevice(
            backend=self.backend,
            name=self.name,
            memory_total_mib=self.memory_total_mib,
            compute_capability=self.compute_capability,
            architecture=self.architecture,
            driver=self.driver,
        )


@attrs.define
class _State:
    """What has been read so far."""

    recognised: bool = False
    version: str | None = None
    build_number: int | None = None
    commit: str | None = None
    compiler: str | None = None
    target: str | None = None
    backends: list[str] = attrs.field(factory=list)
    devices: list[_Device] = attrs.field(factory=list)
    context: str | None = None  # backend whose device list is being printed

    def add_backend(self, name: str) -> None:
        self.recognised = True
        if name and name not in self.backends:
            self.backends.append(name)

    def device(self, backend: str, index: int | None, name: str | None) -> _Device:
        """The device of ``backend`` with this index (or name), created when new."""
        self.add_backend(backend)
        for dev in self.devices:
            if dev.backend != backend:
                continue
            same_index = index is not None and dev.index == index
            unindexed = index is None or dev.index is None
            same_name = unindexed and name is not None and dev.name == name
            if same_index or same_name:
                dev.name = dev.name or name
                dev.index = index if dev.index is None else dev.index
                return dev
        dev = _Device(backend=backend, index=index, name=name)
        self.devices.append(dev)
        return dev

    def identity(self, values: list[BannerValue]) -> None:
        """Take a banner's values; the first build number, version and commit read win."""
        self.recognised = True
        for value in values:
            if value.role == "number" and self.build_number is None:
                self.build_number = value.number
            elif value.role == "version" and self.version is None:
                self.version = value.text
            elif value.role == "commit" and self.commit is None:
                self.commit = value.text

    def toolchain(self, text: str | None) -> None:
        compiler, target = _split_toolchain(text)
        self.compiler = self.compiler or compiler
        self.target = self.target or target


# --------------------------------------------------------------------------- small pieces


@attrs.frozen
class BannerValue:
    """One value of a banner: its role and what it says.

    ``role`` is "number", "commit", "version" or "unknown" (a build's way of saying it does
    not know: "unknown", build 0).  ``number`` is set for a known build number, ``text`` for
    a commit or version.
    """

    role: str
    text: str | None = None
    number: int | None = None


def banner_value(raw: str) -> BannerValue | None:
    """What a bare banner value is, by its shape; None when it is none of them."""
    text = raw.strip().strip("'\"`")
    if not text:
        return None
    if text.lower() in _UNKNOWN_WORDS:
        return BannerValue("unknown")
    number = _BUILD_NUMBER.fullmatch(text)
    if number:
        value = int(number.group(1) or number.group(2))
        return BannerValue("number", number=value) if value else BannerValue("unknown")
    release = _RELEASE.fullmatch(text)
    if release:
        return BannerValue("version", text=release.group(1))
    commit = _COMMIT.fullmatch(text)
    if commit:
        return BannerValue("commit", text=commit.group(1))
    return None


def _keyed_value(part: str) -> BannerValue | None:
    """ "build 7123", "commit: abc1234", "build_number=5" -> the value, if its key and its
    shape agree; "commit unknown" -> unknown."""
    match = _KEY_VALUE.fullmatch(part.strip())
    if not match:
        return None
    role = _KEY_ROLES.get(collapse(match.group(1)).lower())
    value = banner_value(match.group(2))
    if role is None or value is None:
        return None
    if value.role in ("unknown", role):
        return value
    if role == "version" and value.role == "number":
        # "version: 5760" in a keyed part is a build number, as in the old banner.
        return value
    return None


def banner_values(head: str | None, parts: str | None) -> list[BannerValue]:
    """The values of ``HEAD (PART, PART...)``; each part keyed or bare."""
    pieces = [head or "", *(parts or "").split(",")]
    values: list[BannerValue] = []
    for piece in pieces:
        if not piece.strip():
            continue
        value = banner_value(piece) or _keyed_value(piece)
        if value is not None:
            values.append(value)
        else:
            values += split_build_info(piece)
    return values


def split_build_info(text: str | None) -> list[BannerValue]:
    """``b5760-abc1234`` (llama_build_info(), the server's ``build_info``) -> its values."""
    match = _BUILD_INFO.fullmatch((text or "").strip())
    if not match:
        return []
    values = [banner_value(match.group(1)), banner_value(match.group(2))]
    known = [v for v in values if v is not None]
    return known if len(known) == 2 and known[1].role in ("commit", "unknown") else []


def _split_toolchain(text: str | None) -> tuple[str | None, str | None]:
    """ "cc (GCC) 13.2 for x86_64-linux-gnu" -> ("cc (GCC) 13.2", "x86_64-linux-gnu")."""
    value = clean(text)
    if value is None:
        return None, None
    compiler, found, target = value.rpartition(" for ")
    if not found:
        return value, None
    return clean(compiler), clean(target)


def clean_line(line: str) -> str:
    """A log line without colour codes, timestamps and level prefixes."""
    line = _ANSI.sub("", line).strip()
    return _PREFIX.sub("", line, count=1).strip()


# ------------------------------------------------------------------------------ handlers


def _identity_line(state: _State, line: str) -> bool:
    built = _BUILT_WITH.match(line)
    if built:
        state.recognised = True
        state.toolchain(built.group(1))
        return True
    if line.startswith("{") and '"build info"' in line:
        return _json_build_info(state, line)
    info = _BUILD_INFO_LINE.match(line)
    if info and split_build_info(info.group(1)):
        state.identity(split_build_info(info.group(1)))
        return True
    match = _IDENTITY.match(line)
    if not match:
        return False
    toolchain = _WITH.match(match.group("rest"))
    if match.group("key") == "version" and ":" not in match.group("sep"):
        return False
    if not match.group("sep").strip() and toolchain is None:
        return False  # "build 3 (...)" in prose; the trace line always says "with"
    values = banner_values(match.group("head"), match.group("parts"))
    if not values:
        return False
    state.identity(values)
    if toolchain:
        state.toolchain(toolchain.group(1))
    return True


def _json_build_info(state: _State, line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    if not isinstance(record, dict):
        return False
    keys = (("build", "number"), ("build_number", "number"), ("commit", "commit"),
            ("version", "version"))
    values = [
        value
        for key, role in keys
        if record.get(key) is not None
        and (value := banner_value(str(record[key]))) is not None
        and value.role in (role, "unknown")
    ]
    state.identity(values)
    compiler = record.get("compiler", record.get("build_compiler"))
    target = record.get("target", record.get("build_target"))
    if isinstance(compiler, str) and compiler.strip():
        state.compiler = state.compiler or clean(compiler)
    if isinstance(target, str) and target.strip():
        state.target = state.target or clean(target)
    return True


def _cuda_device(state: _State, line: str) -> bool:
    match = _CUDA_DEVICE.match(line)
    if not match:
        return False
    parts = [p.strip() for p in re.split(r",\s*", match.group(2)) if p.strip()]
    if not parts:
        return False
    name = clean(parts[0])
    backend = state.context if state.context in ("CUDA", "HIP", "MUSA", "SYCL") else None
    arch = next((m.group(0) for p in parts[1:] if (m := re.match(r"gfx\w+", p))), None)
    if backend is None:
        amd = arch is not None or (name or "").upper().startswith("AMD")
        backend = "HIP" if amd else "CUDA"
    dev = state.device(backend, int(match.group(1)), name)
    dev.architecture = dev.architecture or arch
    for part in parts[1:]:
        cc = re.match(r"compute capability\s+(\d+(?:\.\d+)?)", part)
        if cc:
            dev.compute_capability = dev.compute_capability or cc.group(1)
        mem = _GLOBAL_MEM.search(part)
        if mem:
            dev.memory_total_mib = _bytes_to_mib(int(mem.group(1)))
    return True


def _bytes_to_mib(value: int) -> int:
    return round(value / (1 << 20))


def _split_driver(text: str) -> tuple[str | None, str | None]:
    """ "AMD Radeon 780M Graphics (RADV PHOENIX) (radv)" -> (name, "radv")."""
    text = collapse(text)
    match = re.match(r"^(.*\S)\s*\(([^()]*)\)$", text)
    if not match:
        return clean(text), None
    return clean(match.group(1)), clean(match.group(2))


def _vulkan_device(state: _State, line: str) -> bool:
    match = _VULKAN_DEVICE.match(line)
    if match:
        # "0 = NAME (driver) | uma: 0 | fp16: 1 | ...": the last parentheses name the driver.
        name, driver = _split_driver(match.group(2).split(" | ")[0])
        dev = state.device("Vulkan", int(match.group(1)), name)
        dev.driver = dev.driver or driver
        return True
    # Early 2024 builds: "Using NAME | uma: 0 | ..." and "Vulkan0: NAME | uma: 0 | ...",
    # without a driver (a RADV name's own "(RADV NAVI21)" stays in the name).
    using = _VULKAN_USING.match(line)
    old = _VULKAN_OLD.match(line)
    if using:
        state.device("Vulkan", 0, clean(using.group(1).split(" | ")[0]))
        return True
    if old:
        state.device("Vulkan", int(old.group(1)), clean(old.group(2)))
        return True
    return False


def _metal_line(state: _State, line: str) -> bool:
    if not line.startswith("ggml_metal"):
        return False
    state.add_backend("Metal")
    match = _METAL_DEVICE.match(line)
    if match:
        state.device("Metal", None, clean(match.group(1)))
        return True
    family = _METAL_FAMILY.match(line)
    metal = [d for d in state.devices if d.backend == "Metal"]
    if family and metal and metal[-1].architecture is None:
        metal[-1].architecture = family.group(1)
    return True


def _listed_device(state: _State, line: str) -> bool:
    """--list-devices: ``CUDA0: NVIDIA GeForce RTX 4090 (24564 MiB, 23939 MiB free)``."""
    match = _LISTED.match(line)
    if not match:
        return False
    backend = backend_name(match.group(1))
    suffix = match.group(2) or ""
    index = int(suffix) if suffix.isdigit() else None
    name = clean(match.group(3))
    if backend == "Vulkan":
        name, driver = _split_driver(name or "")
    else:
        driver = None
    dev = state.device(backend, index, name)
    dev.memory_total_mib = dev.memory_total_mib or int(match.group(4))
    dev.driver = dev.driver or driver
    return True


def _device_list_header(state: _State, line: str) -> bool:
    """``--list-devices`` opens with "Available devices:"; the devices follow (or none: a
    CPU-only build lists nothing, or "(none)").  The header alone is a device list that
    names no device: devices [], not "nothing recognised"."""
    if _DEVICE_LIST.match(line):
        state.recognised = True
        return True
    return False


def _named_device(state: _State, line: str) -> bool:
    """``using device CUDA0 (NAME) - N MiB free`` and ``registered device CUDA0 (NAME)``."""
    match = _USING_DEVICE.search(line) or _REGISTERED_DEVICE.search(line)
    if not match:
        return False
    backend = backend_name(match.group(1))
    index = int(match.group(2)) if match.group(2) else None
    name = clean(match.group(3))
    if backend == "Vulkan":
        name = _split_driver(name or "")[0]
    state.device(backend, index, name)
    return True


def _backend_line(state: _State, line: str) -> bool:
    match = _LOADED_BACKEND.search(line) or _REGISTERED_BACKEND.search(line)
    if match:
        state.add_backend(backend_name(match.group(1)))
        return True
    if line.startswith("system_info:") or '"system info"' in line:
        for raw in _SYSTEM_INFO_BACKEND.findall(line):
            if raw.lower() in BACKEND_NAMES:
                state.add_backend(backend_name(raw))
        return True
    found = _FOUND.search(line)
    if found and found.group(2).lower() in BACKEND_NAMES:
        state.context = backend_name(found.group(2))
        state.add_backend(state.context)
        return True
    failed = _CUDA_FAILED.match(line)
    if failed:
        state.add_backend(backend_name(failed.group(1)))
        return True
    opencl = _OPENCL_DEVICE.match(line)
    if opencl:
        state.device("OpenCL", None, clean(opencl.group(1)))
        return True
    for prefix, backend in _BACKEND_PREFIXES:
        if line.startswith(prefix):
            state.add_backend(backend)
            return True
    return False


def _continuation(state: _State, line: str) -> bool:
    """Old SYCL builds print a device's memory on the line after its name."""
    mem = _GLOBAL_MEM.search(line)
    if mem and state.devices and state.devices[-1].memory_total_mib is None:
        state.devices[-1].memory_total_mib = _bytes_to_mib(int(mem.group(1)))
        return True
    return False


_HANDLERS = (
    _identity_line,
    _cuda_device,
    _vulkan_device,
    _metal_line,
    _device_list_header,
    _listed_device,
    _named_device,
    _backend_line,
    _continuation,
)


# ---------------------------------------------------------------------- the SYCL table


def _table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _sycl_table(state: _State, block: list[str]) -> None:
    """A SYCL device table: header rows, a ``|--|--|`` rule, one row per device."""
    rule = next((i for i, row in enumerate(block) if re.fullmatch(r"[|\-\s:]+", row)), None)
    if rule is None or rule == 0:
        return
    width = len(_table_cells(block[rule]))
    names = [""] * width
    for row in block[:rule]:
        for i, cell in enumerate(_table_cells(row)[:width]):
            names[i] = collapse(f"{names[i]} {cell}").lower()
    if not any("name" in n for n in names) or not any("type" in n for n in names):
        return
    for row in block[rule + 1 :]:
        cells = _table_cells(row)
        if len(cells) < width:
            continue
        _sycl_row(state, dict(zip(names, cells, strict=False)))


def _column(row: dict[str, str], *words: str) -> str | None:
    for name, value in row.items():
        if all(word in name for word in words):
            return clean(value)
    return None


def _sycl_row(state: _State, row: dict[str, str]) -> None:
    index = to_int(_column(row, "id"))
    name = _column(row, "name")
    if name is None:
        return
    state.add_backend("SYCL")
    dev = state.device("SYCL", index, name)
    cc = _column(row, "compute", "capability") or _column(row, "version")
    if cc and "." in cc and dev.compute_capability is None:
        dev.compute_capability = cc
    memory = _column(row, "mem")
    if memory and dev.memory_total_mib is None:
        dev.memory_total_mib = _sycl_memory_mib(memory)
    driver = _column(row, "driver")
    dev.driver = dev.driver or driver


def _sycl_memory_mib(text: str) -> int | None:
    """SYCL prints global memory in bytes, or in MB (10**6) with an ``M`` suffix."""
    match = re.fullmatch(r"(\d+)\s*([MG]?)B?", text.strip())
    if not match:
        return None
    scale = {"": 1, "M": 10**6, "G": 10**9}[match.group(2)]
    return _bytes_to_mib(int(match.group(1)) * scale)


# --------------------------------------------------------------------------- entry points


def _blocks(lines: Iterable[str]) -> Iterable[tuple[str, list[str]]]:
    """("line", [line]) for ordinary lines, ("table", rows) for runs of ``|`` rows."""
    table: list[str] = []
    for line in lines:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            yield "table", table
            table = []
        yield "line", [line]
    if table:
        yield "table", table


def read_log(text: str) -> _State:
    """Everything recognisable in a banner or log, in the order printed."""
    state = _State()
    lines = [clean_line(raw) for raw in text.splitlines()]
    for kind, block in _blocks(line for line in lines if line):
        if kind == "table":
            _sycl_table(state, block)
            continue
        line = block[0]
        for handler in _HANDLERS:
            if handler(state, line):
                break
    return state


def parse_llama_log(text: str) -> LlamaCppBuild:
    """A build's identity, backends and devices from ``--version`` output or a log.

    Raises ParseError when the text holds no banner and no device or backend line.
    """
    if not isinstance(text, str) or not text.strip():
        raise ParseError("empty llama.cpp output")
    state = read_log(text)
    if not state.recognised:
        raise ParseError("no llama.cpp version banner or device lines found")
    return build_from_state(state)


def build_from_state(state: _State) -> LlamaCppBuild:
    """The typed build entry of what was read."""
    return LlamaCppBuild(
        version=state.version,
        build_number=state.build_number,
        commit=state.commit,
        compiler=state.compiler,
        target=state.target,
        backends=list(state.backends) or None,  # a text naming no backend says nothing of them
        devices=[dev.to_model() for dev in state.devices],
    )


def parse_llama_version_kind(text: str) -> Sections:
    """Kind ``llama-version``: --version output or a start-up log -> {"llamacpp": [build]}."""
    return {"llamacpp": [parse_llama_log(text)]}


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "llama-version": (
        "parse_llama_version_kind",
        "llama-cli --version / llama-server --version / a llama.cpp start-up log",
    ),
}
