"""``python -m envstamp``."""

from envstamp.cli import entry

entry()
