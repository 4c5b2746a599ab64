"""Power settings: ACPI platform profile, power-profiles-daemon / tuned, macOS Low Power Mode,
the Windows power plan.

These are configuration and stay in the identity.  Whether the machine is on mains power and
how full its battery is are readings of the moment: the volatile ``state`` probe reports them
(see :func:`supply_state`, which lives here beside the other power parsers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from envstamp.errors import ParseError
from envstamp.manifest.model import Power
from envstamp.parsers.textutil import clean, to_float, to_int
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure, by_system, failure_from

if TYPE_CHECKING:
    from envstamp.runner import Runner

PLATFORM_PROFILE = "/sys/firmware/acpi/platform_profile"
PPD_STATE = "/var/lib/power-profiles-daemon/state.ini"
TUNED_PROFILE = "/etc/tuned/active_profile"
POWER_SUPPLY = "/sys/class/power_supply"
HKLM = "HKEY_LOCAL_MACHINE"
SCHEMES_KEY = r"SYSTEM\CurrentControlSet\Control\Power\User\PowerSchemes"

# Windows' built-in plans (their GUIDs are the same on every installation).
WINDOWS_PLANS = {
    "381b4222-f694-41f0-9685-ff5bb260df2e": "Balanced",
    "8c5e7fda-e8bf-4a96-9a85-a6e23a8c635c": "High performance",
    "a1841308-3541-4fab-bc81-f71556f20b4a": "Power saver",
    "e9a42b02-d5df-448d-aa00-03f14749eb61": "Ultimate Performance",
}

# ------------------------------------------------------------------------------- parsers


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


def windows_plan_name(guid: str | None, friendly_name: str | None) -> str | None:
    """A power plan's name: the built-in name for a well-known GUID, else its FriendlyName."""
    key = (clean(guid) or "").strip("{}").lower()
    if key in WINDOWS_PLANS:
        return WINDOWS_PLANS[key]
    name = clean(friendly_name)
    if name and name.startswith("@"):
        # "@%SystemRoot%\system32\powrprof.dll,-14,My plan": the text after the resource id
        tail = name.rsplit(",", 1)[-1]
        name = clean(tail) if not tail.lstrip("-").isdigit() else None
    return name or (key or None)


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


# -------------------------------------------------------------------------------- probes


def probe(ctx: ProbeContext) -> Outcome:
    """Static power settings (no AC / battery readings: the state probe has those)."""
    handlers = {"Linux": _linux, "Darwin": _darwin, "Windows": _windows}
    return by_system(ctx, handlers, "power settings source")


def _linux(runner: Runner) -> Outcome:
    profile = clean(runner.text(PLATFORM_PROFILE))
    ppd = runner.text(PPD_STATE)
    daemon = parse_ppd_state(ppd) if ppd else None
    source = PPD_STATE if daemon else None
    if daemon is None:
        daemon = clean((runner.text(TUNED_PROFILE) or "").strip())
        source = TUNED_PROFILE if daemon else None
    if profile is None and daemon is None:
        raise ProbeFailure(
            "absent", "no ACPI platform profile, power-profiles-daemon state or tuned profile"
        )
    sources = ", ".join(s for s in (profile and PLATFORM_PROFILE, source) if s)
    power = Power(platform_profile=profile, power_profile=daemon)
    return Outcome(sections={"power": power}, source=sources)


def _darwin(runner: Runner) -> Outcome:
    result = runner.run(["pmset", "-g"])
    if not result.succeeded:
        raise failure_from(result, "pmset -g")
    low_power = parse_pmset_settings(result.stdout)
    if low_power is None:
        raise ProbeFailure("error", "pmset -g printed no lowpowermode setting", "pmset -g")
    return Outcome(sections={"power": Power(macos_low_power_mode=low_power)}, source="pmset -g")


def _windows(runner: Runner) -> Outcome:
    guid = runner.registry(HKLM, SCHEMES_KEY, "ActivePowerScheme")
    if not isinstance(guid, str) or not guid.strip():
        raise ProbeFailure("absent", "no ActivePowerScheme in the registry", "registry")
    friendly = None
    if guid.strip("{}").lower() not in WINDOWS_PLANS:
        value = runner.registry(HKLM, f"{SCHEMES_KEY}\\{guid}", "FriendlyName")
        friendly = value if isinstance(value, str) else None
    power = Power(windows_power_plan=windows_plan_name(guid, friendly))
    return Outcome(sections={"power": power}, source="registry")


def read_supplies(runner: Runner) -> dict[str, dict[str, str]]:
    """The type/online/capacity/status/scope files of every /sys/class/power_supply entry."""
    supplies: dict[str, dict[str, str]] = {}
    for name in runner.list_dir(POWER_SUPPLY) or []:
        kind = runner.text(f"{POWER_SUPPLY}/{name}/type")
        if kind is None:
            continue
        files = {"type": kind}
        wanted = ("online",) if kind.strip() != "Battery" else ("capacity", "status", "scope")
        for leaf in wanted:
            text = runner.text(f"{POWER_SUPPLY}/{name}/{leaf}")
            if text is not None:
                files[leaf] = text
        supplies[name] = files
    return supplies

