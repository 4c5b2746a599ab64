"""Pure parsers of nvidia-smi's line formats: ``-L``, ``--version``, ``--query-gpu`` CSV and the
default table.  (The tree formats ``-q`` and ``-q -x`` are in :mod:`envstamp.parsers.nvidia_smi`.)
"""

from __future__ import annotations

import re

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, GpuState, Runtimes, Sections, Volatile
from envstamp.parsers.nvidia_values import (
    NO_DEVICES,
    build_gpu,
    build_state,
    driver_failure,
    first_version,
    state_is_empty,
    throttle_name,
    throttle_names_from_mask,
    value,
)
from envstamp.parsers.textutil import collapse, csv_row

SOURCE_LIST = "nvidia-smi -L"
SOURCE_CSV = "nvidia-smi --query-gpu"
SOURCE_TABLE = "nvidia-smi"


def _fail(text: str, what: str) -> ParseError:
    """The error for text a parser cannot use; nvidia-smi's own driver message wins."""
    return ParseError(driver_failure(text) or what)


def _sections(
    gpus: list[Gpu], states: list[GpuState], driver: str | None, cuda: str | None
) -> Sections:
    sections: Sections = {"gpus": gpus}
    if driver or cuda:
        sections["runtimes"] = Runtimes(nvidia_driver=driver, cuda_driver=cuda)
    kept = [s for s in states if not state_is_empty(s)]
    if kept:
        sections["volatile"] = Volatile(gpus=kept)
    return sections


# ------------------------------------------------------------------------------------ -L

# "GPU 0: NAME": a blank after the colon.  ``-q`` heads each GPU with its bus id,
# "GPU 00000000:41:00.0", which must not read as GPU 0 named "41:00.0".
_LIST_GPU = re.compile(
    r"^\s*GPU\s+(?P<index>\d+)\s*:\s+(?P<name>.*?)\s*(?:\(UUID:\s*(?P<uuid>[^)\s]+)\s*\))?\s*$"
)


def parse_list(text: str) -> list[Gpu]:
    """``nvidia-smi -L``: "GPU 0: NAME (UUID: GPU-...)"; MIG device lines are not GPUs."""
    gpus: list[Gpu] = []
    for line in text.splitlines():
        match = _LIST_GPU.match(line)
        if match is None or not match.group("name"):
            continue
        raw = {"index": match.group("index"), "name": match.group("name"),
               "uuid": match.group("uuid")}
        gpus.append(build_gpu(raw, SOURCE_LIST))
    if not gpus and not NO_DEVICES.search(text):
        raise _fail(text, "no 'GPU N: name (UUID: ...)' lines")
    return gpus


def parse_list_kind(text: str) -> Sections:
    """Kind ``nvidia-smi-list``."""
    return {"gpus": parse_list(text)}


# ------------------------------------------------------------------------------ --version

_DRIVER_LABELS = ("kmd version", "driver version")
_CUDA_LABELS = ("cuda umd version", "cuda version")


