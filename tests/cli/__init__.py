"""Tests of envstamp.cli."""
