"""An app bundle's Info.plist (XML or binary): its CFBundleShortVersionString."""

from __future__ import annotations

from envstamp.parsers.textutil import clean


def parse_info_plist(data: bytes) -> str | None:
    """CFBundleShortVersionString of an app bundle's Info.plist (XML or binary)."""
    import plistlib

    try:
        plist = plistlib.loads(data)
    except Exception:  # noqa: BLE001 - plistlib raises many kinds on garbage
        return None
    version = plist.get("CFBundleShortVersionString") if isinstance(plist, dict) else None
    return clean(version) if isinstance(version, str) else None