def _labelled(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if sep:
            pairs.setdefault(collapse(key).lower(), rest.strip())
    return pairs


# The lines that make ``--version`` output nvidia-smi's: it names itself and its NVML.
_OWN_LABELS = ("nvidia-smi version", "nvml version")


def parse_version(text: str) -> Runtimes:
    """``nvidia-smi --version``; drivers 610+ say "KMD version" / "CUDA UMD version".  The
    output must name nvidia-smi (or NVML): another tool's "Driver version:" (rocm-smi's
    amdgpu) is not the NVIDIA driver's."""
    pairs = _labelled(text)
    if not any(label in pairs for label in _OWN_LABELS):
        raise _fail(text, "not nvidia-smi --version output (no 'NVIDIA-SMI version' line)")
    driver = first_version(pairs.get(label) for label in _DRIVER_LABELS)
    cuda = first_version(pairs.get(label) for label in _CUDA_LABELS)
    if driver is None and cuda is None:
        raise _fail(text, "no driver or CUDA version in nvidia-smi --version output")
    return Runtimes(nvidia_driver=driver, cuda_driver=cuda)


def parse_version_kind(text: str) -> Sections:
    """Kind ``nvidia-smi-version``: runtimes only (the output has no per-device data)."""
    return {"runtimes": parse_version(text)}


# ------------------------------------------------------------------------------------ CSV

# --query-gpu field (and its aliases) -> canonical name.  Earlier aliases win.
_CSV_GPU: dict[str, tuple[str, ...]] = {
    "index": ("index",),
    "name": ("name", "gpu_name"),
    "uuid": ("uuid", "gpu_uuid"),
    "serial": ("serial", "gpu_serial"),
    "pci_bus_id": ("pci.bus_id", "gpu_bus_id"),
    "pci_device_id": ("pci.device_id",),
    "memory_total_mib": ("memory.total",),
    "driver_version": ("driver_version", "kmd_version"),
    "cuda_version": ("cuda_umd_version", "cuda_version"),
    "compute_capability": ("compute_cap",),
    "vbios_version": ("vbios_version",),
    "power_limit_w": ("power.limit", "enforced.power.limit"),
    "power_default_limit_w": ("power.default_limit",),
    "power_max_limit_w": ("power.max_limit",),
    "clocks_max_graphics_mhz": ("clocks.max.graphics", "clocks.max.gr"),
    "clocks_max_memory_mhz": ("clocks.max.memory", "clocks.max.mem"),
    "pcie_gen_max": ("pcie.link.gen.max", "pcie.link.gen.gpumax"),
    "pcie_gen_current": ("pcie.link.gen.current", "pcie.link.gen.gpucurrent"),
    "pcie_width_max": ("pcie.link.width.max",),
    "pcie_width_current": ("pcie.link.width.current",),
    "persistence_mode": ("persistence_mode",),
    "mig_mode": ("mig.mode.current",),
    "ecc_enabled": ("ecc.mode.current",),
}

_CSV_STATE: dict[str, tuple[str, ...]] = {
    "index": ("index",),
    "uuid": ("uuid", "gpu_uuid"),
    "temperature_c": ("temperature.gpu",),
    "utilization_gpu_pct": ("utilization.gpu",),
    "utilization_memory_pct": ("utilization.memory",),
    "clocks_graphics_mhz": ("clocks.current.graphics", "clocks.gr"),
    "clocks_sm_mhz": ("clocks.current.sm", "clocks.sm"),
    "clocks_memory_mhz": ("clocks.current.memory", "clocks.mem"),
    "power_draw_w": ("power.draw", "power.draw.instant", "power.draw.average"),
    "memory_used_mib": ("memory.used",),
    "pstate": ("pstate",),
    "fan_pct": ("fan.speed",),
}

_KNOWN_FIELDS = frozenset(
    alias for table in (_CSV_GPU, _CSV_STATE) for aliases in table.values() for alias in aliases
)
_MASKS = ("clocks_event_reasons.active", "clocks_throttle_reasons.active")
_REASON_PREFIXES = ("clocks_event_reasons.", "clocks_throttle_reasons.")
_INVALID_FIELD = re.compile(r'Field "([^"]+)" is not a valid field to query', re.IGNORECASE)


def csv_field(header: str) -> str:
    """ "memory.total [MiB]" -> "memory.total"."""
    return re.sub(r"\s*\[[^\]]*\]\s*$", "", header.strip().strip('"')).strip().lower()


def invalid_field(text: str) -> str | None:
    """The field nvidia-smi refused ("Field "x" is not a valid field to query.")."""
    match = _INVALID_FIELD.search(text)
    return match.group(1) if match else None


def _csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    lines = [line.rstrip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    # Line by line: a line csv cannot read (a field over its 128 KiB limit) is left out.
    rows = [row for line in lines if (row := csv_row(line, skipinitialspace=True)) is not None]
    for position, row in enumerate(rows):
        fields = [csv_field(cell) for cell in row]
        if any(f in _KNOWN_FIELDS or f in _MASKS for f in fields):
            return fields, rows[position + 1 :]
    refused = invalid_field(text)
    if refused:
        raise ParseError(f"nvidia-smi refused the query field {refused!r}")
    raise _fail(text, "no CSV header with nvidia-smi --query-gpu field names")


def _pick(record: dict[str, str], table: dict[str, tuple[str, ...]]) -> dict[str, str | None]:
    picked: dict[str, str | None] = {}
    for name, aliases in table.items():
        found = [record[a] for a in aliases if value(record.get(a)) is not None]
        picked[name] = found[0] if found else None
    return picked


def _csv_throttle(record: dict[str, str]) -> list[str]:
    for mask in _MASKS:
        names = throttle_names_from_mask(record.get(mask))
        if names is not None:
            return names
    reasons: list[str] = []
    for field, cell in record.items():
        if field.startswith(_REASON_PREFIXES) and collapse(cell).lower() == "active":
            name = throttle_name(field.partition(".")[2])
            if name:
                reasons.append(name)
    return reasons


def parse_csv(text: str) -> tuple[list[Gpu], list[GpuState]]:
    """``nvidia-smi --query-gpu=... --format=csv[,nounits]``: any fields, units or not."""
    fields, rows = _csv_rows(text)
    gpus: list[Gpu] = []
    states: list[GpuState] = []
    for position, row in enumerate(rows):
        cells = [cell.strip() for cell in row]
        if not any(value(cell) for cell in cells):
            continue
        record = dict(zip(fields, cells, strict=False))
        gpu_raw: dict[str, object] = dict(_pick(record, _CSV_GPU))
        if gpu_raw.get("index") is None:
            gpu_raw["index"] = position  # nvidia-smi prints rows in index order
        gpu = build_gpu(gpu_raw, SOURCE_CSV)
        state_raw: dict[str, object] = dict(_pick(record, _CSV_STATE))
        state_raw["index"] = gpu.index
        gpus.append(gpu)
        states.append(build_state(state_raw, _csv_throttle(record)))
    return gpus, states


def parse_csv_kind(text: str) -> Sections:
    """Kind ``nvidia-smi-csv``."""
    gpus, states = parse_csv(text)
    driver = next((g.driver_version for g in gpus if g.driver_version), None)
    cuda = next((g.cuda_version for g in gpus if g.cuda_version), None)
    return _sections(gpus, states, driver, cuda)


# ---------------------------------------------------------------------------------- table

_BOX = str.maketrans(
    {
        **dict.fromkeys("│┃║╎╏┆┇┊┋", "|"),
        **dict.fromkeys("─━╌╍┄┅┈┉", "-"),
        **dict.fromkeys("═", "="),
        **dict.fromkeys("┼┬┴├┤┌┐└┘╪╤╧╞╡╔╗╚╝╠╣╦╩╬┿╋┣┫┳┻┏┓┗┛", "+"),
    }
)
_SEPARATOR = re.compile(r"^[|+][-=+|\s]*[|+]$")
_DRIVER = re.compile(r"(?:KMD|Driver)\s+Version\s*:\s*(\S+)", re.IGNORECASE)
_CUDA = re.compile(r"CUDA(?:\s+UMD)?\s+Version\s*:\s*(\S+)", re.IGNORECASE)
_NAME_CELL = re.compile(
    r"^\s*(?P<index>\d+)\s+(?P<name>.*?)(?:\s+|(?<=\.\.\.))"
    r"(?P<mode>On|Off|WDDM|TCC|MCDM|N/A)\s*$"
)
_MEMORY_CELL = re.compile(r"(?P<used>\d+)\s*MiB\s*/\s*(?P<total>\d+)\s*MiB", re.IGNORECASE)
_POWER = re.compile(r"(?P<draw>[\d.]+|N/A|ERR!)\s*W?\s*/\s*(?P<cap>[\d.]+|N/A|ERR!)\s*W?")


def _table_lines(text: str) -> list[str]:
    return [line.translate(_BOX).rstrip() for line in text.replace("\r", "\n").split("\n")]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _gpu_blocks(lines: list[str]) -> tuple[list[list[list[str]]], bool]:
    """Rows of cells per GPU block in the first table headed by Bus-Id; and Persistence-M."""
    header = next((i for i, line in enumerate(lines) if "Bus-Id" in line), None)
    if header is None:
        return [], False
    persistence = "Persistence-M" in lines[header]
    start = next(
        (i for i in range(header, len(lines)) if _SEPARATOR.match(lines[i].strip())
         and "=" in lines[i]),
        None,
    )
    if start is None:
        return [], persistence
    blocks: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if _SEPARATOR.match(stripped):
            if current:
                blocks.append(current)
            current = []
            continue
        if not stripped.startswith("|") or "Processes:" in stripped or "MIG devices" in stripped:
            break
        current.append(_cells(stripped))
    if current:
        blocks.append(current)
    return blocks, persistence


def _table_gpu(
    block: list[list[str]], persistence: bool, driver: str | None, cuda: str | None
) -> tuple[Gpu, GpuState] | None:
    first = block[0]
    match = _NAME_CELL.match(first[0]) if first else None
    if match is None:
        return None
    second = block[1] if len(block) > 1 else []
    third = block[2] if len(block) > 2 else []
    gpu_raw: dict[str, object] = {
        "index": match.group("index"),
        "name": match.group("name"),
        "pci_bus_id": first[1] if len(first) > 1 else None,
        "driver_version": driver,
        "cuda_version": cuda,
        "persistence_mode": match.group("mode") if persistence else None,
        "mig_mode": third[2] if len(third) > 2 else None,
    }
    state_raw: dict[str, object] = {"index": match.group("index")}
    if second:
        _row_readings(second, gpu_raw, state_raw)
    return build_gpu(gpu_raw, SOURCE_TABLE), build_state(state_raw)


def _row_readings(row: list[str], gpu_raw: dict[str, object], state: dict[str, object]) -> None:
    """Fan, temperature, pstate, power (draw / cap), memory (used / total) and utilisation."""
    words = row[0].split()
    state["fan_pct"] = next((w for w in words if w.endswith("%")), None)
    state["temperature_c"] = next((w for w in words if re.fullmatch(r"\d+C", w)), None)
    state["pstate"] = next((w for w in words if re.fullmatch(r"P\d{1,2}", w)), None)
    power = _POWER.search(row[0])
    if power:
        state["power_draw_w"] = power.group("draw")
        gpu_raw["power_limit_w"] = power.group("cap")
    memory = _MEMORY_CELL.search(row[1]) if len(row) > 1 else None
    if memory:
        state["memory_used_mib"] = memory.group("used")
        gpu_raw["memory_total_mib"] = memory.group("total")
    if len(row) > 2:
        state["utilization_gpu_pct"] = next((w for w in row[2].split() if w.endswith("%")), None)


def parse_table(text: str) -> tuple[list[Gpu], list[GpuState], str | None, str | None]:
    """The default ``nvidia-smi`` table: ASCII or box-drawing, 2- or 3-line GPU rows."""
    lines = _table_lines(text)
    banner = next((line for line in lines if "NVIDIA-SMI" in line), "")
    driver = first_version(m.group(1) for m in _DRIVER.finditer(banner))
    cuda = first_version(m.group(1) for m in _CUDA.finditer(banner))
    blocks, persistence = _gpu_blocks(lines)
    built = [_table_gpu(block, persistence, driver, cuda) for block in blocks if block]
    pairs = [pair for pair in built if pair is not None]
    if not pairs and driver is None and not NO_DEVICES.search(text):
        raise _fail(text, "no nvidia-smi table (no banner, no GPU rows)")
    return [g for g, _ in pairs], [s for _, s in pairs], driver, cuda


def parse_table_kind(text: str) -> Sections:
    """Kind ``nvidia-smi-table``."""
    return _sections(*parse_table(text))


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "nvidia-smi-csv": ("parse_csv_kind", "nvidia-smi --query-gpu=... --format=csv"),
    "nvidia-smi-list": ("parse_list_kind", "nvidia-smi -L"),
    "nvidia-smi-version": ("parse_version_kind", "nvidia-smi --version"),
    "nvidia-smi-table": ("parse_table_kind", "nvidia-smi"),
}
