"""pytest plugin: ``pytest --envstamp results.jsonl`` records each test's duration."""

from __future__ import annotations

from typing import Any


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("envstamp")
    group.addoption(
        "--envstamp",
        metavar="RESULTS",
        default=None,
        help="record each test's duration, stamped with this machine's manifest, into RESULTS",
    )
