"""Power settings: ACPI platform profile, power-profiles-daemon / tuned, macOS Low Power Mode,
the Windows power plan.

These are configuration and stay in the identity.  Whether the machine is on mains power and
how full its battery is are readings of the moment: the volatile ``state`` probe reports them
(:func:`read_supplies` here reads the power supplies for it; the parsers live in
:mod:`envstamp.parsers.power`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envstamp.manifest.model import Power
from envstamp.parsers.power import parse_pmset_settings, parse_ppd_state
from envstamp.parsers.textutil import clean
from envstamp.parsers.windows_registry import WINDOWS_PLANS, windows_plan_name
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure, by_system, failure_from

if TYPE_CHECKING:
    from envstamp.runner import Runner

PLATFORM_PROFILE = "/sys/firmware/acpi/platform_profile"
PPD_STATE = "/var/lib/power-profiles-daemon/state.ini"
TUNED_PROFILE = "/etc/tuned/active_profile"
POWER_SUPPLY = "/sys/class/power_supply"
HKLM = "HKEY_LOCAL_MACHINE"
SCHEMES_KEY = r"SYSTEM\CurrentControlSet\Control\Power\User\PowerSchemes"

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


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = ({"name": "power", "order": 160},)
