"""``python -m envstamp``."""

from envstamp.cli.main import entry

entry()
