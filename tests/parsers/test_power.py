"""Power parsers: power-profiles-daemon, pmset, the Windows plan names, power supplies, and
the load average."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.loadavg import parse_loadavg
from envstamp.parsers.power import (
    parse_pmset_batt,
    parse_pmset_settings,
    parse_ppd_state,
    supply_state,
)
from envstamp.parsers.windows_registry import windows_plan_name


def test_power_profiles_daemon_state() -> None:
    text = "[State]\nDriver=amd_pstate\nProfile=performance\n\n[Action]\nProfile=balanced\n"
    assert parse_ppd_state(text) == "performance"
    assert parse_ppd_state("[Action]\nProfile=balanced\n") is None
    assert parse_ppd_state("") is None


def test_pmset_settings_low_power_mode() -> None:
    assert parse_pmset_settings(" lowpowermode         1\n displaysleep 10\n") is True
    assert parse_pmset_settings(" lowpowermode         0\n") is False
    assert parse_pmset_settings(" powermode            1\n") is True  # newer Macs
    assert parse_pmset_settings(" powermode            2\n") is False  # High Power
    assert parse_pmset_settings("System-wide power settings:\n") is None


def test_pmset_battery() -> None:
    on_battery = (
        "Now drawing from 'Battery Power'\n"
        " -InternalBattery-0 (id=4587619)\t64%; discharging; 2:10 remaining present: true\n"
    )
    assert parse_pmset_batt(on_battery) == (False, 64.0)
    assert parse_pmset_batt("Now drawing from 'AC Power'\n") == (True, None)
    charging = "Now drawing from 'AC Power'\n -InternalBattery-0 (id=1)\t100%; charged; 0:00\n"
    assert parse_pmset_batt(charging) == (True, 100.0)
    with pytest.raises(ParseError):
        parse_pmset_batt("pmset: unknown option\n")


@pytest.mark.parametrize(
    ("guid", "friendly", "name"),
    [
        ("381b4222-f694-41f0-9685-ff5bb260df2e", None, "Balanced"),
        ("{8C5E7FDA-E8BF-4A96-9A85-A6E23A8C635C}", None, "High performance"),
        ("e9a42b02-d5df-448d-aa00-03f14749eb61", None, "Ultimate Performance"),
        ("11111111-2222-3333-4444-555555555555", "LLM bench plan", "LLM bench plan"),
        (
            "11111111-2222-3333-4444-555555555555",
            "@%SystemRoot%\\system32\\powrprof.dll,-14,Gaming",
            "Gaming",
        ),
        ("11111111-2222-3333-4444-555555555555", None, "11111111-2222-3333-4444-555555555555"),
        (None, None, None),
    ],
)
def test_windows_plan_names(guid: str | None, friendly: str | None, name: str | None) -> None:
    assert windows_plan_name(guid, friendly) == name


@pytest.mark.parametrize(
    ("supplies", "expected"),
    [
        ({}, (None, None)),  # a desktop without ACPI supplies: unknown, not "off"
        ({"AC": {"type": "Mains\n", "online": "1\n"}}, (True, None)),
        (
            {
                "AC": {"type": "Mains", "online": "0"},
                "BAT0": {"type": "Battery", "capacity": "41", "status": "Discharging"},
            },
            (False, 41.0),
        ),
        (
            {
                "ucsi-source-psy-USBC000:001": {"type": "USB", "online": "1"},
                "AC": {"type": "Mains", "online": "0"},
                "BAT0": {"type": "Battery", "capacity": "80", "status": "Charging"},
            },
            (True, 80.0),
        ),
        (
            {"BAT0": {"type": "Battery", "capacity": "97", "status": "Full"}},
            (True, 97.0),
        ),
        (
            {"hidpp_battery_0": {"type": "Battery", "capacity": "20", "scope": "Device"}},
            (None, None),  # a wireless mouse's battery says nothing about the machine
        ),
    ],
)
def test_supply_state(
    supplies: dict[str, dict[str, str]], expected: tuple[bool | None, float | None]
) -> None:
    assert supply_state(supplies) == expected


def test_loadavg() -> None:
    assert parse_loadavg("0.52 0.58 0.59 1/467 12345\n") == 0.52
    assert parse_loadavg("{ 1.85 2.01 2.10 }\n") == 1.85
    assert parse_loadavg("") is None


@given(st.text())
def test_power_parsers_raise_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_pmset_batt(text)
    parse_pmset_settings(text)
    parse_ppd_state(text)
    parse_loadavg(text)
    windows_plan_name(text, text)
    supply_state({"x": {"type": text, "online": text, "capacity": text, "status": text}})
