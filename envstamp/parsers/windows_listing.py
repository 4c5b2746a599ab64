"""Pure reader of Win32_VideoController listings, in every shape people paste them.

* ``Get-CimInstance Win32_VideoController | Format-List`` - ``Name : value`` blocks;
* the same as a PowerShell table - a header, a dashes line, aligned columns;
* ``wmic path win32_VideoController get ... /format:list`` - ``Name=value`` blocks;
* ``wmic ... get ...`` without a format - a header of property names, aligned columns;
* ``ConvertTo-Json`` - an object or a list of them.

Any selection of properties.  Output saved from wmic is UTF-16: read as bytes it leaves NULs,
a byte-order mark and doubled carriage returns, which are removed first.
"""

from __future__ import annotations

import json
import re

from envstamp.errors import ParseError
from envstamp.parsers.textutil import collapse

Record = dict[str, str]

# Properties that show a listing is of video controllers (compared lower-case).
KNOWN_PROPERTIES = frozenset(
    {
        "name",
        "caption",
        "description",
        "adapterram",
        "adaptercompatibility",
        "adapterdactype",
        "driverversion",
        "driverdate",
        "pnpdeviceid",
        "videoprocessor",
        "deviceid",
        "status",
        "videomodedescription",
        "currenthorizontalresolution",
        "infname",
    }
)

# Win32_VideoController's properties as the class declares them (CIM_VideoController's and
# the CIM_LogicalDevice/CIM_ManagedSystemElement ones it inherits), and the members
# PowerShell adds to every CIM instance.  Printed in this spelling by every shape above.
CLASS_PROPERTIES = frozenset(
    {
        "AcceleratorCapabilities", "AdapterCompatibility", "AdapterDACType", "AdapterRAM",
        "Availability", "CapabilityDescriptions", "Caption", "ColorTableEntries",
        "ConfigManagerErrorCode", "ConfigManagerUserConfig", "CreationClassName",
        "CurrentBitsPerPixel", "CurrentHorizontalResolution", "CurrentNumberOfColors",
        "CurrentNumberOfColumns", "CurrentNumberOfRows", "CurrentRefreshRate",
        "CurrentScanMode", "CurrentVerticalResolution", "Description", "DeviceID",
        "DeviceSpecificPens", "DitherType", "DriverDate", "DriverVersion", "ErrorCleared",
        "ErrorDescription", "ICMIntent", "ICMMethod", "InfFilename", "InfSection",
        "InstallDate", "InstalledDisplayDrivers", "LastErrorCode", "MaxMemorySupported",
        "MaxNumberControlled", "MaxRefreshRate", "MinRefreshRate", "Monochrome", "Name",
        "NumberOfColorPlanes", "NumberOfVideoPages", "PNPDeviceID",
        "PowerManagementCapabilities", "PowerManagementSupported", "ProtocolSupported",
        "ReservedSystemPaletteEntries", "SpecificationVersion", "Status", "StatusInfo",
        "SystemCreationClassName", "SystemName", "SystemPaletteEntries", "TimeOfLastReset",
        "VideoArchitecture", "VideoMemoryType", "VideoMode", "VideoModeDescription",
        "VideoProcessor", "PSComputerName", "CimClass", "CimInstanceProperties",
        "CimSystemProperties",
    }
)
# What every CIM class has (a name, a status, an id...): alone, they do not say "display
# adapter", as os-release's NAME= or a JSON object's "name" would pass for them.
_GENERIC_PROPERTIES = frozenset(
    {
        "Availability", "Caption", "ConfigManagerErrorCode", "ConfigManagerUserConfig",
        "CreationClassName", "Description", "DeviceID", "ErrorCleared", "ErrorDescription",
        "InstallDate", "LastErrorCode", "Name", "PNPDeviceID", "PowerManagementCapabilities",
        "PowerManagementSupported", "Status", "StatusInfo", "SystemCreationClassName",
        "SystemName", "TimeOfLastReset", "PSComputerName", "CimClass",
        "CimInstanceProperties", "CimSystemProperties",
    }
)
_ADAPTER_PROPERTIES = frozenset(
    name.lower() for name in CLASS_PROPERTIES - _GENERIC_PROPERTIES
) | {"infname"}

