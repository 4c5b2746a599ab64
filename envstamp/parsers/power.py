"""Power settings and supply: power-profiles-daemon's state, ``pmset -g`` and
``pmset -g batt`` (macOS), and the files of /sys/class/power_supply (AC and battery)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from envstamp.errors import ParseError
from envstamp.parsers.textutil import clean, to_float, to_int


def parse_ppd_state(text: str) -> str | None:
    """power-profiles-daemon's state.ini: ``[State]`` ``Profile=performance``."""
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
            continue
        key, found, value = stripped.partition("=")
        if found and section == "State" and key.strip() == "Profile":
            return clean(value)
    return None


def parse_pmset_settings(text: str) -> bool | None:
    """``pmset -g``: Low Power Mode on?  ``lowpowermode 1``, or ``powermode 1`` (newer Macs,
    where 0 is automatic and 2 is High Power)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.match(r"^[a-z]+$", parts[0]):
            values.setdefault(parts[0], parts[1])
    if "lowpowermode" in values:
        return to_int(values["lowpowermode"]) == 1
    if "powermode" in values:
        return to_int(values["powermode"]) == 1
    return None


def parse_pmset_batt(text: str) -> tuple[bool | None, float | None]:
    """``pmset -g batt``: "Now drawing from 'AC Power'" and "-InternalBattery-0 ... 85%; ..."."""
    source = re.search(r"drawing from '([^']+)'", text)
    percent = re.search(r"InternalBattery[^\n]*?\s(\d{1,3})%", text)
    if source is None and percent is None:
        raise ParseError("no power source or battery in pmset output")
    ac = None
    if source is not None:
        ac = source.group(1).strip().lower().startswith("ac")
    return ac, to_float(percent.group(1)) if percent else None


def supply_state(supplies: Mapping[str, Mapping[str, str]]) -> tuple[bool | None, float | None]:
    """(AC online, battery percent) from /sys/class/power_supply entries' files.

    Mains and USB supplies say ``online``; without them, a battery's ``status`` tells
    (Discharging means no AC).  Peripheral batteries (``scope`` Device) are ignored.
    """
    ac_values: list[bool] = []
    batteries: list[Mapping[str, str]] = []
    for files in supplies.values():
        kind = (clean(files.get("type")) or "").lower()
        if kind in ("mains", "usb", "usb_c", "usb_pd") and "online" in files:
            ac_values.append(to_int(files.get("online")) == 1)
        elif kind == "battery" and (clean(files.get("scope")) or "").lower() != "device":
            batteries.append(files)
    percents = [p for b in batteries if (p := to_float(b.get("capacity"))) is not None]
    ac: bool | None = any(ac_values) if ac_values else None
    if ac is None and batteries:
        statuses = {(clean(b.get("status")) or "").lower() for b in batteries}
        if "discharging" in statuses:
            ac = False
        elif statuses & {"charging", "full", "not charging"}:
            ac = True
    battery = round(sum(percents) / len(percents), 1) if percents else None
    return ac, battery
