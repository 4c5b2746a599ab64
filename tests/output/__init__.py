"""Tests of envstamp.output."""