_LIST_LINE = re.compile(r"^([A-Za-z_][\w.]*)[ \t]*([:=])[ \t]?(.*)$")
_DASHES = re.compile(r"^[ \t]*-+(?:[ \t]+-+)*[ \t]*$")
_BOM_JUNK = ("\ufeff", "\ufffd\ufffd", "\xff\xfe", "\xfe\xff")


def repair(text: str) -> str:
    """Undo UTF-16 read as bytes: NULs, byte-order marks, CR CR LF line ends."""
    text = text.replace("\x00", "").replace("\r", "")
    for junk in _BOM_JUNK:
        if text.startswith(junk):
            text = text[len(junk) :]
    return text.lstrip("\ufeff")


def parse_records(text: str) -> list[Record]:
    """One record (property -> printed value) per adapter; ParseError for anything else."""
    if not text or not text.strip():
        raise ParseError("empty Win32_VideoController listing")
    text = repair(text)
    stripped = text.strip()
    if stripped[:1] in "[{":
        records = _json_records(stripped)
    elif _list_separator(text) is not None:
        records = _list_records(text, _list_separator(text) or ":")
    else:
        records = _table_records(text.splitlines())
    records = [r for r in records if is_video_controller(r)]
    if not records:
        raise ParseError("no Win32_VideoController properties (Name, AdapterRAM, ...) found")
    return records


def is_video_controller(record: Record) -> bool:
    """Whether a record is a display adapter's: it holds a property only display adapters
    have (AdapterRAM, DriverVersion, VideoProcessor..., any case), or it is a selection of
    the class's own properties as the class spells them (``wmic ... get Name``).  Another
    tool's ``NAME=...`` or ``{"name": ...}`` is neither."""
    keys = set(record)
    if any(key.lower() in _ADAPTER_PROPERTIES for key in keys):
        return True
    return bool(keys) and keys <= CLASS_PROPERTIES


def _json_records(text: str) -> list[Record]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON listing: {exc}") from None
    items = data if isinstance(data, list) else [data]
    return [
        {str(k): "" if v is None else collapse(str(v)) for k, v in item.items()}
        for item in items
        if isinstance(item, dict)
    ]


def _list_separator(text: str) -> str | None:
    """ ":" (Format-List) or "=" (wmic /format:list), by the known properties it finds."""
    for line in text.splitlines():
        match = _LIST_LINE.match(line)
        if match and match.group(1).lower() in KNOWN_PROPERTIES:
            return match.group(2)
    return None


def _list_records(text: str, separator: str) -> list[Record]:
    records: list[Record] = []
    current: Record = {}
    last_key: str | None = None
    for line in text.splitlines():
        match = _LIST_LINE.match(line)
        if match and match.group(2) == separator:
            last_key = match.group(1)
            current[last_key] = match.group(3).strip()
        elif line.strip() and line[:1] in " \t" and last_key is not None:
            # Format-List wraps long values onto indented lines.
            previous = current[last_key]
            joiner = " " if " " in previous else ""
            current[last_key] = previous + joiner + line.strip()
        elif not line.strip():
            if current:
                records.append(current)
            current, last_key = {}, None
    if current:
        records.append(current)
    return records


def _column_starts_from_dashes(line: str) -> list[int]:
    return [m.start() for m in re.finditer(r"-+", line)]


def _column_starts_from_header(line: str) -> list[int]:
    return [m.start() for m in re.finditer(r"\S+", line)]


def _cut(line: str, starts: list[int]) -> list[str]:
    ends = [*starts[1:], None]
    return [line[start:end].strip() for start, end in zip(starts, ends, strict=True)]


def _table_records(lines: list[str]) -> list[Record]:
    """A PowerShell table (header, dashes, rows) or a wmic table (header, rows)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return []
    dash_rows = [i for i in filled if _DASHES.match(lines[i])]
    if dash_rows and dash_rows[0] > 0:
        header_at = dash_rows[0] - 1
        starts = _column_starts_from_dashes(lines[dash_rows[0]])
        first_row = dash_rows[0] + 1
    else:
        header_at = filled[0]
        words = lines[header_at].split()
        if not words or not all(re.fullmatch(r"[A-Za-z_]\w*", w) for w in words):
            return []
        starts = _column_starts_from_header(lines[header_at])
        first_row = header_at + 1
    header = _cut(lines[header_at], starts)
    records: list[Record] = []
    for line in lines[first_row:]:
        if not line.strip():
            if records:
                break  # the table ended
            continue
        records.append(dict(zip(header, _cut(line, starts), strict=True)))
    return records
