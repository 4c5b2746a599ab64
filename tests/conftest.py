"""Shared test fixtures: every test runs with its own cache and config folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
HOSTS = FIXTURES / "hosts"


@pytest.fixture(autouse=True)
def _isolated_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test reads or writes the real user cache or config, or sees another test's memo."""
    from envstamp import runner

    home = tmp_path_factory.mktemp("envstamp-home")
    monkeypatch.setenv("ENVSTAMP_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("ENVSTAMP_CONFIG_DIR", str(home / "config"))
    runner.reset()  # every module-level cache, the capture memo included
    yield
    runner.reset()


@pytest.fixture
def fixtures() -> Path:
    """The tests' fixture folder."""
    return FIXTURES


@pytest.fixture
def hosts() -> Path:
    """Recorded hosts (folders of raw answers, replayed through the real probes)."""
    return HOSTS
