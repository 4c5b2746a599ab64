"""The version of envstamp (kept apart so that modules can name it without importing the
public facade in envstamp/__init__.py, which names them all)."""

__version__ = "0.1.0"
