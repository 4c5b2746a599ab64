"""Tests of envstamp.parsers."""
