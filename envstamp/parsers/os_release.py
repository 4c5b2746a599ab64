"""os-release and the older files that name a Linux distribution.

* ``/etc/os-release`` (``/usr/lib/os-release``): shell-style ``KEY=value`` assignments, read
  as the os-release specification says (quotes, backslash escapes);
* ``/etc/lsb-release``: ``DISTRIB_ID``, ``DISTRIB_RELEASE``, ``DISTRIB_CODENAME``...;
* single-line release files (``/etc/redhat-release``): "CentOS release 6.10 (Final)".
"""

from __future__ import annotations

import re

from envstamp.errors import ParseError
from envstamp.manifest.model import OperatingSystem, Sections
from envstamp.parsers.textutil import clean, collapse

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPABLE = '\\"$`'


def _unescape(text: str, escapable: str | None) -> str:
    """Drop shell backslashes: before any char (unquoted) or before ``escapable`` only."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and (escapable is None or text[i + 1] in escapable):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def unquote_value(raw: str) -> str:
    """An os-release value as the shell would read it (quotes and escapes removed)."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _unescape(value[1:-1], _ESCAPABLE)
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]  # single quotes: no escapes at all
    if value[:1] in "\"'":
        return _unescape(value[1:], _ESCAPABLE)  # unterminated quote: read what is there
    return _unescape(value, None)


def parse_key_value_file(text: str) -> dict[str, str]:
    """``KEY=value`` assignments (os-release, lsb-release); comments and junk lines skipped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, found, value = stripped.partition("=")
        key = key.strip()
        if found and _KEY.match(key):
            fields[key] = unquote_value(value)
    return fields


def codename_from_version(version: str | None) -> str | None:
    """ "7 (Core)" -> "Core"; "14.04.6 LTS, Trusty Tahr" -> "Trusty Tahr"."""
    if not version:
        return None
    match = re.search(r"\(([^()]+)\)\s*$", version)
    if match:
        return clean(match.group(1))
    if "," in version:
        return clean(version.rsplit(",", 1)[1])
    return None


def parse_os_release(text: str) -> OperatingSystem:
    """The distribution fields of an os-release file."""
    fields = {k: v for k, v in parse_key_value_file(text).items() if clean(v) is not None}
    if not {"ID", "NAME", "PRETTY_NAME", "VERSION_ID"} & fields.keys():
        raise ParseError("not an os-release file: no ID, NAME, PRETTY_NAME or VERSION_ID")
    version = clean(fields.get("VERSION"))
    name = clean(fields.get("NAME"))
    version_id = clean(fields.get("VERSION_ID"))
    pretty = clean(fields.get("PRETTY_NAME"))
    if pretty is None and name:
        pretty = collapse(f"{name} {version or version_id or ''}")
    return OperatingSystem(
        distro_id=clean(fields.get("ID")),
        distro_name=name,
        distro_version=version_id,
        distro_pretty=pretty,
        distro_codename=(
            clean(fields.get("VERSION_CODENAME"))
            or clean(fields.get("UBUNTU_CODENAME"))
            or codename_from_version(version)
        ),
        distro_like=fields.get("ID_LIKE", "").split(),
    )


def parse_os_release_kind(text: str) -> Sections:
    """Parse kind ``os-release``: /etc/os-release -> ``{"os": ...}``."""
    return {"os": parse_os_release(text)}


def parse_lsb_release(text: str) -> OperatingSystem:
    """/etc/lsb-release (DISTRIB_ID, DISTRIB_RELEASE, DISTRIB_CODENAME, DISTRIB_DESCRIPTION)."""
    fields = parse_key_value_file(text)
    distrib_id = clean(fields.get("DISTRIB_ID"))
    if distrib_id is None:
        raise ParseError("not an lsb-release file: no DISTRIB_ID")
    return OperatingSystem(
        distro_id=distrib_id.lower().replace(" ", ""),
        distro_name=distrib_id,
        distro_version=clean(fields.get("DISTRIB_RELEASE")),
        distro_pretty=clean(fields.get("DISTRIB_DESCRIPTION")),
        distro_codename=clean(fields.get("DISTRIB_CODENAME")),
    )


def parse_release_line(text: str) -> OperatingSystem:
    """ "CentOS release 6.10 (Final)" -> name, version, codename."""
    line = next((collapse(li) for li in text.splitlines() if li.strip()), "")
    match = re.match(r"^(?P<name>.+?)\s+(?:release\s+)?(?P<version>\d[\w.]*)(?P<rest>.*)$", line)
    if not match:
        raise ParseError("not a release line")
    name = match.group("name")
    return OperatingSystem(
        distro_id=name.split()[0].lower(),
        distro_name=name,
        distro_version=match.group("version"),
        distro_pretty=line,
        distro_codename=codename_from_version(match.group("rest")),
    )


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "os-release": ("parse_os_release_kind", "/etc/os-release"),
}
