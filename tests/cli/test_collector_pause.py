"""The console entry runs the brief verbs without the cyclic garbage collector (a cold
capture's ~7 ms, docs/decisions.md "The CLI's short verbs run without the cyclic collector")
and leaves it on for the verbs that live as long as a benchmark or read inputs of any size."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from envstamp.cli import main as cli_main


@pytest.fixture
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


@pytest.mark.parametrize("verb", sorted(cli_main.BRIEF_VERBS))
def test_a_brief_verb_pauses_the_collector(verb: str, collector_restored: None) -> None:
    gc.enable()
    cli_main._pause_collector([verb, "--help"])
    assert not gc.isenabled()


OTHER_COMMANDS = [["run", "--", "sleep", "1"], ["bench"], ["export"], ["report"], ["trend"],
                  ["import"], [], ["--version"], ["captures"]]  # fmt: skip


@pytest.mark.parametrize("argv", OTHER_COMMANDS)
def test_other_commands_keep_the_collector(argv: list[str], collector_restored: None) -> None:
    gc.enable()
    cli_main._pause_collector(argv)
    assert gc.isenabled()


def test_the_brief_verbs_are_verbs_and_not_the_long_running_ones() -> None:
    assert set(cli_main.BRIEF_VERBS) <= set(cli_main.VERBS)
    assert not {"run", "bench", "export", "report", "trend", "import"} & cli_main.BRIEF_VERBS


ENTRY = """
import gc, sys
import envstamp.cli.main as m
def main():
    print(gc.isenabled(), flush=True)
    return 0
m.main = main
sys.argv = ["envstamp", *sys.argv[1:]]
m.entry()
"""


@pytest.mark.parametrize(("verb", "enabled"), [("capture", "False"), ("run", "True")])
def test_the_console_entry_applies_it_before_the_verb_runs(verb: str, enabled: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", ENTRY, verb], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == enabled
