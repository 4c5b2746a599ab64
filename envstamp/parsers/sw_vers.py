"""macOS' ``sw_vers``: product name, version and build, with the release's marketing name."""

from __future__ import annotations

from envstamp.errors import ParseError
from envstamp.manifest.model import OperatingSystem
from envstamp.parsers.textutil import clean, collapse, key_values

# Marketing names by major version (10.x by minor): facts from Apple's release history.
_MACOS_NAMES = {
    "26": "Tahoe",
    "15": "Sequoia",
    "14": "Sonoma",
    "13": "Ventura",
    "12": "Monterey",
    "11": "Big Sur",
    "10.15": "Catalina",
    "10.14": "Mojave",
    "10.13": "High Sierra",
    "10.12": "Sierra",
}


def macos_codename(version: str | None) -> str | None:
    """ "14.5" -> "Sonoma"; "10.15.7" -> "Catalina"."""
    if not version:
        return None
    parts = version.split(".")
    key = ".".join(parts[:2]) if parts[0] == "10" else parts[0]
    return _MACOS_NAMES.get(key)


def parse_sw_vers(text: str) -> OperatingSystem:
    """``sw_vers``: ProductName, ProductVersion, ProductVersionExtra, BuildVersion."""
    fields = {k: v for k, v in key_values(text.splitlines()) if clean(v)}
    name = fields.get("ProductName")
    version = fields.get("ProductVersion")
    if not name and not version:
        raise ParseError("no ProductName or ProductVersion in sw_vers output")
    extra = fields.get("ProductVersionExtra")  # Rapid Security Response, "(a)"
    codename = macos_codename(version)
    build = fields.get("BuildVersion")
    pretty = collapse(" ".join(p for p in (name, codename, version, extra) if p))
    return OperatingSystem(
        distro_id="macos",
        distro_name=name,
        distro_version=version,
        distro_pretty=pretty,
        distro_codename=codename,
        build=build,
    )
